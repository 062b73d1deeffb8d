//! The organization's tools as MCP lists them, kept per organization while its listing
//! version is unchanged (the version moves with every sync, toggle and pin), and cut into
//! pages. The first page of each endpoint is also kept serialized, as a stateless agent
//! asks for it: the answer to most `tools/list` requests costs no serializing.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use feather_service::{AgentTool, RenderedListing, ServiceError};
use rmcp::model::{CacheScope, ListToolsResult, Tool};
use uuid::Uuid;

use crate::AppState;

/// Every tool an agent of one organization may call, in slug order.
#[derive(Debug, PartialEq)]
pub(crate) struct AgentCatalog {
    tools: Vec<ListedTool>,
    /// Tools in one page.
    page_size: usize,
    /// The first page of `/mcp` (key `None`) and of each connection's endpoint with tools,
    /// as a 2026-07-28 `tools/list` result in JSON.
    first_pages: HashMap<Option<String>, Bytes>,
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
    /// The catalog of `tools`, cut into pages of `page_size` tools (at least one).
    pub(crate) fn new(mut tools: Vec<AgentTool>, page_size: usize) -> AgentCatalog {
        // Byte order, whatever the database's collation: the order cursors rely on.
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        let tools: Vec<ListedTool> = tools.into_iter().map(listed_tool).collect();
        // What the tools hold, as their JSON weighs; the kept pages are added below.
        let bytes = tools
            .iter()
            .map(|listed| serde_json::to_vec(&listed.tool).map_or(0, |json| json.len()))
            .sum();
        let mut catalog = AgentCatalog {
            tools,
            page_size: page_size.max(1),
            first_pages: HashMap::new(),
            bytes,
        };
        let endpoints = std::iter::once(None).chain(
            catalog
                .tools
                .iter()
                .map(|listed| Some(listed.connection_slug.clone())),
        );
        for endpoint in endpoints {
            if catalog.first_pages.contains_key(&endpoint) {
                continue;
            }
            let first_page = catalog.page(endpoint.as_deref(), None).map(stateless);
            if let Some(json) = first_page.ok().as_ref().and_then(json_bytes) {
                catalog.bytes += json.len();
                catalog.first_pages.insert(endpoint, json);
            }
        }
        catalog
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

    /// One page of `tools_of(connection_slug)`: the tools from where `cursor` says, with
    /// the cursor of the next page when there is one.
    pub(crate) fn page(
        &self,
        connection_slug: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<ListToolsResult, InvalidCursor> {
        let after = cursor
            .map(|cursor| cursor.strip_prefix(CURSOR_PREFIX).ok_or(InvalidCursor))
            .transpose()?;
        let mut remaining = self
            .tools_of(connection_slug)
            .filter(|tool| after.is_none_or(|after| tool.name.as_ref() > after))
            .peekable();
        let tools: Vec<Tool> = remaining.by_ref().take(self.page_size).cloned().collect();
        let next_cursor = match (remaining.peek(), tools.last()) {
            (Some(_), Some(last)) => Some(format!("{CURSOR_PREFIX}{}", last.name)),
            _ => None,
        };
        let mut result = ListToolsResult::with_all_items(tools);
        result.next_cursor = next_cursor;
        Ok(result)
    }

    /// `page` as a 2026-07-28 `tools/list` result in JSON (the first page is kept), or
    /// `None` in the unexpected case that it does not serialize.
    pub(crate) fn stateless_page_json(
        &self,
        connection_slug: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Option<Bytes>, InvalidCursor> {
        if cursor.is_none()
            && let Some(json) = self.first_pages.get(&connection_slug.map(str::to_owned))
        {
            return Ok(Some(json.clone()));
        }
        let page = stateless(self.page(connection_slug, cursor)?);
        Ok(json_bytes(&page))
    }
}

fn json_bytes(page: &ListToolsResult) -> Option<Bytes> {
    serde_json::to_vec(page).ok().map(Bytes::from)
}

/// `page` with the caching hints 2026-07-28 requires. Each organization's list is its
/// own and changes whenever an operator acts: fresh only now.
pub(crate) fn stateless(page: ListToolsResult) -> ListToolsResult {
    page.with_ttl_ms(0).with_cache_scope(CacheScope::Private)
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
            state.mcp.tools_page_size,
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
    use serde_json::{Map, Value, json};

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

    fn catalog(page_size: usize) -> AgentCatalog {
        let tools = vec![
            agent_tool("b_two", "b"),
            agent_tool("a_one", "a"),
            agent_tool("b_one", "b"),
            agent_tool("a_two", "a"),
        ];
        AgentCatalog::new(tools, page_size)
    }

    #[test]
    fn pages_follow_one_another_in_name_order_until_no_cursor_is_left() {
        let catalog = catalog(3);
        let first = catalog.page(None, None).expect("first page");
        assert_eq!(names(&first), ["a_one", "a_two", "b_one"]);
        let cursor = first.next_cursor.clone().expect("a second page");
        let second = catalog.page(None, Some(&cursor)).expect("second page");
        assert_eq!(names(&second), ["b_two"]);
        assert_eq!(second.next_cursor, None);
    }

    #[test]
    fn a_page_that_holds_the_rest_has_no_cursor() {
        let page = catalog(4).page(None, None).expect("one page");
        assert_eq!(page.tools.len(), 4);
        assert_eq!(page.next_cursor, None);
    }

    #[test]
    fn a_connection_endpoint_pages_through_its_own_tools_only() {
        let page = catalog(10).page(Some("b"), None).expect("one page");
        assert_eq!(names(&page), ["b_one", "b_two"]);
        let unknown = catalog(10).page(Some("c"), None).expect("an empty page");
        assert_eq!(unknown.tools, []);
    }

    #[test]
    fn a_cursor_this_server_did_not_hand_out_is_refused() {
        assert_eq!(catalog(3).page(None, Some("b_one")), Err(InvalidCursor));
    }

    #[test]
    fn a_stateless_page_is_the_page_with_its_caching_hints_in_json() {
        let catalog = catalog(3);
        let json = |endpoint, cursor| {
            let bytes = catalog
                .stateless_page_json(endpoint, cursor)
                .expect("a page")
                .expect("in JSON");
            serde_json::from_slice::<Value>(&bytes).expect("JSON")
        };
        let first = json(None, None);
        assert_eq!(first["ttlMs"], 0);
        assert_eq!(first["cacheScope"], "private");
        assert_eq!(first["tools"].as_array().map(Vec::len), Some(3));
        let cursor = first["nextCursor"].as_str().expect("a second page");
        let second = json(None, Some(cursor));
        assert_eq!(second["tools"][0]["name"], "b_two");
        assert_eq!(second.get("nextCursor"), None);
        for endpoint in [Some("a"), Some("b"), Some("c")] {
            let page = stateless(catalog.page(endpoint, None).expect("a page"));
            let expected = serde_json::to_value(page).expect("the page serializes");
            assert_eq!(json(endpoint, None), expected);
        }
        assert_eq!(
            catalog.stateless_page_json(None, Some("b_one")),
            Err(InvalidCursor)
        );
    }

    #[test]
    fn a_listed_tool_carries_title_schemas_and_no_empty_description() {
        let mut tool = agent_tool("a_one", "a");
        tool.description = Some("Says one.".to_owned());
        let output = Map::from_iter([("type".to_owned(), json!("object"))]);
        tool.output_schema = Some(Arc::new(output));
        let catalog = AgentCatalog::new(vec![tool, agent_tool("a_two", "a")], 10);
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
