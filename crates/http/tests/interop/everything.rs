//! `@modelcontextprotocol/server-everything` (the official TypeScript reference server)
//! through the API: connect, sync its catalog, configure a tool, call tools. Its
//! `tools/list` answers in one page; paging is exercised by the drift server.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::{InteropApp, timestamp, tool, tool_paths};
use crate::servers::{Interop, ServerProcess};

/// The tools this version always registers.
const ALWAYS: &[&str] = &[
    "echo",
    "get-annotated-message",
    "get-env",
    "get-resource-links",
    "get-resource-reference",
    "get-structured-content",
    "get-sum",
    "get-tiny-image",
    "gzip-file-as-resource",
    "simulate-research-query",
    "toggle-simulated-logging",
    "toggle-subscriber-updates",
    "trigger-long-running-operation",
];

/// The tools it registers only for clients with the capability they need (roots,
/// sampling, elicitation).
const CONDITIONAL: &[&str] = &[
    "get-roots-list",
    "trigger-elicitation-request",
    "trigger-elicitation-request-async",
    "trigger-sampling-request",
    "trigger-sampling-request-async",
    "trigger-url-elicitation",
];

#[feather_test_gates::interop]
#[tokio::test]
async fn everything_over_streamable_http() {
    let interop = Interop::find();
    let server = interop.everything("streamableHttp").await;
    let app = InteropApp::new().await;
    check_everything(&app, &server, "/mcp", "streamable_http", "Everything HTTP").await;
}

#[feather_test_gates::interop]
#[tokio::test]
async fn everything_over_legacy_sse() {
    let interop = Interop::find();
    let server = interop.everything("sse").await;
    let app = InteropApp::new().await;
    check_everything(&app, &server, "/sse", "sse", "Everything SSE").await;
}

/// `auto` speaks Streamable HTTP to a Streamable HTTP endpoint, and falls back to legacy
/// SSE on a legacy endpoint (which answers the `initialize` POST with 404).
#[feather_test_gates::interop]
#[tokio::test]
async fn everything_over_auto_transport_on_both_endpoints() {
    let interop = Interop::find();
    let streamable = interop.everything("streamableHttp").await;
    let legacy = interop.everything("sse").await;
    let app = InteropApp::new().await;
    check_everything(&app, &streamable, "/mcp", "auto", "Everything Auto HTTP").await;
    check_everything(&app, &legacy, "/sse", "auto", "Everything Auto SSE").await;
    let listing = app.get(crate::app::LISTING).await.expect(StatusCode::OK);
    assert_eq!(
        listing.as_array().map(Vec::len),
        Some(2),
        "both connections are listed: {listing:#}"
    );
}

