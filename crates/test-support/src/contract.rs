//! The published contract's documents and validation against their schemas.

use serde_json::Value;

/// The seed contract (`../shared/contract/list-connections.openapi.yaml`) as JSON, read at
/// test time. Tests that call it are `#[feather_test_gates::contract]`: ignored where the
/// clone has no `../shared`.
pub fn seed_contract() -> Value {
    read_contract("list-connections.openapi.yaml")
}

/// The later public spec (`../shared/contract/integrations-v1.90.openapi.json`), binding for
/// the shapes of the other endpoints.
pub fn later_contract() -> Value {
    read_contract("integrations-v1.90.openapi.json")
}

fn read_contract(file: &str) -> Value {
    let path = format!(
        "{}/../../../shared/contract/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("the contract {path} cannot be read: {error}"));
    if file.ends_with(".json") {
        serde_json::from_str(&text).expect("the contract is valid JSON")
    } else {
        yaml_serde::from_str(&text).expect("the contract is valid YAML")
    }
}

/// A validator for `schema`, a JSON Schema (2020-12) whose `$ref`s point into `components`
/// (an OpenAPI document's `components`), with formats asserted.
pub fn component_validator(components: &Value, schema: Value) -> jsonschema::Validator {
    let mut document = schema;
    document["components"] = components.clone();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&document)
        .expect("the contract's schemas compile")
}

/// Asserts `instance` is valid, listing every violation otherwise.
#[track_caller]
pub fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{}: {error}", error.instance_path().as_str()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks the contract:\n{}\n{instance:#}",
        errors.join("\n")
    );
}
