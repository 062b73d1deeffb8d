//! The size limits of a catalog (DESIGN.md §3 Tool sync): a catalog past any of them is a
//! failed sync that names the limit, checked before anything is written, and the listing
//! of it stops at the page that passes it, so one server cannot grow the service's memory.

use feather_domain::catalog::{CATALOG_MAX_BYTES, DESCRIPTION_MAX_BYTES};
use feather_service::SyncOutcome;
use serde_json::{Value, json};

use crate::support::{FakeMcp, TestApp, Upstream};
use crate::sync::{listed, synced_connection, two_tools};

#[tokio::test]
async fn a_catalog_of_ten_thousand_tools_syncs_whole() {
    let app = TestApp::new().await;
    let tools: Vec<Value> = (0..10_000)
        .map(|index| listed(&format!("tool_{index:05}")))
        .collect();
    let server = FakeMcp::start(Upstream::Lists(Value::Array(tools))).await;
    let connection = synced_connection(&app, &server).await;
    assert_eq!(connection.tools.len(), 10_000);
    let listed_tools = app.connection(&connection).await["tools"]
        .as_array()
        .expect("tools")
        .len();
    assert_eq!(listed_tools, 10_000);
    server.stop().await;
}

#[tokio::test]
async fn a_catalog_over_the_tool_limit_fails_the_sync_clearly_and_changes_nothing() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(two_tools()).await;
    let connection = synced_connection(&app, &server).await;
    let limit = feather_vendors::McpLimits::default().max_tools;
    let too_many: Vec<Value> = (0..=limit)
        .map(|index| listed(&format!("tool_{index:05}")))
        .collect();
    server.answer(Upstream::Lists(Value::Array(too_many)));

    let (outcome, after) = app.sync_now(&connection).await;
    assert!(matches!(
        outcome,
        SyncOutcome::Permanent(_) | SyncOutcome::Retryable { .. }
    ));
    assert_eq!(after.tools, connection.tools);
    let failed = app.connection(&connection).await;
    assert_eq!(failed["tools_status"], "failed");
    let message = failed["metadata"]["tools_sync_error"]["message"]
        .as_str()
        .expect("a message");
    assert!(message.contains(&limit.to_string()), "{message}");
    server.stop().await;
}

#[tokio::test]
async fn a_catalog_larger_than_the_byte_limit_fails_the_sync_naming_it_and_changes_nothing() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(two_tools()).await;
    let connection = synced_connection(&app, &server).await;
    // Each tool is within every per-tool limit; together they pass the catalog's.
    let description = "d".repeat(DESCRIPTION_MAX_BYTES);
    let enormous: Vec<Value> = (0..=CATALOG_MAX_BYTES / DESCRIPTION_MAX_BYTES)
        .map(|index| {
            json!({
                "name": format!("tool_{index:03}"),
                "description": description,
                "inputSchema": {"type": "object"}
            })
        })
        .collect();
    server.answer(Upstream::Lists(Value::Array(enormous)));

    let (outcome, after) = app.sync_now(&connection).await;
    assert!(matches!(outcome, SyncOutcome::Permanent(_)), "{outcome:?}");
    assert_eq!(after.tools, connection.tools);
    let failed = app.connection(&connection).await;
    assert_eq!(failed["tools_status"], "failed");
    let reason = failed["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!(
            "larger than the limit of {CATALOG_MAX_BYTES} bytes"
        )),
        "{reason}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_description_past_its_limit_fails_the_sync_naming_the_tool() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(two_tools()).await;
    let connection = synced_connection(&app, &server).await;
    server.answer(Upstream::Lists(json!([{
        "name": "wordy",
        "description": "d".repeat(DESCRIPTION_MAX_BYTES + 1),
        "inputSchema": {"type": "object"}
    }])));

    let (outcome, after) = app.sync_now(&connection).await;
    assert!(matches!(outcome, SyncOutcome::Permanent(_)), "{outcome:?}");
    assert_eq!(after.tools, connection.tools);
    let reason = app.connection(&connection).await["status_reason"].clone();
    assert!(
        reason
            .as_str()
            .unwrap_or_default()
            .contains("The description of tool \"wordy\""),
        "{reason}"
    );
    server.stop().await;
}