/// Connects the server at `path` with `transport`, then checks the synced catalog, the
/// computed fields, calls (plain, with a default, with a pin, with invalid input) and
/// the connection's timestamps.
async fn check_everything(
    app: &InteropApp,
    server: &ServerProcess,
    path: &str,
    transport: &str,
    nickname: &str,
) {
    let url = server.url(path);
    let id = app.connect(nickname, &url, transport).await;
    let connection = app.synced(id, &Value::Null).await;
    let context = format!("{transport} at {url}; server log:\n{}", server.log_text());

    assert_eq!(connection["status"], "active", "{context}");
    assert_eq!(connection["integration_key"], "custom_mcp");
    assert_eq!(connection["vendor"], "mcp");
    assert_eq!(connection["metadata"]["server_url"], url.as_str());
    assert_eq!(connection["metadata"]["transport"], transport);
    assert_eq!(connection["metadata"]["auth_type"], "none");
    assert!(connection["connected_at"].is_string());
    assert!(
        connection["last_used_at"].is_null(),
        "nothing was called yet"
    );
    let synced_at = timestamp(&connection["tools_synced_at"]);

    // The whole catalog, ordered by tool_path.
    let paths = tool_paths(&connection);
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted, "tools are ordered by tool_path");
    let listed: BTreeSet<&str> = paths.iter().map(String::as_str).collect();
    let always: BTreeSet<&str> = ALWAYS.iter().copied().collect();
    let known: BTreeSet<&str> = ALWAYS.iter().chain(CONDITIONAL).copied().collect();
    assert!(
        listed.is_superset(&always),
        "missing tools: {:?} ({context})",
        always.difference(&listed).collect::<Vec<_>>()
    );
    assert!(
        listed.is_subset(&known),
        "unexpected tools: {:?}",
        listed.difference(&known).collect::<Vec<_>>()
    );

    let nickname_slug = connection["nickname_slug"].as_str().expect("a slug");
    for listed_tool in connection["tools"].as_array().expect("tools") {
        let tool_path = listed_tool["tool_path"].as_str().expect("a tool_path");
        assert_eq!(
            listed_tool["slug"],
            format!("{nickname_slug}_{}", tool_path.replace('-', "_")),
            "slug of {tool_path}"
        );
        assert_eq!(listed_tool["connection_id"], id.to_string());
        assert_eq!(
            listed_tool["input_schema"]["type"], "object",
            "{listed_tool:#}"
        );
        assert_eq!(listed_tool["is_enabled"], true, "new tools start enabled");
        assert_eq!(listed_tool["input_defaults"], Value::Null);
        assert_eq!(listed_tool["default_count"], 0);
        assert_eq!(listed_tool["pinned_count"], 0);
        assert_eq!(listed_tool["stale_input_fields"], json!([]));
        assert_eq!(
            listed_tool["merged_input_preview"], listed_tool["input_schema"],
            "nothing configured: the preview is the schema"
        );
        assert!(
            timestamp(&listed_tool["last_seen_at"]) >= synced_at,
            "{tool_path} was seen by the sync"
        );
    }

    // Titles, descriptions and schemas as the server gives them.
    let echo = tool(&connection, "echo");
    assert_eq!(echo["display_name"], "Echo Tool");
    assert_eq!(echo["description"], "Echoes back the input string");
    assert_eq!(
        echo["input_schema"]["properties"]["message"]["type"],
        "string"
    );
    assert_eq!(echo["input_schema"]["required"], json!(["message"]));
    assert_eq!(
        echo["response_schema"],
        Value::Null,
        "echo has no outputSchema"
    );
    let sum = tool(&connection, "get-sum");
    assert_eq!(sum["input_schema"]["properties"]["a"]["type"], "number");
    assert_eq!(sum["input_schema"]["properties"]["b"]["type"], "number");
    let weather = tool(&connection, "get-structured-content");
    assert_eq!(
        weather["input_schema"]["properties"]["location"]["enum"],
        json!(["New York", "Chicago", "Los Angeles"])
    );
    assert_eq!(
        weather["response_schema"]["properties"]["temperature"]["type"], "number",
        "the outputSchema is the response_schema"
    );

    // Calls through the service, to the real server.
    let slug = |tool_path: &str| format!("{nickname_slug}_{}", tool_path.replace('-', "_"));
    let echoed = call_ok(
        app,
        id,
        &slug("echo"),
        json!({"message": "hello from feather"}),
    )
    .await;
    assert_eq!(
        echoed["content"],
        json!([{"type": "text", "text": "Echo: hello from feather"}]),
        "{echoed:#}"
    );
    let summed = call_ok(app, id, &slug("get-sum"), json!({"a": 2, "b": 3.5})).await;
    assert_eq!(text(&summed), "The sum of 2 and 3.5 is 5.5.");
    let structured = call_ok(
        app,
        id,
        &slug("get-structured-content"),
        json!({"location": "Chicago"}),
    )
    .await;
    assert_eq!(
        structured["structuredContent"]["temperature"], 36,
        "{structured:#}"
    );
    // test-invoke narrows the structured content with a field map.
    let invoked = app
        .post(
            &format!("{}/{id}/test-invoke", crate::app::LISTING),
            json!({
                "slug": slug("get-structured-content"),
                "input": {"location": "New York"},
                "response_field_map": {"field_mappings": [
                    {"path": "temperature", "alias": "celsius"},
                    {"path": "conditions"},
                ]},
            }),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        invoked["narrowed"],
        json!({"celsius": 33, "conditions": "Cloudy"}),
        "{invoked:#}"
    );

    // Invalid input is refused before anything is sent.
    let refused = app
        .call(id, &slug("get-sum"), json!({"a": "two", "b": 3}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    let locs: Vec<&Value> = refused["detail"]
        .as_array()
        .expect("detail")
        .iter()
        .map(|problem| &problem["loc"])
        .collect();
    assert_eq!(locs, [&json!(["body", "input", "a"])], "{refused:#}");

    // Operator defaults and pins reach the real server.
    app.configure(
        id,
        echo,
        json!({"input_defaults": {"message": {"value": "default hello"}}}),
    )
    .await;
    let defaulted = call_ok(app, id, &slug("echo"), json!({})).await;
    assert_eq!(text(&defaulted), "Echo: default hello");
    let configured = app
        .configure(
            id,
            sum,
            json!({"input_defaults": {"b": {"value": 10, "type": "pinned"}}}),
        )
        .await;
    assert_eq!(configured["pinned_count"], 1);
    assert_eq!(
        configured["merged_input_preview"]["properties"]["b"]["default"],
        10
    );
    let pinned = call_ok(app, id, &slug("get-sum"), json!({"a": 1, "b": 2})).await;
    assert_eq!(text(&pinned), "The sum of 1 and 10 is 11.");

    // A tool that can only run as a task (rmcp cannot see `execution.taskSupport`, see
    // docs/decisions.md) answers with the server's own reason, as a tool error.
    let task_only = app
        .call(
            id,
            &slug("simulate-research-query"),
            json!({"topic": "tides"}),
        )
        .await
        .expect(StatusCode::OK)["result"]
        .clone();
    assert_eq!(task_only["isError"], true, "{task_only:#}");
    assert!(
        text(&task_only).contains("requires task augmentation"),
        "{task_only:#}"
    );

    // A disabled tool is not invocable.
    app.configure(id, echo, json!({"is_enabled": false})).await;
    app.call(id, &slug("echo"), json!({"message": "x"}))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "tool_unavailable");

    let after = app.connection(id).await;
    assert!(
        after["last_used_at"].is_string(),
        "calls set last_used_at: {after:#}"
    );
    assert_eq!(after["tools_synced_at"], connection["tools_synced_at"]);
}

async fn call_ok(app: &InteropApp, id: Uuid, slug: &str, input: Value) -> Value {
    let result = app.call(id, slug, input).await.expect(StatusCode::OK)["result"].clone();
    assert_ne!(result["isError"], true, "the tool failed: {result:#}");
    result
}

/// The text of the first content block.
#[track_caller]
fn text(result: &Value) -> &str {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text content in {result:#}"))
}
