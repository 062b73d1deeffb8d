//! `GET /v1/integrations/connections` (the seed endpoint) and
//! `GET/PATCH/DELETE /v1/integrations/connections/{connection_id}`; nickname slugs.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{LISTING, TestApp, as_array, catalog, keys, pluck, set, timestamp, uuid};

const CONNECTION_FIELDS: &[&str] = &[
    "id",
    "organization_id",
    "integration_key",
    "nickname_slug",
    "nickname",
    "vendor",
    "vendor_connection_id",
    "status",
    "tools_status",
    "tools_synced_at",
    "status_reason",
    "connected_at",
    "last_refreshed_at",
    "last_used_at",
    "metadata",
    "created_at",
    "updated_at",
    "tools",
];

#[tokio::test]
async fn list_connections_is_empty_for_a_new_org() {
    let app = TestApp::new().await;
    assert_eq!(app.listing().await, Vec::<Value>::new());
}

#[tokio::test]
async fn unsynced_connection_shows_every_field_with_nulls_and_empty_tools() {
    let app = TestApp::new().await;
    let seeded = app.seed_unsynced_connection("My MCP server").await;
    let listing = app.listing().await;
    assert_eq!(listing.len(), 1);
    let connection = &listing[0];
    assert_eq!(keys(connection), set(CONNECTION_FIELDS));
    assert_eq!(uuid(&connection["id"]), seeded.id);
    assert_eq!(uuid(&connection["organization_id"]), app.owner.id);
    assert_eq!(connection["integration_key"], "custom_mcp");
    assert_eq!(connection["nickname"], "My MCP server");
    assert_eq!(connection["nickname_slug"], "my_mcp_server");
    assert_eq!(connection["vendor"], "mcp");
    assert_eq!(connection["status"], "active");
    assert_eq!(connection["tools_status"], "pending");
    for nullable in [
        "vendor_connection_id",
        "tools_synced_at",
        "status_reason",
        "last_refreshed_at",
        "last_used_at",
    ] {
        assert_eq!(connection[nullable], Value::Null, "{nullable}");
    }
    assert_eq!(connection["metadata"], json!({}));
    assert_eq!(connection["tools"], json!([]));
    let created_at = timestamp(&connection["created_at"]);
    assert_eq!(timestamp(&connection["updated_at"]), created_at);
    assert_eq!(
        timestamp(&connection["connected_at"]),
        created_at,
        "an active connection is connected when created"
    );
}

#[tokio::test]
async fn synced_connection_reports_its_sync_time() {
    let app = TestApp::new().await;
    app.seed_connection("Acme", catalog::standard()).await;
    let connection = &app.listing().await[0];
    assert_eq!(connection["tools_status"], "synced");
    let synced_at = timestamp(&connection["tools_synced_at"]);
    assert_eq!(timestamp(&connection["last_refreshed_at"]), synced_at);
    assert!(synced_at >= timestamp(&connection["created_at"]));
    for tool in connection["tools"].as_array().expect("tools") {
        assert_eq!(timestamp(&tool["last_seen_at"]), synced_at);
    }
}

#[tokio::test]
async fn list_connections_orders_by_creation_then_tools_by_tool_path() {
    let app = TestApp::new().await;
    let zeta = app.seed_connection("Zeta", catalog::standard()).await;
    let alpha = app.seed_unsynced_connection("alpha").await;
    let mid = app
        .seed_connection("Mid", vec![catalog::list_channels()])
        .await;
    // A tool added by a later sync still sorts by tool_path, not by arrival.
    let mut later = catalog::standard();
    later.push(catalog::tool("archive_channel", json!({"type": "object"})));
    app.resync(&zeta, later).await;

    let listing = app.listing().await;
    assert_eq!(
        pluck(&listing, "id"),
        [json!(zeta.id), json!(alpha.id), json!(mid.id)]
    );
    let created: Vec<_> = listing
        .iter()
        .map(|c| timestamp(&c["created_at"]))
        .collect();
    assert!(created.windows(2).all(|pair| pair[0] <= pair[1]));
    assert_eq!(
        pluck(listing[0]["tools"].as_array().expect("tools"), "tool_path"),
        [
            json!("archive_channel"),
            json!("get_user"),
            json!("list_channels"),
            json!("send_message"),
        ]
    );
    assert_eq!(listing[1]["tools"], json!([]));
    assert_eq!(
        pluck(listing[2]["tools"].as_array().expect("tools"), "tool_path"),
        [json!("list_channels")]
    );
}

