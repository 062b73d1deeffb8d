//! Invoking a custom MCP connection's tools: `POST …/{connection_id}/test-mcp-call` and
//! `POST …/{connection_id}/test-invoke` against the real demo MCP server (DESIGN.md §3
//! Invocation): operator defaults and pins, input validation, unavailable tools, upstream
//! failures, `last_used_at`, the invocation record, and field-map narrowing.

use axum::http::StatusCode;
use chrono::TimeDelta;
use feather_demo_mcp::DemoServer;
use feather_domain::invocation::InvocationMode;
use feather_service::ManualClock;
use serde_json::{Value, json};

use crate::support::{
    FakeMcp, Seeded, TestApp, Upstream, catalog, keys, mcp_connection, set, short_mcp_limits,
    start_demo, timestamp,
};

/// A test app with the demo server connected as "Demo" and synced.
async fn demo_app() -> (TestApp, DemoServer, Seeded) {
    let app = TestApp::new().await;
    let demo = start_demo().await;
    let connection = app.connect_demo(&demo).await;
    (app, demo, connection)
}

/// The customers a `search_customers` call answered with.
#[track_caller]
fn customers(call: &Value) -> Vec<Value> {
    call["result"]["structuredContent"]["customers"]
        .as_array()
        .unwrap_or_else(|| panic!("no customers in {call:#}"))
        .clone()
}

/// Asserts a `400 tool_unavailable` whose message says `why`, and that nothing was invoked.
async fn assert_unavailable(app: &TestApp, connection: &Seeded, slug: &str, why: &str) {
    let body = app
        .post_json(
            &connection.test_mcp_call_url(),
            json!({"slug": slug, "input": {"query": "ada"}}),
        )
        .await
        .expect_error(StatusCode::BAD_REQUEST, "tool_unavailable");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "expected {why:?} in {message:?}");
    assert!(
        app.invocations(connection).await.is_empty(),
        "an unavailable tool was called"
    );
}

