//! An upstream tool catalog, and the checks a sync applies before recording one
//! (DESIGN.md §3 Tool sync): a catalog that fails them is a failed sync, and no tool
//! changes.

use std::collections::HashSet;

use serde_json::Value;

use crate::schema::CompiledSchema;
use crate::slug::is_single_line_text;
use crate::text::{is_storable, unstorable_paths};

/// Longest tool name accepted, in characters.
pub const TOOL_NAME_MAX_CHARS: usize = 256;
/// Longest tool title accepted, in characters: it becomes the tool's display name.
pub const TITLE_MAX_CHARS: usize = 256;
/// Longest tool description accepted, in bytes: the longest seen in public servers'
/// catalogs are a few kilobytes, usage examples included.
pub const DESCRIPTION_MAX_BYTES: usize = 32 * 1024;
/// Largest schema accepted, serialized, in bytes: a form with this much structure is
/// already beyond what an operator can configure.
pub const SCHEMA_MAX_BYTES: usize = 256 * 1024;
/// Largest whole catalog accepted, in bytes as [`tool_bytes`] counts them. It bounds what
/// one connection adds to every listing of its organization (a catalog of 10,000 small
/// tools is about 2 MiB).
pub const CATALOG_MAX_BYTES: usize = 8 * 1024 * 1024;

/// One tool as an upstream server lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamTool {
    /// The vendor's own tool name: becomes `tool_path`.
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
    /// The tool's MCP annotations (`readOnlyHint`, `destructiveHint`, …), a JSON object,
    /// as the server sent them: hints for agents, passed on, never trusted.
    pub annotations: Option<Value>,
}

/// Why a catalog cannot be recorded: one sentence naming the tool at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CatalogError(pub String);

/// The size of a tool in a catalog: its texts and its schemas serialized, in bytes.
pub fn tool_bytes(tool: &UpstreamTool) -> usize {
    let text = |text: &Option<String>| text.as_ref().map_or(0, String::len);
    tool.name.len()
        + text(&tool.title)
        + text(&tool.description)
        + json_bytes(&tool.input_schema)
        + tool.output_schema.as_ref().map_or(0, json_bytes)
        + tool.annotations.as_ref().map_or(0, json_bytes)
}

/// Why a catalog is refused for its total size alone.
pub fn catalog_too_large(bytes: usize, limit: usize) -> CatalogError {
    CatalogError(format!(
        "The catalog is larger than the limit of {limit} bytes (tool names, titles, \
         descriptions and schemas; {bytes} bytes so far)."
    ))
}

/// Checks a whole catalog: names present, single-line, not too long and unique; titles
/// and descriptions not too long; schemas objects that compile and are not enormous; no
/// text the store cannot hold; the whole within [`CATALOG_MAX_BYTES`]. The first problem
/// found is reported.
pub fn check_catalog(tools: &[UpstreamTool]) -> Result<(), CatalogError> {
    let mut seen = HashSet::with_capacity(tools.len());
    let mut total = 0usize;
    for tool in tools {
        check_name(&tool.name)?;
        if !seen.insert(tool.name.as_str()) {
            return Err(CatalogError(format!(
                "The server lists the tool {:?} more than once.",
                tool.name
            )));
        }
        check_texts(tool)?;
        check_schema(&tool.name, "input schema", &tool.input_schema)?;
        if let Some(output_schema) = &tool.output_schema {
            check_schema(&tool.name, "output schema", output_schema)?;
        }
        total = total.saturating_add(tool_bytes(tool));
        if total > CATALOG_MAX_BYTES {
            return Err(catalog_too_large(total, CATALOG_MAX_BYTES));
        }
    }
    Ok(())
}

