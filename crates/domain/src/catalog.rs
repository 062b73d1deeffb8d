//! An upstream tool catalog, and the checks a sync applies before recording one
//! (DESIGN.md §3 Tool sync): a catalog that fails them is a failed sync, and no tool
//! changes.

use std::collections::HashSet;

use serde_json::Value;

use crate::schema::CompiledSchema;
use crate::slug::is_single_line_text;

/// Longest tool name accepted, in characters.
pub const TOOL_NAME_MAX_CHARS: usize = 256;
/// Largest schema accepted, serialized, in bytes: a form with this much structure is
/// already beyond what an operator can configure.
pub const SCHEMA_MAX_BYTES: usize = 256 * 1024;

/// One tool as an upstream server lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamTool {
    /// The vendor's own tool name: becomes `tool_path`.
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub input_schema: Value,
    pub output_schema: Option<Value>,
}

/// Why a catalog cannot be recorded: one sentence naming the tool at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CatalogError(pub String);

/// Checks a whole catalog: names present, single-line, not too long and unique; schemas
/// objects that compile and are not enormous. The first problem found is reported.
pub fn check_catalog(tools: &[UpstreamTool]) -> Result<(), CatalogError> {
    let mut seen = HashSet::with_capacity(tools.len());
    for tool in tools {
        check_name(&tool.name)?;
        if !seen.insert(tool.name.as_str()) {
            return Err(CatalogError(format!(
                "The server lists the tool {:?} more than once.",
                tool.name
            )));
        }
        check_schema(&tool.name, "input schema", &tool.input_schema)?;
        if let Some(output_schema) = &tool.output_schema {
            check_schema(&tool.name, "output schema", output_schema)?;
        }
    }
    Ok(())
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
    let size = serde_json::to_vec(schema).map_or(usize::MAX, |bytes| bytes.len());
    if size > SCHEMA_MAX_BYTES {
        return Err(CatalogError(format!(
            "The {which} of tool {tool:?} is {size} bytes; at most {SCHEMA_MAX_BYTES} are accepted."
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
    fn an_enormous_schema_fails_with_its_size() {
        let mut enormous = tool("big");
        let properties: serde_json::Map<String, Value> = (0..20_000)
            .map(|i| (format!("field_{i}"), json!({"type": "string"})))
            .collect();
        enormous.input_schema = json!({"type": "object", "properties": properties});
        assert!(problem(&[enormous]).contains("at most 262144 are accepted"));
    }
}