#[tokio::test]
async fn test_mcp_call_returns_the_tools_result_with_its_structured_content() {
    let (app, demo, connection) = demo_app().await;
    let response = app
        .call_tool(&connection, "search_customers", json!({"query": "ada"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(keys(&response), set(&["result"]));
    let result = &response["result"];
    assert_ne!(result["isError"], true, "{result:#}");
    assert_eq!(
        result["structuredContent"],
        json!({
            "customers": [{"id": "cus_1001", "name": "Ada Lovelace", "email": "ada@analytical.example", "plan": "pro"}],
            "total_matches": 1
        })
    );
    assert_eq!(result["content"][0]["type"], "text");
    demo.shutdown().await;
}

#[tokio::test]
async fn a_pinned_value_wins_over_whatever_the_caller_sends() {
    let (app, demo, connection) = demo_app().await;
    app.configure_tool(
        &connection,
        "search_customers",
        json!({"input_defaults": {"limit": {"value": 3, "type": "pinned"}}}),
    )
    .await;
    for input in [
        json!({"query": "", "limit": 50}),
        json!({"query": ""}),
        // Even a value that would not validate: the pin replaces it before validation.
        json!({"query": "", "limit": "all of them"}),
    ] {
        let call = app
            .call_tool(&connection, "search_customers", input.clone())
            .await
            .expect(StatusCode::OK);
        assert_eq!(customers(&call).len(), 3, "{input}");
        assert_eq!(call["result"]["structuredContent"]["total_matches"], 8);
    }
    demo.shutdown().await;
}

#[tokio::test]
async fn a_default_fills_in_what_the_caller_leaves_out_and_the_caller_can_override_it() {
    let (app, demo, connection) = demo_app().await;
    app.configure_tool(
        &connection,
        "search_customers",
        json!({"input_defaults": {"limit": {"value": 2}, "plan": {"value": "enterprise", "type": "default"}}}),
    )
    .await;
    let defaulted = app
        .call_tool(&connection, "search_customers", json!({"query": ""}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        customers(&defaulted)
            .iter()
            .map(|customer| customer["id"].clone())
            .collect::<Vec<_>>(),
        [json!("cus_1002"), json!("cus_1006")],
        "limit 2 and plan enterprise by default"
    );
    let overridden = app
        .call_tool(
            &connection,
            "search_customers",
            json!({"query": "", "limit": 5, "plan": null}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        customers(&overridden).len(),
        5,
        "the caller's limit and plan (none) win"
    );
    demo.shutdown().await;
}

#[tokio::test]
async fn invalid_input_is_422_naming_the_fields_and_nothing_is_called() {
    let (app, demo, connection) = demo_app().await;
    app.call_tool(&connection, "get_order", json!({"order_id": 5}))
        .await
        .expect_validation_error(&[&["body", "input", "order_id"]]);
    app.call_tool(
        &connection,
        "search_customers",
        json!({"query": "ada", "limit": 0, "plan": "platinum"}),
    )
    .await
    .expect_validation_error(&[&["body", "input", "limit"], &["body", "input", "plan"]]);
    let missing = app
        .call_tool(&connection, "search_customers", json!({}))
        .await
        .expect_validation_error(&[&["body", "input"]]);
    let message = missing[0]["msg"].as_str().unwrap_or_default();
    assert!(
        message.contains("query"),
        "the missing field is named: {message}"
    );
    assert!(app.invocations(&connection).await.is_empty());
    assert_eq!(
        app.connection(&connection).await["last_used_at"],
        Value::Null
    );
    demo.shutdown().await;
}

#[tokio::test]
async fn a_disabled_tool_is_400_tool_unavailable() {
    let (app, demo, connection) = demo_app().await;
    app.configure_tool(
        &connection,
        "search_customers",
        json!({"is_enabled": false}),
    )
    .await;
    assert_unavailable(
        &app,
        &connection,
        &connection.slug("search_customers"),
        "disabled",
    )
    .await;
    demo.shutdown().await;
}

#[tokio::test]
async fn a_tool_that_vanished_upstream_is_400_tool_unavailable() {
    let (app, demo, connection) = demo_app().await;
    // The server's catalog no longer has the demo tools.
    app.resync(&connection, vec![catalog::list_channels()])
        .await;
    assert_unavailable(
        &app,
        &connection,
        &connection.slug("search_customers"),
        "no longer",
    )
    .await;
    demo.shutdown().await;
}

#[tokio::test]
async fn a_pin_the_server_retyped_its_field_under_is_400_tool_unavailable_naming_it() {
    let (app, demo, connection) = demo_app().await;
    app.configure_tool(
        &connection,
        "search_customers",
        json!({"input_defaults": {"limit": {"value": 3, "type": "pinned"}}}),
    )
    .await;
    let retyped = json!({
        "type": "object",
        "properties": {"query": {"type": "string"}, "limit": {"type": "string"}}
    });
    app.resync(
        &connection,
        vec![catalog::tool("search_customers", retyped)],
    )
    .await;
    assert_unavailable(
        &app,
        &connection,
        &connection.slug("search_customers"),
        "pinned value of `limit` no longer fits",
    )
    .await;
    demo.shutdown().await;
}

#[tokio::test]
async fn an_unknown_slug_is_400_tool_unavailable_even_when_another_connection_has_it() {
    let (app, demo, connection) = demo_app().await;
    let other = app
        .connect_mcp(mcp_connection(&demo.streamable_url(), "streamable_http"))
        .await;
    let (_, other) = app.sync_now(&other).await;
    assert_ne!(
        other.slug("search_customers"),
        connection.slug("search_customers")
    );

    assert_unavailable(&app, &connection, "demo_no_such_tool", "no tool").await;
    assert_unavailable(
        &app,
        &connection,
        &other.slug("search_customers"),
        "no tool",
    )
    .await;
    assert_unavailable(&app, &connection, "search_customers", "no tool").await;
    demo.shutdown().await;
}

#[tokio::test]
async fn a_connection_whose_credentials_were_rejected_cannot_invoke_tools() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(Upstream::Lists(json!([
        {"name": "search_customers", "inputSchema": {"type": "object"}}
    ])))
    .await;
    let connection = app
        .connect_mcp(mcp_connection(server.url(), "streamable_http"))
        .await;
    app.sync_now(&connection).await;
    server.answer(Upstream::Status(401));
    app.sync_now(&connection).await;
    assert_unavailable(
        &app,
        &connection,
        &connection.slug("search_customers"),
        "error",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn an_upstream_that_is_down_is_502_upstream_error() {
    let (app, demo, connection) = demo_app().await;
    demo.shutdown().await;
    app.call_tool(&connection, "search_customers", json!({"query": "ada"}))
        .await
        .expect_error(StatusCode::BAD_GATEWAY, "upstream_error");
    let invocations = app.invocations(&connection).await;
    assert_eq!(invocations.len(), 1);
    assert_eq!(invocations[0].outcome, "upstream_error");
    assert!(invocations[0].error.is_some());
}

#[tokio::test]
async fn each_invocation_records_the_test_surface_that_made_it() {
    let (app, demo, connection) = demo_app().await;
    app.call_tool(&connection, "search_customers", json!({"query": "ada"}))
        .await
        .expect(StatusCode::OK);
    app.test_invoke(
        &connection,
        "search_customers",
        json!({"query": "ada"}),
        None,
    )
    .await
    .expect(StatusCode::OK);
    let mut modes: Vec<InvocationMode> = app
        .invocations(&connection)
        .await
        .iter()
        .map(|invocation| invocation.mode)
        .collect();
    // Newest first.
    modes.reverse();
    assert_eq!(
        modes,
        [InvocationMode::TestMcpCall, InvocationMode::TestInvoke]
    );
    demo.shutdown().await;
}

#[tokio::test]
async fn a_tool_call_that_times_out_is_502_upstream_error_recorded_as_a_timeout() {
    let app = TestApp::build()
        .mcp_limits(short_mcp_limits())
        .start()
        .await;
    let server = FakeMcp::start(Upstream::HangsOnCall(json!([
        {"name": "slow", "inputSchema": {"type": "object"}}
    ])))
    .await;
    let connection = app
        .connect_mcp(mcp_connection(server.url(), "streamable_http"))
        .await;
    app.sync_now(&connection).await;
    let body = app
        .call_tool(&connection, "slow", json!({}))
        .await
        .expect_error(StatusCode::BAD_GATEWAY, "upstream_error");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("did not answer in time"), "{message}");
    let invocations = app.invocations(&connection).await;
    assert_eq!(invocations.len(), 1);
    assert_eq!(invocations[0].outcome, "timeout");
    server.stop().await;
}

#[tokio::test]
async fn a_call_sets_the_connections_last_used_at() {
    let (app, demo, connection) = demo_app().await;
    assert_eq!(
        app.connection(&connection).await["last_used_at"],
        Value::Null
    );
    let before = feather_store::now();
    app.call_tool(&connection, "search_customers", json!({"query": "ada"}))
        .await
        .expect(StatusCode::OK);
    let used = app.connection(&connection).await;
    let last_used_at = timestamp(&used["last_used_at"]);
    assert!(last_used_at >= before, "{last_used_at} < {before}");
    assert!(last_used_at <= feather_store::now());
    demo.shutdown().await;
}

/// Calls within a minute of the last recorded use only record themselves: the listing
/// (and so every replica's cached copy of it) stays as it was.
#[tokio::test]
async fn a_connection_in_use_moves_the_listing_at_most_once_a_minute() {
    let app = TestApp::build()
        .clock(ManualClock::starting_now())
        .start()
        .await;
    let demo = start_demo().await;
    let connection = app.connect_demo(&demo).await;
    let search = || app.call_tool(&connection, "search_customers", json!({"query": "ada"}));
    search().await.expect(StatusCode::OK);
    let after_first = app.get(crate::support::LISTING).await;
    let etag = after_first.header("etag").expect("an ETag").to_owned();
    let first_use = app.connection(&connection).await["last_used_at"].clone();
    assert_ne!(
        first_use,
        Value::Null,
        "the first call marks the connection used"
    );
    for _ in 0..3 {
        app.clock().advance(TimeDelta::seconds(19));
        search().await.expect(StatusCode::OK);
    }
    let after_more = app.get(crate::support::LISTING).await;
    assert_eq!(after_more.header("etag"), Some(etag.as_str()));
    assert_eq!(app.connection(&connection).await["last_used_at"], first_use);
    assert_eq!(
        app.invocations(&connection).await.len(),
        4,
        "every call is recorded"
    );

    // A minute after the recorded use, the next call records it again.
    app.clock().advance(TimeDelta::seconds(3));
    search().await.expect(StatusCode::OK);
    let a_minute_later = app.get(crate::support::LISTING).await;
    assert_ne!(a_minute_later.header("etag"), Some(etag.as_str()));
    assert_ne!(app.connection(&connection).await["last_used_at"], first_use);
    demo.shutdown().await;
}

#[tokio::test]
async fn each_invocation_is_recorded_with_its_tool_duration_and_outcome() {
    let (app, demo, connection) = demo_app().await;
    app.call_tool(&connection, "search_customers", json!({"query": "ada"}))
        .await
        .expect(StatusCode::OK);
    // The tool's own failure is still a 200: the result carries `isError`.
    let refused = app
        .call_tool(
            &connection,
            "refund_order",
            json!({"order_id": "ORD-9999", "reason": "damaged"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(refused["result"]["isError"], true, "{refused:#}");
    demo.shutdown().await;
    app.call_tool(&connection, "get_order", json!({"order_id": "ORD-1001"}))
        .await
        .expect_error(StatusCode::BAD_GATEWAY, "upstream_error");

    let invocations = app.invocations(&connection).await;
    let recorded: Vec<(&str, &str, bool)> = invocations
        .iter()
        .map(|invocation| {
            (
                invocation.tool_path.as_str(),
                invocation.outcome.as_str(),
                invocation.error.is_some(),
            )
        })
        .collect();
    assert_eq!(
        recorded,
        [
            ("get_order", "upstream_error", true),
            ("refund_order", "tool_error", false),
            ("search_customers", "ok", false),
        ],
        "newest first"
    );
    for invocation in &invocations {
        assert_eq!(invocation.organization_id, app.owner.id);
        assert_eq!(invocation.connection_id, connection.id);
        assert_eq!(
            invocation.tool_id,
            connection.tool_id(&invocation.tool_path)
        );
        assert!(invocation.duration_ms >= 0);
    }
}

#[tokio::test]
async fn test_invoke_narrows_the_result_with_the_field_map_in_the_request() {
    let (app, demo, connection) = demo_app().await;
    let map = json!({"field_mappings": [
        {"path": "total_matches", "alias": "count"},
        {"path": "customers.0.name", "alias": "first"},
        {"path": "customers.1.email"},
        {"path": "no.such.path", "alias": "missing"}
    ]});
    let response = app
        .test_invoke(
            &connection,
            "search_customers",
            json!({"query": ""}),
            Some(map),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        keys(&response),
        set(&["result", "narrowed", "unresolved_field_paths"])
    );
    assert_eq!(response["result"]["structuredContent"]["total_matches"], 8);
    assert_eq!(
        response["narrowed"],
        json!({"count": 8, "first": "Ada Lovelace", "customers.1.email": "grace@cobol.example"})
    );
    assert_eq!(
        response["unresolved_field_paths"],
        json!(["no.such.path"]),
        "the path that found nothing is named, not silently dropped"
    );
    assert_eq!(app.invocations(&connection).await.len(), 1);
    demo.shutdown().await;
}

#[tokio::test]
async fn test_invoke_narrows_with_the_tools_saved_map_unless_the_request_brings_one() {
    let (app, demo, connection) = demo_app().await;
    app.configure_tool(
        &connection,
        "get_order",
        json!({"response_field_map": {"field_mappings": [{"path": "order.status", "alias": "status"}]}}),
    )
    .await;
    let order = || json!({"order_id": "ORD-1002"});
    let saved = app
        .test_invoke(&connection, "get_order", order(), None)
        .await
        .expect(StatusCode::OK);
    assert_eq!(saved["narrowed"], json!({"status": "shipped"}));
    let explicit_null = app
        .test_invoke(&connection, "get_order", order(), Some(Value::Null))
        .await
        .expect(StatusCode::OK);
    assert_eq!(explicit_null["narrowed"], json!({"status": "shipped"}));
    let map = json!({"field_mappings": [{"path": "order.total_cents", "alias": "total"}]});
    let requested = app
        .test_invoke(&connection, "get_order", order(), Some(map))
        .await
        .expect(StatusCode::OK);
    assert_eq!(requested["narrowed"], json!({"total": 34_900}));
    demo.shutdown().await;
}

#[tokio::test]
async fn test_invoke_without_any_field_map_answers_narrowed_null() {
    let (app, demo, connection) = demo_app().await;
    let response = app
        .test_invoke(
            &connection,
            "get_order",
            json!({"order_id": "ORD-1001"}),
            None,
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        keys(&response),
        set(&["result", "narrowed", "unresolved_field_paths"])
    );
    assert_eq!(response["narrowed"], Value::Null);
    assert_eq!(response["unresolved_field_paths"], json!([]));
    assert_eq!(
        response["result"]["structuredContent"]["order"]["id"],
        "ORD-1001"
    );
    demo.shutdown().await;
}

#[tokio::test]
async fn test_mcp_call_never_narrows_even_with_a_saved_map() {
    let (app, demo, connection) = demo_app().await;
    app.configure_tool(
        &connection,
        "get_order",
        json!({"response_field_map": {"field_mappings": [{"path": "order.status"}]}}),
    )
    .await;
    let response = app
        .call_tool(&connection, "get_order", json!({"order_id": "ORD-1001"}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(keys(&response), set(&["result"]));
    assert_eq!(
        response["result"]["structuredContent"]["order"]["status"],
        "delivered"
    );
    demo.shutdown().await;
}

#[tokio::test]
async fn test_invoke_rejects_a_malformed_field_map_before_calling_anything() {
    let (app, demo, connection) = demo_app().await;
    let malformed = json!({"field_mappings": [{"alias": "no path"}]});
    app.test_invoke(
        &connection,
        "get_order",
        json!({"order_id": "ORD-1001"}),
        Some(malformed),
    )
    .await
    .expect_validation_error(&[&["body", "response_field_map", "field_mappings", "0", "path"]]);
    assert!(app.invocations(&connection).await.is_empty());
    demo.shutdown().await;
}

#[tokio::test]
async fn test_calls_reject_unknown_fields_and_a_missing_slug() {
    let (app, demo, connection) = demo_app().await;
    for url in [connection.test_mcp_call_url(), connection.test_invoke_url()] {
        app.post_json(&url, json!({"input": {}}))
            .await
            .expect_validation_error(&[&["body", "slug"]]);
        app.post_json(
            &url,
            json!({"slug": connection.slug("get_order"), "input": {}, "arguments": {}}),
        )
        .await
        .expect_validation_error(&[&["body", "arguments"]]);
    }
    app.post_json(
        &connection.test_mcp_call_url(),
        json!({"slug": connection.slug("get_order"), "response_field_map": null}),
    )
    .await
    .expect_validation_error(&[&["body", "response_field_map"]]);
    assert!(app.invocations(&connection).await.is_empty());
    demo.shutdown().await;
}