fn check_texts(tool: &UpstreamTool) -> Result<(), CatalogError> {
    let name = &tool.name;
    if let Some(title) = &tool.title {
        if title.chars().count() > TITLE_MAX_CHARS {
            return Err(CatalogError(format!(
                "The title of tool {name:?} is longer than {TITLE_MAX_CHARS} characters."
            )));
        }
        if !is_storable(title) {
            return Err(unstorable(name, "title"));
        }
    }
    if let Some(description) = &tool.description {
        if description.len() > DESCRIPTION_MAX_BYTES {
            return Err(CatalogError(format!(
                "The description of tool {name:?} is {} bytes; at most \
                 {DESCRIPTION_MAX_BYTES} are accepted.",
                description.len()
            )));
        }
        if !is_storable(description) {
            return Err(unstorable(name, "description"));
        }
    }
    Ok(())
}

fn unstorable(tool: &str, which: &str) -> CatalogError {
    CatalogError(format!(
        "The {which} of tool {tool:?} contains the NUL character (U+0000), which cannot be stored."
    ))
}

/// Serialized size; a `Value` always serializes, so the fallback is never used.
fn json_bytes(value: &Value) -> usize {
    serde_json::to_vec(value).map_or(usize::MAX, |bytes| bytes.len())
}

fn check_name(name: &str) -> Result<(), CatalogError> {
    if name.is_empty() {
        return Err(CatalogError(
            "The server lists a tool without a name.".to_owned(),
        ));
    }
    if !is_single_line_text(name) {
        return Err(CatalogError(format!(
            "The server lists a tool whose name {name:?} contains control characters."
        )));
    }
    if name.chars().count() > TOOL_NAME_MAX_CHARS {
        let start: String = name.chars().take(40).collect();
        return Err(CatalogError(format!(
            "The server lists a tool whose name ({start:?}…) is longer than \
             {TOOL_NAME_MAX_CHARS} characters."
        )));
    }
    Ok(())
}

