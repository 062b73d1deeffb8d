//! Operator input config (`input_defaults`, DESIGN.md §3 "Operator input config"): its
//! validation on write and the view computed from it on every read.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema::{PropertySchemas, SchemaError, SchemaViolation};

/// The most fields one tool's `input_defaults` may configure: beyond what any form has,
/// and it bounds the validation work of one request.
pub const MAX_INPUT_DEFAULTS: usize = 1000;

/// Whether a configured value yields to the caller (`default`) or overrides it (`pinned`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputArgType {
    /// Used only when the caller leaves the field out.
    #[default]
    Default,
    /// Always sent, over whatever the caller sent.
    Pinned,
}

/// One configured field: `{"value": ..., "type": "default"|"pinned"}` (`type` is always
/// written, and defaults to `default` when read without it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputArgConfig {
    /// The value sent for the field.
    pub value: Value,
    /// How the value combines with the caller's input.
    #[serde(default)]
    pub r#type: InputArgType,
}

/// Operator input config keyed by field name, in the operator's order.
pub type InputDefaults = indexmap::IndexMap<String, InputArgConfig>;

/// One problem with a piece of client input, located relative to the value being validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path from the validated value to the problem; empty for the value itself.
    pub loc: Vec<String>,
    /// One human sentence.
    pub msg: String,
    /// Stable snake_case code, e.g. `unknown_field`, `extra_forbidden`, `missing`, `enum`,
    /// `invalid_value`, `object_type`, `invalid_schema`.
    pub kind: &'static str,
}

impl FieldError {
    /// A problem at `loc`.
    pub fn new(loc: &[&str], msg: impl Into<String>, kind: &'static str) -> FieldError {
        FieldError {
            loc: loc.iter().map(|segment| (*segment).to_owned()).collect(),
            msg: msg.into(),
            kind,
        }
    }
}

/// Validates raw operator input config (the PATCH body's `input_defaults` object) against the
/// tool's CURRENT input_schema. Reports EVERY problem in one Vec: not an object (loc []); per
/// field (loc `[field]`): not a top-level property of the schema ("unknown_field"), entry not an
/// object, missing `value` (loc [field,"value"], "missing"), `type` not "default"/"pinned"
/// (loc [field,"type"], "enum"), extra keys (loc [field, key], "extra_forbidden"), value
/// invalid against the property's subschema (loc [field,"value"], "invalid_value", msg includes
/// the validator's reason). If the input_schema itself does not compile: one error kind
/// "invalid_schema". An empty object is valid (Ok(empty)).
///
/// An empty object needs no schema, so it is accepted even when the schema is broken.
pub fn parse_input_defaults(
    raw: &Value,
    input_schema: &Value,
) -> Result<InputDefaults, Vec<FieldError>> {
    let Some(entries) = raw.as_object() else {
        return Err(vec![FieldError::new(
            &[],
            "input_defaults must be an object mapping field names to {\"value\": ..., \"type\": ...}.",
            "object_type",
        )]);
    };
    if entries.is_empty() {
        return Ok(InputDefaults::new());
    }
    if entries.len() > MAX_INPUT_DEFAULTS {
        return Err(vec![FieldError::new(
            &[],
            format!(
                "At most {MAX_INPUT_DEFAULTS} fields may be configured; {} were given.",
                entries.len()
            ),
            "too_long",
        )]);
    }
    let schemas = PropertySchemas::new(input_schema).map_err(|SchemaError::Invalid(reason)| {
        vec![FieldError::new(
            &[],
            format!("The tool's input_schema is not a valid JSON Schema: {reason}"),
            "invalid_schema",
        )]
    })?;
    let mut defaults = InputDefaults::new();
    let mut errors = Vec::new();
    for (field, entry) in entries {
        let property = match schemas.compile(field) {
            Ok(Some(property)) => Some(property),
            Ok(None) => {
                errors.push(FieldError::new(
                    &[field],
                    format!("\"{field}\" is not a property of the tool's input_schema."),
                    "unknown_field",
                ));
                None
            }
            Err(SchemaError::Invalid(reason)) => {
                errors.push(FieldError::new(
                    &[field],
                    format!("The input_schema of \"{field}\" is not a valid JSON Schema: {reason}"),
                    "invalid_schema",
                ));
                None
            }
        };
        let Some(config) = parse_entry(field, entry, &mut errors) else {
            continue;
        };
        let Some(property) = property else {
            continue;
        };
        let violations = property.errors(&config.value);
        if violations.is_empty() {
            defaults.insert(field.clone(), config);
        } else {
            errors.push(FieldError::new(
                &[field, "value"],
                format!("Invalid value: {}", reasons(&violations)),
                "invalid_value",
            ));
        }
    }
    if errors.is_empty() {
        Ok(defaults)
    } else {
        Err(errors)
    }
}

