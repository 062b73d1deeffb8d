//! The one JSON Schema validator configuration (DESIGN.md §3 "Validation everywhere").
//!
//! Operator config, stale detection and invocation all validate through this module, so the
//! draft choice, format assertion and `$ref` policy cannot drift between them. Schemas come
//! from upstream servers: a `$ref` that leaves the document is never fetched, it fails to
//! compile instead.

use jsonschema::{Draft, Registry, ValidationError, ValidationOptions, Validator};
use serde_json::{Value, json};

/// Why a schema could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The document is not a valid JSON Schema for its draft, or one of its `$ref`s does not
    /// resolve inside it.
    #[error("the schema is not a valid JSON Schema: {0}")]
    Invalid(String),
}

/// A compiled JSON Schema (whole document).
#[derive(Debug, Clone)]
pub struct CompiledSchema {
    validator: Validator,
}

/// One reason an instance does not validate.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaViolation {
    /// Where in the instance the problem is, as unescaped JSON pointer segments; empty for the
    /// instance itself.
    pub instance_path: Vec<String>,
    /// A human sentence, prefixed by the instance's JSON pointer when that is not the root
    /// (e.g. `/channel: 5 is not of type "string"`).
    pub message: String,
}

impl CompiledSchema {
    /// Compiles a whole schema document under the service's one configuration.
    pub fn compile(schema: &Value) -> Result<CompiledSchema, SchemaError> {
        let validator = options(draft_of(schema)).build(schema).map_err(invalid)?;
        Ok(CompiledSchema { validator })
    }

    /// Every validation error as a human sentence prefixed by its instance path where
    /// non-empty (e.g. `/channel: 5 is not of type "string"`). Empty vec = valid.
    pub fn errors(&self, instance: &Value) -> Vec<SchemaViolation> {
        self.validator
            .iter_errors(instance)
            .map(|error| {
                let path = error.instance_path();
                let sentence = sentence_of(&error);
                let message = if path.is_empty() {
                    sentence
                } else {
                    format!("{}: {sentence}", path.as_str())
                };
                SchemaViolation {
                    instance_path: path.segments().map(|s| s.to_string()).collect(),
                    message,
                }
            })
            .collect()
    }

    /// Whether `instance` validates; cheaper than [`CompiledSchema::errors`].
    pub fn is_valid(&self, instance: &Value) -> bool {
        self.validator.is_valid(instance)
    }
}

/// How many allowed values an `enum` error lists before it counts the rest; enough for any
/// enum a form would show, while a 10,000-value enum cannot make one message huge.
pub const ENUM_VALUES_LISTED: usize = 100;

/// The validator's sentence, except for `enum`, whose own message names three values and
/// hides the rest ("or 2 other candidates"): the caller needs every allowed value to
/// correct the input.
fn sentence_of(error: &ValidationError<'_>) -> String {
    let jsonschema::error::ValidationErrorKind::Enum { options } = error.kind() else {
        return error.to_string();
    };
    let Some(allowed) = options.as_array() else {
        return error.to_string();
    };
    let mut listed: Vec<String> = allowed
        .iter()
        .take(ENUM_VALUES_LISTED)
        .map(Value::to_string)
        .collect();
    if allowed.len() > ENUM_VALUES_LISTED {
        listed.push(format!("… ({} more)", allowed.len() - ENUM_VALUES_LISTED));
    }
    format!(
        "{} is not one of the allowed values: {}",
        error.instance(),
        listed.join(", ")
    )
}

/// The top-level property names of an object schema (`properties` keys) in document order;
/// empty if none.
pub fn property_names(schema: &Value) -> Vec<&str> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .map(|properties| properties.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Compiles the subschema of top-level property `field` such that its local $refs resolve
/// against `root`. Ok(None) if `field` is not a top-level property.
///
/// The whole `root` must compile too: a property of a broken schema is not trusted.
pub fn compile_property(root: &Value, field: &str) -> Result<Option<CompiledSchema>, SchemaError> {
    PropertySchemas::new(root)?.compile(field)
}

/// Where the root document is registered so a property's `$ref`s can be resolved against it.
/// A URN, so it can never be mistaken for something to fetch.
const ROOT_URI: &str = "urn:feather:input-schema";

/// A root schema checked once, from which each property subschema is compiled against it.
/// Lets a caller validating many fields compile the root once per call, not once per field.
#[derive(Debug)]
pub(crate) struct PropertySchemas<'a> {
    root: &'a Value,
    draft: Draft,
    registry: Registry<'a>,
}