#[tokio::test]
async fn connections_created_at_the_same_instant_are_ordered_by_id() {
    let app = TestApp::new().await;
    let at = feather_store::now();
    let high = uuid::Uuid::from_u128(0xffff_0000_0000_7000_8000_0000_0000_0001);
    let low = uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0002);
    let earlier = uuid::Uuid::from_u128(0xffff_ffff_ffff_7fff_bfff_ffff_ffff_ffff);
    app.insert_connection_at(high, at, "high").await;
    app.insert_connection_at(low, at, "low").await;
    app.insert_connection_at(earlier, at - chrono::Duration::seconds(1), "earlier")
        .await;
    assert_eq!(
        pluck(&app.listing().await, "id"),
        [json!(earlier), json!(low), json!(high)]
    );
}

/// Tool paths that differ in case and punctuation, listed in byte order whatever the
/// database's collation.
async fn assert_tools_listed_in_byte_order_of_tool_path(app: &TestApp) {
    let paths = [
        "beta", "Alpha", "alpha", "_private", "b-2", "b_1", "Zeta", "a10", "a9",
    ];
    let tools = paths
        .iter()
        .map(|path| catalog::tool(path, json!({"type": "object"})))
        .collect();
    app.seed_connection("Mixed", tools).await;
    let mut expected = paths.to_vec();
    expected.sort_unstable();
    let listed = app.listing().await;
    let listed: Vec<Value> = pluck(listed[0]["tools"].as_array().expect("tools"), "tool_path");
    assert_eq!(
        listed,
        expected.iter().map(|p| json!(p)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn tools_are_listed_in_byte_order_of_tool_path() {
    assert_tools_listed_in_byte_order_of_tool_path(&TestApp::new().await).await;
}

#[feather_test_gates::postgres]
#[tokio::test]
async fn tools_are_listed_in_byte_order_of_tool_path_on_postgres() {
    let database = feather_store::testing::TestDatabase::postgres().await;
    assert_tools_listed_in_byte_order_of_tool_path(&TestApp::over(database).await).await;
}

#[tokio::test]
async fn tools_are_listed_under_their_own_connection_only() {
    let app = TestApp::new().await;
    let first = app
        .seed_connection("First", vec![catalog::get_user()])
        .await;
    let second = app
        .seed_connection("Second", vec![catalog::send_message()])
        .await;
    for (connection, seeded) in app.listing().await.iter().zip([&first, &second]) {
        for tool in connection["tools"].as_array().expect("tools") {
            assert_eq!(uuid(&tool["connection_id"]), seeded.id);
            assert_eq!(tool["nickname_slug"], seeded.nickname_slug);
        }
        assert_eq!(connection["tools"].as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn tool_fields_come_from_the_upstream_catalog() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme Slack", catalog::standard()).await;
    let connection = app.connection(&seeded).await;
    let tools = connection["tools"].as_array().expect("tools");

    let send = &tools[2];
    assert_eq!(uuid(&send["id"]), seeded.tool_id("send_message"));
    assert_eq!(uuid(&send["connection_id"]), seeded.id);
    assert_eq!(uuid(&send["organization_id"]), app.owner.id);
    assert_eq!(send["integration_key"], "custom_mcp");
    assert_eq!(send["nickname_slug"], "acme_slack");
    assert_eq!(send["tool_path"], "send_message");
    assert_eq!(send["slug"], "acme_slack_send_message");
    assert_eq!(send["display_name"], "Send a message", "the title wins");
    assert_eq!(send["description"], "Post a message to a channel.");
    assert_eq!(send["input_schema"], catalog::send_message_input());
    assert_eq!(send["response_schema"], catalog::send_message_output());
    assert_eq!(send["is_enabled"], true, "new tools start enabled");
    assert_eq!(send["input_defaults"], Value::Null);
    assert_eq!(send["response_field_map"], Value::Null);
    assert_eq!(send["default_count"], 0);
    assert_eq!(send["pinned_count"], 0);
    assert_eq!(send["stale_input_fields"], json!([]));
    assert_eq!(send["stale_field_paths"], json!([]));
    assert_eq!(send["merged_input_preview"], send["input_schema"]);

    let list = &tools[1];
    assert_eq!(list["display_name"], "List Channels", "humanized tool name");
    assert_eq!(list["response_schema"], Value::Null);
    let get_user = &tools[0];
    assert_eq!(get_user["display_name"], "Get User");
    assert_eq!(get_user["description"], Value::Null);
    assert_eq!(get_user["slug"], "acme_slack_get_user");
}

#[tokio::test]
async fn get_connection_shows_the_same_object_as_the_listing() {
    let app = TestApp::new().await;
    app.seed_unsynced_connection("Other").await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let listed = app.listing().await[1].clone();
    assert_eq!(app.connection(&seeded).await, listed);
}

#[tokio::test]
async fn get_connection_with_an_unknown_or_foreign_id_is_404() {
    let app = TestApp::new().await;
    let mine = app.seed_connection("Acme", catalog::standard()).await;
    let unknown = app
        .get(&format!("{LISTING}/{}", uuid::Uuid::new_v4()))
        .await;
    unknown.expect_error(StatusCode::NOT_FOUND, "not_found");
    let foreign = app.as_stranger().get(&mine.url()).await;
    foreign.expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(foreign.json(), unknown.json(), "a foreign id looks unknown");
    assert!(
        !String::from_utf8_lossy(&foreign.body).contains("Acme"),
        "no data of the other org"
    );
}

#[tokio::test]
async fn connection_path_with_a_malformed_uuid_is_422() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    let id = seeded.id.to_string();
    for bad in ["nope", "12345", &id[..id.len() - 1], &format!("{id}0")] {
        let url = format!("{LISTING}/{bad}");
        app.get(&url)
            .await
            .expect_validation_error(&[&["path", "connection_id"]]);
        app.patch_json(&url, json!({"nickname": "x"}))
            .await
            .expect_validation_error(&[&["path", "connection_id"]]);
        app.delete(&url)
            .await
            .expect_validation_error(&[&["path", "connection_id"]]);
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn listing_shows_only_the_callers_connections() {
    let app = TestApp::new().await;
    let mine = app.seed_connection("Acme", catalog::standard()).await;
    let theirs = app
        .seed_connection_for(&app.stranger, "Acme", vec![catalog::get_user()])
        .await;
    assert_eq!(pluck(&app.listing().await, "id"), [json!(mine.id)]);
    let stranger_listing = as_array(app.as_stranger().get(LISTING).await.expect(StatusCode::OK));
    assert_eq!(pluck(&stranger_listing, "id"), [json!(theirs.id)]);
    assert_eq!(
        stranger_listing[0]["nickname_slug"], "acme",
        "slugs are unique per organization, not globally"
    );
}

#[tokio::test]
async fn nickname_collisions_take_the_first_free_suffix() {
    let app = TestApp::new().await;
    let mut slugs = Vec::new();
    for nickname in ["Acme", "acme", "ACME!", " acme "] {
        slugs.push(app.seed_unsynced_connection(nickname).await);
    }
    assert_eq!(
        slugs
            .iter()
            .map(|s| s.nickname_slug.as_str())
            .collect::<Vec<_>>(),
        ["acme", "acme_2", "acme_3", "acme_4"]
    );
    // Freeing acme_2 makes it the first free suffix again.
    app.delete(&slugs[1].url())
        .await
        .expect(StatusCode::NO_CONTENT);
    let again = app.seed_unsynced_connection("Acme").await;
    assert_eq!(again.nickname_slug, "acme_2");
    // A nickname that merely starts like a taken slug is no collision.
    let longer = app.seed_unsynced_connection("Acme Corp").await;
    assert_eq!(longer.nickname_slug, "acme_corp");
    let listed: Vec<Value> = pluck(&app.listing().await, "nickname_slug");
    assert_eq!(
        listed,
        [
            json!("acme"),
            json!("acme_3"),
            json!("acme_4"),
            json!("acme_2"),
            json!("acme_corp")
        ]
    );
}

#[tokio::test]
async fn rename_connection_changes_the_nickname_and_keeps_every_slug() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.connection(&seeded).await;
    let renamed = app
        .patch_json(&seeded.url(), json!({"nickname": "  Globex Support  "}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(renamed["nickname"], "Globex Support", "trimmed");
    assert_eq!(renamed["nickname_slug"], "acme");
    assert!(timestamp(&renamed["updated_at"]) >= timestamp(&before["updated_at"]));
    for (tool, old) in renamed["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .zip(before["tools"].as_array().expect("tools"))
    {
        assert_eq!(tool["slug"], old["slug"]);
        assert_eq!(tool["nickname_slug"], "acme");
    }
    assert_eq!(
        app.connection(&seeded).await,
        renamed,
        "the rename is stored"
    );
    // The old slug stays taken; the new nickname's slug was never taken.
    assert_eq!(
        app.seed_unsynced_connection("Acme").await.nickname_slug,
        "acme_2"
    );
    assert_eq!(
        app.seed_unsynced_connection("Globex Support")
            .await
            .nickname_slug,
        "globex_support"
    );
}

#[tokio::test]
async fn rename_accepts_a_nickname_of_200_characters() {
    let app = TestApp::new().await;
    let seeded = app.seed_unsynced_connection("Acme").await;
    let nickname = format!("{}é", "a".repeat(199));
    let renamed = app
        .patch_json(&seeded.url(), json!({"nickname": nickname}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(renamed["nickname"], nickname);
}

#[tokio::test]
async fn rename_without_a_nickname_changes_nothing() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    let expected = app.connection(&seeded).await;
    for body in [json!({}), json!({"nickname": null})] {
        let response = app
            .patch_json(&seeded.url(), body)
            .await
            .expect(StatusCode::OK);
        assert_eq!(response, expected);
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn rename_rejects_invalid_nicknames_and_changes_nothing() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    for nickname in ["", "   ", "\t\n", "!!!", "—…—", "日本語", &"a".repeat(201)] {
        app.patch_json(&seeded.url(), json!({"nickname": nickname}))
            .await
            .expect_validation_error(&[&["body", "nickname"]]);
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn rename_rejects_unknown_fields_and_wrong_types() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    let cases: Vec<(Value, &[&[&str]])> = vec![
        (json!({"nickname": 5}), &[&["body", "nickname"]]),
        (json!({"nickname": ["Acme"]}), &[&["body", "nickname"]]),
        (
            json!({"nickname": {"value": "Acme"}}),
            &[&["body", "nickname"]],
        ),
        (
            json!({"nickname_slug": "globex"}),
            &[&["body", "nickname_slug"]],
        ),
        (
            json!({"nickname": "Globex", "status": "error", "metadata": {}}),
            &[&["body", "status"], &["body", "metadata"]],
        ),
        (json!("Globex"), &[&["body"]]),
        (json!(null), &[&["body"]]),
    ];
    for (body, locs) in cases {
        let response = app.patch_json(&seeded.url(), body.clone()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        response.expect_validation_error(locs);
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn rename_connection_of_another_org_is_404_and_changes_nothing() {
    let app = TestApp::new().await;
    let mine = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    app.as_stranger()
        .patch_json(&mine.url(), json!({"nickname": "Hijacked"}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.as_stranger()
        .patch_json(&mine.url(), json!({}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.patch_json(
        &format!("{LISTING}/{}", uuid::Uuid::new_v4()),
        json!({"nickname": "X"}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn delete_connection_removes_it_and_its_tools() {
    let app = TestApp::new().await;
    let doomed = app.seed_connection("Doomed", catalog::standard()).await;
    let kept = app.seed_connection("Kept", catalog::standard()).await;
    let kept_before = app.connection(&kept).await;

    let response = app.delete(&doomed.url()).await;
    assert_eq!(response.status, StatusCode::NO_CONTENT);
    assert!(response.body.is_empty(), "204 has no body");

    app.get(&doomed.url())
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(pluck(&app.listing().await, "id"), [json!(kept.id)]);
    assert_eq!(app.connection(&kept).await, kept_before);
    app.patch_json(
        &doomed.tool_url("send_message"),
        json!({"is_enabled": false}),
    )
    .await
    .expect_error(StatusCode::NOT_FOUND, "not_found");
    app.patch_json(&doomed.tools_url(), json!({"is_enabled": false}))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    let stored = app
        .service
        .store()
        .list_organization_tools(app.owner.id)
        .await
        .expect("read the stored tools");
    assert!(
        stored.iter().all(|tool| tool.connection_id == kept.id) && stored.len() == 3,
        "the deleted connection's tools are gone from the store"
    );
    // Deleting again: it is gone.
    app.delete(&doomed.url())
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn delete_connection_of_another_org_is_404_and_changes_nothing() {
    let app = TestApp::new().await;
    let mine = app.seed_connection("Acme", catalog::standard()).await;
    app.seed_connection_for(&app.stranger, "Theirs", vec![catalog::get_user()])
        .await;
    let before = app.state().await;
    let foreign = app.as_stranger().delete(&mine.url()).await;
    foreign.expect_error(StatusCode::NOT_FOUND, "not_found");
    let unknown = app
        .as_stranger()
        .delete(&format!("{LISTING}/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(foreign.json(), unknown.json(), "a foreign id looks unknown");
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn listing_snapshot() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme Slack", catalog::standard()).await;
    app.seed_unsynced_connection("Not yet synced").await;
    app.patch_json(
        &seeded.tool_url("send_message"),
        json!({
            "input_defaults": {
                "channel": {"value": "#support"},
                "retries": {"value": 2, "type": "pinned"}
            },
            "response_field_map": {"field_mappings": [
                {"path": "message.ts", "alias": "ts"},
                {"path": "message.thread"}
            ]}
        }),
    )
    .await
    .expect(StatusCode::OK);
    app.patch_json(&seeded.tool_url("get_user"), json!({"is_enabled": false}))
        .await
        .expect(StatusCode::OK);

    let listing = app.listing().await;
    // Ids and times differ on every run; a null stays visible as null.
    let redact = |placeholder: &'static str| {
        insta::dynamic_redaction(move |value, _| {
            if value.is_nil() {
                value
            } else {
                placeholder.into()
            }
        })
    };
    insta::assert_json_snapshot!("listing", listing, {
        "[].id" => "[connection_id]",
        "[].organization_id" => "[organization_id]",
        "[].created_at" => redact("[timestamp]"),
        "[].updated_at" => redact("[timestamp]"),
        "[].connected_at" => redact("[timestamp]"),
        "[].tools_synced_at" => redact("[timestamp]"),
        "[].last_refreshed_at" => redact("[timestamp]"),
        "[].last_used_at" => redact("[timestamp]"),
        "[].tools[].id" => "[tool_id]",
        "[].tools[].connection_id" => "[connection_id]",
        "[].tools[].organization_id" => "[organization_id]",
        "[].tools[].last_seen_at" => "[timestamp]",
        "[].tools[].created_at" => "[timestamp]",
        "[].tools[].updated_at" => "[timestamp]",
    });
}
