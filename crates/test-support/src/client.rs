//! Requests as one identity, and the responses read whole with their assertions.

use axum::body::{Body, Bytes};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;

use crate::*;

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// `x-api-key: <key>`
    ApiKey(String),
    /// `Authorization: Bearer <key>`
    Bearer(String),
    /// Any header, verbatim.
    Header(&'static str, String),
}

/// Sends requests with one identity.
#[derive(Debug)]
pub struct Client<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) auth: Auth,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Client<'_> {
    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, None).await
    }

    /// A GET with extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        self.send_with(Method::GET, path, Body::empty(), headers)
            .await
    }

    /// A POST of `body` as JSON, with extra request headers.
    pub async fn post_json_with(
        &self,
        path: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let bytes = serde_json::to_vec(&body).expect("serialize the request body");
        let length = bytes.len().to_string();
        let json = [
            ("content-type", "application/json"),
            ("content-length", &length),
        ];
        let headers: Vec<_> = json.iter().chain(headers).copied().collect();
        self.send_with(Method::POST, path, Body::from(bytes), &headers)
            .await
    }

    async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: Body,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = self.request(method, path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body).expect("a well-formed test request");
        self.app.send(request).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> TestResponse {
        self.send_json(Method::POST, path, &body).await
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> TestResponse {
        self.send_json(Method::PATCH, path, &body).await
    }

    async fn send_json(&self, method: Method, path: &str, body: &Value) -> TestResponse {
        let bytes = serde_json::to_vec(body).expect("serialize the request body");
        self.send(method, path, Some(("application/json", bytes)))
            .await
    }

    /// A request with a body sent as is, under `content_type`.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> TestResponse {
        self.send(method, path, Some((content_type, body.into())))
            .await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> TestResponse {
        let mut request = self.request(method, path);
        let body = match body {
            None => Body::empty(),
            Some((content_type, bytes)) => {
                request = request
                    .header(CONTENT_TYPE, content_type)
                    .header(CONTENT_LENGTH, bytes.len());
                Body::from(bytes)
            }
        };
        let request = request.body(body).expect("a well-formed test request");
        self.app.send(request).await
    }
}

impl Client<'_> {
    /// A request to `path` carrying this client's credentials.
    fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        let request = Request::builder().method(method).uri(path);
        match &self.auth {
            Auth::None => request,
            Auth::ApiKey(key) => request.header("x-api-key", key),
            Auth::Bearer(key) => request.header(AUTHORIZATION, format!("Bearer {key}")),
            Auth::Header(name, value) => request.header(*name, value),
        }
    }
}

impl TestResponse {
    /// The body as JSON (`Null` when empty).
    #[track_caller]
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "the {} response is not JSON ({error}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("an ASCII header value"))
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    /// Asserts an `ErrorResponse` with this status and code: JSON, exactly `error` and
    /// `message`, the message a non-empty sentence.
    #[track_caller]
    pub fn expect_error(&self, status: StatusCode, code: &str) -> Value {
        let body = self.expect(status);
        assert!(
            self.header("content-type")
                .is_some_and(|value| value.starts_with("application/json")),
            "an error response must be JSON: {:?}",
            self.headers
        );
        assert_eq!(
            keys(&body),
            set(&["error", "message"]),
            "not an ErrorResponse: {body:#}"
        );
        assert_eq!(body["error"], code, "wrong error code: {body:#}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(!message.trim().is_empty(), "empty error message: {body:#}");
        body
    }

    /// Asserts a 422 `HTTPValidationError` whose problems are located at exactly `locs`
    /// (in any order), each with a message and a type. Returns the problems.
    #[track_caller]
    pub fn expect_validation_error(&self, locs: &[&[&str]]) -> Vec<Value> {
        let body = self.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(keys(&body), set(&["detail"]), "not an HTTPValidationError");
        let detail = body["detail"].as_array().cloned().unwrap_or_default();
        let mut found: Vec<Vec<String>> = Vec::new();
        for problem in &detail {
            let loc = problem["loc"]
                .as_array()
                .unwrap_or_else(|| panic!("a problem without loc: {problem:#}"))
                .iter()
                .map(|segment| match segment {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => panic!("loc segments are strings or integers, got {other}"),
                })
                .collect();
            for field in ["msg", "type"] {
                assert!(
                    problem[field]
                        .as_str()
                        .is_some_and(|s| !s.trim().is_empty()),
                    "a problem without {field}: {problem:#}"
                );
            }
            found.push(loc);
        }
        let mut expected: Vec<Vec<String>> = locs
            .iter()
            .map(|loc| loc.iter().map(|s| (*s).to_owned()).collect())
            .collect();
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "wrong problem locations in {body:#}");
        detail
    }
}

impl TestResponse {
    /// The body as text, as a client would see it.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
