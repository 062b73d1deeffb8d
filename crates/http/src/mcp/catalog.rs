//! The organization's tools as MCP lists them, kept per organization while its listing
//! version is unchanged (the version moves with every sync, toggle and pin), and cut into
//! pages.

use std::sync::Arc;

use feather_service::{AgentTool, RenderedListing, ServiceError};
use rmcp::model::{ListToolsResult, Tool};
use uuid::Uuid;

use crate::AppState;

/// Every tool an agent of one organization may call, in slug order.
#[derive(Debug, PartialEq)]
pub(crate) struct AgentCatalog {
    tools: Vec<ListedTool>,
    bytes: usize,
}

#[derive(Debug, PartialEq)]
struct ListedTool {
    connection_slug: String,
    tool: Tool,
}

impl RenderedListing for AgentCatalog {
    fn size(&self) -> usize {
        self.bytes
    }
}

/// Where the next page starts, as `tools/list` hands it out: after the tool of this name.
/// Opaque to a client, which only sends it back.
const CURSOR_PREFIX: &str = "after:";

/// A cursor this server did not hand out.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidCursor;

impl AgentCatalog {
    pub(crate) fn new(mut tools: Vec<AgentTool>) -> AgentCatalog {
        // Byte order, whatever the database's collation: the order cursors rely on.
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        let tools: Vec<ListedTool> = tools.into_iter().map(listed_tool).collect();
        let bytes = tools
            .iter()
            .map(|listed| serde_json::to_vec(&listed.tool).map_or(0, |json| json.len()))
            .sum();
        AgentCatalog { tools, bytes }
    }

    /// The tools of the connection with nickname slug `connection_slug`, or all of them.
    pub(crate) fn tools_of<'a>(
        &'a self,
        connection_slug: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Tool> + 'a {
        self.tools
            .iter()
            .filter(move |listed| connection_slug.is_none_or(|slug| listed.connection_slug == slug))
            .map(|listed| &listed.tool)
    }

    /// One page of `tools_of(connection_slug)`: at most `size` tools from where `cursor`
    /// says, with the cursor of the next page when there is one.
    pub(crate) fn page(
        &self,
        connection_slug: Option<&str>,
        cursor: Option<&str>,
        size: usize,
    ) -> Result<ListToolsResult, InvalidCursor> {
        let after = cursor
            .map(|cursor| cursor.strip_prefix(CURSOR_PREFIX).ok_or(InvalidCursor))
            .transpose()?;
        let mut remaining = self
            .tools_of(connection_slug)
            .filter(|tool| after.is_none_or(|after| tool.name.as_ref() > after))
            .peekable();
        let tools: Vec<Tool> = remaining.by_ref().take(size.max(1)).cloned().collect();
        let next_cursor = match (remaining.peek(), tools.last()) {
            (Some(_), Some(last)) => Some(format!("{CURSOR_PREFIX}{}", last.name)),
            _ => None,
        };
        let mut result = ListToolsResult::with_all_items(tools);
        result.next_cursor = next_cursor;
        Ok(result)
    }
}

fn listed_tool(tool: AgentTool) -> ListedTool {
    let mut listed = Tool::new(tool.name, "", tool.input_schema).with_title(tool.title);
    listed.description = tool
        .description
        .filter(|description| !description.is_empty())
        .map(Into::into);
    listed.output_schema = tool.output_schema;
    // As the upstream listed them; annotations rmcp cannot represent are left out.
    listed.annotations = tool
        .annotations
        .and_then(|annotations| serde_json::from_value(annotations).ok());
    ListedTool {
        connection_slug: tool.connection_slug,
        tool: listed,
    }
}

/// The organization's catalog as it is now: kept, or rendered from the store.
pub(crate) async fn current(
    state: &AppState,
    organization_id: Uuid,
) -> Result<Arc<AgentCatalog>, ServiceError> {
    let render = async {
        Ok(AgentCatalog::new(
            state.service.agent_tools(organization_id).await?,
        ))
    };
    match &state.agent_catalogs {
        Some(cache) => {
            let version = state.service.fresh_listing_version(organization_id).await?;
            cache.get_or_render(organization_id, version, render).await
        }
        None => render.await.map(Arc::new),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use super::*;

    fn agent_tool(name: &str, connection_slug: &str) -> AgentTool {
        AgentTool {
            name: name.to_owned(),
            title: name.to_uppercase(),
            description: None,
            input_schema: Arc::new(Map::from_iter([("type".to_owned(), json!("object"))])),
            output_schema: None,
            annotations: None,
            connection_slug: connection_slug.to_owned(),
        }
    }

    fn names(result: &ListToolsResult) -> Vec<&str> {
        result.tools.iter().map(|tool| tool.name.as_ref()).collect()
    }

    fn catalog() -> AgentCatalog {
        AgentCatalog::new(vec![
            agent_tool("b_two", "b"),
            agent_tool("a_one", "a"),
            agent_tool("b_one", "b"),
            agent_tool("a_two", "a"),
        ])
    }

    #[test]
    fn pages_follow_one_another_in_name_order_until_no_cursor_is_left() {
        let catalog = catalog();
        let first = catalog.page(None, None, 3).expect("first page");
        assert_eq!(names(&first), ["a_one", "a_two", "b_one"]);
        let cursor = first.next_cursor.clone().expect("a second page");
        let second = catalog.page(None, Some(&cursor), 3).expect("second page");
        assert_eq!(names(&second), ["b_two"]);
        assert_eq!(second.next_cursor, None);
    }

    #[test]
    fn a_page_that_holds_the_rest_has_no_cursor() {
        let page = catalog().page(None, None, 4).expect("one page");
        assert_eq!(page.tools.len(), 4);
        assert_eq!(page.next_cursor, None);
    }

    #[test]
    fn a_connection_endpoint_pages_through_its_own_tools_only() {
        let page = catalog().page(Some("b"), None, 10).expect("one page");
        assert_eq!(names(&page), ["b_one", "b_two"]);
        let unknown = catalog().page(Some("c"), None, 10).expect("an empty page");
        assert_eq!(unknown.tools, []);
    }

    #[test]
    fn a_cursor_this_server_did_not_hand_out_is_refused() {
        assert_eq!(catalog().page(None, Some("b_one"), 3), Err(InvalidCursor));
    }

    #[test]
    fn a_listed_tool_carries_title_schemas_and_no_empty_description() {
        let mut tool = agent_tool("a_one", "a");
        tool.description = Some("Says one.".to_owned());
        let output = Map::from_iter([("type".to_owned(), json!("object"))]);
        tool.output_schema = Some(Arc::new(output));
        let catalog = AgentCatalog::new(vec![tool, agent_tool("a_two", "a")]);
        let listed = catalog.tools_of(None).collect::<Vec<_>>();
        let listed = serde_json::to_value(listed).expect("tools serialize");
        assert_eq!(
            listed,
            json!([
                {
                    "name": "a_one",
                    "title": "A_ONE",
                    "description": "Says one.",
                    "inputSchema": {"type": "object"},
                    "outputSchema": {"type": "object"}
                },
                {"name": "a_two", "title": "A_TWO", "inputSchema": {"type": "object"}}
            ])
        );
    }
}
