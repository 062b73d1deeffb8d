//! The output schema an agent is shown for a tool whose results a field map narrows
//! (DESIGN.md §3 "Agent-facing tools"): the shape of what `field_map::narrow` returns.

use serde_json::{Map, Value, json};

use crate::field_map::{FieldMapping, schemas_at};

/// Where the response schema is kept inside a narrowed schema, for the references its
/// subschemas make into it.
const RESPONSE_DEFINITION: &str = "feather_response";

/// The schema of `narrow(response, mappings)` for a `response` valid against
/// `response_schema`: an object with, for each mapping whose path resolves, a property
/// named by its alias (or the path) holding the subschema the path reaches (`anyOf` them
/// when it reaches several, through `anyOf`/`oneOf`/`allOf` branches). A later mapping onto
/// the same key wins, as in `narrow`. No property is required (`narrow` leaves out what
/// the response lacks) and no other is forbidden (a path the schema does not declare may
/// still find a value). Same-document references (`#/…`) keep working: they are rewritten
/// to point into a copy of the response schema under `$defs`, which is only added when
/// one is made. The response schema's `$schema` is kept.
pub fn narrowed_output_schema(response_schema: &Value, mappings: &[FieldMapping]) -> Value {
    let mut properties = Map::new();
    let mut refers_to_response = false;
    for mapping in mappings {
        let reached = schemas_at(response_schema, &mapping.path);
        let mut reached: Vec<Value> = reached
            .into_iter()
            .map(|schema| {
                let mut schema = schema.clone();
                refers_to_response |= rewrite_local_refs(&mut schema);
                schema
            })
            .collect();
        let property = match reached.len() {
            0 => continue,
            1 => reached.remove(0),
            _ => json!({ "anyOf": reached }),
        };
        let key = mapping.alias.as_deref().unwrap_or(&mapping.path);
        properties.insert(key.to_owned(), property);
    }
    let mut schema = Map::new();
    if let Some(draft) = response_schema.get("$schema") {
        schema.insert("$schema".to_owned(), draft.clone());
    }
    schema.insert("type".to_owned(), json!("object"));
    schema.insert("properties".to_owned(), Value::Object(properties));
    if refers_to_response {
        let mut response = response_schema.clone();
        rewrite_local_refs(&mut response);
        if let Some(response) = response.as_object_mut() {
            // Embedded with an `$id`, it would be a resource of its own, against whose base
            // the rewritten references would no longer resolve.
            response.remove("$schema");
            response.remove("$id");
        }
        schema.insert("$defs".to_owned(), json!({ RESPONSE_DEFINITION: response }));
    }
    Value::Object(schema)
}

/// Rewrites every same-document `$ref` (`#` or `#/…`) in `schema` to point into the
/// response schema's copy; true when there was one. An explicit worklist: a deep schema
/// cannot exhaust the stack.
fn rewrite_local_refs(schema: &mut Value) -> bool {
    let mut rewrote = false;
    let mut work = vec![schema];
    while let Some(value) = work.pop() {
        match value {
            Value::Object(object) => {
                for (key, child) in object.iter_mut() {
                    if key == "$ref"
                        && let Value::String(reference) = child
                        && let Some(pointer) = local_pointer(reference)
                    {
                        *reference = format!("#/$defs/{RESPONSE_DEFINITION}{pointer}");
                        rewrote = true;
                    } else {
                        work.push(child);
                    }
                }
            }
            Value::Array(items) => work.extend(items.iter_mut()),
            _ => {}
        }
    }
    rewrote
}