impl<'a> PropertySchemas<'a> {
    /// Compiles `root` (so an invalid schema is reported as such) and registers it for
    /// property compilation.
    pub(crate) fn new(root: &'a Value) -> Result<Self, SchemaError> {
        CompiledSchema::compile(root)?;
        let draft = draft_of(root);
        let registry = Registry::new()
            .draft(draft)
            // The draft is already known; its meta-schema must not be looked up anywhere.
            .retrieve_known_draft_meta_schemas(false)
            .add(ROOT_URI, draft.create_resource_ref(root))
            .and_then(|builder| builder.prepare())
            .map_err(|error| SchemaError::Invalid(error.to_string()))?;
        Ok(PropertySchemas {
            root,
            draft,
            registry,
        })
    }

    /// The compiled subschema of top-level property `field`; `None` if there is no such
    /// property.
    pub(crate) fn compile(&self, field: &str) -> Result<Option<CompiledSchema>, SchemaError> {
        // A map lookup: property_names would make each field cost O(properties).
        let is_property = self
            .root
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|properties| properties.contains_key(field));
        if !is_property {
            return Ok(None);
        }
        let reference = format!("{ROOT_URI}#/properties/{}", fragment_segment(field));
        let validator = options(self.draft)
            .with_registry(&self.registry)
            .build(&json!({ "$ref": reference }))
            .map_err(invalid)?;
        Ok(Some(CompiledSchema { validator }))
    }
}

/// The one validator configuration. Every compile in the crate goes through here.
fn options<'i>(draft: Draft) -> ValidationOptions<'i> {
    let options = jsonschema::options()
        .with_draft(draft)
        .should_validate_formats(true)
        // Never fetch a `$ref` that leaves the document, whatever features the crate has.
        .offline();
    if draft < Draft::Draft201909 {
        // `uuid` became a standard format in 2019-09; the service asserts it under every draft.
        options.with_format("uuid", is_uuid)
    } else {
        options
    }
}

/// The draft a schema declares with `$schema`, 2020-12 when it declares none or one this
/// service does not know (a custom meta-schema would have to be fetched).
fn draft_of(schema: &Value) -> Draft {
    match Draft::Draft202012.detect(schema) {
        Draft::Unknown => Draft::Draft202012,
        draft => draft,
    }
}

fn invalid(error: ValidationError<'_>) -> SchemaError {
    SchemaError::Invalid(error.to_string())
}

