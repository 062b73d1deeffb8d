//! The port to MCP servers. The service says what it needs; the vendors crate implements
//! it (SSRF guard, transports, timeouts), and tests or the binary plug it in.

use async_trait::async_trait;
use feather_domain::catalog::UpstreamTool;
use feather_domain::custom_mcp::{McpTransportKind, redacted_url};
use feather_domain::text::{is_storable, storable_lossy};
use serde_json::{Map, Value};

/// One MCP server and the headers (credentials included) every request to it carries.
#[derive(Clone)]
pub struct McpTarget {
    pub server_url: String,
    pub transport: McpTransportKind,
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for McpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpTarget")
            .field("server_url", &redacted_url(&self.server_url))
            .field("transport", &self.transport)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why an upstream call failed; `message` is one human sentence without secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UpstreamError {
    pub kind: UpstreamErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// The SSRF guard refused the address.
    Refused,
    /// The server rejected the credentials (HTTP 401 or 403).
    Unauthorized,
    Timeout,
    /// The catalog breaks a rule (duplicate names, invalid schemas…).
    InvalidCatalog,
    /// The connection's own stored configuration cannot be used (e.g. credentials sealed
    /// under another key).
    Misconfigured,
    /// Anything else: unreachable, protocol violation, too large, too many tools…
    Failed,
}

impl UpstreamErrorKind {
    /// Whether trying the same thing again later can succeed without anyone acting.
    pub fn is_transient(self) -> bool {
        matches!(self, UpstreamErrorKind::Timeout | UpstreamErrorKind::Failed)
    }
}

impl UpstreamError {
    /// The message is recorded on the connection and in invocations, so text it quotes
    /// from the server is made storable (see `feather_domain::text`).
    pub fn new(kind: UpstreamErrorKind, message: impl Into<String>) -> UpstreamError {
        let message = message.into();
        UpstreamError {
            kind,
            message: if is_storable(&message) {
                message
            } else {
                storable_lossy(&message)
            },
        }
    }
}

/// What the service needs from MCP servers.
#[async_trait]
pub trait McpGateway: Send + Sync + std::fmt::Debug {
    /// Whether `server_url` may be connected to (scheme, and every address it resolves to).
    async fn check_server_url(&self, server_url: &str) -> Result<(), UpstreamError>;
    /// The server's whole tool catalog.
    async fn list_tools(&self, target: &McpTarget) -> Result<Vec<UpstreamTool>, UpstreamError>;
    /// Calls a tool; the MCP `CallToolResult` as JSON (a tool's own error is still Ok).
    async fn call_tool(
        &self,
        target: &McpTarget,
        name: &str,
        arguments: Map<String, Value>,
    ) -> Result<Value, UpstreamError>;
}
