//! The input schema an agent is shown (DESIGN.md §3 "Agent-facing tools"): what it may
//! set, and nothing the operator decided for it.

use serde_json::Value;

use crate::input_config::{InputArgType, InputDefaults, applicable_entries, inject_default};

/// `input_schema` as an agent sees it. Every non-stale pinned field is removed from
/// `properties` and `required`: the agent cannot set it, and the call gets the pinned
/// value whatever it sends. Every non-stale default is shown as its property's `default`
/// and is no longer required. Stale configuration is ignored, as the merged preview ignores
/// it, so the field shows as the upstream describes it. A `required` left empty is
/// removed. Equal to `input_schema` when nothing applies.
pub fn agent_input_schema(input_schema: &Value, defaults: Option<&InputDefaults>) -> Value {
    let mut schema = input_schema.clone();
    let Some(defaults) = defaults else {
        return schema;
    };
    let (applicable, _stale) = applicable_entries(input_schema, defaults);
    for (field, config) in applicable {
        match config.r#type {
            InputArgType::Pinned => remove_property(&mut schema, field),
            InputArgType::Default => inject_default(&mut schema, field, &config.value),
        }
        no_longer_required(&mut schema, field);
    }
    schema
}

fn remove_property(schema: &mut Value, field: &str) {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        properties.shift_remove(field);
    }
}

fn no_longer_required(schema: &mut Value, field: &str) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let Some(required) = object.get_mut("required").and_then(Value::as_array_mut) else {
        return;
    };
    required.retain(|name| name != field);
    if required.is_empty() {
        object.shift_remove("required");
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::input_config::InputArgConfig;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "channel": {"type": "string"},
                "text": {"type": "string"},
                "limit": {"type": "integer", "maximum": 100},
                "tag": true
            },
            "required": ["channel", "text", "limit"],
            "additionalProperties": false
        })
    }

    fn configured(entries: &[(&str, Value, InputArgType)]) -> InputDefaults {
        entries
            .iter()
            .map(|(field, value, r#type)| {
                (
                    (*field).to_owned(),
                    InputArgConfig {
                        value: value.clone(),
                        r#type: *r#type,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn an_unconfigured_tool_shows_its_own_schema() {
        assert_eq!(agent_input_schema(&schema(), None), schema());
        assert_eq!(
            agent_input_schema(&schema(), Some(&InputDefaults::new())),
            schema()
        );
    }

    #[test]
    fn a_pinned_field_is_neither_a_property_nor_required() {
        let pins = configured(&[("channel", json!("#support"), InputArgType::Pinned)]);
        let shown = agent_input_schema(&schema(), Some(&pins));
        assert_eq!(
            shown,
            json!({
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "limit": {"type": "integer", "maximum": 100},
                    "tag": true
                },
                "required": ["text", "limit"],
                "additionalProperties": false
            })
        );
    }

    #[test]
    fn a_default_is_shown_as_the_propertys_default_and_is_optional() {
        let defaults = configured(&[("limit", json!(10), InputArgType::Default)]);
        let shown = agent_input_schema(&schema(), Some(&defaults));
        assert_eq!(
            shown["properties"]["limit"],
            json!({"type": "integer", "maximum": 100, "default": 10})
        );
        assert_eq!(shown["required"], json!(["channel", "text"]));
    }

    #[test]
    fn a_default_on_a_schema_that_accepts_anything_becomes_a_subschema() {
        let defaults = configured(&[("tag", json!("vip"), InputArgType::Default)]);
        let shown = agent_input_schema(&schema(), Some(&defaults));
        assert_eq!(shown["properties"]["tag"], json!({"default": "vip"}));
    }

    #[test]
    fn stale_configuration_leaves_the_field_as_the_upstream_describes_it() {
        // 500 is over the maximum; `gone` is no property.
        let stale = configured(&[
            ("limit", json!(500), InputArgType::Pinned),
            ("gone", json!("x"), InputArgType::Pinned),
        ]);
        assert_eq!(agent_input_schema(&schema(), Some(&stale)), schema());
    }

    #[test]
    fn a_required_list_left_empty_is_removed() {
        let all = configured(&[
            ("channel", json!("#support"), InputArgType::Pinned),
            ("text", json!("hello"), InputArgType::Default),
            ("limit", json!(5), InputArgType::Pinned),
        ]);
        let shown = agent_input_schema(&schema(), Some(&all));
        assert!(shown.get("required").is_none(), "{shown:#}");
        let properties: Vec<&String> = shown["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .collect();
        assert_eq!(properties, ["text", "tag"], "order kept, pins gone");
    }

    #[test]
    fn a_schema_that_does_not_compile_is_shown_as_it_is() {
        let broken = json!({"type": "object", "properties": {"a": {"type": 7}}, "required": ["a"]});
        let pins = configured(&[("a", json!(1), InputArgType::Pinned)]);
        assert_eq!(agent_input_schema(&broken, Some(&pins)), broken);
    }
}
