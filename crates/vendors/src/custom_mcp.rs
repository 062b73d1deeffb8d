//! The custom MCP vendor's adapters: its tool source (the MCP client, within the
//! operator's upstream policy) and its static credentials (a bearer token, an API key
//! header and custom headers, as sealed when the connection was made).
//!
//! Its typed configuration is [`McpMetadata`] (public) and [`McpCredentials`] (sealed).

use async_trait::async_trait;
use feather_domain::catalog::UpstreamTool;
use feather_domain::custom_mcp::{McpCredentials, McpMetadata, McpTransportKind};
use feather_service::vendors::{
    CallEvents, CredentialProvider, ToolSource, UpstreamCredentials, VendorConnection,
};
use feather_service::{UpstreamError, UpstreamErrorKind};
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};

use crate::guard::UpstreamPolicy;
use crate::mcp::{McpClient, McpEndpoint, McpError, McpLimits, McpTransport};

/// Lists and calls the tools of custom MCP servers.
#[derive(Debug, Clone)]
pub struct McpToolSource {
    client: McpClient,
}

impl McpToolSource {
    pub fn new(policy: &UpstreamPolicy, limits: McpLimits) -> Result<McpToolSource, McpError> {
        Ok(McpToolSource {
            client: McpClient::new(policy, limits)?,
        })
    }
}

#[async_trait]
impl ToolSource for McpToolSource {
    async fn list_tools(
        &self,
        connection: &VendorConnection,
        credentials: &UpstreamCredentials,
    ) -> Result<Vec<UpstreamTool>, UpstreamError> {
        self.client
            .list_tools(&endpoint(connection, credentials)?)
            .await
            .map_err(upstream_error)
    }

    async fn call_tool(
        &self,
        connection: &VendorConnection,
        credentials: &UpstreamCredentials,
        name: &str,
        arguments: Map<String, Value>,
        events: &CallEvents,
    ) -> Result<Value, UpstreamError> {
        self.client
            .call_tool(&endpoint(connection, credentials)?, name, arguments, events)
            .await
            .map_err(upstream_error)
    }
}

/// The credentials sealed with a custom MCP connection, handed out as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct StaticMcpCredentials;

#[async_trait]
impl CredentialProvider for StaticMcpCredentials {
    async fn credentials(
        &self,
        connection: &VendorConnection,
    ) -> Result<UpstreamCredentials, UpstreamError> {
        Ok(UpstreamCredentials {
            headers: sealed_credentials(connection)?.request_headers(),
        })
    }
}

/// The connection's sealed credentials; a connection sealed without any has none.
fn sealed_credentials(connection: &VendorConnection) -> Result<McpCredentials, UpstreamError> {
    match &connection.secret {
        Some(secret) => {
            serde_json::from_slice(secret).map_err(|_| misconfigured("has unreadable credentials"))
        }
        None => Ok(McpCredentials::default()),
    }
}

/// Where the connection's server is and what every request to it carries.
fn endpoint(
    connection: &VendorConnection,
    credentials: &UpstreamCredentials,
) -> Result<McpEndpoint, UpstreamError> {
    let settings = McpMetadata::from_metadata(&connection.metadata)
        .ok_or_else(|| misconfigured("has no valid server URL and transport"))?;
    // The URL as given, when its query is sealed (the metadata shows it redacted).
    let server_url = sealed_credentials(connection)?
        .server_url
        .unwrap_or(settings.server_url);
    let url = server_url
        .parse()
        .map_err(|_| misconfigured("has a server URL that is not usable"))?;
    let mut headers = HeaderMap::with_capacity(credentials.headers.len());
    for (name, value) in &credentials.headers {
        let unusable = || misconfigured("has a header that is not usable");
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| unusable())?;
        let mut value = HeaderValue::from_str(value).map_err(|_| unusable())?;
        // Credentials must not show up in debug output of the HTTP stack.
        value.set_sensitive(true);
        headers.append(name, value);
    }
    Ok(McpEndpoint {
        connection_id: connection.id,
        url,
        transport: match settings.transport {
            McpTransportKind::StreamableHttp => McpTransport::StreamableHttp,
            McpTransportKind::Sse => McpTransport::Sse,
            McpTransportKind::Auto => McpTransport::Auto,
        },
        headers,
    })
}

fn misconfigured(what: &str) -> UpstreamError {
    UpstreamError::new(
        UpstreamErrorKind::Misconfigured,
        format!("The connection's stored configuration {what}."),
    )
}

fn upstream_error(error: McpError) -> UpstreamError {
    if let McpError::InsufficientScope { required } = &error {
        return UpstreamError::insufficient_scope(error.to_string(), required.clone());
    }
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
