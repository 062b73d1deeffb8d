//! Request extractors that answer in the project's own error format: a JSON body that
//! reports every unknown field and names the field of a type error, and path parameters
//! whose malformed UUIDs answer 422.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use feather_domain::patch::Patch;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use feather_domain::text::unstorable_paths;

use crate::error::{ApiError, MAX_PROBLEMS_LISTED, ValidationError};

/// A JSON request body of type `T`, which must be a struct (its field list is read from
/// its `Deserialize` impl to report unknown fields).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes =
            Bytes::from_request(request, state)
                .await
                .map_err(|rejection: BytesRejection| {
                    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        ApiError::PayloadTooLarge
                    } else if timed_out(&rejection) {
                        ApiError::BodyTimeout
                    } else {
                        ApiError::BadRequest("The request body could not be read.".to_owned())
                    }
                })?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|error| {
            ApiError::BadRequest(format!("The request body is not valid JSON: {error}."))
        })?;
        refuse_unstorable_text(&value)?;
        refuse_inexact_integers(&bytes, &value)?;
        parse_body(value).map(JsonBody)
    }
}

/// Whether reading the body failed because it did not arrive in time (the router's
/// `RequestBodyTimeoutLayer`).
fn timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(error), |error| error.source())
        .any(|error| error.is::<tower_http::timeout::TimeoutError>())
}

/// Text with a NUL character cannot be stored (see `feather_domain::text`); each place
/// that holds one is reported, before anything else is looked at.
fn refuse_unstorable_text(value: &Value) -> Result<(), ApiError> {
    let found = unstorable_paths(value, MAX_PROBLEMS_LISTED + 1);
    if found.is_empty() {
        return Ok(());
    }
    Err(ApiError::Validation(
        found
            .into_iter()
            .map(|path| {
                let mut loc = vec!["body".to_owned()];
                loc.extend(path);
                ValidationError::new(
                    loc,
                    "Text must not contain the NUL character (U+0000).",
                    "string_unstorable",
                )
            })
            .collect(),
    ))
}

/// Integer literals beyond 64 bits would be parsed as floats and silently rounded
/// (`123456789012345678901234567890` kept as `1.2345678901234568e29`); each is refused
/// where it is, as a 422. Floats keep their own (documented) precision.
fn refuse_inexact_integers(body: &[u8], value: &Value) -> Result<(), ApiError> {
    let literals = integer_literals_beyond_64_bits(body);
    if literals.is_empty() {
        return Ok(());
    }
    Err(ApiError::Validation(
        literals
            .into_iter()
            .take(MAX_PROBLEMS_LISTED + 1)
            .map(|literal| {
                let mut loc = vec!["body".to_owned()];
                let rounded = literal.parse::<f64>().ok();
                loc.extend(
                    rounded
                        .and_then(|rounded| float_path(value, rounded))
                        .unwrap_or_default(),
                );
                let shown: String = literal.chars().take(40).collect();
                ValidationError::new(
                    loc,
                    format!(
                        "The integer {shown} cannot be kept exactly (integers are at most 64 \
                         bits); send it as a string."
                    ),
                    "int_too_large",
                )
            })
            .collect(),
    ))
}

/// The integer literals of a JSON text (outside strings) that fit neither i64 nor u64.
fn integer_literals_beyond_64_bits(body: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    let mut index = 0;
    while index < body.len() {
        let byte = body[index];
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            index += 1;
            continue;
        }
        if byte == b'"' {
            in_string = true;
            index += 1;
            continue;
        }
        if byte == b'-' || byte.is_ascii_digit() {
            let start = index;
            while index < body.len()
                && matches!(body[index], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                index += 1;
            }
            let token = String::from_utf8_lossy(&body[start..index]);
            let is_integer = !token.contains(['.', 'e', 'E']);
            if is_integer && token.parse::<i64>().is_err() && token.parse::<u64>().is_err() {
                found.push(token.into_owned());
            }
            continue;
        }
        index += 1;
    }
    found
}

/// The path of the first float in `value` equal to `rounded`.
fn float_path(value: &Value, rounded: f64) -> Option<Vec<String>> {
    match value {
        Value::Number(number) if number.is_f64() && number.as_f64() == Some(rounded) => {
            Some(Vec::new())
        }
        Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            float_path(item, rounded).map(|mut path| {
                path.insert(0, index.to_string());
                path
            })
        }),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            float_path(item, rounded).map(|mut path| {
                path.insert(0, key.clone());
                path
            })
        }),
        _ => None,
    }
}

/// Checks a parsed body against `T`: every unknown field is reported, then the first type
/// error with the path of the field it is in.
fn parse_body<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    let Value::Object(mut fields) = value else {
        return Err(ApiError::invalid(
            &["body"],
            "The request body must be a JSON object.",
            "model_type",
        ));
    };
    let known = serde_aux::serde_introspection::serde_introspect::<T>();
    let unknown: Vec<String> = fields
        .keys()
        .filter(|key| !known.contains(&key.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::Validation(
            unknown
                .into_iter()
                .map(|key| {
                    ValidationError::new(
                        vec!["body".to_owned(), key],
                        "Extra inputs are not permitted.",
                        "extra_forbidden",
                    )
                })
                .collect(),
        ));
    }
    // Keep only known fields: the struct itself may deny unknown ones.
    fields.retain(|key, _| known.contains(&key.as_str()));
    serde_path_to_error::deserialize(Value::Object(fields)).map_err(located_type_error)
}