fn check_schema(tool: &str, which: &str, schema: &Value) -> Result<(), CatalogError> {
    if !schema.is_object() {
        return Err(CatalogError(format!(
            "The {which} of tool {tool:?} is not a JSON object."
        )));
    }
    let size = json_bytes(schema);
    if size > SCHEMA_MAX_BYTES {
        return Err(CatalogError(format!(
            "The {which} of tool {tool:?} is {size} bytes; at most {SCHEMA_MAX_BYTES} are accepted."
        )));
    }
    if let Some(path) = unstorable_paths(schema, 1).first() {
        return Err(CatalogError(format!(
            "The {which} of tool {tool:?} contains the NUL character (U+0000) at /{}, which \
             cannot be stored.",
            path.join("/")
        )));
    }
    CompiledSchema::compile(schema).map_err(|error| {
        CatalogError(format!("The {which} of tool {tool:?} is invalid: {error}"))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tool(name: &str) -> UpstreamTool {
        UpstreamTool {
            name: name.to_owned(),
            title: None,
            description: None,
            input_schema: json!({"type": "object", "properties": {"q": {"type": "string"}}}),
            output_schema: None,
            annotations: None,
        }
    }

    fn problem(tools: &[UpstreamTool]) -> String {
        match check_catalog(tools) {
            Err(CatalogError(message)) => message,
            Ok(()) => panic!("expected the catalog to be refused"),
        }
    }

    #[test]
    fn a_well_formed_catalog_passes() {
        let mut with_output = tool("get");
        with_output.output_schema = Some(json!({"type": "object"}));
        assert_eq!(check_catalog(&[tool("search"), with_output]), Ok(()));
        assert_eq!(check_catalog(&[]), Ok(()));
    }

    #[test]
    fn duplicate_names_fail_naming_the_tool() {
        assert!(problem(&[tool("a"), tool("b"), tool("a")]).contains("\"a\" more than once"));
    }

    #[test]
    fn names_with_control_characters_or_none_fail() {
        assert!(problem(&[tool("bad\u{0}name")]).contains("control characters"));
        assert!(problem(&[tool("bad\nname")]).contains("control characters"));
        assert!(problem(&[tool("")]).contains("without a name"));
        assert!(problem(&[tool(&"n".repeat(TOOL_NAME_MAX_CHARS + 1))]).contains("longer than"));
        assert_eq!(
            check_catalog(&[tool(&"n".repeat(TOOL_NAME_MAX_CHARS))]),
            Ok(())
        );
    }

    #[test]
    fn a_schema_that_is_not_an_object_or_does_not_compile_fails() {
        let mut not_object = tool("x");
        not_object.input_schema = json!(["type", "object"]);
        assert!(problem(&[not_object]).contains("input schema of tool \"x\" is not a JSON object"));
        let mut invalid = tool("y");
        invalid.input_schema = json!({"type": "object", "properties": {"a": {"type": 12}}});
        assert!(problem(&[invalid]).contains("input schema of tool \"y\" is invalid"));
        let mut bad_output = tool("z");
        bad_output.output_schema = Some(json!({"minimum": "none"}));
        assert!(problem(&[bad_output]).contains("output schema of tool \"z\""));
    }

    #[test]
    fn titles_and_descriptions_have_limits() {
        let mut long_title = tool("t");
        long_title.title = Some("T".repeat(TITLE_MAX_CHARS + 1));
        assert!(problem(&[long_title]).contains("title of tool \"t\" is longer than 256"));
        let mut long_description = tool("d");
        long_description.description = Some("d".repeat(DESCRIPTION_MAX_BYTES + 1));
        assert!(problem(&[long_description]).contains("at most 32768 are accepted"));
        let mut at_the_limits = tool("ok");
        at_the_limits.title = Some("T".repeat(TITLE_MAX_CHARS));
        at_the_limits.description = Some("d".repeat(DESCRIPTION_MAX_BYTES));
        assert_eq!(check_catalog(&[at_the_limits]), Ok(()));
    }

    #[test]
    fn text_the_store_cannot_hold_fails_naming_where() {
        let mut title = tool("a");
        title.title = Some("A\u{0}".into());
        assert!(problem(&[title]).contains("title of tool \"a\" contains the NUL"));
        let mut description = tool("b");
        description.description = Some("\u{0}".into());
        assert!(problem(&[description]).contains("description of tool \"b\" contains the NUL"));
        let mut schema = tool("c");
        schema.input_schema =
            json!({"type": "object", "properties": {"q": {"description": "x\u{0}"}}});
        assert!(problem(&[schema]).contains("at /properties/q/description"));
        let mut key = tool("d");
        key.input_schema = json!({"type": "object", "properties": {"q\u{0}": {}}});
        assert!(problem(&[key]).contains("input schema of tool \"d\" contains the NUL"));
    }

    #[test]
    fn a_catalog_larger_than_the_limit_fails_though_each_tool_fits() {
        let description = "d".repeat(DESCRIPTION_MAX_BYTES);
        let tools: Vec<UpstreamTool> = (0..=CATALOG_MAX_BYTES / DESCRIPTION_MAX_BYTES)
            .map(|index| {
                let mut described = tool(&format!("tool_{index}"));
                described.description = Some(description.clone());
                described
            })
            .collect();
        assert!(problem(&tools).contains("larger than the limit of 8388608 bytes"));
        assert_eq!(check_catalog(&tools[..tools.len() / 2]), Ok(()));
    }

    #[test]
    fn a_tools_size_counts_its_texts_and_schemas() {
        let mut described = tool("ab");
        described.title = Some("T".into());
        described.description = Some("dd".into());
        described.output_schema = Some(json!({}));
        let input = serde_json::to_vec(&described.input_schema)
            .expect("json")
            .len();
        assert_eq!(tool_bytes(&described), 2 + 1 + 2 + input + 2);
    }

    #[test]
    fn an_enormous_schema_fails_with_its_size() {
        let mut enormous = tool("big");
        let properties: serde_json::Map<String, Value> = (0..20_000)
            .map(|i| (format!("field_{i}"), json!({"type": "string"})))
            .collect();
        enormous.input_schema = json!({"type": "object", "properties": properties});
        assert!(problem(&[enormous]).contains("at most 262144 are accepted"));
    }
}
