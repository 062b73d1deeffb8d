//! The arguments a tool invocation sends upstream (DESIGN.md §3 "Invocation").

use serde_json::{Map, Value};

use crate::input_config::{InputArgType, InputDefaults, applicable_entries};
use crate::integration::{UnknownWireValue, wire_strings};

/// How a tool was invoked (DESIGN.md §3 "Agent-facing tools"), recorded with each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationMode {
    /// An agent, through the MCP endpoint.
    Agent,
    /// The dashboard's `test-mcp-call`.
    TestMcpCall,
    /// The dashboard's `test-invoke`.
    TestInvoke,
}

wire_strings!(InvocationMode {
    Agent => "agent",
    TestMcpCall => "test_mcp_call",
    TestInvoke => "test_invoke",
});

/// DESIGN.md §3 Invocation: operator defaults for fields the caller left out, then the caller's
/// input, then every pinned value over whatever the caller sent.
///
/// "Left out" means absent: a caller's explicit `null` is the caller's value. The result is not
/// validated here; the caller validates it against the tool's input_schema before sending.
pub fn merge_arguments(
    defaults: Option<&InputDefaults>,
    caller: &Map<String, Value>,
) -> Map<String, Value> {
    let empty = InputDefaults::new();
    let defaults = defaults.unwrap_or(&empty);
    let mut arguments = Map::new();
    for (field, config) in defaults {
        if config.r#type == InputArgType::Default && !caller.contains_key(field) {
            arguments.insert(field.clone(), config.value.clone());
        }
    }
    for (field, value) in caller {
        arguments.insert(field.clone(), value.clone());
    }
    for (field, config) in defaults {
        if config.r#type == InputArgType::Pinned {
            arguments.insert(field.clone(), config.value.clone());
        }
    }
    arguments
}

