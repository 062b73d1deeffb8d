//! Response field maps: `{"field_mappings": [{"path": "a.b.0.c", "alias": "x"}]}`; other
//! top-level keys are allowed and kept. DESIGN.md §3 `stale_field_paths` and narrowing.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::input_config::FieldError;

/// One mapping: copy the value at dotted `path` to key `alias` (or the path itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMapping {
    /// Dot-separated segments; a numeric segment indexes an array.
    pub path: String,
    /// The key the value lands under; `None` means the path itself.
    pub alias: Option<String>,
}

const MAPPINGS: &str = "field_mappings";

/// Validates a raw response_field_map from a PATCH. `field_mappings` (if present) must be an
/// array of objects each with a non-empty string `path` and optional string-or-null `alias`
/// (non-empty when a string); other keys in a mapping -> "extra_forbidden". Every problem
/// reported (loc like ["field_mappings", "0", "path"]). A map without `field_mappings` is
/// valid and has no mappings. Not an object -> error at loc [].
pub fn parse_field_map(raw: &Value) -> Result<Vec<FieldMapping>, Vec<FieldError>> {
    let Some(map) = raw.as_object() else {
        return Err(vec![FieldError::new(
            &[],
            "response_field_map must be an object.",
            "object_type",
        )]);
    };
    let Some(entries) = map.get(MAPPINGS) else {
        return Ok(Vec::new());
    };
    let Some(entries) = entries.as_array() else {
        return Err(vec![FieldError::new(
            &[MAPPINGS],
            "field_mappings must be an array of {\"path\": ..., \"alias\": ...} objects.",
            "array_type",
        )]);
    };
    let mut mappings = Vec::new();
    let mut errors = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if let Some(mapping) = parse_mapping(&index.to_string(), entry, &mut errors) {
            mappings.push(mapping);
        }
    }
    if errors.is_empty() {
        Ok(mappings)
    } else {
        Err(errors)
    }
}

/// Lenient extraction from a STORED map (never fails: skips malformed entries).
pub fn field_mappings(stored: &Value) -> Vec<FieldMapping> {
    let Some(entries) = stored.get(MAPPINGS).and_then(Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let path = entry.get("path")?.as_str().filter(|p| !p.is_empty())?;
            let alias = entry
                .get("alias")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty());
            Some(FieldMapping {
                path: path.to_owned(),
                alias: alias.map(str::to_owned),
            })
        })
        .collect()
}

/// DESIGN.md §3 stale_field_paths: paths in the map that do not resolve in response_schema,
/// in map order. Empty when response_schema is None.
///
/// Segments are split on `.`. `properties` are walked; on an array schema a numeric segment
/// indexes it (`prefixItems[n]`, or a draft-07 tuple `items[n]`, else `items`) and a
/// non-numeric segment descends through `items` without being consumed; local `$ref`s
/// (`#/...` JSON pointers) are followed; a path resolves if any branch of
/// `anyOf`/`oneOf`/`allOf` resolves it. Keywords are looked at whatever `type` says, so a
/// `type` array naming both "object" and "array" works. An empty path never resolves.
pub fn stale_field_paths(
    response_schema: Option<&Value>,
    field_map: Option<&Value>,
) -> Vec<String> {
    let (Some(schema), Some(map)) = (response_schema, field_map) else {
        return Vec::new();
    };
    field_mappings(map)
        .into_iter()
        .filter(|mapping| !resolves(schema, &mapping.path))
        .map(|mapping| mapping.path)
        .collect()
}

/// DESIGN.md §3 narrowing: each mapping copies the value at `path` in `response` (numeric
/// segment indexes arrays) to key alias-or-path in a new object; missing paths are left out;
/// keys in mapping order. When two mappings land on one key, the later value wins.
pub fn narrow(response: &Value, mappings: &[FieldMapping]) -> Value {
    let mut narrowed = Map::new();
    for mapping in mappings {
        if let Some(value) = value_at(response, &mapping.path) {
            let key = mapping.alias.as_deref().unwrap_or(&mapping.path);
            narrowed.insert(key.to_owned(), value.clone());
        }
    }
    Value::Object(narrowed)
}

