//! Text the stores cannot hold (the NUL character, which PostgreSQL refuses): from a
//! client it is a 422 naming each place and nothing changes; from an upstream catalog it
//! is a failed sync that says where, and no tool changes. Both stores behave alike. So is
//! a number that could not be kept exactly (an integer beyond 64 bits).

use axum::http::StatusCode;
use feather_service::SyncOutcome;
use feather_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::support::{FakeMcp, TestApp, Upstream, catalog, mcp_connection, with_fields};

const CUSTOM_MCP: &str = "/v1/integrations/connections/custom-mcp";

async fn clients_text_with_nul_is_a_422_and_changes_nothing(app: TestApp) {
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let connect = mcp_connection("http://127.0.0.1:9/mcp", "streamable_http");
    let cases: Vec<(&str, String, Value, Vec<Vec<&str>>)> = vec![
        (
            "a server URL",
            CUSTOM_MCP.to_owned(),
            with_fields(
                connect.clone(),
                json!({"server_url": "http://127.0.0.1:9/mcp\u{0}"}),
            ),
            vec![vec!["body", "server_url"]],
        ),
        (
            "a nickname and a header",
            CUSTOM_MCP.to_owned(),
            with_fields(
                connect.clone(),
                json!({"nickname": "Acme\u{0}", "headers": {"X-Tenant": "a\u{0}"}}),
            ),
            vec![
                vec!["body", "nickname"],
                vec!["body", "headers", "X-Tenant"],
            ],
        ),
        (
            "an input default deep in a value",
            seeded.tool_url("send_message"),
            json!({"input_defaults": {"text": {"value": "hi\u{0}", "mode": "default"}}}),
            vec![vec!["body", "input_defaults", "text", "value"]],
        ),
        (
            "a key name",
            "/v1/identity/api-keys".to_owned(),
            json!({"name": "ci\u{0}"}),
            vec![vec!["body", "name"]],
        ),
    ];
    let before = app.state().await;
    for (case, path, body, locations) in cases {
        let response = if path == seeded.tool_url("send_message") {
            app.patch_json(&path, body).await
        } else {
            app.post_json(&path, body).await
        };
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}: {}",
            response.text()
        );
        let locations: Vec<&[&str]> = locations.iter().map(Vec::as_slice).collect();
        let detail = response.expect_validation_error(&locations);
        assert!(
            detail[0]["msg"]
                .as_str()
                .unwrap_or_default()
                .contains("NUL"),
            "{case}: {detail:?}"
        );
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

async fn an_upstream_title_with_nul_fails_the_sync_and_changes_nothing(app: TestApp) {
    let listed = |title: &str| json!([{"name": "lookup", "title": title, "inputSchema": {"type": "object"}}]);
    let server = FakeMcp::start(Upstream::Lists(listed("Look up"))).await;
    let connection = app
        .connect_mcp(mcp_connection(server.url(), "streamable_http"))
        .await;
    let (outcome, synced) = app.sync_now(&connection).await;
    assert_eq!(outcome, SyncOutcome::Synced);

    server.answer(Upstream::Lists(listed("Look\u{0}up")));
    let (outcome, after) = app.sync_now(&connection).await;
    assert!(matches!(outcome, SyncOutcome::Permanent(_)), "{outcome:?}");
    assert_eq!(after.tools, synced.tools);
    let failed = app.connection(&connection).await;
    assert_eq!(failed["tools_status"], "failed");
    assert_eq!(failed["tools"][0]["display_name"], "Look up");
    let reason = failed["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("The title of tool \"lookup\" contains the NUL character"),
        "{reason}"
    );
    server.stop().await;
}

#[tokio::test]
async fn clients_text_with_nul_is_a_422_and_changes_nothing_on_sqlite() {
    clients_text_with_nul_is_a_422_and_changes_nothing(TestApp::new().await).await;
}

#[feather_test_gates::postgres]
#[tokio::test]
async fn clients_text_with_nul_is_a_422_and_changes_nothing_on_postgres() {
    let app = TestApp::over(TestDatabase::postgres().await).await;
    clients_text_with_nul_is_a_422_and_changes_nothing(app).await;
}

#[tokio::test]
async fn an_upstream_title_with_nul_fails_the_sync_and_changes_nothing_on_sqlite() {
    an_upstream_title_with_nul_fails_the_sync_and_changes_nothing(TestApp::new().await).await;
}

#[feather_test_gates::postgres]
#[tokio::test]
async fn an_upstream_title_with_nul_fails_the_sync_and_changes_nothing_on_postgres() {
    let app = TestApp::over(TestDatabase::postgres().await).await;
    an_upstream_title_with_nul_fails_the_sync_and_changes_nothing(app).await;
}

#[tokio::test]
async fn an_integer_beyond_64_bits_is_a_422_not_a_rounded_pin() {
    let app = TestApp::new().await;
    let tool = feather_service::UpstreamTool {
        name: "n".into(),
        title: None,
        description: None,
        input_schema: json!({"type": "object", "properties": {"big": {"type": "integer"}}}),
        output_schema: None,
        annotations: None,
    };
    let seeded = app.seed_connection("Acme", vec![tool]).await;
    let before = app.state().await;
    // Written as text: a serde_json value could not even hold the literal.
    let body = r#"{"input_defaults": {"big": {"value": 123456789012345678901234567890, "type": "pinned"}}}"#;
    let response = app
        .as_owner()
        .send_raw(
            axum::http::Method::PATCH,
            &seeded.tool_url("n"),
            "application/json",
            body,
        )
        .await;
    let detail = response.expect_validation_error(&[&["body", "input_defaults", "big", "value"]]);
    assert!(
        detail[0]["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("send it as a string"),
        "{detail:?}"
    );
    TestApp::assert_unchanged(&before, &app.state().await);
}
