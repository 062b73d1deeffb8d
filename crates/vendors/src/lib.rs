//! Adapters to the outside: the SSRF guard for user-given URLs and the MCP client.

mod connector;
pub mod guard;
pub mod mcp;

pub use connector::McpConnector;
pub use mcp::McpLimits;