/// The mappings' paths that find no value in `response`, in mapping order, each once: what
/// [`narrow`] left out, so a caller can tell a missing value from a wrong path.
pub fn unresolved_paths(response: &Value, mappings: &[FieldMapping]) -> Vec<String> {
    let mut unresolved: Vec<String> = Vec::new();
    for mapping in mappings {
        if value_at(response, &mapping.path).is_none() && !unresolved.contains(&mapping.path) {
            unresolved.push(mapping.path.clone());
        }
    }
    unresolved
}

fn parse_mapping(index: &str, entry: &Value, errors: &mut Vec<FieldError>) -> Option<FieldMapping> {
    let Some(entry) = entry.as_object() else {
        errors.push(FieldError::new(
            &[MAPPINGS, index],
            "Each field mapping must be an object like {\"path\": \"a.b\", \"alias\": \"x\"}.",
            "object_type",
        ));
        return None;
    };
    let before = errors.len();
    for key in entry.keys().filter(|key| *key != "path" && *key != "alias") {
        errors.push(FieldError::new(
            &[MAPPINGS, index, key],
            format!("Unknown key \"{key}\": only \"path\" and \"alias\" are allowed."),
            "extra_forbidden",
        ));
    }
    let path = match entry.get("path") {
        None => {
            errors.push(FieldError::new(
                &[MAPPINGS, index, "path"],
                "A path is required.",
                "missing",
            ));
            None
        }
        Some(path) => non_empty_string(path, &[MAPPINGS, index, "path"], errors),
    };
    let alias = match entry.get("alias") {
        None | Some(Value::Null) => None,
        Some(alias) => non_empty_string(alias, &[MAPPINGS, index, "alias"], errors),
    };
    let path = path.filter(|_| errors.len() == before)?;
    Some(FieldMapping { path, alias })
}

fn non_empty_string(value: &Value, loc: &[&str], errors: &mut Vec<FieldError>) -> Option<String> {
    match value.as_str() {
        Some("") => {
            errors.push(FieldError::new(
                loc,
                "Must not be empty.",
                "string_too_short",
            ));
            None
        }
        Some(s) => Some(s.to_owned()),
        None => {
            errors.push(FieldError::new(loc, "Must be a string.", "string_type"));
            None
        }
    }
}

/// The value at dotted `path` in `value`; a numeric segment indexes an array.
fn value_at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return None;
    }
    path.split('.')
        .try_fold(value, |current, segment| match current {
            Value::Object(object) => object.get(segment),
            Value::Array(array) => array_index(segment).and_then(|i| array.get(i)),
            _ => None,
        })
}

/// Whether `path` names something `root` declares.
fn resolves(root: &Value, path: &str) -> bool {
    !schemas_at(root, path).is_empty()
}

/// The subschemas `path` reaches in `root`, by the walk [`stale_field_paths`] describes
/// (each once, in no particular order); empty when the path does not resolve. An explicit
/// worklist of (subschema, segments consumed) with a seen-set instead of recursion: `$ref`
/// cycles and repeated branches are visited once, and a long path cannot exhaust the stack.
pub(crate) fn schemas_at<'v>(root: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut reached = Vec::new();
    if path.is_empty() {
        return reached;
    }
    let segments: Vec<&str> = path.split('.').collect();
    let mut seen = HashSet::new();
    let mut work = vec![(root, 0)];
    while let Some((schema, consumed)) = work.pop() {
        if !seen.insert((std::ptr::from_ref(schema), consumed)) {
            continue;
        }
        let Some(segment) = segments.get(consumed) else {
            reached.push(schema);
            continue;
        };
        let Some(schema) = schema.as_object() else {
            continue;
        };
        if let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| local_ref(root, reference))
        {
            work.push((target, consumed));
        }
        for keyword in ["anyOf", "oneOf", "allOf"] {
            for branch in schema
                .get(keyword)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                work.push((branch, consumed));
            }
        }
        if let Some(property) = schema
            .get("properties")
            .and_then(Value::as_object)
            .and_then(|properties| properties.get(*segment))
        {
            work.push((property, consumed + 1));
        }
        match array_index(segment) {
            Some(index) => {
                if let Some(element) = element_schema(schema, index) {
                    work.push((element, consumed + 1));
                }
            }
            None => match schema.get("items") {
                Some(Value::Array(tuple)) => work.extend(tuple.iter().map(|s| (s, consumed))),
                Some(items) => work.push((items, consumed)),
                None => {}
            },
        }
    }
    reached
}

