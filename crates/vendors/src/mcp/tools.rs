//! Reading one page of a `tools/list` answer.
//!
//! rmcp's typed `list_tools` rejects a whole page when one tool does not fit its `Tool`
//! type, with nothing better than "unexpected response". The page is read here from the
//! raw JSON instead, so a broken tool is named, and fields this service does not use
//! (icons, `_meta`) cannot fail a sync. Annotations are kept as listed, for agents.

use serde_json::Value;

use feather_domain::catalog::UpstreamTool;

use super::McpError;

/// One page of tools and the cursor of the next page, if any.
#[derive(Debug)]
pub(super) struct ToolsPage {
    pub(super) tools: Vec<UpstreamTool>,
    pub(super) next_cursor: Option<String>,
}

/// Reads the `result` of a `tools/list` answer.
pub(super) fn parse_page(result: Value) -> Result<ToolsPage, McpError> {
    let Value::Object(mut result) = result else {
        return Err(protocol("its tools/list answer is not an object"));
    };
    let Some(Value::Array(raw_tools)) = result.remove("tools") else {
        return Err(protocol("its tools/list answer has no `tools` list"));
    };
    let tools = raw_tools
        .into_iter()
        .enumerate()
        .map(|(index, tool)| parse_tool(index, tool))
        .collect::<Result<_, _>>()?;
    let next_cursor = match result.remove("nextCursor") {
        None | Some(Value::Null) => None,
        // An empty cursor is how some servers say "no more pages"; asking again with it
        // would at best return the first page again.
        Some(Value::String(cursor)) if cursor.is_empty() => None,
        Some(Value::String(cursor)) => Some(cursor),
        Some(_) => {
            return Err(protocol(
                "its tools/list answer has a non-string nextCursor",
            ));
        }
    };
    Ok(ToolsPage { tools, next_cursor })
}

fn parse_tool(index: usize, tool: Value) -> Result<UpstreamTool, McpError> {
    let Value::Object(mut tool) = tool else {
        return Err(protocol(&format!(
            "tool #{} of its list is not an object",
            index + 1
        )));
    };
    let Some(Value::String(name)) = tool.remove("name") else {
        return Err(protocol(&format!(
            "tool #{} of its list has no name",
            index + 1
        )));
    };
    // A schema of the wrong JSON type is kept as listed (the domain layer judges schema
    // validity); only a missing one is a protocol error, as MCP requires it.
    let input_schema = match tool.remove("inputSchema") {
        None | Some(Value::Null) => {
            return Err(protocol(&format!(
                "the tool {} has no inputSchema",
                quoted_name(&name)
            )));
        }
        Some(schema) => schema,
    };
    let output_schema = tool
        .remove("outputSchema")
        .filter(|schema| !schema.is_null());
    let annotations_title = tool
        .get("annotations")
        .and_then(|annotations| annotations.get("title"));
    let title = text(tool.get("title")).or_else(|| text(annotations_title));
    let description = text(tool.get("description"));
    // Hints, not rules: annotations that are not an object carry none, and are dropped
    // rather than failing the sync.
    let annotations = tool.remove("annotations").filter(Value::is_object);
    Ok(UpstreamTool {
        name,
        title,
        description,
        input_schema,
        output_schema,
        annotations,
    })
}

/// A string field; other JSON types are ignored (they carry nothing displayable).
fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_owned)
}

/// A tool name fit for an error sentence: quoted, escaped, at most 64 characters.
fn quoted_name(name: &str) -> String {
    let short: String = name.chars().take(64).collect();
    format!("{short:?}")
}

fn protocol(reason: &str) -> McpError {
    McpError::Protocol(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_tools_titles_schemas_and_cursor() {
        let page = parse_page(json!({
            "tools": [
                {"name": "a", "title": "A",
                 "annotations": {"title": "not me", "readOnlyHint": true},
                 "description": "does a", "inputSchema": {"type": "object"},
                 "outputSchema": {"type": "object", "properties": {}}, "icons": [1]},
                {"name": "b", "annotations": {"title": "B"}, "inputSchema": {"type": "object"}},
                {"name": "c", "title": 3, "inputSchema": true, "outputSchema": null,
                 "annotations": "read-only"}
            ],
            "nextCursor": "p2"
        }))
        .expect("valid page");
        assert_eq!(page.next_cursor.as_deref(), Some("p2"));
        assert_eq!(
            page.tools[0],
            UpstreamTool {
                name: "a".into(),
                title: Some("A".into()),
                description: Some("does a".into()),
                input_schema: json!({"type": "object"}),
                output_schema: Some(json!({"type": "object", "properties": {}})),
                annotations: Some(json!({"title": "not me", "readOnlyHint": true})),
            }
        );
        assert_eq!(page.tools[1].title.as_deref(), Some("B"));
        assert_eq!(page.tools[2].title, None);
        assert_eq!(page.tools[2].input_schema, json!(true));
        assert_eq!(page.tools[2].output_schema, None);
        assert_eq!(page.tools[2].annotations, None, "not an object: no hints");
    }

    #[test]
    fn an_empty_or_null_cursor_ends_the_listing() {
        for cursor in [json!(""), json!(null)] {
            let page = parse_page(json!({"tools": [], "nextCursor": cursor})).expect("page");
            assert_eq!(page.next_cursor, None);
        }
    }

    #[test]
    fn broken_pages_and_tools_are_named() {
        let cases = [
            (json!([]), "not an object"),
            (json!({}), "no `tools` list"),
            (
                json!({"tools": [1]}),
                "tool #1 of its list is not an object",
            ),
            (
                json!({"tools": [{"inputSchema": {}}]}),
                "tool #1 of its list has no name",
            ),
            (
                json!({"tools": [{"name": "x\ny"}]}),
                r#"the tool "x\ny" has no inputSchema"#,
            ),
            (
                json!({"tools": [], "nextCursor": 2}),
                "non-string nextCursor",
            ),
        ];
        for (result, expected) in cases {
            match parse_page(result) {
                Err(McpError::Protocol(reason)) => assert!(reason.contains(expected), "{reason}"),
                other => panic!("expected a protocol error with {expected:?}, got {other:?}"),
            }
        }
    }
}
