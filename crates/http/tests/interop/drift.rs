//! Catalog drift end to end, against `interop/drift_server.py` (the official Python SDK):
//! v1 is connected, synced and configured; v2 (a renamed field, a retyped field, a
//! removed tool, an added tool) replaces it on the same address; a refresh shows the
//! drift in the listing, and the operator's defaults and pins are still enforced on
//! real calls. The server pages `tools/list` two tools at a time, so every sync also
//! follows `nextCursor`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::app::{InteropApp, LISTING, timestamp, tool, tool_paths};
use crate::servers::Interop;

/// Tools per `tools/list` page.
const PAGE_SIZE: usize = 2;

#[feather_test_gates::interop]
#[tokio::test]
async fn drift_over_streamable_http() {
    let interop = Interop::find();
    drift(&interop, "streamable-http", "/mcp", "streamable_http").await;
}

#[feather_test_gates::interop]
#[tokio::test]
async fn drift_over_legacy_sse() {
    let interop = Interop::find();
    drift(&interop, "sse", "/sse", "sse").await;
}

async fn drift(interop: &Interop, server_transport: &str, path: &str, transport: &str) {
    let app = InteropApp::new().await;

    // v1: connect and sync (three tools over two pages).
    let v1 = interop.drift("v1", server_transport, PAGE_SIZE, None).await;
    let port = v1.port();
    let id = app.connect("Accounts MCP", &v1.url(path), transport).await;
    let connection = app.synced(id, &Value::Null).await;
    assert_eq!(
        tool_paths(&connection),
        ["legacy_export", "lookup_account", "post_note"],
        "the whole paged catalog; server log:\n{}",
        v1.log_text()
    );
    assert_eq!(connection["nickname_slug"], "accounts_mcp");
    let lookup = tool(&connection, "lookup_account").clone();
    let export = tool(&connection, "legacy_export").clone();
    let note = tool(&connection, "post_note").clone();
    assert_eq!(
        lookup["input_schema"]["properties"]["include_closed"]["type"],
        "boolean"
    );
    assert_eq!(
        note["input_schema"]["properties"]["visibility"]["enum"],
        json!(["internal", "public"])
    );
    assert_eq!(
        note["response_schema"]["properties"]["visibility"]["type"], "string",
        "the SDK's outputSchema is the response_schema"
    );
    assert_eq!(
        lookup["display_name"], "Lookup Account",
        "humanized: no title"
    );

    // The operator's configuration, validated against the real schemas.
    let configured = app
        .configure(
            id,
            &lookup,
            json!({"input_defaults": {
                "region": {"value": "eu-west"},
                "include_closed": {"value": true, "type": "pinned"},
            }}),
        )
        .await;
    assert_eq!(configured["default_count"], 1);
    assert_eq!(configured["pinned_count"], 1);
    assert_eq!(configured["stale_input_fields"], json!([]));
    assert_eq!(
        configured["merged_input_preview"]["properties"]["region"]["default"],
        "eu-west"
    );
    app.configure(
        id,
        &export,
        json!({"input_defaults": {"account_id": {"value": "acct-export"}}}),
    )
    .await;
    let note_config = json!({
        "account_id": {"value": "acct-42", "type": "default"},
        "visibility": {"value": "internal", "type": "pinned"},
    });
    app.configure(id, &note, json!({"input_defaults": note_config}))
        .await;
    // A value outside the server's enum is refused.
    let tool_url = format!("{LISTING}/{id}/tools/{}", note["id"].as_str().expect("id"));
    let refused = app
        .patch(
            &tool_url,
            json!({"input_defaults": {"visibility": {"value": "secret", "type": "pinned"}}}),
        )
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.to_string().contains("visibility"),
        "the problem names the field: {refused:#}"
    );

    // Real calls: the default fills the omitted field, the pin overrides the caller.
    let posted = structured(
        &app,
        id,
        "accounts_mcp_post_note",
        json!({"note": "hello", "visibility": "public"}),
    )
    .await;
    assert_eq!(
        posted,
        json!({"account_id": "acct-42", "note": "hello", "visibility": "internal", "catalog": "v1"})
    );
    let looked_up = structured(
        &app,
        id,
        "accounts_mcp_lookup_account",
        json!({"account_id": "acct-7", "include_closed": false}),
    )
    .await;
    assert_eq!(
        looked_up,
        json!({"account_id": "acct-7", "region": "eu-west", "include_closed": "true", "catalog": "v1"})
    );
    let exported = structured(&app, id, "accounts_mcp_legacy_export", json!({})).await;
    assert_eq!(exported, json!({"account_id": "acct-export", "rows": 42}));

    // v2 replaces v1 at the same address; the operator refreshes the tools.
    v1.stop();
    let v2 = interop
        .drift("v2", server_transport, PAGE_SIZE, Some(port))
        .await;
    let before = app.connection(id).await["tools_synced_at"].clone();
    let refreshed = app
        .send(Method::POST, &format!("{LISTING}/{id}/refresh-tools"))
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(refreshed["id"], id.to_string());
    app.synced(id, &before).await;

    // The drift, as the listing shows it.
    let listing = app.get(LISTING).await.expect(StatusCode::OK);
    let connection = listing
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == id.to_string()))
        .unwrap_or_else(|| panic!("the connection is listed: {listing:#}"));
    let synced_at = timestamp(&connection["tools_synced_at"]);
    assert_eq!(
        tool_paths(connection),
        [
            "legacy_export",
            "lookup_account",
            "post_note",
            "summarize_account"
        ],
        "the removed tool is kept, the added one appears; server log:\n{}",
        v2.log_text()
    );

    let lookup_v2 = tool(connection, "lookup_account");
    assert_eq!(lookup_v2["id"], lookup["id"], "the same tool, re-synced");
    assert_eq!(
        lookup_v2["stale_input_fields"],
        json!(["include_closed", "region"]),
        "region was renamed, include_closed retyped: {lookup_v2:#}"
    );
    assert_eq!(
        lookup_v2["input_defaults"], configured["input_defaults"],
        "a sync never touches the operator's config"
    );
    let properties = &lookup_v2["input_schema"]["properties"];
    assert!(properties["region_code"].is_object() && properties["region"].is_null());
    assert_eq!(
        properties["include_closed"]["enum"],
        json!(["exclude", "include", "only"])
    );
    let preview = &lookup_v2["merged_input_preview"]["properties"];
    assert!(
        preview["include_closed"].get("default").is_none() && preview["region"].is_null(),
        "stale values are not injected into the preview: {preview:#}"
    );

    let export_v2 = tool(connection, "legacy_export");
    assert_eq!(
        export_v2["input_defaults"],
        json!({"account_id": {"value": "acct-export", "type": "default"}}),
        "the vanished tool keeps its config"
    );
    assert_eq!(export_v2["is_enabled"], true);
    assert!(
        timestamp(&export_v2["last_seen_at"]) < synced_at,
        "vanished: last seen before the last sync: {export_v2:#}"
    );

    let summarize = tool(connection, "summarize_account");
    assert_eq!(summarize["is_enabled"], true, "new tools start enabled");
    assert_eq!(
        summarize["display_name"], "Summarize Account",
        "the SDK's title"
    );
    assert_eq!(summarize["input_defaults"], Value::Null);
    assert_eq!(summarize["slug"], "accounts_mcp_summarize_account");
    assert!(timestamp(&summarize["last_seen_at"]) >= synced_at);

    let note_v2 = tool(connection, "post_note");
    assert_eq!(note_v2["stale_input_fields"], json!([]));
    assert_eq!(note_v2["input_defaults"], note_config);
    assert!(timestamp(&note_v2["last_seen_at"]) >= synced_at);

    // The vanished tool cannot be called; the unchanged one still enforces its pin.
    app.call(id, "accounts_mcp_legacy_export", json!({}))
        .await
        .expect_error(StatusCode::BAD_REQUEST, "tool_unavailable");
    let posted = structured(
        &app,
        id,
        "accounts_mcp_post_note",
        json!({"note": "after the drift", "visibility": "public"}),
    )
    .await;
    assert_eq!(
        posted,
        json!({"account_id": "acct-42", "note": "after the drift", "visibility": "internal", "catalog": "v2"})
    );
    let summary = structured(
        &app,
        id,
        "accounts_mcp_summarize_account",
        json!({"account_id": "acct-7"}),
    )
    .await;
    assert_eq!(summary["days"], 30, "{summary:#}");

    // The stale pin (a boolean where v2 wants one of three strings) blocks the call
    // instead of sending a wrong value upstream, naming the field.
    let blocked = app
        .call(
            id,
            "accounts_mcp_lookup_account",
            json!({"account_id": "acct-7", "region_code": "eu-west"}),
        )
        .await
        .expect_error(StatusCode::BAD_REQUEST, "tool_unavailable");
    let message = blocked["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("pinned value of `include_closed`"),
        "{blocked:#}"
    );

    // The operator moves the config onto the new fields: nothing is stale any more, and
    // the new pin is enforced.
    let fixed = app
        .configure(
            id,
            lookup_v2,
            json!({"input_defaults": {
                "region_code": {"value": "eu-west"},
                "include_closed": {"value": "include", "type": "pinned"},
            }}),
        )
        .await;
    assert_eq!(fixed["stale_input_fields"], json!([]));
    let looked_up = structured(
        &app,
        id,
        "accounts_mcp_lookup_account",
        json!({"account_id": "acct-7", "include_closed": "only"}),
    )
    .await;
    assert_eq!(
        looked_up,
        json!({"account_id": "acct-7", "region": "eu-west", "include_closed": "include", "catalog": "v2"})
    );

    // If the removed tool comes back, it comes back with its config.
    v2.stop();
    let _v1_again = interop
        .drift("v1", server_transport, PAGE_SIZE, Some(port))
        .await;
    let before = app.connection(id).await["tools_synced_at"].clone();
    app.send(Method::POST, &format!("{LISTING}/{id}/refresh-tools"))
        .await
        .expect(StatusCode::ACCEPTED);
    app.synced(id, &before).await;
    let exported = structured(&app, id, "accounts_mcp_legacy_export", json!({})).await;
    assert_eq!(exported, json!({"account_id": "acct-export", "rows": 42}));
}

/// Calls a tool through `test-mcp-call`; its `structuredContent`.
async fn structured(app: &InteropApp, id: Uuid, slug: &str, input: Value) -> Value {
    let result = app.call(id, slug, input).await.expect(StatusCode::OK)["result"].clone();
    assert_ne!(result["isError"], true, "the tool failed: {result:#}");
    result["structuredContent"].clone()
}