/// The subschema of element `index` of an array schema.
fn element_schema(schema: &Map<String, Value>, index: usize) -> Option<&Value> {
    if let Some(prefix) = schema.get("prefixItems").and_then(Value::as_array)
        && let Some(element) = prefix.get(index)
    {
        return Some(element);
    }
    match schema.get("items")? {
        Value::Array(tuple) => tuple.get(index),
        items @ (Value::Object(_) | Value::Bool(_)) => Some(items),
        // Not a schema: it declares no elements.
        _ => None,
    }
}

/// A segment that indexes an array: ASCII digits only.
fn array_index(segment: &str) -> Option<usize> {
    if segment.is_empty() || !segment.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

/// The target of a same-document `$ref` (`#` or `#/json/pointer`, percent-encoded as a URI
/// fragment); `None` for anything else, which is never fetched.
fn local_ref<'v>(root: &'v Value, reference: &str) -> Option<&'v Value> {
    let fragment = reference.strip_prefix('#')?;
    root.pointer(&percent_decode(fragment)?)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'%', Some(value)) => {
                decoded.push(value);
                i += 3;
            }
            _ => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(path: &str, alias: Option<&str>) -> FieldMapping {
        FieldMapping {
            path: path.to_owned(),
            alias: alias.map(str::to_owned),
        }
    }

    fn map_of(paths: &[&str]) -> Value {
        let entries: Vec<Value> = paths.iter().map(|p| json!({"path": p})).collect();
        json!({"field_mappings": entries})
    }

    fn stale(schema: &Value, paths: &[&str]) -> Vec<String> {
        stale_field_paths(Some(schema), Some(&map_of(paths)))
    }

    fn locs(errors: &[FieldError]) -> Vec<(Vec<&str>, &'static str)> {
        errors
            .iter()
            .map(|e| (e.loc.iter().map(String::as_str).collect(), e.kind))
            .collect()
    }

    fn parse_errors(raw: Value) -> Vec<FieldError> {
        parse_field_map(&raw).expect_err("invalid")
    }

    // parse_field_map

    #[test]
    fn parses_mappings_in_order() {
        let raw = json!({"field_mappings": [
            {"path": "a.b", "alias": "x"},
            {"path": "c"},
            {"path": "d", "alias": null}
        ], "note": "kept"});
        assert_eq!(
            parse_field_map(&raw),
            Ok(vec![
                mapping("a.b", Some("x")),
                mapping("c", None),
                mapping("d", None)
            ])
        );
    }

    #[test]
    fn map_without_field_mappings_is_valid() {
        assert_eq!(parse_field_map(&json!({})), Ok(vec![]));
        assert_eq!(parse_field_map(&json!({"other": 1})), Ok(vec![]));
        assert_eq!(parse_field_map(&json!({"field_mappings": []})), Ok(vec![]));
    }

    #[test]
    fn map_must_be_an_object() {
        for raw in [json!([]), json!("x"), json!(null), json!(3)] {
            assert_eq!(locs(&parse_errors(raw)), vec![(vec![], "object_type")]);
        }
    }

    #[test]
    fn field_mappings_must_be_an_array() {
        for bad in [json!({}), json!("a.b"), json!(null)] {
            let errors = parse_errors(json!({"field_mappings": bad}));
            assert_eq!(locs(&errors), vec![(vec!["field_mappings"], "array_type")]);
        }
    }

    #[test]
    fn mapping_must_be_an_object() {
        let errors = parse_errors(json!({"field_mappings": ["a.b"]}));
        assert_eq!(
            locs(&errors),
            vec![(vec!["field_mappings", "0"], "object_type")]
        );
    }

    #[test]
    fn path_is_required_non_empty_string() {
        let errors = parse_errors(json!({"field_mappings": [
            {"alias": "x"}, {"path": ""}, {"path": 5}, {"path": null}
        ]}));
        assert_eq!(
            locs(&errors),
            vec![
                (vec!["field_mappings", "0", "path"], "missing"),
                (vec!["field_mappings", "1", "path"], "string_too_short"),
                (vec!["field_mappings", "2", "path"], "string_type"),
                (vec!["field_mappings", "3", "path"], "string_type"),
            ]
        );
    }

    #[test]
    fn alias_is_non_empty_string_or_null() {
        let errors = parse_errors(json!({"field_mappings": [
            {"path": "a", "alias": ""}, {"path": "a", "alias": 1}
        ]}));
        assert_eq!(
            locs(&errors),
            vec![
                (vec!["field_mappings", "0", "alias"], "string_too_short"),
                (vec!["field_mappings", "1", "alias"], "string_type"),
            ]
        );
    }

    #[test]
    fn extra_mapping_keys_are_forbidden() {
        let errors = parse_errors(json!({"field_mappings": [{"path": "a", "as": "b"}]}));
        assert_eq!(
            locs(&errors),
            vec![(vec!["field_mappings", "0", "as"], "extra_forbidden")]
        );
    }

    #[test]
    fn every_mapping_problem_is_reported() {
        let errors = parse_errors(json!({"field_mappings": [
            {"path": "ok"}, 7, {"path": "", "alias": 2, "x": 1}
        ]}));
        assert_eq!(
            locs(&errors),
            vec![
                (vec!["field_mappings", "1"], "object_type"),
                (vec!["field_mappings", "2", "x"], "extra_forbidden"),
                (vec!["field_mappings", "2", "path"], "string_too_short"),
                (vec!["field_mappings", "2", "alias"], "string_type"),
            ]
        );
    }

    #[test]
    fn unicode_paths_and_aliases_are_kept() {
        let raw = json!({"field_mappings": [{"path": "données.名前", "alias": "név"}]});
        assert_eq!(
            parse_field_map(&raw),
            Ok(vec![mapping("données.名前", Some("név"))])
        );
    }

    // field_mappings

    #[test]
    fn lenient_extraction_skips_malformed_entries() {
        let stored = json!({"field_mappings": [
            {"path": "a", "alias": "x"}, 5, {"path": ""}, {"path": 1}, {"alias": "y"},
            {"path": "b", "alias": ""}, {"path": "c", "alias": 3, "extra": true}
        ]});
        assert_eq!(
            field_mappings(&stored),
            vec![
                mapping("a", Some("x")),
                mapping("b", None),
                mapping("c", None)
            ]
        );
    }

    #[test]
    fn lenient_extraction_of_garbage_is_empty() {
        for stored in [
            json!(null),
            json!([]),
            json!({"field_mappings": {}}),
            json!({}),
        ] {
            assert!(field_mappings(&stored).is_empty());
        }
    }

    // stale_field_paths

    fn user_schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "user": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}
                },
                "messages": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"text": {"type": "string"}}}
                }
            }
        })
    }

    #[test]
    fn no_stale_paths_without_response_schema_or_map() {
        assert!(stale_field_paths(None, Some(&map_of(&["nope"]))).is_empty());
        assert!(stale_field_paths(Some(&user_schema()), None).is_empty());
    }

    #[test]
    fn declared_properties_resolve() {
        assert!(
            stale(
                &user_schema(),
                &["user", "user.name", "messages", "user.tags"]
            )
            .is_empty()
        );
    }

    #[test]
    fn undeclared_paths_are_stale_in_map_order() {
        assert_eq!(
            stale(
                &user_schema(),
                &["user.email", "user.name", "gone", "user.name.first"]
            ),
            vec!["user.email", "gone", "user.name.first"]
        );
    }

    #[test]
    fn empty_path_never_resolves() {
        let stored = json!({"field_mappings": [{"path": ""}]});
        // The lenient reader skips it, so it is neither resolved nor reported.
        assert!(stale_field_paths(Some(&user_schema()), Some(&stored)).is_empty());
        assert!(!resolves(&user_schema(), ""));
        assert!(!resolves(&json!({"properties": {"": {}}}), ""));
    }

    #[test]
    fn empty_segment_matches_only_an_empty_property_name() {
        let schema = json!({"properties": {"a": {"properties": {"": {}}}}});
        assert!(stale(&schema, &["a."]).is_empty());
        assert_eq!(stale(&user_schema(), &["user."]), vec!["user."]);
    }

    #[test]
    fn numeric_segment_indexes_array() {
        assert!(
            stale(
                &user_schema(),
                &["messages.0.text", "messages.12", "user.tags.3"]
            )
            .is_empty()
        );
        assert_eq!(
            stale(&user_schema(), &["messages.0.nope"]),
            vec!["messages.0.nope"]
        );
    }

    #[test]
    fn non_numeric_segment_descends_through_items() {
        assert!(stale(&user_schema(), &["messages.text"]).is_empty());
        assert_eq!(
            stale(&user_schema(), &["messages.nope"]),
            vec!["messages.nope"]
        );
    }

    #[test]
    fn numeric_segment_on_object_matches_a_property_named_like_it() {
        let schema = json!({"properties": {"codes": {"properties": {"200": {}}}}});
        assert!(stale(&schema, &["codes.200"]).is_empty());
        assert_eq!(stale(&schema, &["codes.404"]), vec!["codes.404"]);
    }

    #[test]
    fn prefix_items_index_by_position_then_items() {
        let schema = json!({"properties": {"pair": {
            "type": "array",
            "prefixItems": [{"properties": {"a": {}}}, {"properties": {"b": {}}}],
            "items": {"properties": {"rest": {}}}
        }}});
        assert!(stale(&schema, &["pair.0.a", "pair.1.b", "pair.5.rest"]).is_empty());
        assert_eq!(
            stale(&schema, &["pair.0.b", "pair.1.a"]),
            vec!["pair.0.b", "pair.1.a"]
        );
    }

    #[test]
    fn draft_07_tuple_items_index_by_position() {
        let schema = json!({"properties": {"pair": {"items": [{"properties": {"a": {}}}, {}]}}});
        assert!(stale(&schema, &["pair.0.a", "pair.1", "pair.a"]).is_empty());
        assert_eq!(
            stale(&schema, &["pair.2", "pair.1.a"]),
            vec!["pair.2", "pair.1.a"]
        );
    }

    #[test]
    fn array_without_items_declares_no_elements() {
        let schema = json!({"properties": {"list": {"type": "array"}}});
        assert_eq!(stale(&schema, &["list.0"]), vec!["list.0"]);
    }

    #[test]
    fn nested_arrays_index_each_level() {
        let schema =
            json!({"properties": {"grid": {"items": {"items": {"properties": {"v": {}}}}}}});
        assert!(stale(&schema, &["grid.0.1.v", "grid.v"]).is_empty());
    }

    #[test]
    fn ref_to_defs_is_followed() {
        let schema = json!({
            "properties": {"user": {"$ref": "#/$defs/User"}},
            "$defs": {"User": {"properties": {"name": {"type": "string"}}}}
        });
        assert!(stale(&schema, &["user.name"]).is_empty());
        assert_eq!(stale(&schema, &["user.age"]), vec!["user.age"]);
    }

    #[test]
    fn draft_07_definitions_ref_is_followed() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "properties": {"items": {"type": "array", "items": {"$ref": "#/definitions/Item"}}},
            "definitions": {"Item": {"properties": {"id": {}}}}
        });
        assert!(stale(&schema, &["items.0.id", "items.id"]).is_empty());
    }

    #[test]
    fn nested_refs_are_followed() {
        let schema = json!({
            "$ref": "#/$defs/Envelope",
            "$defs": {
                "Envelope": {"properties": {"data": {"$ref": "#/$defs/Data"}}},
                "Data": {"$ref": "#/$defs/Inner"},
                "Inner": {"properties": {"value": {}}}
            }
        });
        assert!(stale(&schema, &["data.value"]).is_empty());
        assert_eq!(stale(&schema, &["data.other"]), vec!["data.other"]);
    }

    #[test]
    fn ref_siblings_are_walked_too() {
        let schema = json!({
            "properties": {"x": {"$ref": "#/$defs/A", "properties": {"own": {}}}},
            "$defs": {"A": {"properties": {"shared": {}}}}
        });
        assert!(stale(&schema, &["x.own", "x.shared"]).is_empty());
    }

    #[test]
    fn ref_pointer_escapes_are_decoded() {
        let schema = json!({
            "properties": {
                "a": {"$ref": "#/$defs/a~1b"},
                "b": {"$ref": "#/$defs/c~0d"},
                "c": {"$ref": "#/$defs/with%20space"}
            },
            "$defs": {
                "a/b": {"properties": {"x": {}}},
                "c~d": {"properties": {"y": {}}},
                "with space": {"properties": {"z": {}}}
            }
        });
        assert!(stale(&schema, &["a.x", "b.y", "c.z"]).is_empty());
    }

    #[test]
    fn ref_to_whole_document_is_followed() {
        let schema = json!({"properties": {"self": {"$ref": "#"}, "leaf": {}}});
        assert!(stale(&schema, &["self.self.leaf"]).is_empty());
        assert_eq!(stale(&schema, &["self.self.nope"]), vec!["self.self.nope"]);
    }

    #[test]
    fn ref_cycle_does_not_loop() {
        let schema = json!({
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "$defs": {"A": {"$ref": "#/$defs/B"}, "B": {"$ref": "#/$defs/A"}}
        });
        assert_eq!(stale(&schema, &["a.x"]), vec!["a.x"]);
        let items_cycle = json!({"properties": {"a": {"$ref": "#/$defs/L"}},
            "$defs": {"L": {"items": {"$ref": "#/$defs/L"}}}});
        assert_eq!(stale(&items_cycle, &["a.x"]), vec!["a.x"]);
    }

    #[test]
    fn recursive_schema_resolves_deep_paths() {
        let schema = json!({
            "$ref": "#/$defs/Node",
            "$defs": {"Node": {"properties": {
                "name": {},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}}
        });
        assert!(stale(&schema, &["children.0.children.3.name", "children.name"]).is_empty());
        let deep = vec!["children.0"; 5_000].join(".") + ".name";
        assert!(stale(&schema, &[&deep]).is_empty());
        let deep_bad = deep.replace(".name", ".nope");
        assert_eq!(stale(&schema, &[&deep_bad]), vec![deep_bad.clone()]);
    }

    #[test]
    fn remote_and_anchor_refs_do_not_resolve() {
        let schema = json!({"properties": {
            "a": {"$ref": "https://example.com/s.json#/properties/x"},
            "b": {"$ref": "#anchor"},
            "c": {"$ref": "#/$defs/missing"},
            "d": {"$ref": 5}
        }});
        assert_eq!(
            stale(&schema, &["a.x", "b.x", "c.x", "d.x"]),
            vec!["a.x", "b.x", "c.x", "d.x"]
        );
        // The properties themselves are declared, whatever their $ref.
        assert!(stale(&schema, &["a", "b", "c", "d"]).is_empty());
    }

    #[test]
    fn any_of_branch_resolves_path() {
        let schema = json!({"properties": {"result": {"anyOf": [
            {"properties": {"ok": {}}},
            {"properties": {"error": {"properties": {"code": {}}}}}
        ]}}});
        assert!(stale(&schema, &["result.ok", "result.error.code"]).is_empty());
        assert_eq!(stale(&schema, &["result.nope"]), vec!["result.nope"]);
    }

    #[test]
    fn one_of_and_all_of_branches_resolve_path() {
        let schema = json!({
            "oneOf": [{"properties": {"a": {}}}],
            "allOf": [{"$ref": "#/$defs/B"}],
            "$defs": {"B": {"properties": {"b": {"anyOf": [{"type": "null"}, {"items": {"properties": {"c": {}}}}]}}}}
        });
        assert!(stale(&schema, &["a", "b", "b.0.c", "b.c"]).is_empty());
    }

    #[test]
    fn type_array_with_object_and_array() {
        let schema = json!({"properties": {"v": {
            "type": ["object", "array", "null"],
            "properties": {"k": {}},
            "items": {"properties": {"e": {}}}
        }}});
        assert!(stale(&schema, &["v.k", "v.0.e", "v.e"]).is_empty());
        assert_eq!(stale(&schema, &["v.z"]), vec!["v.z"]);
    }

    #[test]
    fn boolean_schemas_declare_nothing_below() {
        let schema = json!({"properties": {"t": true, "f": false}});
        assert!(stale(&schema, &["t", "f"]).is_empty());
        assert_eq!(stale(&schema, &["t.x"]), vec!["t.x"]);
        assert_eq!(stale(&json!(true), &["x"]), vec!["x"]);
    }

    #[test]
    fn malformed_keywords_are_ignored() {
        let schema = json!({"properties": {"a": {"properties": [], "anyOf": {}, "items": 3}}});
        assert_eq!(stale(&schema, &["a.x", "a.0"]), vec!["a.x", "a.0"]);
    }

    #[test]
    fn unicode_segments_resolve() {
        let schema = json!({"properties": {"données": {"properties": {"名前": {}}}}});
        assert!(stale(&schema, &["données.名前"]).is_empty());
    }

    #[test]
    fn duplicate_stale_paths_are_each_reported() {
        assert_eq!(stale(&user_schema(), &["x", "user", "x"]), vec!["x", "x"]);
    }

    // narrow

    fn response() -> Value {
        json!({
            "user": {"name": "Ada", "tags": ["a", "b"]},
            "messages": [{"text": "hi"}, {"text": "yo"}],
            "n": null
        })
    }

    #[test]
    fn narrow_copies_to_alias_or_path() {
        let narrowed = narrow(
            &response(),
            &[
                mapping("user.name", Some("who")),
                mapping("messages.1.text", None),
            ],
        );
        assert_eq!(narrowed, json!({"who": "Ada", "messages.1.text": "yo"}));
    }

    #[test]
    fn narrow_keeps_mapping_order() {
        let narrowed = narrow(
            &response(),
            &[mapping("n", None), mapping("user", Some("a"))],
        );
        let keys: Vec<&String> = narrowed.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["n", "a"]);
    }

    #[test]
    fn narrow_leaves_out_missing_paths() {
        let narrowed = narrow(
            &response(),
            &[
                mapping("user.email", None),
                mapping("messages.9.text", None),
                mapping("messages.text", None),
                mapping("user.name.first", None),
                mapping("user.tags.-1", None),
                mapping("", None),
            ],
        );
        assert_eq!(narrowed, json!({}));
    }

    #[test]
    fn unresolved_paths_name_what_narrow_left_out_once_each_in_mapping_order() {
        let mappings = [
            mapping("user.email", Some("email")),
            mapping("user.name", Some("who")),
            mapping("n", None),
            mapping("messages.9.text", None),
            mapping("user.email", None),
        ];
        assert_eq!(
            unresolved_paths(&response(), &mappings),
            vec!["user.email", "messages.9.text"],
            "a null value is a value: `n` resolves"
        );
    }

    #[test]
    fn narrow_copies_null_values() {
        assert_eq!(
            narrow(&response(), &[mapping("n", None)]),
            json!({"n": null})
        );
    }

    #[test]
    fn narrow_copies_whole_subtrees() {
        assert_eq!(
            narrow(&response(), &[mapping("user.tags", Some("t"))]),
            json!({"t": ["a", "b"]})
        );
    }

    #[test]
    fn narrow_numeric_key_on_object() {
        let response = json!({"codes": {"200": "ok"}});
        assert_eq!(
            narrow(&response, &[mapping("codes.200", None)]),
            json!({"codes.200": "ok"})
        );
    }

    #[test]
    fn narrow_later_mapping_wins_a_shared_key() {
        let narrowed = narrow(
            &response(),
            &[
                mapping("user.name", Some("x")),
                mapping("messages.0.text", Some("x")),
            ],
        );
        assert_eq!(narrowed, json!({"x": "hi"}));
    }

    #[test]
    fn narrow_of_non_object_response() {
        assert_eq!(
            narrow(&json!([1, 2]), &[mapping("1", Some("second"))]),
            json!({"second": 2})
        );
        assert_eq!(narrow(&json!("text"), &[mapping("a", None)]), json!({}));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%20b").as_deref(), Some("/a b"));
        assert_eq!(percent_decode("%C3%BC").as_deref(), Some("ü"));
        assert_eq!(percent_decode("100%").as_deref(), Some("100%"));
        assert_eq!(percent_decode("%zz").as_deref(), Some("%zz"));
        assert_eq!(percent_decode("%FF"), None);
    }
}
