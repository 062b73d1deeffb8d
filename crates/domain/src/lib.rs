//! The domain rules of feather-integrations (DESIGN.md §3), as plain functions over plain
//! types. Nothing here does I/O: no database, no HTTP, no async runtime.

pub mod agent_schema;
pub mod api_key;
pub mod catalog;
pub mod connection;
pub mod custom_mcp;
pub mod field_map;
pub mod input_config;
pub mod integration;
pub mod invocation;
pub mod last_used;
pub mod narrowed_schema;
pub mod oauth;
pub mod organization;
pub mod organization_slugs;
pub mod patch;
pub mod schema;
pub mod slug;
pub mod text;
pub mod tool;
pub mod tool_view;
