//! `PATCH /v1/integrations/connections/{connection_id}/tools` (enable or disable all) and
//! `PATCH /v1/integrations/connections/{connection_id}/tools/{tool_id}` (one tool's
//! operator configuration).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{LISTING, Seeded, TestApp, as_array, catalog, pluck, timestamp};

/// An owner's connection with the standard catalog.
async fn app_with_tools() -> (TestApp, Seeded) {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    (app, seeded)
}

fn enabled(tools: &[Value]) -> Vec<Value> {
    pluck(tools, "is_enabled")
}

#[tokio::test]
async fn bulk_disable_turns_off_every_tool_and_returns_them_by_tool_path() {
    let (app, seeded) = app_with_tools().await;
    let other = app.seed_connection("Other", catalog::standard()).await;
    let tools = as_array(
        app.patch_json(&seeded.tools_url(), json!({"is_enabled": false}))
            .await
            .expect(StatusCode::OK),
    );
    assert_eq!(
        pluck(&tools, "tool_path"),
        [
            json!("get_user"),
            json!("list_channels"),
            json!("send_message")
        ]
    );
    assert_eq!(enabled(&tools), vec![json!(false); 3]);
    let stored = app.connection(&seeded).await;
    assert_eq!(
        stored["tools"],
        Value::Array(tools),
        "the response is what is stored"
    );
    let untouched = app.connection(&other).await;
    assert_eq!(
        enabled(untouched["tools"].as_array().expect("tools")),
        vec![json!(true); 3]
    );
}

#[tokio::test]
async fn bulk_enable_turns_every_tool_back_on() {
    let (app, seeded) = app_with_tools().await;
    app.patch_json(&seeded.tool_url("get_user"), json!({"is_enabled": false}))
        .await
        .expect(StatusCode::OK);
    let tools = as_array(
        app.patch_json(&seeded.tools_url(), json!({"is_enabled": true}))
            .await
            .expect(StatusCode::OK),
    );
    assert_eq!(enabled(&tools), vec![json!(true); 3]);
}

#[tokio::test]
async fn bulk_toggle_keeps_the_rest_of_each_tools_configuration() {
    let (app, seeded) = app_with_tools().await;
    let configured = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({
                "input_defaults": {"channel": {"value": "#ops"}},
                "response_field_map": {"field_mappings": [{"path": "ok"}]}
            }),
        )
        .await
        .expect(StatusCode::OK);
    let tools = as_array(
        app.patch_json(&seeded.tools_url(), json!({"is_enabled": false}))
            .await
            .expect(StatusCode::OK),
    );
    let send = &tools[2];
    assert_eq!(send["input_defaults"], configured["input_defaults"]);
    assert_eq!(send["response_field_map"], configured["response_field_map"]);
    assert_eq!(
        send["merged_input_preview"],
        configured["merged_input_preview"]
    );
}