/// The JSON pointer of a same-document reference (`""` for `#`), or None for another
/// kind (a URL, an anchor), which is left as it is.
fn local_pointer(reference: &str) -> Option<&str> {
    let fragment = reference.strip_prefix('#')?;
    (fragment.is_empty() || fragment.starts_with('/')).then_some(fragment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(path: &str, alias: Option<&str>) -> FieldMapping {
        FieldMapping {
            path: path.to_owned(),
            alias: alias.map(str::to_owned),
        }
    }

    fn response_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "owner": {
                    "type": "object",
                    "properties": {"email": {"type": "string", "format": "email"}}
                },
                "items": {"type": "array", "items": {"$ref": "#/$defs/item"}}
            },
            "required": ["id"],
            "$defs": {"item": {"type": "object", "properties": {"sku": {"type": "string"}}}}
        })
    }

    #[test]
    fn each_mapped_path_becomes_an_optional_property_under_its_alias() {
        let narrowed = narrowed_output_schema(
            &response_schema(),
            &[mapping("id", None), mapping("owner.email", Some("email"))],
        );
        assert_eq!(
            narrowed,
            json!({
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "email": {"type": "string", "format": "email"}
                }
            })
        );
    }

    #[test]
    fn a_path_the_schema_does_not_declare_is_left_out() {
        let narrowed = narrowed_output_schema(&response_schema(), &[mapping("gone.deep", None)]);
        assert_eq!(narrowed, json!({"type": "object", "properties": {}}));
    }

    #[test]
    fn references_point_into_a_copy_of_the_response_schema() {
        let narrowed = narrowed_output_schema(&response_schema(), &[mapping("items", None)]);
        assert_eq!(
            narrowed["properties"]["items"],
            json!({"type": "array", "items": {"$ref": "#/$defs/feather_response/$defs/item"}})
        );
        let copied = &narrowed["$defs"]["feather_response"];
        assert_eq!(copied["$defs"]["item"], response_schema()["$defs"]["item"]);
        assert_eq!(
            copied["properties"]["items"]["items"]["$ref"],
            "#/$defs/feather_response/$defs/item"
        );
        // What narrowing an instance gives validates against it.
        let validator = jsonschema::validator_for(&narrowed).expect("compiles");
        assert!(validator.is_valid(&json!({"items": [{"sku": "A-1"}]})));
        assert!(!validator.is_valid(&json!({"items": [{"sku": 7}]})));
    }

    #[test]
    fn a_response_schema_with_an_id_still_resolves_its_references() {
        let mut schema = response_schema();
        schema["$id"] = json!("https://tools.example.test/response.json");
        let narrowed = narrowed_output_schema(&schema, &[mapping("items", None)]);
        assert!(narrowed["$defs"]["feather_response"].get("$id").is_none());
        let validator = jsonschema::validator_for(&narrowed).expect("compiles");
        assert!(!validator.is_valid(&json!({"items": [{"sku": 7}]})));
    }

    #[test]
    fn an_element_reached_through_a_reference_keeps_its_shape() {
        let narrowed =
            narrowed_output_schema(&response_schema(), &[mapping("items.0.sku", Some("sku"))]);
        assert_eq!(narrowed["properties"]["sku"], json!({"type": "string"}));
        assert!(narrowed.get("$defs").is_none(), "no reference, no copy");
    }

    #[test]
    fn a_path_through_several_branches_may_be_any_of_them() {
        let schema = json!({
            "anyOf": [
                {"type": "object", "properties": {"v": {"type": "string"}}},
                {"type": "object", "properties": {"v": {"type": "integer"}}}
            ]
        });
        let narrowed = narrowed_output_schema(&schema, &[mapping("v", None)]);
        let any_of = narrowed["properties"]["v"]["anyOf"]
            .as_array()
            .expect("anyOf");
        assert_eq!(any_of.len(), 2);
        assert!(any_of.contains(&json!({"type": "string"})));
        assert!(any_of.contains(&json!({"type": "integer"})));
    }

    #[test]
    fn a_later_mapping_onto_the_same_key_wins_and_the_draft_is_kept() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}
        });
        let narrowed =
            narrowed_output_schema(&schema, &[mapping("a", Some("x")), mapping("b", Some("x"))]);
        assert_eq!(
            narrowed["$schema"],
            "http://json-schema.org/draft-07/schema#"
        );
        assert_eq!(narrowed["properties"], json!({"x": {"type": "integer"}}));
    }
}
