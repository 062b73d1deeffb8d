//! What the API suite's modules share: `TestApp` (the real router over a fresh store), a
//! client per identity, JSON readers, the contract's schemas, custom MCP helpers, a fake
//! MCP server, an MCP client of the agents' endpoint, and captured logs. Each concern is a module; everything is re-exported here.

mod agent;
mod app;
pub mod catalog;
mod client;
mod contract;
mod fake_mcp;
mod fake_oauth;
mod json;
mod logs;
mod mcp;

pub use agent::*;
pub use app::*;
pub use client::*;
pub use contract::*;
pub use fake_mcp::*;
pub use fake_oauth::*;
pub use json::*;
pub use logs::*;
pub use mcp::*;

pub const LISTING: &str = "/v1/integrations/connections";
pub const API_KEYS: &str = "/v1/identity/api-keys";