/// The computed read-side view of a tool's operator input config (DESIGN.md §3 "Computed on
/// every read").
#[derive(Debug, Clone, PartialEq)]
pub struct InputConfigView {
    /// Configured entries of type `default`, stale ones included.
    pub default_count: usize,
    /// Configured entries of type `pinned`, stale ones included.
    pub pinned_count: usize,
    /// Configured fields the current input_schema no longer has or no longer accepts; sorted.
    pub stale_input_fields: Vec<String>,
    /// The input_schema with each non-stale configured value as its property's `default`.
    pub merged_input_preview: Value,
}

/// Computes the read-side view of `defaults` against the tool's current `input_schema`.
///
/// Stale: a configured field that is no longer a top-level property, or whose value no longer
/// validates against the property subschema; every configured field when the schema no longer
/// compiles. `merged_input_preview` is a copy of `input_schema` with each non-stale value
/// injected as its property's `default` (pinned ones too): a `true` property subschema
/// becomes `{"default": v}`, any object subschema (a `$ref`-only one included) gains a
/// `default` key. Equal to `input_schema` when nothing is configured.
pub fn input_config_view(
    input_schema: &Value,
    defaults: Option<&InputDefaults>,
) -> InputConfigView {
    let empty = InputDefaults::new();
    let defaults = defaults.unwrap_or(&empty);
    let count = |kind| defaults.values().filter(|c| c.r#type == kind).count();
    let (applicable, stale) = applicable_entries(input_schema, defaults);
    let mut preview = input_schema.clone();
    for (field, config) in applicable {
        inject_default(&mut preview, field, &config.value);
    }
    InputConfigView {
        default_count: count(InputArgType::Default),
        pinned_count: count(InputArgType::Pinned),
        stale_input_fields: stale,
        merged_input_preview: preview,
    }
}

/// The configured entries that still apply to `input_schema` (the field is a top-level
/// property whose subschema accepts the value), in configuration order, and the sorted
/// names of the stale rest: every configured field when the schema no longer compiles.
pub(crate) fn applicable_entries<'a>(
    input_schema: &Value,
    defaults: &'a InputDefaults,
) -> (Vec<(&'a str, &'a InputArgConfig)>, Vec<String>) {
    let mut applicable = Vec::new();
    let mut stale = Vec::new();
    if defaults.is_empty() {
        return (applicable, stale);
    }
    // One root compile per call; each configured property is compiled against it.
    let schemas = PropertySchemas::new(input_schema).ok();
    for (field, config) in defaults {
        let valid = schemas
            .as_ref()
            .and_then(|schemas| schemas.compile(field).ok().flatten())
            .is_some_and(|property| property.is_valid(&config.value));
        if valid {
            applicable.push((field.as_str(), config));
        } else {
            stale.push(field.clone());
        }
    }
    stale.sort();
    (applicable, stale)
}

/// Checks the shape of one entry, recording every problem; `Some` only when the shape is right.
fn parse_entry(field: &str, entry: &Value, errors: &mut Vec<FieldError>) -> Option<InputArgConfig> {
    let Some(entry) = entry.as_object() else {
        errors.push(FieldError::new(
            &[field],
            "Each input default must be an object like {\"value\": ..., \"type\": \"default\"}.",
            "object_type",
        ));
        return None;
    };
    let before = errors.len();
    for key in entry.keys().filter(|key| *key != "value" && *key != "type") {
        errors.push(FieldError::new(
            &[field, key],
            format!("Unknown key \"{key}\": only \"value\" and \"type\" are allowed."),
            "extra_forbidden",
        ));
    }
    let value = entry.get("value");
    if value.is_none() {
        errors.push(FieldError::new(
            &[field, "value"],
            "A value is required.",
            "missing",
        ));
    }
    let r#type = match entry.get("type") {
        None => Some(InputArgType::Default),
        Some(raw) => serde_json::from_value(raw.clone()).ok(),
    };
    if r#type.is_none() {
        errors.push(FieldError::new(
            &[field, "type"],
            "The type must be \"default\" or \"pinned\".",
            "enum",
        ));
    }
    match (value, r#type) {
        (Some(value), Some(r#type)) if errors.len() == before => Some(InputArgConfig {
            value: value.clone(),
            r#type,
        }),
        _ => None,
    }
}