/// A deserialization error located at the field it concerns. A missing field is reported
/// at its own location (serde names it only in its message, in the fixed form
/// ``missing field `name` ``), any other error at the path serde reached.
fn located_type_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    use serde_path_to_error::Segment;

    let mut loc = vec!["body".to_owned()];
    loc.extend(error.path().iter().filter_map(|segment| match segment {
        Segment::Seq { index } => Some(index.to_string()),
        Segment::Map { key } => Some(key.clone()),
        Segment::Enum { variant } => Some(variant.clone()),
        Segment::Unknown => None,
    }));
    let message = error.inner().to_string();
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split_once('`'))
        .map(|(field, _)| field.to_owned());
    let (msg, kind) = match missing {
        Some(field) => {
            loc.push(field);
            ("Field required.".to_owned(), "missing")
        }
        None => (message, "type_error"),
    };
    ApiError::Validation(vec![ValidationError::new(loc, msg, kind)])
}

/// Deserializes a three-state field that is present in the body: `null` clears, a value
/// sets. (An absent field never reaches this function and keeps its `Patch::Unchanged`
/// default through `#[serde(default)]`.)
pub(crate) fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Patch<Value>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Null => Patch::Clear,
        value => Patch::Set(value),
    })
}

/// Path parameters of type `T`; a value that does not parse (a malformed UUID) is a 422
/// naming the parameter.
#[derive(Debug)]
pub struct PathParams<T>(pub T);

impl<S, T> FromRequestParts<S> for PathParams<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        use axum::extract::path::ErrorKind;

        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(params)) => Ok(PathParams(params)),
            Err(PathRejection::FailedToDeserializePathParams(error)) => match error.kind() {
                ErrorKind::ParseErrorAtKey { key, value, .. }
                | ErrorKind::DeserializeError { key, value, .. } => Err(ApiError::invalid(
                    &["path", key],
                    format!("Input should be a valid UUID, not {value:?}."),
                    "uuid_parsing",
                )),
                ErrorKind::InvalidUtf8InPathParam { key } => Err(ApiError::invalid(
                    &["path", key],
                    "Input should be valid UTF-8.",
                    "uuid_parsing",
                )),
                other => Err(ApiError::invalid(
                    &["path"],
                    other.to_string(),
                    "value_error",
                )),
            },
            Err(other) => Err(ApiError::Internal(other.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        count: Option<u32>,
    }

    fn problems(result: Result<Body, ApiError>) -> Vec<(Vec<String>, String)> {
        match result {
            Err(ApiError::Validation(detail)) => {
                detail.into_iter().map(|d| (d.loc, d.kind)).collect()
            }
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn every_unknown_field_is_reported() {
        let found = problems(parse_body(json!({"name": "a", "x": 1, "y": 2})));
        assert_eq!(
            found,
            vec![
                (vec!["body".into(), "x".into()], "extra_forbidden".into()),
                (vec!["body".into(), "y".into()], "extra_forbidden".into()),
            ]
        );
    }

    #[test]
    fn a_type_error_names_its_field() {
        let found = problems(parse_body(json!({"name": "a", "count": "many"})));
        assert_eq!(
            found,
            vec![(vec!["body".into(), "count".into()], "type_error".into())]
        );
    }

    #[test]
    fn a_missing_field_is_located_at_the_field() {
        let found = problems(parse_body(json!({"count": 1})));
        assert_eq!(
            found,
            vec![(vec!["body".into(), "name".into()], "missing".into())]
        );
    }

    #[test]
    fn text_with_nul_is_refused_where_it_is() {
        let body = json!({"name": "a\u{0}", "tags": ["x", "y\u{0}"]});
        let found: Vec<Vec<String>> = match refuse_unstorable_text(&body) {
            Err(ApiError::Validation(detail)) => detail.into_iter().map(|d| d.loc).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(found, vec![vec!["body", "name"], vec!["body", "tags", "1"]]);
        assert!(refuse_unstorable_text(&json!({"name": "a\\u0000"})).is_ok());
    }

    #[test]
    fn integers_beyond_64_bits_are_refused_where_they_are() {
        let body =
            br#"{"ok": 9007199254740993, "max": 18446744073709551615, "min": -9223372036854775808,
            "float": 1.5e300, "text": "123456789012345678901234567890",
            "pins": {"big": {"value": 123456789012345678901234567890}}}"#;
        let value: Value = serde_json::from_slice(body).expect("json");
        let found: Vec<Vec<String>> = match refuse_inexact_integers(body, &value) {
            Err(ApiError::Validation(detail)) => detail.into_iter().map(|d| d.loc).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        };
        assert_eq!(found, vec![vec!["body", "pins", "big", "value"]]);
        let exact = br#"{"a": [1, -2, 18446744073709551615], "b": "99999999999999999999"}"#;
        let value: Value = serde_json::from_slice(exact).expect("json");
        assert!(refuse_inexact_integers(exact, &value).is_ok());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_rejected() {
        let found = problems(parse_body(json!([1, 2])));
        assert_eq!(found, vec![(vec!["body".into()], "model_type".into())]);
    }
}
