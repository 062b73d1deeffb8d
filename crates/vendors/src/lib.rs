//! Adapters to the outside: the SSRF guard for user-given URLs, the MCP client, and each
//! vendor's implementation of the service's ports, registered in [`upstreams`].

pub mod custom_mcp;
pub mod guard;
pub mod mcp;
pub mod oauth;
mod registry;

pub use mcp::McpLimits;
pub use registry::upstreams;
