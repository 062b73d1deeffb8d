//! The derived tool views are stored, so a change to the rules that derive them must bump
//! `DERIVATION_REVISION` (then `Store::migrate` derives every view again, with no migration
//! of its own). This test keeps the two together: it derives a fixed set of tools and
//! compares the result with what was recorded for the current revision, in
//! `tests/derivations/revision-<N>.json`.
//!
//! When it fails because the rules changed on purpose: bump `DERIVATION_REVISION`, then run
//! it once with `FEATHER_BLESS=1` to record the new revision's file. Blessing never
//! overwrites a revision's file, so a change without a bump cannot be blessed.

use std::path::PathBuf;

use feather_domain::input_config::InputDefaults;
use feather_domain::tool_view::{DERIVATION_REVISION, derive_tool_view};
use serde_json::{Value, json};

/// Tools covering every derived field: unconfigured, defaults and pins (valid, stale by
/// type, by bounds, by enum, vanished from the schema, nested), and field maps (found,
/// vanished, through arrays, without a response schema).
fn cases() -> Vec<(&'static str, Value, Value, Value, Value)> {
    let search = json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "minLength": 1},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "order": {"enum": ["asc", "desc"]},
            "filter": {"type": "object", "properties": {"team": {"type": "string"}}}
        },
        "required": ["query"]
    });
    let response = json!({
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}
            }}},
            "total": {"type": "integer"}
        }
    });
    vec![
        (
            "unconfigured",
            search.clone(),
            Value::Null,
            Value::Null,
            Value::Null,
        ),
        (
            "a default and a pin",
            search.clone(),
            json!({"limit": {"value": 10, "type": "default"}, "order": {"value": "desc", "type": "pinned"}}),
            Value::Null,
            Value::Null,
        ),
        (
            "stale values",
            search.clone(),
            json!({
                "limit": {"value": 500, "type": "default"},
                "order": {"value": "sideways", "type": "pinned"},
                "query": {"value": 7, "type": "default"},
                "gone": {"value": true, "type": "pinned"}
            }),
            Value::Null,
            Value::Null,
        ),
        (
            "a nested object",
            search.clone(),
            json!({"filter": {"value": {"team": "support"}, "type": "pinned"}}),
            Value::Null,
            Value::Null,
        ),
        (
            "a field map",
            search.clone(),
            Value::Null,
            response.clone(),
            json!({"field_mappings": [{"path": "items.id"}, {"path": "total"}, {"path": "items.email"}, {"path": "missing"}]}),
        ),
        (
            "a field map without a response schema",
            search,
            Value::Null,
            Value::Null,
            json!({"field_mappings": [{"path": "id"}]}),
        ),
        (
            "an empty schema",
            json!({"type": "object"}),
            json!({"anything": {"value": 1, "type": "default"}}),
            response,
            Value::Null,
        ),
    ]
}

fn derived_views() -> Value {
    let optional = |value: &Value| (!value.is_null()).then_some(value.clone());
    let views = cases()
        .into_iter()
        .map(
            |(name, input_schema, defaults, response_schema, field_map)| {
                let defaults: Option<InputDefaults> = optional(&defaults).map(|defaults| {
                    serde_json::from_value(defaults).expect("valid input_defaults")
                });
                let view = derive_tool_view(
                    &input_schema,
                    defaults.as_ref(),
                    optional(&response_schema).as_ref(),
                    optional(&field_map).as_ref(),
                );
                json!({
                    "case": name,
                    "default_count": view.default_count,
                    "pinned_count": view.pinned_count,
                    "stale_input_fields": view.stale_input_fields,
                    "stale_field_paths": view.stale_field_paths,
                    "merged_input_preview": view.merged_input_preview,
                })
            },
        )
        .collect::<Vec<_>>();
    json!({"revision": DERIVATION_REVISION, "views": views})
}

fn recorded_path(revision: i32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/derivations")
        .join(format!("revision-{revision}.json"))
}

#[test]
fn the_derived_views_are_those_recorded_for_the_current_revision() {
    let derived = derived_views();
    let path = recorded_path(DERIVATION_REVISION);
    if !path.exists() && std::env::var_os("FEATHER_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&derived).expect("JSON") + "\n";
        std::fs::write(&path, text).expect("record the new revision");
    }
    let recorded: Value = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).expect("a recorded revision is JSON"),
        Err(_) => panic!(
            "nothing is recorded for DERIVATION_REVISION {DERIVATION_REVISION}: run this test \
             once with FEATHER_BLESS=1 to record {}",
            path.display()
        ),
    };
    assert!(
        recorded == derived,
        "the rules derive other views than revision {DERIVATION_REVISION} recorded. If that \
         is intended, bump DERIVATION_REVISION (feather_domain::tool_view), so that stored \
         views are derived again, and run this test with FEATHER_BLESS=1.\nrecorded: \
         {recorded:#}\nnow: {derived:#}"
    );
}
