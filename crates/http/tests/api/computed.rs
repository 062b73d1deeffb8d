//! The fields computed on every read, through the API: `default_count`, `pinned_count`,
//! `stale_input_fields`, `merged_input_preview`, `stale_field_paths`; and what a re-sync
//! does to operator configuration.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{Seeded, TestApp, catalog};

/// The owner's connection with the standard catalog, send_message configured with two
/// defaults and one pinned value.
async fn app_with_operator_config() -> (TestApp, Seeded) {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    app.patch_json(
        &seeded.tool_url("send_message"),
        json!({"input_defaults": {
            "channel": {"value": "#support"},
            "retries": {"value": 3, "type": "pinned"},
            "priority": {"value": "high"}
        }}),
    )
    .await
    .expect(StatusCode::OK);
    (app, seeded)
}

#[tokio::test]
async fn counts_follow_the_configured_types() {
    let (app, seeded) = app_with_operator_config().await;
    let tool = app.tool(&seeded, "send_message").await;
    assert_eq!(tool["default_count"], 2);
    assert_eq!(tool["pinned_count"], 1);
    let untouched = app.tool(&seeded, "get_user").await;
    assert_eq!(
        (
            untouched["default_count"].clone(),
            untouched["pinned_count"].clone()
        ),
        (json!(0), json!(0))
    );
}

#[tokio::test]
async fn merged_input_preview_injects_each_value_as_the_propertys_default() {
    let (app, seeded) = app_with_operator_config().await;
    let tool = app.tool(&seeded, "send_message").await;
    let mut expected = catalog::send_message_input();
    expected["properties"]["channel"]["default"] = json!("#support");
    expected["properties"]["retries"]["default"] = json!(3);
    expected["properties"]["priority"]["default"] = json!("high");
    assert_eq!(tool["merged_input_preview"], expected);
    assert_eq!(
        tool["input_schema"],
        catalog::send_message_input(),
        "the schema itself is untouched"
    );
}

#[tokio::test]
async fn merged_input_preview_of_a_ref_property_keeps_the_ref() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let tool = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({"input_defaults": {"recipient": {"value": {"id": "U1"}, "type": "pinned"}}}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        tool["merged_input_preview"]["properties"]["recipient"],
        json!({"$ref": "#/$defs/user", "default": {"id": "U1"}})
    );
}

#[tokio::test]
async fn stale_input_fields_lists_fields_renamed_or_retyped_by_a_resync() {
    let (app, seeded) = app_with_operator_config().await;
    let configured = app.tool(&seeded, "send_message").await;

    let mut changed = catalog::send_message();
    let properties = changed.input_schema["properties"]
        .as_object_mut()
        .expect("properties");
    // `channel` renamed to `channel_id`; `retries` retyped; `priority` unchanged.
    let channel = properties.remove("channel").expect("channel");
    properties.insert("channel_id".to_owned(), channel);
    properties.insert("retries".to_owned(), json!({"type": "boolean"}));
    changed.input_schema["required"] = json!(["channel_id", "text"]);
    app.resync(
        &seeded,
        vec![
            changed.clone(),
            catalog::get_user(),
            catalog::list_channels(),
        ],
    )
    .await;

    let tool = app.tool(&seeded, "send_message").await;
    assert_eq!(
        tool["input_schema"], changed.input_schema,
        "the sync owns the schema"
    );
    assert_eq!(
        tool["stale_input_fields"],
        json!(["channel", "retries"]),
        "sorted"
    );
    assert_eq!(
        tool["input_defaults"], configured["input_defaults"],
        "config is kept"
    );
    assert_eq!(tool["default_count"], 2, "stale entries still count");
    assert_eq!(tool["pinned_count"], 1);
    let mut expected = changed.input_schema.clone();
    expected["properties"]["priority"]["default"] = json!("high");
    assert_eq!(
        tool["merged_input_preview"], expected,
        "only fresh values are injected"
    );

    // Renaming back makes the configuration fresh again.
    app.resync(&seeded, catalog::standard()).await;
    let tool = app.tool(&seeded, "send_message").await;
    assert_eq!(tool["stale_input_fields"], json!([]));
    assert_eq!(
        tool["merged_input_preview"],
        configured["merged_input_preview"]
    );
}

