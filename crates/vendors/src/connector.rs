//! The service's [`McpGateway`] port, implemented with the SSRF guard and the MCP client.

use async_trait::async_trait;
use feather_domain::catalog::UpstreamTool;
use feather_domain::custom_mcp::McpTransportKind;
use feather_service::{McpGateway, McpTarget, UpstreamError, UpstreamErrorKind};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::guard::UpstreamPolicy;
use crate::mcp::{McpClient, McpEndpoint, McpError, McpLimits, McpTransport};

/// Reaches custom MCP servers for the service, within the operator's upstream policy.
#[derive(Debug, Clone)]
pub struct McpConnector {
    policy: UpstreamPolicy,
    client: McpClient,
}

impl McpConnector {
    pub fn new(policy: &UpstreamPolicy, limits: McpLimits) -> Result<McpConnector, McpError> {
        Ok(McpConnector {
            policy: policy.clone(),
            client: McpClient::new(policy, limits)?,
        })
    }
}

#[async_trait]
impl McpGateway for McpConnector {
    async fn check_server_url(&self, server_url: &str) -> Result<(), UpstreamError> {
        self.policy
            .check_url(server_url)
            .await
            .map(|_| ())
            .map_err(|refused| UpstreamError::new(UpstreamErrorKind::Refused, refused.to_string()))
    }

    async fn list_tools(&self, target: &McpTarget) -> Result<Vec<UpstreamTool>, UpstreamError> {
        self.client
            .list_tools(&endpoint(target)?)
            .await
            .map_err(upstream_error)
    }

    async fn call_tool(
        &self,
        target: &McpTarget,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<Value, UpstreamError> {
        self.client
            .call_tool(&endpoint(target)?, name, arguments)
            .await
            .map_err(upstream_error)
    }
}

fn endpoint(target: &McpTarget) -> Result<McpEndpoint, UpstreamError> {
    let misconfigured = |what: &str| {
        UpstreamError::new(
            UpstreamErrorKind::Misconfigured,
            format!("The connection's stored {what} is not usable."),
        )
    };
    let url = target
        .server_url
        .parse()
        .map_err(|_| misconfigured("server URL"))?;
    let mut headers = HeaderMap::with_capacity(target.headers.len());
    for (name, value) in &target.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| misconfigured("header"))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| misconfigured("header"))?;
        // Credentials must not show up in debug output of the HTTP stack.
        value.set_sensitive(true);
        headers.append(name, value);
    }
    Ok(McpEndpoint {
        url,
        transport: match target.transport {
            McpTransportKind::StreamableHttp => McpTransport::StreamableHttp,
            McpTransportKind::Sse => McpTransport::Sse,
            McpTransportKind::Auto => McpTransport::Auto,
        },
        headers,
    })
}

fn upstream_error(error: McpError) -> UpstreamError {
    let kind = match &error {
        McpError::Refused(_) => UpstreamErrorKind::Refused,
        McpError::Unauthorized { .. } => UpstreamErrorKind::Unauthorized,
        McpError::Timeout { .. } => UpstreamErrorKind::Timeout,
        // The same catalog will be too large on every retry.
        McpError::TooManyTools { .. } | McpError::Catalog(_) => UpstreamErrorKind::InvalidCatalog,
        // The same handshake is refused on every retry: the transport (or URL) must change.
        McpError::WrongTransport { .. } => UpstreamErrorKind::Misconfigured,
        _ => UpstreamErrorKind::Failed,
    };
    UpstreamError::new(kind, error.to_string())
}
