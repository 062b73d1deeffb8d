//! Read models: stored records as the API shows them. The fields computed from a tool's
//! documents come derived from the store (DESIGN.md §3 "Computed on every read").

use feather_domain::connection::Connection;
use feather_domain::integration::IntegrationKey;
use feather_domain::tool::ToolView;

/// A connection with its tools, as the listing shows it.
#[derive(Debug, Clone)]
pub struct ConnectionView {
    pub connection: Connection,
    pub tools: Vec<ConnectionToolView>,
}

/// A tool with the fields of its connection that tools carry in the contract.
#[derive(Debug, Clone)]
pub struct ConnectionToolView {
    pub tool: ToolView,
    pub nickname_slug: String,
    pub integration_key: IntegrationKey,
}

impl ConnectionToolView {
    pub fn new(tool: ToolView, connection: &Connection) -> ConnectionToolView {
        ConnectionToolView {
            tool,
            nickname_slug: connection.nickname_slug.clone(),
            integration_key: connection.integration_key,
        }
    }
}

impl ConnectionView {
    /// Builds the view of one connection from its tools (already in `tool_path` order).
    pub fn new(connection: Connection, tools: Vec<ToolView>) -> ConnectionView {
        let tools = tools
            .into_iter()
            .map(|tool| ConnectionToolView::new(tool, &connection))
            .collect();
        ConnectionView { connection, tools }
    }
}