fn reasons(violations: &[SchemaViolation]) -> String {
    violations
        .iter()
        .map(|violation| violation.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Sets `value` as the `default` of property `field` in `schema`, if that property exists.
pub(crate) fn inject_default(schema: &mut Value, field: &str, value: &Value) {
    let Some(property) = schema
        .get_mut("properties")
        .and_then(|properties| properties.get_mut(field))
    else {
        return;
    };
    match property {
        Value::Object(subschema) => {
            subschema.insert("default".to_owned(), value.clone());
        }
        Value::Bool(true) => {
            let mut subschema = Map::new();
            subschema.insert("default".to_owned(), value.clone());
            *property = Value::Object(subschema);
        }
        // `false` accepts nothing, so a field configured against it is stale and never lands here.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "channel": {"type": "string"},
                "limit": {"type": "integer", "minimum": 1},
                "when": {"type": "string", "format": "date-time"}
            },
            "required": ["channel"]
        })
    }

    fn config(value: Value, r#type: InputArgType) -> InputArgConfig {
        InputArgConfig { value, r#type }
    }

    fn defaults(entries: &[(&str, Value, InputArgType)]) -> InputDefaults {
        entries
            .iter()
            .map(|(field, value, r#type)| (field.to_string(), config(value.clone(), *r#type)))
            .collect()
    }

    fn errors(raw: Value, schema: &Value) -> Vec<FieldError> {
        parse_input_defaults(&raw, schema).expect_err("invalid")
    }

    fn locs(errors: &[FieldError]) -> Vec<(Vec<String>, &'static str)> {
        errors.iter().map(|e| (e.loc.clone(), e.kind)).collect()
    }

    fn loc(segments: &[&str]) -> Vec<String> {
        segments.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn more_entries_than_the_cap_is_one_problem_before_any_other_work() {
        let properties: Map<String, Value> = (0..=MAX_INPUT_DEFAULTS)
            .map(|index| (format!("f{index}"), json!({"type": "string"})))
            .collect();
        let wide = json!({"type": "object", "properties": properties});
        let too_many: Map<String, Value> = (0..=MAX_INPUT_DEFAULTS)
            .map(|index| (format!("f{index}"), json!({"value": "v"})))
            .collect();
        let found = errors(Value::Object(too_many.clone()), &wide);
        assert_eq!(locs(&found), vec![(loc(&[]), "too_long")]);
        assert!(
            found[0].msg.contains("At most 1000 fields"),
            "{}",
            found[0].msg
        );
        let at_the_cap: Map<String, Value> =
            too_many.into_iter().take(MAX_INPUT_DEFAULTS).collect();
        assert_eq!(
            parse_input_defaults(&Value::Object(at_the_cap), &wide).map(|d| d.len()),
            Ok(MAX_INPUT_DEFAULTS)
        );
    }

    #[test]
    fn arg_config_serializes_with_type() {
        let entry = config(json!("x"), InputArgType::Default);
        assert_eq!(
            serde_json::to_value(&entry).expect("serializes"),
            json!({"value": "x", "type": "default"})
        );
        let pinned = config(json!(1), InputArgType::Pinned);
        assert_eq!(
            serde_json::to_value(&pinned).expect("serializes"),
            json!({"value": 1, "type": "pinned"})
        );
    }

    #[test]
    fn arg_config_type_defaults_when_absent() {
        let entry: InputArgConfig =
            serde_json::from_value(json!({"value": null})).expect("deserializes");
        assert_eq!(entry, config(Value::Null, InputArgType::Default));
    }

    #[test]
    fn arg_config_refuses_unknown_keys() {
        assert!(serde_json::from_value::<InputArgConfig>(json!({"value": 1, "x": 2})).is_err());
    }

    #[test]
    fn input_defaults_round_trip_in_operator_order() {
        let raw = json!({
            "z": {"value": 1, "type": "pinned"},
            "a": {"value": 2, "type": "default"}
        });
        let parsed: InputDefaults = serde_json::from_value(raw.clone()).expect("deserializes");
        assert_eq!(parsed.keys().collect::<Vec<_>>(), ["z", "a"]);
        assert_eq!(serde_json::to_value(&parsed).expect("serializes"), raw);
    }

    #[test]
    fn valid_config_parses_in_order() {
        let raw = json!({
            "limit": {"value": 10, "type": "pinned"},
            "channel": {"value": "#general"}
        });
        let parsed = parse_input_defaults(&raw, &schema()).expect("valid");
        assert_eq!(
            parsed,
            defaults(&[
                ("limit", json!(10), InputArgType::Pinned),
                ("channel", json!("#general"), InputArgType::Default),
            ])
        );
    }

    #[test]
    fn empty_object_is_valid() {
        assert_eq!(
            parse_input_defaults(&json!({}), &schema()),
            Ok(InputDefaults::new())
        );
    }

    #[test]
    fn empty_object_is_valid_even_against_invalid_schema() {
        let broken = json!({"type": 5});
        assert_eq!(
            parse_input_defaults(&json!({}), &broken),
            Ok(InputDefaults::new())
        );
    }

    #[test]
    fn non_object_config_is_refused_at_root() {
        for raw in [json!([]), json!("x"), json!(1), json!(null)] {
            assert_eq!(
                locs(&errors(raw, &schema())),
                vec![(loc(&[]), "object_type")]
            );
        }
    }

    #[test]
    fn unknown_field_is_refused() {
        let errors = errors(json!({"nope": {"value": 1}}), &schema());
        assert_eq!(locs(&errors), vec![(loc(&["nope"]), "unknown_field")]);
        assert!(errors[0].msg.contains("\"nope\""));
    }

    #[test]
    fn entry_must_be_an_object() {
        let errors = errors(json!({"channel": "general"}), &schema());
        assert_eq!(locs(&errors), vec![(loc(&["channel"]), "object_type")]);
    }

    #[test]
    fn value_is_required() {
        let errors = errors(json!({"channel": {"type": "pinned"}}), &schema());
        assert_eq!(locs(&errors), vec![(loc(&["channel", "value"]), "missing")]);
    }

    #[test]
    fn null_value_is_present_and_validated() {
        let errors = errors(json!({"channel": {"value": null}}), &schema());
        assert_eq!(
            locs(&errors),
            vec![(loc(&["channel", "value"]), "invalid_value")]
        );
    }

    #[test]
    fn type_must_be_default_or_pinned() {
        for bad in [json!("fixed"), json!("Pinned"), json!(null), json!(1)] {
            let errors = errors(json!({"channel": {"value": "x", "type": bad}}), &schema());
            assert_eq!(locs(&errors), vec![(loc(&["channel", "type"]), "enum")]);
        }
    }

    #[test]
    fn extra_keys_are_forbidden() {
        let raw = json!({"channel": {"value": "x", "note": 1, "Value": 2}});
        assert_eq!(
            locs(&errors(raw, &schema())),
            vec![
                (loc(&["channel", "note"]), "extra_forbidden"),
                (loc(&["channel", "Value"]), "extra_forbidden"),
            ]
        );
    }

    #[test]
    fn invalid_value_names_the_validator_reason() {
        let errors = errors(json!({"limit": {"value": "ten"}}), &schema());
        assert_eq!(
            locs(&errors),
            vec![(loc(&["limit", "value"]), "invalid_value")]
        );
        assert!(
            errors[0].msg.contains("\"ten\" is not of type \"integer\""),
            "{}",
            errors[0].msg
        );
    }

    #[test]
    fn format_is_asserted_on_values() {
        let errors = errors(json!({"when": {"value": "tomorrow"}}), &schema());
        assert_eq!(
            locs(&errors),
            vec![(loc(&["when", "value"]), "invalid_value")]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let raw = json!({
            "nope": {"value": 1},
            "channel": 5,
            "limit": {"value": 0, "type": "always", "extra": true},
            "when": {"value": "2024-05-01T10:00:00Z"}
        });
        assert_eq!(
            locs(&errors(raw, &schema())),
            vec![
                (loc(&["nope"]), "unknown_field"),
                (loc(&["channel"]), "object_type"),
                (loc(&["limit", "extra"]), "extra_forbidden"),
                (loc(&["limit", "type"]), "enum"),
            ]
        );
    }

    #[test]
    fn unknown_field_still_reports_its_shape() {
        let raw = json!({"nope": {"type": "x"}});
        assert_eq!(
            locs(&errors(raw, &schema())),
            vec![
                (loc(&["nope"]), "unknown_field"),
                (loc(&["nope", "value"]), "missing"),
                (loc(&["nope", "type"]), "enum"),
            ]
        );
    }

    #[test]
    fn invalid_schema_is_one_error() {
        let broken = json!({"properties": {"a": {"type": "nonsense"}}});
        let errors = errors(json!({"a": {"value": 1}, "b": 2}), &broken);
        assert_eq!(locs(&errors), vec![(loc(&[]), "invalid_schema")]);
        assert!(
            errors[0]
                .msg
                .starts_with("The tool's input_schema is not a valid JSON Schema: "),
            "{}",
            errors[0].msg
        );
    }

    #[test]
    fn values_validate_through_refs_into_defs() {
        let schema = json!({
            "properties": {"to": {"$ref": "#/$defs/Email"}},
            "$defs": {"Email": {"type": "string", "format": "email"}}
        });
        assert!(parse_input_defaults(&json!({"to": {"value": "a@b.co"}}), &schema).is_ok());
        let errors = errors(json!({"to": {"value": "nobody"}}), &schema);
        assert_eq!(
            locs(&errors),
            vec![(loc(&["to", "value"]), "invalid_value")]
        );
    }

    #[test]
    fn draft_07_definitions_refs_resolve() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "properties": {"id": {"$ref": "#/definitions/Id"}},
            "definitions": {"Id": {"type": "string", "format": "uuid"}}
        });
        let ok = json!({"id": {"value": "123e4567-e89b-12d3-a456-426614174000"}});
        assert!(parse_input_defaults(&ok, &schema).is_ok());
        assert!(parse_input_defaults(&json!({"id": {"value": "42"}}), &schema).is_err());
    }

    #[test]
    fn boolean_property_subschemas() {
        let schema = json!({"properties": {"any": true, "none": false}});
        assert!(
            parse_input_defaults(&json!({"any": {"value": [1, {"x": null}]}}), &schema).is_ok()
        );
        let errors = errors(json!({"none": {"value": 1}}), &schema);
        assert_eq!(
            locs(&errors),
            vec![(loc(&["none", "value"]), "invalid_value")]
        );
    }

    #[test]
    fn unicode_and_escaped_field_names() {
        let schema =
            json!({"properties": {"名前": {"type": "string"}, "a/b~c": {"type": "integer"}}});
        let raw = json!({"名前": {"value": "x"}, "a/b~c": {"value": 3}});
        assert_eq!(parse_input_defaults(&raw, &schema).map(|d| d.len()), Ok(2));
    }

    #[test]
    fn view_without_config_is_the_schema() {
        let view = input_config_view(&schema(), None);
        assert_eq!(
            view,
            InputConfigView {
                default_count: 0,
                pinned_count: 0,
                stale_input_fields: vec![],
                merged_input_preview: schema(),
            }
        );
        assert_eq!(
            input_config_view(&schema(), Some(&InputDefaults::new())),
            view
        );
    }

    #[test]
    fn view_counts_each_type() {
        let config = defaults(&[
            ("channel", json!("x"), InputArgType::Default),
            ("limit", json!(3), InputArgType::Pinned),
            ("gone", json!(3), InputArgType::Pinned),
        ]);
        let view = input_config_view(&schema(), Some(&config));
        assert_eq!((view.default_count, view.pinned_count), (1, 2));
    }

    #[test]
    fn preview_injects_defaults_and_pins() {
        let config = defaults(&[
            ("limit", json!(5), InputArgType::Pinned),
            ("channel", json!("#general"), InputArgType::Default),
        ]);
        let view = input_config_view(&schema(), Some(&config));
        let mut expected = schema();
        expected["properties"]["channel"]["default"] = json!("#general");
        expected["properties"]["limit"]["default"] = json!(5);
        assert_eq!(view.merged_input_preview, expected);
        assert!(view.stale_input_fields.is_empty());
    }

    #[test]
    fn preview_replaces_an_upstream_default() {
        let schema = json!({"properties": {"n": {"type": "integer", "default": 1}}});
        let config = defaults(&[("n", json!(2), InputArgType::Default)]);
        let view = input_config_view(&schema, Some(&config));
        assert_eq!(
            view.merged_input_preview,
            json!({"properties": {"n": {"type": "integer", "default": 2}}})
        );
    }

    #[test]
    fn preview_of_true_subschema_becomes_default_object() {
        let schema = json!({"properties": {"any": true}});
        let config = defaults(&[("any", json!({"k": 1}), InputArgType::Default)]);
        let view = input_config_view(&schema, Some(&config));
        assert_eq!(
            view.merged_input_preview,
            json!({"properties": {"any": {"default": {"k": 1}}}})
        );
    }

    #[test]
    fn preview_puts_default_beside_ref() {
        let schema = json!({
            "properties": {"kind": {"$ref": "#/$defs/Kind"}},
            "$defs": {"Kind": {"enum": ["a", "b"]}}
        });
        let config = defaults(&[("kind", json!("b"), InputArgType::Pinned)]);
        let view = input_config_view(&schema, Some(&config));
        assert_eq!(
            view.merged_input_preview["properties"]["kind"],
            json!({"$ref": "#/$defs/Kind", "default": "b"})
        );
    }

    #[test]
    fn stale_when_property_removed() {
        let config = defaults(&[("renamed_away", json!(1), InputArgType::Default)]);
        let view = input_config_view(&schema(), Some(&config));
        assert_eq!(view.stale_input_fields, vec!["renamed_away"]);
        assert_eq!(view.merged_input_preview, schema());
    }

    #[test]
    fn stale_when_property_retyped() {
        let config = defaults(&[("limit", json!(5), InputArgType::Pinned)]);
        let before = input_config_view(&schema(), Some(&config));
        assert!(before.stale_input_fields.is_empty());
        let mut retyped = schema();
        retyped["properties"]["limit"] = json!({"type": "string"});
        let after = input_config_view(&retyped, Some(&config));
        assert_eq!(after.stale_input_fields, vec!["limit"]);
        assert_eq!(after.merged_input_preview, retyped);
    }

    #[test]
    fn stale_when_ref_target_retyped() {
        let config = defaults(&[("kind", json!("c"), InputArgType::Default)]);
        let schema = json!({
            "properties": {"kind": {"$ref": "#/$defs/Kind"}},
            "$defs": {"Kind": {"enum": ["a", "b"]}}
        });
        let view = input_config_view(&schema, Some(&config));
        assert_eq!(view.stale_input_fields, vec!["kind"]);
    }

    #[test]
    fn stale_fields_are_sorted() {
        let config = defaults(&[
            ("zeta", json!(1), InputArgType::Default),
            ("channel", json!(1), InputArgType::Default),
            ("alpha", json!(1), InputArgType::Pinned),
        ]);
        let view = input_config_view(&schema(), Some(&config));
        assert_eq!(view.stale_input_fields, vec!["alpha", "channel", "zeta"]);
    }

    #[test]
    fn everything_stale_when_schema_no_longer_compiles() {
        let broken = json!({"properties": {"channel": {"type": "string"}, "x": {"minimum": "1"}}});
        let config = defaults(&[
            ("channel", json!("ok"), InputArgType::Default),
            ("gone", json!(1), InputArgType::Pinned),
        ]);
        let view = input_config_view(&broken, Some(&config));
        assert_eq!(view.stale_input_fields, vec!["channel", "gone"]);
        assert_eq!(view.merged_input_preview, broken);
        assert_eq!((view.default_count, view.pinned_count), (1, 1));
    }

    #[test]
    fn view_of_boolean_schema() {
        let config = defaults(&[("a", json!(1), InputArgType::Default)]);
        let view = input_config_view(&json!(true), Some(&config));
        assert_eq!(view.stale_input_fields, vec!["a"]);
        assert_eq!(view.merged_input_preview, json!(true));
    }
}
