//! Small readers of JSON answers.

use std::collections::BTreeSet;

use serde_json::Value;
use uuid::Uuid;

/// The keys of a JSON object.
#[track_caller]
pub fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[track_caller]
pub fn as_array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => panic!("not an array: {other:#}"),
    }
}

/// The values of `field` in each object of `items`.
pub fn pluck<'a>(items: impl IntoIterator<Item = &'a Value>, field: &str) -> Vec<Value> {
    items.into_iter().map(|item| item[field].clone()).collect()
}

/// A `Uuid` in a JSON value.
#[track_caller]
pub fn uuid(value: &Value) -> Uuid {
    value
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("not a UUID: {value}"))
}

/// An RFC 3339 timestamp in UTC (`Z`), as every timestamp of the API must be.
#[track_caller]
pub fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp string: {value}"));
    assert!(text.ends_with('Z'), "a timestamp not in UTC: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("not RFC 3339 ({error}): {text}"))
        .to_utc()
}
