//! Framework-level answers in the project's own format: unknown routes, wrong methods,
//! oversized and non-JSON bodies; and no request a client can send yields a 5xx.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{API_KEYS, Auth, LISTING, Seeded, TestApp, catalog};

/// The methods an `Allow` header lists.
fn allowed(response: &crate::support::TestResponse) -> Vec<String> {
    let allow = response
        .header("allow")
        .unwrap_or_else(|| panic!("a 405 without an Allow header: {:?}", response.headers));
    let mut methods: Vec<String> = allow.split(',').map(|m| m.trim().to_owned()).collect();
    methods.sort();
    methods
}

#[tokio::test]
async fn unknown_route_is_a_404_error_response() {
    let app = TestApp::new().await;
    // `/` is the index (health.rs).
    for path in [
        "/v1",
        "/v1/integrations/nope",
        "/v2/integrations/connections",
        "/healthz/x",
    ] {
        app.get(path)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.anonymous()
            .get(path)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
}

#[tokio::test]
async fn wrong_method_is_a_405_with_an_allow_header() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    let cases: Vec<(Method, String, &[&str])> = vec![
        (
            Method::PUT,
            seeded.url(),
            &["DELETE", "GET", "HEAD", "PATCH"],
        ),
        (
            Method::POST,
            seeded.url(),
            &["DELETE", "GET", "HEAD", "PATCH"],
        ),
        (Method::DELETE, LISTING.to_owned(), &["GET", "HEAD"]),
        (Method::GET, seeded.tools_url(), &["PATCH"]),
        (Method::DELETE, seeded.tool_url("send_message"), &["PATCH"]),
        (Method::PATCH, API_KEYS.to_owned(), &["GET", "HEAD", "POST"]),
        (
            Method::GET,
            format!("{API_KEYS}/{}", app.owner.key_id),
            &["DELETE"],
        ),
        (
            Method::POST,
            "/v1/integrations".to_owned(),
            &["GET", "HEAD"],
        ),
        (Method::POST, "/healthz".to_owned(), &["GET", "HEAD"]),
    ];
    for (method, path, allow) in cases {
        let response = app
            .as_owner()
            .send_raw(method.clone(), &path, "application/json", "{}")
            .await;
        response.expect_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
        assert_eq!(allowed(&response), allow, "{method} {path}");
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

/// A JSON body of more than 1 MiB: a nickname, or an input default, of `size` bytes.
fn big_string(size: usize) -> String {
    "a".repeat(size)
}

#[tokio::test]
async fn body_over_one_mib_is_413_and_changes_nothing() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    let over = feather_http::MAX_BODY_BYTES + 1;
    let requests: Vec<(Method, String, Value)> = vec![
        (
            Method::PATCH,
            seeded.url(),
            json!({"nickname": big_string(over)}),
        ),
        (
            Method::PATCH,
            seeded.tool_url("send_message"),
            json!({"input_defaults": {"text": {"value": big_string(over)}}}),
        ),
        (
            Method::PATCH,
            seeded.tools_url(),
            json!({"is_enabled": false, "pad": big_string(over)}),
        ),
        (
            Method::POST,
            API_KEYS.to_owned(),
            json!({"name": big_string(4 * over)}),
        ),
    ];
    for (method, path, body) in requests {
        let bytes = serde_json::to_vec(&body).expect("serialize");
        assert!(bytes.len() > feather_http::MAX_BODY_BYTES);
        app.as_owner()
            .send_raw(method, &path, "application/json", bytes)
            .await
            .expect_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn body_just_under_one_mib_is_read_and_validated() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    let envelope = serde_json::to_vec(&json!({"nickname": ""}))
        .expect("serialize")
        .len();
    let body = json!({"nickname": big_string(feather_http::MAX_BODY_BYTES - envelope)});
    assert_eq!(
        serde_json::to_vec(&body).expect("serialize").len(),
        feather_http::MAX_BODY_BYTES
    );
    app.patch_json(&seeded.url(), body)
        .await
        .expect_validation_error(&[&["body", "nickname"]]);
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn body_that_is_not_json_is_400_and_changes_nothing() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    let bodies: [&[u8]; 7] = [
        b"",
        b"nickname=Globex",
        b"{\"nickname\": \"Globex\"",
        b"{nickname: 'Globex'}",
        b"{\"nickname\": \"Globex\"} trailing",
        b"\xff\xfe{}",
        b"{\"is_enabled\": tru}",
    ];
    for (method, path) in [
        (Method::PATCH, seeded.url()),
        (Method::PATCH, seeded.tools_url()),
        (Method::PATCH, seeded.tool_url("send_message")),
        (Method::POST, API_KEYS.to_owned()),
    ] {
        for body in bodies {
            for content_type in ["application/json", "text/plain"] {
                let response = app
                    .as_owner()
                    .send_raw(method.clone(), &path, content_type, body)
                    .await;
                assert_eq!(
                    response.status,
                    StatusCode::BAD_REQUEST,
                    "{method} {path} {content_type} {:?}",
                    String::from_utf8_lossy(body)
                );
                response.expect_error(StatusCode::BAD_REQUEST, "bad_request");
            }
        }
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = TestApp::new().await;
    for response in [
        app.get(LISTING).await,
        app.anonymous().get(LISTING).await,
        app.get("/nope").await,
        app.anonymous().get("/healthz").await,
    ] {
        let id = response
            .header("x-request-id")
            .expect("an x-request-id header");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }
}

/// Requests built to break things. Each must get a 2xx or 4xx answer, never a 5xx.
fn hostile_requests(seeded: &Seeded) -> Vec<(Method, String, Option<Vec<u8>>)> {
    let tool = seeded.tool_url("send_message");
    let json = |value: Value| Some(serde_json::to_vec(&value).expect("serialize"));
    let deep_array = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_value = (0..200).fold(json!("x"), |inner, _| json!([inner]));
    vec![
        (
            Method::PATCH,
            seeded.url(),
            json(json!({"nickname": "nul\u{0}byte"})),
        ),
        (
            Method::PATCH,
            seeded.url(),
            json(json!({"nickname": "🚀".repeat(10_000)})),
        ),
        (
            Method::PATCH,
            seeded.url(),
            json(json!({"nickname": "a\u{202e}b\u{feff}c"})),
        ),
        (
            Method::PATCH,
            seeded.url(),
            Some(deep_array.clone().into_bytes()),
        ),
        (
            Method::PATCH,
            seeded.url(),
            Some(b"{\"nickname\": 1e400}".to_vec()),
        ),
        (
            Method::PATCH,
            seeded.url(),
            Some(b"{\"nickname\": \"\\ud800\"}".to_vec()),
        ),
        (
            Method::PATCH,
            seeded.url(),
            Some(b"{\"nickname\": \"a\", \"nickname\": \"b\"}".to_vec()),
        ),
        (
            Method::PATCH,
            tool.clone(),
            json(json!({"input_defaults": {"": {"value": 1}}})),
        ),
        (
            Method::PATCH,
            tool.clone(),
            json(json!({"input_defaults": {"\u{0}": {"value": 1}}})),
        ),
        (
            Method::PATCH,
            tool.clone(),
            json(json!({"input_defaults": {"text": {"value": "nul\u{0}"}}})),
        ),
        (
            Method::PATCH,
            tool.clone(),
            json(json!({"input_defaults": {"text": {"value": deep_value}}})),
        ),
        (
            Method::PATCH,
            tool.clone(),
            json(
                json!({"input_defaults": {"retries": {"value": 123456789012345678901234567890_f64}}}),
            ),
        ),
        (
            Method::PATCH,
            tool.clone(),
            Some(
                b"{\"input_defaults\": {\"retries\": {\"value\": 123456789012345678901234567890}}}"
                    .to_vec(),
            ),
        ),
        (
            Method::PATCH,
            tool.clone(),
            json(
                json!({"response_field_map": {"field_mappings": [{"path": "a.".repeat(50_000)}]}}),
            ),
        ),
        (
            Method::PATCH,
            tool.clone(),
            json(
                json!({"response_field_map": {"field_mappings": [{"path": "...."}, {"path": "\u{0}"}]}}),
            ),
        ),
        (Method::PATCH, tool.clone(), Some(deep_array.into_bytes())),
        (
            Method::POST,
            API_KEYS.to_owned(),
            json(json!({"name": "k\u{0}", "scopes": ["\u{0}"]})),
        ),
        (
            Method::POST,
            API_KEYS.to_owned(),
            json(json!({"name": "k", "expires_at": "+275760-09-13T00:00:00Z"})),
        ),
        (
            Method::POST,
            API_KEYS.to_owned(),
            json(json!({"name": "k", "expires_at": "9999-12-31T23:59:59.999999999Z"})),
        ),
        (Method::GET, format!("{LISTING}/%00"), None),
        (Method::GET, format!("{LISTING}/%FF%FE"), None),
        (
            Method::GET,
            format!("{LISTING}/{}", "9".repeat(5_000)),
            None,
        ),
        (Method::GET, format!("{LISTING}/..%2F..%2Fapi-keys"), None),
        (Method::GET, format!("{LISTING}/{}/", seeded.id), None),
        (
            Method::GET,
            format!("{LISTING}/{}", seeded.id.simple()),
            None,
        ),
        (
            Method::GET,
            format!("{LISTING}/{}", seeded.id.to_string().to_uppercase()),
            None,
        ),
        (Method::GET, format!("{LISTING}/{{{}}}", seeded.id), None),
        (Method::DELETE, format!("{API_KEYS}/%20"), None),
        (Method::GET, format!("{LISTING}?limit=-1&cursor=%00"), None),
    ]
}

/// Sends every hostile request, with a valid key and with odd credentials, and asserts no
/// 5xx came back.
async fn assert_no_hostile_request_yields_a_5xx(app: &TestApp) {
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let mut failures = Vec::new();
    for (method, path, body) in hostile_requests(&seeded) {
        let response = match body {
            Some(bytes) => {
                app.as_owner()
                    .send_raw(method.clone(), &path, "application/json", bytes)
                    .await
            }
            None => app.as_owner().send(method.clone(), &path, None).await,
        };
        if response.status.is_server_error() {
            failures.push(format!(
                "{method} {} -> {}: {}",
                path.chars().take(120).collect::<String>(),
                response.status,
                String::from_utf8_lossy(&response.body)
            ));
        }
    }
    for auth in [
        Auth::ApiKey("x".repeat(8_000)),
        Auth::ApiKey(format!("fth_{}", "é".repeat(20))),
        Auth::Header("authorization", "Bearer  ".to_owned()),
        Auth::Header("authorization", format!("Bearer {}", "z".repeat(8_000))),
    ] {
        let response = app.with(auth.clone()).get(LISTING).await;
        if response.status != StatusCode::UNAUTHORIZED {
            failures.push(format!(
                "GET {LISTING} with {auth:?} -> {}",
                response.status
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "requests answered with a 5xx:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn no_input_yields_a_5xx() {
    let app = TestApp::new().await;
    assert_no_hostile_request_yields_a_5xx(&app).await;
}

/// The same requests on PostgreSQL, which refuses some text SQLite stores (a NUL byte).
/// Runs when `FEATHER_TEST_DATABASE_URL` names a server, as in CI.
#[feather_test_gates::postgres]
#[tokio::test]
async fn no_input_yields_a_5xx_on_postgres() {
    let database = feather_store::testing::TestDatabase::postgres().await;
    let app = TestApp::over(database).await;
    assert_no_hostile_request_yields_a_5xx(&app).await;
}

#[tokio::test]
async fn tools_with_unusable_schemas_never_yield_a_5xx() {
    let app = TestApp::new().await;
    let tools = vec![
        catalog::tool(
            "broken_schema",
            json!({"type": 5, "properties": {"a": {"type": "string"}}}),
        ),
        catalog::tool(
            "remote_ref",
            json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/schema.json"}}}),
        ),
        catalog::tool(
            "dangling_ref",
            json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}),
        ),
        catalog::tool_with_output(
            "cyclic",
            json!({
                "type": "object",
                "properties": {"node": {"$ref": "#/$defs/node"}},
                "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}}
            }),
            json!({"$ref": "#", "properties": {"self": {"$ref": "#"}}}),
        ),
        catalog::tool("boolean_schema", json!(true)),
        catalog::tool("not_an_object_schema", json!({"type": "string"})),
        catalog::tool(
            "bad_pattern",
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(unclosed"}}}),
        ),
    ];
    let seeded = app.seed_connection_unchecked("Odd", tools).await;
    assert_eq!(seeded.tools.len(), 7);
    for tool_path in seeded.tools.keys() {
        for body in [
            json!({"input_defaults": {"a": {"value": "x"}}}),
            json!({"input_defaults": {"node": {"value": {"next": {"next": {}}}}}}),
            json!({"input_defaults": {}}),
            json!({"response_field_map": {"field_mappings": [{"path": "self.self.self.x"}]}}),
            json!({"is_enabled": false}),
        ] {
            let response = app
                .patch_json(&seeded.tool_url(tool_path), body.clone())
                .await;
            assert!(
                response.status == StatusCode::OK
                    || response.status == StatusCode::UNPROCESSABLE_ENTITY,
                "{tool_path} {body}: {} {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            );
        }
    }
    app.listing().await;
    app.connection(&seeded).await;
}

#[tokio::test]
async fn a_requests_log_lines_name_its_request_id_and_organization() {
    let logs = crate::support::CapturedLogs::start();
    let app = TestApp::new().await;
    let response = app.get(LISTING).await;
    response.expect(StatusCode::OK);
    let request_id = response
        .header("x-request-id")
        .expect("a request id")
        .to_owned();
    let logged = logs.text();
    // The response's line, written after the key was checked.
    let line = logged
        .lines()
        .rfind(|line| line.contains(&request_id))
        .unwrap_or_else(|| panic!("no line names request {request_id}:\n{logged}"));
    assert!(
        line.contains(&format!("organization_id={}", app.owner.id)),
        "{line}"
    );
}