#[tokio::test]
async fn bulk_toggle_of_a_connection_without_tools_returns_an_empty_list() {
    let app = TestApp::new().await;
    let empty = app.seed_unsynced_connection("Empty").await;
    let tools = app
        .patch_json(&empty.tools_url(), json!({"is_enabled": false}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(tools, json!([]));
}

#[tokio::test]
async fn bulk_toggle_rejects_bad_bodies_and_changes_nothing() {
    let (app, seeded) = app_with_tools().await;
    let before = app.state().await;
    let cases: Vec<(Value, &[&[&str]])> = vec![
        (json!({"is_enabled": null}), &[&["body", "is_enabled"]]),
        (json!({"is_enabled": "false"}), &[&["body", "is_enabled"]]),
        (json!({"is_enabled": 0}), &[&["body", "is_enabled"]]),
        (
            json!({"is_enabled": false, "tool_ids": []}),
            &[&["body", "tool_ids"]],
        ),
        (json!([false]), &[&["body"]]),
    ];
    for (body, locs) in cases {
        let response = app.patch_json(&seeded.tools_url(), body.clone()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        response.expect_validation_error(locs);
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn bulk_toggle_without_is_enabled_is_422_naming_the_field() {
    let (app, seeded) = app_with_tools().await;
    let before = app.state().await;
    let detail = app
        .patch_json(&seeded.tools_url(), json!({}))
        .await
        .expect_validation_error(&[&["body", "is_enabled"]]);
    assert_eq!(detail[0]["type"], "missing");
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn bulk_toggle_of_another_orgs_connection_is_404_and_changes_nothing() {
    let (app, seeded) = app_with_tools().await;
    app.seed_connection_for(&app.stranger, "Theirs", catalog::standard())
        .await;
    let before = app.state().await;
    app.as_stranger()
        .patch_json(&seeded.tools_url(), json!({"is_enabled": false}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.patch_json(
        &format!("{LISTING}/{}/tools", uuid::Uuid::new_v4()),
        json!({"is_enabled": false}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.patch_json(
        &format!("{LISTING}/not-a-uuid/tools"),
        json!({"is_enabled": false}),
    )
    .await
    .expect_validation_error(&[&["path", "connection_id"]]);
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn patch_tool_disables_that_tool_only() {
    let (app, seeded) = app_with_tools().await;
    let before = app.tool(&seeded, "send_message").await;
    let patched = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({"is_enabled": false}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(patched["is_enabled"], false);
    assert!(timestamp(&patched["updated_at"]) >= timestamp(&before["updated_at"]));
    assert_eq!(app.tool(&seeded, "send_message").await, patched);
    let connection = app.connection(&seeded).await;
    assert_eq!(
        enabled(connection["tools"].as_array().expect("tools")),
        [json!(true), json!(true), json!(false)]
    );
    // And back on.
    let patched = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({"is_enabled": true}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(patched["is_enabled"], true);
}

#[tokio::test]
async fn patch_tool_sets_input_defaults_with_type_defaulting_to_default() {
    let (app, seeded) = app_with_tools().await;
    let patched = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({"input_defaults": {
                "channel": {"value": "#support"},
                "retries": {"value": 3, "type": "pinned"},
                "priority": {"value": "high", "type": "default"},
                "recipient": {"value": {"id": "U42", "email": "ops@example.com"}, "type": "pinned"}
            }}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        patched["input_defaults"],
        json!({
            "channel": {"value": "#support", "type": "default"},
            "retries": {"value": 3, "type": "pinned"},
            "priority": {"value": "high", "type": "default"},
            "recipient": {"value": {"id": "U42", "email": "ops@example.com"}, "type": "pinned"}
        })
    );
    assert_eq!(patched["default_count"], 2);
    assert_eq!(patched["pinned_count"], 2);
    assert_eq!(patched["stale_input_fields"], json!([]));
    assert_eq!(app.tool(&seeded, "send_message").await, patched);
}

#[tokio::test]
async fn patch_tool_sets_a_response_field_map_as_given() {
    let (app, seeded) = app_with_tools().await;
    let map = json!({
        "field_mappings": [
            {"path": "message.ts", "alias": "ts"},
            {"path": "ok", "alias": null},
            {"path": "attachments.0.id"}
        ],
        "version": 2
    });
    let patched = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({"response_field_map": map}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(patched["response_field_map"], map);
    assert_eq!(
        app.tool(&seeded, "send_message").await["response_field_map"],
        map
    );
}

#[tokio::test]
async fn patch_tool_leaves_omitted_fields_unchanged() {
    let (app, seeded) = app_with_tools().await;
    let url = seeded.tool_url("send_message");
    let configured = app
        .patch_json(
            &url,
            json!({
                "is_enabled": false,
                "input_defaults": {"channel": {"value": "#ops"}},
                "response_field_map": {"field_mappings": [{"path": "ok"}]}
            }),
        )
        .await
        .expect(StatusCode::OK);

    let only_enabled = app
        .patch_json(&url, json!({"is_enabled": true}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(only_enabled["input_defaults"], configured["input_defaults"]);
    assert_eq!(
        only_enabled["response_field_map"],
        configured["response_field_map"]
    );

    let only_defaults = app
        .patch_json(&url, json!({"input_defaults": {"text": {"value": "hi"}}}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(only_defaults["is_enabled"], true);
    assert_eq!(
        only_defaults["input_defaults"],
        json!({"text": {"value": "hi", "type": "default"}}),
        "a new map replaces the old one"
    );
    assert_eq!(
        only_defaults["response_field_map"],
        configured["response_field_map"]
    );

    let only_map = app
        .patch_json(&url, json!({"response_field_map": {"field_mappings": []}}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(only_map["input_defaults"], only_defaults["input_defaults"]);
    assert_eq!(only_map["is_enabled"], true);
}

#[tokio::test]
async fn patch_tool_with_an_empty_body_changes_nothing() {
    let (app, seeded) = app_with_tools().await;
    app.patch_json(
        &seeded.tool_url("send_message"),
        json!({"input_defaults": {"channel": {"value": "#ops"}}}),
    )
    .await
    .expect(StatusCode::OK);
    let before = app.state().await;
    let tool = app.tool(&seeded, "send_message").await;
    let response = app
        .patch_json(&seeded.tool_url("send_message"), json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(response, tool);
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn patch_tool_explicit_null_clears_input_defaults_and_field_map() {
    let (app, seeded) = app_with_tools().await;
    let url = seeded.tool_url("send_message");
    app.patch_json(
        &url,
        json!({
            "input_defaults": {"channel": {"value": "#ops", "type": "pinned"}},
            "response_field_map": {"field_mappings": [{"path": "nope"}]}
        }),
    )
    .await
    .expect(StatusCode::OK);

    let cleared = app
        .patch_json(&url, json!({"input_defaults": null}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(cleared["input_defaults"], Value::Null);
    assert_eq!(
        (
            cleared["default_count"].clone(),
            cleared["pinned_count"].clone()
        ),
        (json!(0), json!(0))
    );
    assert_eq!(cleared["merged_input_preview"], cleared["input_schema"]);
    assert_eq!(
        cleared["stale_field_paths"],
        json!(["nope"]),
        "the map is untouched"
    );

    let cleared = app
        .patch_json(&url, json!({"response_field_map": null}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(cleared["response_field_map"], Value::Null);
    assert_eq!(cleared["stale_field_paths"], json!([]));
    assert_eq!(app.tool(&seeded, "send_message").await, cleared);
}

#[tokio::test]
async fn patch_tool_null_is_enabled_leaves_it_unchanged() {
    let (app, seeded) = app_with_tools().await;
    let url = seeded.tool_url("send_message");
    app.patch_json(&url, json!({"is_enabled": false}))
        .await
        .expect(StatusCode::OK);
    let patched = app
        .patch_json(&url, json!({"is_enabled": null}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(patched["is_enabled"], false);
}

/// PATCHes `body` onto send_message, expects a 422 at exactly `locs`, and checks nothing
/// changed anywhere.
async fn assert_patch_rejected(app: &TestApp, seeded: &Seeded, body: Value, locs: &[&[&str]]) {
    let before = app.state().await;
    let response = app
        .patch_json(&seeded.tool_url("send_message"), body.clone())
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    response.expect_validation_error(locs);
    TestApp::assert_unchanged(&before, &app.state().await);
}

/// A tool that already carries operator configuration, so a rejected PATCH has something
/// to overwrite.
async fn app_with_configured_tool() -> (TestApp, Seeded) {
    let (app, seeded) = app_with_tools().await;
    app.patch_json(
        &seeded.tool_url("send_message"),
        json!({
            "input_defaults": {"channel": {"value": "#ops"}},
            "response_field_map": {"field_mappings": [{"path": "ok"}]}
        }),
    )
    .await
    .expect(StatusCode::OK);
    (app, seeded)
}

#[tokio::test]
async fn patch_tool_rejects_default_of_wrong_type() {
    let (app, seeded) = app_with_configured_tool().await;
    for (field, value) in [
        ("retries", json!("three")),
        ("retries", json!(1.5)),
        ("channel", json!(42)),
        ("channel", Value::Null),
        ("recipient", json!("U42")),
        ("text", json!(["hello"])),
    ] {
        assert_patch_rejected(
            &app,
            &seeded,
            json!({"input_defaults": {field: {"value": value}}}),
            &[&["body", "input_defaults", field, "value"]],
        )
        .await;
    }
}

#[tokio::test]
async fn patch_tool_rejects_default_outside_the_propertys_constraints() {
    let (app, seeded) = app_with_configured_tool().await;
    for (field, value) in [
        ("retries", json!(6)),
        ("retries", json!(-1)),
        ("priority", json!("urgent")),
        ("channel", json!("")),
        ("text", json!("x".repeat(4001))),
        ("notify_at", json!("next tuesday")),
        ("recipient", json!({"email": "ops@example.com"})),
        ("recipient", json!({"id": "U1", "email": "not an email"})),
        ("recipient", json!({"id": "U1", "team": "T1"})),
    ] {
        assert_patch_rejected(
            &app,
            &seeded,
            json!({"input_defaults": {field: {"value": value}}}),
            &[&["body", "input_defaults", field, "value"]],
        )
        .await;
    }
}

#[tokio::test]
async fn patch_tool_rejects_unknown_input_field() {
    let (app, seeded) = app_with_configured_tool().await;
    assert_patch_rejected(
        &app,
        &seeded,
        json!({"input_defaults": {"chanel": {"value": "#ops"}}}),
        &[&["body", "input_defaults", "chanel"]],
    )
    .await;
    // A key of $defs is not a property.
    assert_patch_rejected(
        &app,
        &seeded,
        json!({"input_defaults": {"user": {"value": {"id": "U1"}}}}),
        &[&["body", "input_defaults", "user"]],
    )
    .await;
}

#[tokio::test]
async fn patch_tool_rejects_bad_type_and_extra_keys_in_an_entry() {
    let (app, seeded) = app_with_configured_tool().await;
    const AT: [&str; 3] = ["body", "input_defaults", "channel"];
    let cases: Vec<(Value, Vec<Vec<&str>>)> = vec![
        (
            json!({"value": "#ops", "type": "forced"}),
            vec![[&AT[..], &["type"]].concat()],
        ),
        (
            json!({"value": "#ops", "type": "PINNED"}),
            vec![[&AT[..], &["type"]].concat()],
        ),
        (
            json!({"value": "#ops", "type": null}),
            vec![[&AT[..], &["type"]].concat()],
        ),
        (
            json!({"value": "#ops", "note": "why", "locked": true}),
            vec![
                [&AT[..], &["note"]].concat(),
                [&AT[..], &["locked"]].concat(),
            ],
        ),
        (
            json!({"type": "pinned"}),
            vec![[&AT[..], &["value"]].concat()],
        ),
        (json!("#ops"), vec![AT.to_vec()]),
    ];
    for (entry, locs) in cases {
        let locs: Vec<&[&str]> = locs.iter().map(Vec::as_slice).collect();
        assert_patch_rejected(
            &app,
            &seeded,
            json!({"input_defaults": {"channel": entry}}),
            &locs,
        )
        .await;
    }
}

#[tokio::test]
async fn patch_tool_reports_every_offending_input_field_in_one_422() {
    let (app, seeded) = app_with_configured_tool().await;
    assert_patch_rejected(
        &app,
        &seeded,
        json!({"input_defaults": {
            "text": {"value": "a fine default"},
            "retries": {"value": "many"},
            "priority": {"value": "high", "type": "always"},
            "nope": {"value": 1},
            "channel": {"value": "", "extra": 1},
            "notify_at": {"value": "2024-13-45"}
        }}),
        &[
            &["body", "input_defaults", "retries", "value"],
            &["body", "input_defaults", "priority", "type"],
            &["body", "input_defaults", "nope"],
            &["body", "input_defaults", "channel", "extra"],
            &["body", "input_defaults", "notify_at", "value"],
        ],
    )
    .await;
}

#[tokio::test]
async fn patch_tool_reports_input_defaults_and_field_map_problems_together() {
    let (app, seeded) = app_with_configured_tool().await;
    assert_patch_rejected(
        &app,
        &seeded,
        json!({
            "is_enabled": false,
            "input_defaults": {"retries": {"value": 99}},
            "response_field_map": {"field_mappings": [{"alias": "x"}]}
        }),
        &[
            &["body", "input_defaults", "retries", "value"],
            &["body", "response_field_map", "field_mappings", "0", "path"],
        ],
    )
    .await;
}

#[tokio::test]
async fn patch_tool_accepts_values_valid_through_a_ref() {
    let (app, seeded) = app_with_tools().await;
    let patched = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({"input_defaults": {
                "recipient": {"value": {"id": "U1"}},
                "notify_at": {"value": "2030-01-02T03:04:05Z", "type": "pinned"}
            }}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        (
            patched["default_count"].clone(),
            patched["pinned_count"].clone()
        ),
        (json!(1), json!(1))
    );
}

#[tokio::test]
async fn patch_tool_rejects_malformed_response_field_maps() {
    let (app, seeded) = app_with_configured_tool().await;
    let cases: Vec<(Value, Vec<&[&str]>)> = vec![
        (json!("ok"), vec![&["body", "response_field_map"]]),
        (
            json!([{"path": "ok"}]),
            vec![&["body", "response_field_map"]],
        ),
        (
            json!({"field_mappings": {"path": "ok"}}),
            vec![&["body", "response_field_map", "field_mappings"]],
        ),
        (
            json!({"field_mappings": [
                {"path": "ok"},
                "message.ts",
                {"path": ""},
                {"path": 5, "alias": ""},
                {"path": "ok", "as": "x"}
            ]}),
            vec![
                &["body", "response_field_map", "field_mappings", "1"],
                &["body", "response_field_map", "field_mappings", "2", "path"],
                &["body", "response_field_map", "field_mappings", "3", "path"],
                &["body", "response_field_map", "field_mappings", "3", "alias"],
                &["body", "response_field_map", "field_mappings", "4", "as"],
            ],
        ),
    ];
    for (map, locs) in cases {
        assert_patch_rejected(&app, &seeded, json!({"response_field_map": map}), &locs).await;
    }
}

#[tokio::test]
async fn patch_tool_rejects_response_schema_and_other_read_only_fields() {
    let (app, seeded) = app_with_configured_tool().await;
    for field in [
        "response_schema",
        "input_schema",
        "slug",
        "tool_path",
        "display_name",
        "description",
        "default_count",
        "stale_input_fields",
        "merged_input_preview",
        "connection_id",
    ] {
        assert_patch_rejected(
            &app,
            &seeded,
            json!({"is_enabled": false, field: {"type": "object"}}),
            &[&["body", field]],
        )
        .await;
    }
}

#[tokio::test]
async fn patch_tool_rejects_wrong_types() {
    let (app, seeded) = app_with_configured_tool().await;
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"is_enabled": "no"}), &["body", "is_enabled"]),
        (json!({"is_enabled": 0}), &["body", "is_enabled"]),
        (json!({"input_defaults": []}), &["body", "input_defaults"]),
        (
            json!({"input_defaults": "channel=#ops"}),
            &["body", "input_defaults"],
        ),
        (
            json!({"response_field_map": 7}),
            &["body", "response_field_map"],
        ),
        (json!([{"is_enabled": false}]), &["body"]),
    ];
    for (body, loc) in cases {
        assert_patch_rejected(&app, &seeded, body, &[loc]).await;
    }
}

#[tokio::test]
async fn patch_tool_validates_against_the_current_schema_after_a_resync() {
    let (app, seeded) = app_with_tools().await;
    let mut retyped = catalog::send_message();
    retyped.input_schema["properties"]["retries"] =
        json!({"type": "string", "enum": ["none", "some"]});
    app.resync(&seeded, vec![retyped]).await;
    assert_patch_rejected(
        &app,
        &seeded,
        json!({"input_defaults": {"retries": {"value": 3}}}),
        &[&["body", "input_defaults", "retries", "value"]],
    )
    .await;
    app.patch_json(
        &seeded.tool_url("send_message"),
        json!({"input_defaults": {"retries": {"value": "some"}}}),
    )
    .await
    .expect(StatusCode::OK);
}

#[tokio::test]
async fn patch_tool_of_another_org_or_connection_is_404_and_changes_nothing() {
    let (app, seeded) = app_with_configured_tool().await;
    let sibling = app.seed_connection("Sibling", catalog::standard()).await;
    let theirs = app
        .seed_connection_for(&app.stranger, "Theirs", catalog::standard())
        .await;
    let body = json!({"is_enabled": false, "input_defaults": null, "response_field_map": null});
    let before = app.state().await;
    let tool_id = seeded.tool_id("send_message");

    // The stranger, with the owner's ids; with its own connection and the owner's tool.
    for url in [
        seeded.tool_url("send_message"),
        format!("{}/{tool_id}", theirs.tools_url()),
    ] {
        app.as_stranger()
            .patch_json(&url, body.clone())
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    // The owner, with the stranger's ids, or its own tool under the wrong connection.
    for url in [
        theirs.tool_url("send_message"),
        format!("{}/{}", seeded.tools_url(), theirs.tool_id("send_message")),
        format!("{}/{tool_id}", sibling.tools_url()),
        format!("{}/{}", seeded.tools_url(), uuid::Uuid::new_v4()),
        format!("{LISTING}/{}/tools/{tool_id}", uuid::Uuid::new_v4()),
    ] {
        app.patch_json(&url, body.clone())
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn patch_tool_with_a_malformed_id_is_422() {
    let (app, seeded) = app_with_configured_tool().await;
    let before = app.state().await;
    let body = json!({"is_enabled": false});
    app.patch_json(&format!("{}/not-a-uuid", seeded.tools_url()), body.clone())
        .await
        .expect_validation_error(&[&["path", "tool_id"]]);
    app.patch_json(
        &format!("{LISTING}/42/tools/{}", seeded.tool_id("send_message")),
        body.clone(),
    )
    .await
    .expect_validation_error(&[&["path", "connection_id"]]);
    TestApp::assert_unchanged(&before, &app.state().await);
}
