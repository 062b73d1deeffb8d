//! Everything the API shows of a tool that is computed from its documents (DESIGN.md §3
//! "Computed on every read"), in one place.
//!
//! Its inputs (the schemas and the operator's configuration) change only on writes, so the
//! store derives this view in the transaction of every write that changes them and keeps it
//! beside them: reading a tool is then a read, never a JSON Schema compilation.

use serde_json::Value;

use crate::field_map::stale_field_paths;
use crate::input_config::{InputDefaults, input_config_view};

/// Revision of the rules below. A view is kept with the revision that derived it, and one
/// of another revision is derived again when read. Bump it whenever a change here changes
/// any output: the first start of the new rules then derives every stored view again
/// (`Store::migrate`), with no migration to write. `tests/derivation_revision.rs` fails
/// when the outputs change and this does not.
pub const DERIVATION_REVISION: i32 = 1;

/// The computed fields of one tool.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedToolView {
    pub default_count: usize,
    pub pinned_count: usize,
    /// Sorted.
    pub stale_input_fields: Vec<String>,
    /// `None` when nothing is injected, that is, when it is the input schema itself.
    pub merged_input_preview: Option<Value>,
    /// In the order of the field map.
    pub stale_field_paths: Vec<String>,
}

/// Derives the view of a tool from its current documents.
pub fn derive_tool_view(
    input_schema: &Value,
    input_defaults: Option<&InputDefaults>,
    response_schema: Option<&Value>,
    response_field_map: Option<&Value>,
) -> DerivedToolView {
    let input_config = input_config_view(input_schema, input_defaults);
    let configured = input_defaults.map_or(0, InputDefaults::len);
    // Every configured field is either stale or injected into the preview.
    let injected = configured > input_config.stale_input_fields.len();
    DerivedToolView {
        default_count: input_config.default_count,
        pinned_count: input_config.pinned_count,
        stale_input_fields: input_config.stale_input_fields,
        merged_input_preview: injected.then_some(input_config.merged_input_preview),
        stale_field_paths: stale_field_paths(response_schema, response_field_map),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::input_config::{InputArgConfig, InputArgType};

    fn schema() -> Value {
        json!({"type": "object", "properties": {"limit": {"type": "integer", "maximum": 10}}})
    }

    fn configured(value: Value, kind: InputArgType) -> InputDefaults {
        InputDefaults::from([(
            "limit".to_owned(),
            InputArgConfig {
                value,
                r#type: kind,
            },
        )])
    }

    #[test]
    fn an_unconfigured_tool_previews_its_own_schema() {
        let view = derive_tool_view(&schema(), None, None, None);
        assert_eq!(view.merged_input_preview, None);
        assert_eq!((view.default_count, view.pinned_count), (0, 0));
        assert!(view.stale_input_fields.is_empty() && view.stale_field_paths.is_empty());
    }

    #[test]
    fn a_valid_configured_value_is_injected_into_the_preview() {
        let defaults = configured(json!(3), InputArgType::Pinned);
        let view = derive_tool_view(&schema(), Some(&defaults), None, None);
        assert_eq!(view.pinned_count, 1);
        assert_eq!(
            view.merged_input_preview.expect("injected")["properties"]["limit"]["default"],
            json!(3)
        );
    }

    #[test]
    fn a_stale_value_is_counted_and_leaves_the_schema_as_it_is() {
        let defaults = configured(json!(50), InputArgType::Default);
        let view = derive_tool_view(&schema(), Some(&defaults), None, None);
        assert_eq!(view.default_count, 1);
        assert_eq!(view.stale_input_fields, ["limit"]);
        assert_eq!(view.merged_input_preview, None);
    }

    #[test]
    fn field_map_paths_are_checked_against_the_response_schema() {
        let response = json!({"type": "object", "properties": {"id": {"type": "string"}}});
        let map = json!({"field_mappings": [{"path": "id"}, {"path": "gone"}]});
        let view = derive_tool_view(&schema(), None, Some(&response), Some(&map));
        assert_eq!(view.stale_field_paths, ["gone"]);
    }
}