/// `field` as one segment of a URI fragment JSON pointer: `~` and `/` escaped per RFC 6901,
/// then every byte outside the unreserved set percent-encoded (a `#` or `%` in a property
/// name would otherwise break the reference).
fn fragment_segment(field: &str) -> String {
    let escaped = field.replace('~', "~0").replace('/', "~1");
    let mut out = String::with_capacity(escaped.len());
    for byte in escaped.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// RFC 4122 textual form: 8-4-4-4-12 hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(group, len)| group.len() == len && group.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(schema: Value) -> CompiledSchema {
        CompiledSchema::compile(&schema).expect("schema compiles")
    }

    fn property(root: &Value, field: &str) -> CompiledSchema {
        compile_property(root, field)
            .expect("schema compiles")
            .expect("field is a property")
    }

    #[test]
    fn valid_instance_has_no_errors() {
        let schema = compiled(json!({"type": "object", "properties": {"a": {"type": "string"}}}));
        assert!(schema.errors(&json!({"a": "x"})).is_empty());
        assert!(schema.is_valid(&json!({"a": "x"})));
    }

    #[test]
    fn error_message_is_prefixed_by_instance_path() {
        let schema = compiled(json!({"properties": {"channel": {"type": "string"}}}));
        let errors = schema.errors(&json!({"channel": 5}));
        assert_eq!(
            errors,
            vec![SchemaViolation {
                instance_path: vec!["channel".into()],
                message: "/channel: 5 is not of type \"string\"".into(),
            }]
        );
    }

    #[test]
    fn an_enum_error_lists_every_allowed_value() {
        let schema = compiled(json!({"properties": {"channel": {
            "enum": ["chat", "email", "sms", "voice", null, 3]
        }}}));
        let errors = schema.errors(&json!({"channel": "#support"}));
        assert_eq!(
            errors[0].message,
            "/channel: \"#support\" is not one of the allowed values: \"chat\", \"email\", \
             \"sms\", \"voice\", null, 3"
        );
    }

    #[test]
    fn a_huge_enum_error_lists_the_first_values_and_counts_the_rest() {
        let values: Vec<Value> = (0..ENUM_VALUES_LISTED + 7).map(|n| json!(n)).collect();
        let errors = compiled(json!({"enum": values})).errors(&json!("x"));
        let message = &errors[0].message;
        assert!(message.contains(", 99, … (7 more)"), "{message}");
        assert!(!message.contains("100"), "{message}");
    }

    #[test]
    fn root_error_has_no_prefix() {
        let errors = compiled(json!({"type": "string"})).errors(&json!(5));
        assert_eq!(errors.len(), 1);
        assert!(errors[0].instance_path.is_empty());
        assert_eq!(errors[0].message, "5 is not of type \"string\"");
    }

    #[test]
    fn every_error_is_reported() {
        let schema = compiled(json!({
            "properties": {"a": {"type": "string"}, "b": {"type": "integer"}},
            "required": ["c"]
        }));
        assert_eq!(schema.errors(&json!({"a": 1, "b": "x"})).len(), 3);
    }

    #[test]
    fn instance_path_segments_are_unescaped() {
        let schema = compiled(json!({"properties": {"a/b": {"items": {"type": "string"}}}}));
        let errors = schema.errors(&json!({"a/b": ["ok", 1]}));
        assert_eq!(errors[0].instance_path, vec!["a/b", "1"]);
        assert!(
            errors[0].message.starts_with("/a~1b/1: "),
            "{}",
            errors[0].message
        );
    }

    #[test]
    fn format_date_time_is_asserted() {
        let schema = compiled(json!({"type": "string", "format": "date-time"}));
        assert!(schema.is_valid(&json!("2024-05-01T10:00:00Z")));
        assert!(!schema.is_valid(&json!("yesterday")));
    }

    #[test]
    fn common_formats_are_asserted_under_2020_12() {
        let cases = [
            ("date", "2024-05-01", "2024-13-45"),
            ("email", "a@example.com", "not an email"),
            ("uri", "https://example.com/x", "not a uri"),
            ("uuid", "123e4567-e89b-12d3-a456-426614174000", "123e4567"),
            ("ipv4", "192.168.0.1", "999.1.1.1"),
            ("ipv6", "::1", "12345::"),
        ];
        for (format, good, bad) in cases {
            let schema = compiled(json!({"type": "string", "format": format}));
            assert!(schema.is_valid(&json!(good)), "{format} rejects {good}");
            assert!(!schema.is_valid(&json!(bad)), "{format} accepts {bad}");
        }
    }

    #[test]
    fn common_formats_are_asserted_under_draft_07() {
        let cases = [
            ("date-time", "2024-05-01T10:00:00Z", "noon"),
            (
                "uuid",
                "123E4567-E89B-12D3-A456-426614174000",
                "123e4567-e89b-12d3-a456",
            ),
            ("email", "a@example.com", "@"),
            ("ipv6", "fe80::1", "fe80:::1"),
        ];
        for (format, good, bad) in cases {
            let schema = compiled(json!({
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "string",
                "format": format
            }));
            assert!(schema.is_valid(&json!(good)), "{format} rejects {good}");
            assert!(!schema.is_valid(&json!(bad)), "{format} accepts {bad}");
        }
    }

    #[test]
    fn formats_ignore_non_strings() {
        assert!(compiled(json!({"format": "email"})).is_valid(&json!(5)));
    }

    #[test]
    fn unknown_format_is_an_annotation() {
        assert!(compiled(json!({"format": "flavour"})).is_valid(&json!("anything")));
    }

    #[test]
    fn draft_defaults_to_2020_12_without_schema_keyword() {
        assert_eq!(draft_of(&json!({"type": "string"})), Draft::Draft202012);
        assert_eq!(draft_of(&json!(true)), Draft::Draft202012);
    }

    #[test]
    fn draft_follows_schema_keyword() {
        let draft7 = json!({"$schema": "http://json-schema.org/draft-07/schema#"});
        let draft4 = json!({"$schema": "http://json-schema.org/draft-04/schema#"});
        assert_eq!(draft_of(&draft7), Draft::Draft7);
        assert_eq!(draft_of(&draft4), Draft::Draft4);
    }

    #[test]
    fn unknown_meta_schema_falls_back_to_2020_12_without_fetching() {
        let schema = json!({"$schema": "https://example.com/my-meta", "type": "string"});
        assert_eq!(draft_of(&schema), Draft::Draft202012);
        assert!(compiled(schema).is_valid(&json!("x")));
    }

    #[test]
    fn draft_07_ignores_prefix_items_but_2020_12_applies_it() {
        let body = json!({"prefixItems": [{"type": "string"}]});
        let mut draft7 = body.clone();
        draft7["$schema"] = json!("http://json-schema.org/draft-07/schema#");
        assert!(compiled(draft7).is_valid(&json!([1])));
        assert!(!compiled(body).is_valid(&json!([1])));
    }

    #[test]
    fn draft_07_exclusive_minimum_is_a_number() {
        let draft7 = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "exclusiveMinimum": 3
        });
        assert!(!compiled(draft7).is_valid(&json!(3)));
        let draft4 = json!({
            "$schema": "http://json-schema.org/draft-04/schema#",
            "minimum": 3,
            "exclusiveMinimum": true
        });
        assert!(!compiled(draft4).is_valid(&json!(3)));
    }

    #[test]
    fn invalid_schema_is_an_error_not_a_panic() {
        for schema in [
            json!({"type": "no-such-type"}),
            json!({"properties": 5}),
            json!({"pattern": "(unclosed"}),
            json!({"minLength": -1}),
            json!(5),
            json!("string"),
            json!(null),
            json!([]),
            json!({"$schema": 5}),
        ] {
            let result = CompiledSchema::compile(&schema);
            assert!(
                matches!(result, Err(SchemaError::Invalid(_))),
                "{schema} compiled"
            );
        }
    }

    #[test]
    fn boolean_schemas_compile() {
        assert!(compiled(json!(true)).is_valid(&json!({"anything": 1})));
        assert!(!compiled(json!(false)).is_valid(&json!(1)));
    }

    #[test]
    fn local_refs_resolve() {
        let schema = compiled(json!({
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "$defs": {"A": {"type": "integer"}}
        }));
        assert!(schema.is_valid(&json!({"a": 1})));
        assert!(!schema.is_valid(&json!({"a": "x"})));
    }

    #[test]
    fn unresolvable_local_ref_is_invalid() {
        let schema = json!({"properties": {"a": {"$ref": "#/$defs/Missing"}}});
        assert!(CompiledSchema::compile(&schema).is_err());
    }

    #[test]
    fn remote_ref_is_never_fetched() {
        for reference in [
            "https://example.com/schema.json",
            "http://127.0.0.1:9/schema.json#/x",
            "file:///etc/passwd",
            "other.json#/$defs/A",
        ] {
            let schema = json!({"properties": {"a": {"$ref": reference}}});
            assert!(CompiledSchema::compile(&schema).is_err(), "{reference}");
        }
    }

    #[test]
    fn property_names_in_document_order() {
        let schema = json!({"properties": {"z": {}, "a": {}, "m": true}});
        assert_eq!(property_names(&schema), vec!["z", "a", "m"]);
    }

    #[test]
    fn property_names_empty_without_properties() {
        assert!(property_names(&json!({"type": "object"})).is_empty());
        assert!(property_names(&json!(true)).is_empty());
        assert!(property_names(&json!({"properties": []})).is_empty());
    }

    #[test]
    fn property_subschema_validates_alone() {
        let root = json!({"properties": {"n": {"type": "integer", "minimum": 1}}});
        let n = property(&root, "n");
        assert!(n.is_valid(&json!(3)));
        assert!(!n.is_valid(&json!(0)));
        assert!(!n.is_valid(&json!("3")));
    }

    #[test]
    fn missing_property_is_none() {
        let root = json!({"properties": {"a": {}}});
        assert!(matches!(compile_property(&root, "b"), Ok(None)));
        assert!(matches!(compile_property(&json!(true), "a"), Ok(None)));
    }

    #[test]
    fn property_of_invalid_root_is_an_error() {
        let root = json!({"properties": {"a": {"type": "string"}, "b": {"type": 5}}});
        assert!(compile_property(&root, "a").is_err());
    }

    #[test]
    fn ref_into_defs_resolves_for_property_validation() {
        let root = json!({
            "properties": {"user": {"$ref": "#/$defs/User"}},
            "$defs": {"User": {"type": "object", "required": ["name"]}}
        });
        let user = property(&root, "user");
        assert!(user.is_valid(&json!({"name": "Ada"})));
        let errors = user.errors(&json!({}));
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .message
                .contains("\"name\" is a required property")
        );
    }

    #[test]
    fn draft_07_ref_into_definitions_resolves_for_property_validation() {
        let root = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "properties": {"when": {"$ref": "#/definitions/When"}},
            "definitions": {"When": {"type": "string", "format": "date"}}
        });
        let when = property(&root, "when");
        assert!(when.is_valid(&json!("2024-01-31")));
        assert!(!when.is_valid(&json!("2024-02-31")));
    }

    #[test]
    fn nested_refs_resolve_for_property_validation() {
        let root = json!({
            "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/Item"}}},
            "$defs": {
                "Item": {"type": "object", "properties": {"id": {"$ref": "#/$defs/Id"}}},
                "Id": {"type": "string", "format": "uuid"}
            }
        });
        let items = property(&root, "items");
        assert!(items.is_valid(&json!([{"id": "123e4567-e89b-12d3-a456-426614174000"}])));
        let errors = items.errors(&json!([{"id": "nope"}]));
        assert_eq!(errors[0].instance_path, vec!["0", "id"]);
    }

    #[test]
    fn recursive_ref_resolves_for_property_validation() {
        let root = json!({
            "properties": {"tree": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {
                "type": "object",
                "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
                "additionalProperties": false
            }}
        });
        let tree = property(&root, "tree");
        assert!(tree.is_valid(&json!({"children": [{"children": []}]})));
        assert!(!tree.is_valid(&json!({"children": [{"bad": 1}]})));
    }

    #[test]
    fn ref_resolves_under_root_with_its_own_id() {
        let root = json!({
            "$id": "https://example.com/tool/input.json",
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "$defs": {"A": {"enum": ["x"]}}
        });
        let a = property(&root, "a");
        assert!(a.is_valid(&json!("x")));
        assert!(!a.is_valid(&json!("y")));
    }

    #[test]
    fn property_names_needing_escapes_compile() {
        let names = ["a/b", "a~b", "a b", "a#b", "a%b", "ünï", "", "~1", "%25"];
        let properties: serde_json::Map<String, Value> = names
            .iter()
            .map(|name| (name.to_string(), json!({"const": name})))
            .collect();
        let root = json!({"properties": properties});
        for name in names {
            let schema = property(&root, name);
            assert!(schema.is_valid(&json!(name)), "{name:?}");
            assert!(!schema.is_valid(&json!("other")), "{name:?}");
        }
    }

    #[test]
    fn ref_cycle_compiles_without_hanging() {
        let root = json!({
            "properties": {"x": {"$ref": "#/$defs/a"}},
            "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}
        });
        assert!(compile_property(&root, "x").is_ok());
    }

    #[test]
    fn anchor_ref_resolves_for_property_validation() {
        let root = json!({
            "properties": {"x": {"$ref": "#num"}},
            "$defs": {"n": {"$anchor": "num", "type": "number"}}
        });
        let x = property(&root, "x");
        assert!(x.is_valid(&json!(1.5)));
        assert!(!x.is_valid(&json!("1.5")));
    }

    #[test]
    fn property_ref_to_sibling_property_resolves() {
        let root =
            json!({"properties": {"a": {"type": "boolean"}, "b": {"$ref": "#/properties/a"}}});
        assert!(property(&root, "b").is_valid(&json!(true)));
        assert!(!property(&root, "b").is_valid(&json!(1)));
    }

    #[test]
    fn boolean_property_subschemas_compile() {
        let root = json!({"properties": {"yes": true, "no": false}});
        assert!(property(&root, "yes").is_valid(&json!(1)));
        assert!(!property(&root, "no").is_valid(&json!(1)));
    }

    #[test]
    fn property_formats_are_asserted() {
        let root = json!({"properties": {"at": {"type": "string", "format": "date-time"}}});
        assert!(!property(&root, "at").is_valid(&json!("soon")));
    }

    #[test]
    fn uuid_shape() {
        assert!(is_uuid("00000000-0000-0000-0000-000000000000"));
        assert!(!is_uuid("00000000-0000-0000-0000-00000000000g"));
        assert!(!is_uuid("00000000000000000000000000000000"));
        assert!(!is_uuid(""));
    }
}
