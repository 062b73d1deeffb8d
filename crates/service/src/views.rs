//! Read models: stored records together with the fields computed on every read
//! (DESIGN.md §3 "Computed on every read").

use feather_domain::field_map::stale_field_paths;
use feather_domain::input_config::{InputConfigView, input_config_view};
use feather_store::{Connection, Tool};

/// A connection with its tools, as the listing shows it.
#[derive(Debug, Clone)]
pub struct ConnectionView {
    pub connection: Connection,
    pub tools: Vec<ToolView>,
}

/// A tool with the computed view of its operator configuration.
#[derive(Debug, Clone)]
pub struct ToolView {
    pub tool: Tool,
    /// The owning connection's nickname slug (tools carry it in the contract).
    pub nickname_slug: String,
    pub integration_key: feather_domain::integration::IntegrationKey,
    pub input_config: InputConfigView,
    pub stale_field_paths: Vec<String>,
}

impl ToolView {
    pub fn new(tool: Tool, connection: &Connection) -> ToolView {
        let input_config = input_config_view(&tool.input_schema, tool.input_defaults.as_ref());
        let stale_field_paths = stale_field_paths(
            tool.response_schema.as_ref(),
            tool.response_field_map.as_ref(),
        );
        ToolView {
            nickname_slug: connection.nickname_slug.clone(),
            integration_key: connection.integration_key,
            tool,
            input_config,
            stale_field_paths,
        }
    }
}

impl ConnectionView {
    /// Builds the view of one connection from its tools (already in `tool_path` order).
    pub fn new(connection: Connection, tools: Vec<Tool>) -> ConnectionView {
        let tools = tools
            .into_iter()
            .map(|tool| ToolView::new(tool, &connection))
            .collect();
        ConnectionView { connection, tools }
    }
}