#[tokio::test]
async fn a_value_outside_a_narrowed_enum_becomes_stale() {
    let (app, seeded) = app_with_operator_config().await;
    let mut narrowed = catalog::send_message();
    narrowed.input_schema["properties"]["priority"]["enum"] = json!(["low", "normal"]);
    app.resync(&seeded, vec![narrowed]).await;
    let tool = app.tool(&seeded, "send_message").await;
    assert_eq!(tool["stale_input_fields"], json!(["priority"]));
    assert!(
        tool["merged_input_preview"]["properties"]["priority"]
            .get("default")
            .is_none()
    );
}

#[tokio::test]
async fn stale_field_paths_lists_paths_that_do_not_resolve_in_map_order() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let paths = [
        "missing",
        "ok",
        "message.ts",
        "sender.email",
        "attachments.0.id",
        "attachments.name",
        "attachments.0.size",
        "sender.name",
        "permalink.url",
        "message.nope",
        "ok.deeper",
    ];
    let mappings: Vec<Value> = paths.iter().map(|path| json!({"path": path})).collect();
    let tool = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({"response_field_map": {"field_mappings": mappings}}),
        )
        .await
        .expect(StatusCode::OK);
    let expected = json!([
        "missing",
        "sender.email",
        "attachments.0.size",
        "message.nope",
        "ok.deeper"
    ]);
    assert_eq!(tool["stale_field_paths"], expected);
    assert_eq!(
        app.tool(&seeded, "send_message").await["stale_field_paths"],
        expected
    );
}

#[tokio::test]
async fn stale_field_paths_is_empty_when_there_is_no_response_schema() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let tool = app
        .patch_json(
            &seeded.tool_url("list_channels"),
            json!({"response_field_map": {"field_mappings": [{"path": "anything.at.all"}]}}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(tool["response_schema"], Value::Null);
    assert_eq!(tool["stale_field_paths"], json!([]));
}

#[tokio::test]
async fn stale_field_paths_follow_the_response_schema_of_a_resync() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    app.patch_json(
        &seeded.tool_url("send_message"),
        json!({"response_field_map": {"field_mappings": [
            {"path": "message.ts", "alias": "ts"},
            {"path": "ok"}
        ]}}),
    )
    .await
    .expect(StatusCode::OK);
    let mut changed = catalog::send_message();
    changed
        .output_schema
        .as_mut()
        .and_then(|schema| schema["properties"].as_object_mut())
        .expect("output properties")
        .remove("message");
    app.resync(&seeded, vec![changed]).await;
    let tool = app.tool(&seeded, "send_message").await;
    assert_eq!(tool["stale_field_paths"], json!(["message.ts"]));
    assert_eq!(
        tool["response_field_map"]["field_mappings"][0],
        json!({"path": "message.ts", "alias": "ts"}),
        "the map is operator-owned: a sync never rewrites it"
    );
}

#[tokio::test]
async fn resync_keeps_operator_config_vanished_tools_and_enables_new_ones() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    app.patch_json(&seeded.tool_url("get_user"), json!({"is_enabled": false}))
        .await
        .expect(StatusCode::OK);
    let list_before = app.tool(&seeded, "list_channels").await;

    let mut described = catalog::get_user();
    described.description = Some("Look a user up.".to_owned());
    described.title = Some("Find user".to_owned());
    let resynced = app
        .resync(
            &seeded,
            vec![
                described,
                catalog::tool("pin_message", json!({"type": "object"})),
            ],
        )
        .await;

    let connection = app.connection(&seeded).await;
    let tools = connection["tools"].as_array().expect("tools");
    let paths: Vec<&str> = tools
        .iter()
        .filter_map(|t| t["tool_path"].as_str())
        .collect();
    assert_eq!(
        paths,
        ["get_user", "list_channels", "pin_message", "send_message"]
    );

    let get_user = &tools[0];
    assert_eq!(get_user["is_enabled"], false, "operator-owned: kept");
    assert_eq!(
        get_user["description"], "Look a user up.",
        "sync-owned: overwritten"
    );
    assert_eq!(get_user["display_name"], "Find user");
    assert_eq!(
        get_user["id"],
        json!(seeded.tool_id("get_user")),
        "same tool, same id"
    );

    assert_eq!(tools[2]["is_enabled"], true, "a new tool starts enabled");
    assert_eq!(tools[2]["slug"], "acme_pin_message");
    assert_eq!(resynced.tools.len(), 4);

    // list_channels vanished upstream: kept as it was, last seen before this sync.
    let list_after = &tools[1];
    assert_eq!(list_after["last_seen_at"], list_before["last_seen_at"]);
    assert_ne!(list_after["last_seen_at"], connection["tools_synced_at"]);
    assert_eq!(get_user["last_seen_at"], connection["tools_synced_at"]);
}