/// The pinned fields whose value no longer applies to `input_schema` (stale, DESIGN.md §3:
/// the field was removed, renamed or retyped by a re-sync), sorted. A call is refused
/// while there is one: sending the old value could be wrong for the new field, and
/// dropping it would let the caller set what the operator decided.
pub fn stale_pins(input_schema: &Value, defaults: Option<&InputDefaults>) -> Vec<String> {
    let Some(defaults) = defaults else {
        return Vec::new();
    };
    let (_applicable, stale) = applicable_entries(input_schema, defaults);
    stale
        .into_iter()
        .filter(|field| defaults[field].r#type == InputArgType::Pinned)
        .collect()
}

/// Whether a tool has vanished from its upstream catalog: the last successful sync did
/// not see it (DESIGN.md §3: its `last_seen_at` falls behind `tools_synced_at`). A vanished
/// tool keeps its configuration but cannot be invoked.
pub fn has_vanished<T: Ord>(last_seen_at: T, tools_synced_at: Option<T>) -> bool {
    tools_synced_at.is_some_and(|synced| last_seen_at < synced)
}

/// The value a response field map narrows in an MCP `CallToolResult`: its
/// `structuredContent` when the tool gives one, else its first text content parsed as
/// JSON (many tools answer JSON as text), else the whole result.
pub fn result_payload(call_result: &Value) -> Value {
    if let Some(structured) = call_result.get("structuredContent") {
        return structured.clone();
    }
    call_result
        .get("content")
        .and_then(Value::as_array)
        .and_then(|content| {
            content
                .iter()
                .find(|block| block.get("type").and_then(Value::as_str) == Some("text"))
        })
        .and_then(|block| block.get("text").and_then(Value::as_str))
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(|| call_result.clone())
}

/// The `CallToolResult` an agent gets for an upstream's `result` and its `narrowed`
/// payload (when a field map applies): `structuredContent` the narrowed value, and the
/// content one text block of its JSON, so that a client reading either sees the same
/// narrowed answer; the rest of the result (`_meta`) is kept. A tool error is passed on as
/// it is: its message is for the model, and the field map describes successful answers.
pub fn agent_call_result(result: Value, narrowed: Option<Value>) -> Value {
    let Some(narrowed) = narrowed else {
        return result;
    };
    if result.get("isError") == Some(&Value::Bool(true)) {
        return result;
    }
    let mut result = match result {
        Value::Object(result) => result,
        _ => Map::new(),
    };
    let text = narrowed.to_string();
    result.insert(
        "content".to_owned(),
        serde_json::json!([{"type": "text", "text": text}]),
    );
    result.insert("structuredContent".to_owned(), narrowed);
    Value::Object(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input_config::InputArgConfig;
    use serde_json::json;

    fn defaults(entries: &[(&str, Value, InputArgType)]) -> InputDefaults {
        entries
            .iter()
            .map(|(field, value, r#type)| {
                let config = InputArgConfig {
                    value: value.clone(),
                    r#type: *r#type,
                };
                (field.to_string(), config)
            })
            .collect()
    }

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn no_defaults_passes_caller_through() {
        let caller = object(json!({"a": 1, "b": [2]}));
        assert_eq!(merge_arguments(None, &caller), caller);
        assert_eq!(
            merge_arguments(Some(&InputDefaults::new()), &caller),
            caller
        );
    }

    #[test]
    fn default_fills_field_caller_left_out() {
        let config = defaults(&[("channel", json!("#general"), InputArgType::Default)]);
        let merged = merge_arguments(Some(&config), &object(json!({"text": "hi"})));
        assert_eq!(merged, object(json!({"channel": "#general", "text": "hi"})));
    }

    #[test]
    fn caller_overrides_default() {
        let config = defaults(&[("channel", json!("#general"), InputArgType::Default)]);
        let merged = merge_arguments(Some(&config), &object(json!({"channel": "#random"})));
        assert_eq!(merged, object(json!({"channel": "#random"})));
    }

    #[test]
    fn caller_null_overrides_default() {
        let config = defaults(&[("channel", json!("#general"), InputArgType::Default)]);
        let merged = merge_arguments(Some(&config), &object(json!({"channel": null})));
        assert_eq!(merged, object(json!({"channel": null})));
    }

    #[test]
    fn pinned_overrides_caller() {
        let config = defaults(&[("limit", json!(10), InputArgType::Pinned)]);
        let merged = merge_arguments(Some(&config), &object(json!({"limit": 1000, "q": "x"})));
        assert_eq!(merged, object(json!({"limit": 10, "q": "x"})));
    }

    #[test]
    fn pinned_fills_field_caller_left_out() {
        let config = defaults(&[("limit", json!(10), InputArgType::Pinned)]);
        let merged = merge_arguments(Some(&config), &Map::new());
        assert_eq!(merged, object(json!({"limit": 10})));
    }

    #[test]
    fn defaults_and_pins_combine() {
        let config = defaults(&[
            ("channel", json!("#general"), InputArgType::Default),
            ("limit", json!(10), InputArgType::Pinned),
            ("format", json!("text"), InputArgType::Default),
        ]);
        let caller = object(json!({"format": "markdown", "limit": 99, "text": "hi"}));
        let merged = merge_arguments(Some(&config), &caller);
        assert_eq!(
            merged,
            object(json!({"channel": "#general", "format": "markdown", "limit": 10, "text": "hi"}))
        );
    }

    #[test]
    fn values_are_copied_whole() {
        let config = defaults(&[(
            "opts",
            json!({"a": [1, {"b": null}]}),
            InputArgType::Default,
        )]);
        let merged = merge_arguments(Some(&config), &Map::new());
        assert_eq!(merged, object(json!({"opts": {"a": [1, {"b": null}]}})));
    }

    #[test]
    fn a_pin_is_stale_when_its_field_is_gone_or_its_value_no_longer_fits() {
        let schema = json!({
            "type": "object",
            "properties": {"limit": {"type": "integer"}, "channel": {"type": "string"}}
        });
        let config = defaults(&[
            ("limit", json!("ten"), InputArgType::Pinned),
            ("removed", json!(1), InputArgType::Pinned),
            ("channel", json!("#general"), InputArgType::Pinned),
            ("format", json!("text"), InputArgType::Default),
        ]);
        assert_eq!(stale_pins(&schema, Some(&config)), ["limit", "removed"]);
    }

    #[test]
    fn no_pin_is_stale_when_every_pin_fits_or_nothing_is_configured() {
        let schema = json!({"type": "object", "properties": {"limit": {"type": "integer"}}});
        let config = defaults(&[("limit", json!(10), InputArgType::Pinned)]);
        assert!(stale_pins(&schema, Some(&config)).is_empty());
        assert!(stale_pins(&schema, None).is_empty());
    }

    #[test]
    fn an_agent_gets_the_narrowed_answer_as_structured_content_and_as_text() {
        let result = json!({
            "content": [{"type": "text", "text": "{\"id\": 1, \"secret\": 2}"}],
            "_meta": {"trace": "t"}
        });
        assert_eq!(
            agent_call_result(result, Some(json!({"id": 1}))),
            json!({
                "content": [{"type": "text", "text": "{\"id\":1}"}],
                "_meta": {"trace": "t"},
                "structuredContent": {"id": 1}
            })
        );
    }

    #[test]
    fn an_agent_gets_a_tool_error_or_an_unmapped_answer_as_the_server_sent_it() {
        let error = json!({"content": [{"type": "text", "text": "no"}], "isError": true});
        assert_eq!(agent_call_result(error.clone(), Some(json!({}))), error);
        let plain =
            json!({"content": [{"type": "image", "data": "AA==", "mimeType": "image/png"}]});
        assert_eq!(agent_call_result(plain.clone(), None), plain);
    }

    #[test]
    fn a_tool_vanishes_when_the_last_sync_did_not_see_it() {
        assert!(has_vanished(1, Some(2)));
        assert!(!has_vanished(2, Some(2)));
        assert!(!has_vanished(1, None::<i32>));
    }

    #[test]
    fn payload_prefers_structured_content_then_json_text_then_the_result() {
        let structured =
            json!({"content": [{"type": "text", "text": "{}"}], "structuredContent": {"id": 1}});
        assert_eq!(result_payload(&structured), json!({"id": 1}));
        let text = json!({"content": [{"type": "image"}, {"type": "text", "text": "{\"id\": 2}"}]});
        assert_eq!(result_payload(&text), json!({"id": 2}));
        let prose = json!({"content": [{"type": "text", "text": "hello"}]});
        assert_eq!(result_payload(&prose), prose);
    }
}
