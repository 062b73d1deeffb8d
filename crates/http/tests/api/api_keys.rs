//! `GET/POST /v1/identity/api-keys`, `DELETE /v1/identity/api-keys/{key_id}`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    API_KEYS, Auth, LISTING, TestApp, as_array, catalog, keys, set, timestamp, uuid,
};

const KEY_FIELDS: &[&str] = &[
    "id",
    "name",
    "key_prefix",
    "scopes",
    "is_active",
    "last_used_at",
    "expires_at",
    "created_at",
];

fn key_url(id: &Value) -> String {
    format!("{API_KEYS}/{}", id.as_str().expect("a key id"))
}

async fn list_keys(app: &TestApp) -> Vec<Value> {
    as_array(app.get(API_KEYS).await.expect(StatusCode::OK))
}

fn find<'a>(keys: &'a [Value], id: &Value) -> &'a Value {
    keys.iter()
        .find(|key| key["id"] == *id)
        .unwrap_or_else(|| panic!("key {id} not listed"))
}

#[tokio::test]
async fn create_api_key_shows_the_key_once_and_it_authenticates() {
    let app = TestApp::new().await;
    let created = app
        .post_json(
            API_KEYS,
            json!({"name": "  deploy bot  ", "scopes": ["read"]}),
        )
        .await
        .expect(StatusCode::CREATED);
    let mut expected_fields = set(KEY_FIELDS);
    expected_fields.insert("plain_text_key".to_owned());
    assert_eq!(keys(&created), expected_fields);
    uuid(&created["id"]);
    timestamp(&created["created_at"]);
    assert_eq!(created["name"], "deploy bot", "the name is trimmed");
    assert_eq!(created["scopes"], json!(["read"]));
    assert_eq!(created["is_active"], true);
    assert_eq!(created["last_used_at"], Value::Null);
    assert_eq!(created["expires_at"], Value::Null);
    let plain = created["plain_text_key"].as_str().expect("a key");
    let prefix = created["key_prefix"].as_str().expect("a prefix");
    assert!(plain.starts_with(prefix) && prefix.len() < plain.len() / 2);

    app.with(Auth::ApiKey(plain.to_owned()))
        .get(LISTING)
        .await
        .expect(StatusCode::OK);
    app.with(Auth::Bearer(plain.to_owned()))
        .get("/v1/integrations")
        .await
        .expect(StatusCode::OK);
}

#[tokio::test]
async fn list_api_keys_never_shows_a_key() {
    let app = TestApp::new().await;
    let created = app
        .post_json(API_KEYS, json!({"name": "second"}))
        .await
        .expect(StatusCode::CREATED);
    let plain = created["plain_text_key"].as_str().expect("a key");
    let response = app.get(API_KEYS).await;
    let listed = as_array(response.expect(StatusCode::OK));
    assert_eq!(listed.len(), 2, "the initial key and the new one");
    for key in &listed {
        assert_eq!(keys(key), set(KEY_FIELDS));
    }
    let text = String::from_utf8_lossy(&response.body);
    assert!(!text.contains(plain), "the listing leaks a key");
    assert!(!text.contains(&app.owner.key), "the listing leaks a key");
    let listed_new = find(&listed, &created["id"]);
    let mut without_key = created.clone();
    without_key
        .as_object_mut()
        .expect("an object")
        .remove("plain_text_key");
    assert_eq!(*listed_new, without_key);
}

#[tokio::test]
async fn api_keys_are_listed_oldest_first() {
    let app = TestApp::new().await;
    for name in ["b", "a", "c"] {
        app.post_json(API_KEYS, json!({"name": name}))
            .await
            .expect(StatusCode::CREATED);
    }
    let names: Vec<Value> = list_keys(&app)
        .await
        .iter()
        .map(|k| k["name"].clone())
        .collect();
    assert_eq!(
        names,
        [json!("Initial key"), json!("b"), json!("a"), json!("c")]
    );
}

#[tokio::test]
async fn create_api_key_records_scopes_and_expiry() {
    let app = TestApp::new().await;
    let expires_at = "2999-01-01T00:00:00Z";
    let created = app
        .post_json(
            API_KEYS,
            json!({"name": "expiring", "scopes": ["read", "invoke"], "expires_at": expires_at}),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(
        timestamp(&created["expires_at"]),
        timestamp(&json!(expires_at))
    );
    let listed = list_keys(&app).await;
    let listed = find(&listed, &created["id"]);
    assert_eq!(listed["scopes"], json!(["read", "invoke"]));
    assert_eq!(
        timestamp(&listed["expires_at"]),
        timestamp(&json!(expires_at))
    );
    assert_eq!(listed["is_active"], true);
}

#[tokio::test]
async fn revoked_key_answers_401_afterwards_and_is_listed_inactive() {
    let app = TestApp::new().await;
    let created = app
        .post_json(API_KEYS, json!({"name": "temporary"}))
        .await
        .expect(StatusCode::CREATED);
    let plain = created["plain_text_key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let revoked = app.delete(&key_url(&created["id"])).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert!(revoked.body.is_empty(), "204 has no body");

    app.with(Auth::ApiKey(plain))
        .get(LISTING)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let listed = list_keys(&app).await;
    assert_eq!(find(&listed, &created["id"])["is_active"], false);
    // The key that revoked it still works.
    assert_eq!(find(&listed, &json!(app.owner.key_id))["is_active"], true);
}

#[tokio::test]
async fn a_key_can_revoke_itself() {
    let app = TestApp::new().await;
    app.delete(&format!("{API_KEYS}/{}", app.owner.key_id))
        .await
        .expect(StatusCode::NO_CONTENT);
    app.get(LISTING)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn last_used_at_is_recorded_when_a_key_is_used() {
    let app = TestApp::new().await;
    let created = app
        .post_json(API_KEYS, json!({"name": "worker"}))
        .await
        .expect(StatusCode::CREATED);
    let listed = list_keys(&app).await;
    assert_eq!(find(&listed, &created["id"])["last_used_at"], Value::Null);

    let plain = created["plain_text_key"]
        .as_str()
        .expect("a key")
        .to_owned();
    app.with(Auth::Bearer(plain))
        .get(LISTING)
        .await
        .expect(StatusCode::OK);

    let listed = list_keys(&app).await;
    let used = find(&listed, &created["id"]);
    let last_used_at = timestamp(&used["last_used_at"]);
    assert!(last_used_at >= timestamp(&used["created_at"]));
    assert!(last_used_at <= chrono::Utc::now());
    // The calling key was used too.
    timestamp(&find(&listed, &json!(app.owner.key_id))["last_used_at"]);
}

#[tokio::test]
async fn create_api_key_rejects_bad_input_and_creates_nothing() {
    let app = TestApp::new().await;
    let cases: Vec<(Value, &[&[&str]])> = vec![
        (json!({"name": ""}), &[&["body", "name"]]),
        (json!({"name": "   "}), &[&["body", "name"]]),
        (json!({"name": "x".repeat(256)}), &[&["body", "name"]]),
        (json!({"name": 42}), &[&["body", "name"]]),
        (json!({"name": null}), &[&["body", "name"]]),
        (
            json!({"name": "ok", "scopes": "admin"}),
            &[&["body", "scopes"]],
        ),
        (
            json!({"name": "ok", "expires_at": "tomorrow"}),
            &[&["body", "expires_at"]],
        ),
        (
            json!({"name": "ok", "expires_at": "2001-01-01T00:00:00Z"}),
            &[&["body", "expires_at"]],
        ),
        (
            json!({"name": "ok", "organization_id": app.stranger.id, "key": "x"}),
            &[&["body", "organization_id"], &["body", "key"]],
        ),
        (json!(["name"]), &[&["body"]]),
    ];
    let before = app.state().await;
    for (body, locs) in cases {
        let response = app.post_json(API_KEYS, body.clone()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        response.expect_validation_error(locs);
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn create_api_key_without_a_name_is_422_naming_the_field() {
    let app = TestApp::new().await;
    let before = app.state().await;
    for body in [json!({}), json!({"scopes": ["read"]})] {
        let detail = app
            .post_json(API_KEYS, body)
            .await
            .expect_validation_error(&[&["body", "name"]]);
        assert_eq!(detail[0]["type"], "missing");
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn a_type_error_inside_a_list_is_located_by_its_index() {
    let app = TestApp::new().await;
    let before = app.state().await;
    // loc segments are field names or indexes (`0`, or the integer 0), as the domain's own
    // problems locate them (`field_mappings`, `0`, `path`).
    app.post_json(API_KEYS, json!({"name": "ok", "scopes": ["read", 1]}))
        .await
        .expect_validation_error(&[&["body", "scopes", "1"]]);
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn a_name_of_255_characters_is_accepted() {
    let app = TestApp::new().await;
    let name = "é".repeat(255);
    let created = app
        .post_json(API_KEYS, json!({"name": name}))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created["name"], name);
}

#[tokio::test]
async fn revoke_api_key_with_an_unknown_id_is_404() {
    let app = TestApp::new().await;
    let before = app.state().await;
    app.delete(&format!("{API_KEYS}/{}", uuid::Uuid::new_v4()))
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn revoke_api_key_with_a_malformed_id_is_422() {
    let app = TestApp::new().await;
    let before = app.state().await;
    for id in ["not-a-uuid", "123", &app.owner.key_id.to_string()[..35]] {
        app.delete(&format!("{API_KEYS}/{id}"))
            .await
            .expect_validation_error(&[&["path", "key_id"]]);
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn revoke_api_key_of_another_org_is_404_and_the_key_keeps_working() {
    let app = TestApp::new().await;
    let before = app.state().await;
    let foreign = app
        .as_stranger()
        .delete(&format!("{API_KEYS}/{}", app.owner.key_id))
        .await;
    let unknown = app
        .as_stranger()
        .delete(&format!("{API_KEYS}/{}", uuid::Uuid::new_v4()))
        .await;
    foreign.expect_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(
        foreign.json(),
        unknown.json(),
        "a foreign key looks unknown"
    );
    TestApp::assert_unchanged(&before, &app.state().await);
    app.get(LISTING).await.expect(StatusCode::OK);
}

#[tokio::test]
async fn api_keys_are_scoped_to_the_callers_org() {
    let app = TestApp::new().await;
    let created = app
        .as_stranger()
        .post_json(API_KEYS, json!({"name": "stranger's"}))
        .await
        .expect(StatusCode::CREATED);
    let owner_keys = list_keys(&app).await;
    assert_eq!(owner_keys.len(), 1, "only the owner's initial key");
    assert_eq!(owner_keys[0]["id"], json!(app.owner.key_id));
    let stranger_keys = as_array(app.as_stranger().get(API_KEYS).await.expect(StatusCode::OK));
    let ids: Vec<&Value> = stranger_keys.iter().map(|k| &k["id"]).collect();
    assert_eq!(ids, [&json!(app.stranger.key_id), &created["id"]]);
    // The stranger's new key acts for the stranger only.
    let plain = created["plain_text_key"]
        .as_str()
        .expect("a key")
        .to_owned();
    let seen = as_array(
        app.with(Auth::ApiKey(plain))
            .get(API_KEYS)
            .await
            .expect(StatusCode::OK),
    );
    assert_eq!(seen.len(), 2);
}

/// A key of the owner's organization with `scopes`, as a client of its own.
async fn key_with(app: &TestApp, scopes: Value) -> String {
    let created = app
        .post_json(API_KEYS, json!({"name": "scoped", "scopes": scopes}))
        .await
        .expect(StatusCode::CREATED);
    created["plain_text_key"]
        .as_str()
        .expect("a key")
        .to_owned()
}

#[tokio::test]
async fn a_read_only_key_reads_but_cannot_write_call_tools_or_mint_keys() {
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let reader = app.with(Auth::ApiKey(key_with(&app, json!(["read"])).await));
    reader.get(LISTING).await.expect(StatusCode::OK);
    reader.get(&seeded.url()).await.expect(StatusCode::OK);
    let before = app.state().await;
    let refused = [
        reader
            .patch_json(&seeded.url(), json!({"nickname": "Mine"}))
            .await,
        reader
            .patch_json(&seeded.tools_url(), json!({"is_enabled": false}))
            .await,
        reader.delete(&seeded.url()).await,
        reader
            .post_json(
                &seeded.test_mcp_call_url(),
                json!({"slug": seeded.slug("get_user"), "input": {}}),
            )
            .await,
        reader
            .post_json(API_KEYS, json!({"name": "escalate"}))
            .await,
        reader.get(API_KEYS).await,
    ];
    for response in refused {
        let body = response.expect_error(StatusCode::FORBIDDEN, "forbidden");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with("This API key's scopes (read) do not allow"),
            "{message}"
        );
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn a_key_mints_only_keys_that_can_do_no_more_than_itself() {
    let app = TestApp::new().await;
    let keeper = app.with(Auth::ApiKey(key_with(&app, json!(["keys", "read"])).await));
    keeper
        .post_json(API_KEYS, json!({"name": "reader", "scopes": ["read"]}))
        .await
        .expect(StatusCode::CREATED);
    for scopes in [json!(["write"]), json!([])] {
        let body = keeper
            .post_json(API_KEYS, json!({"name": "more", "scopes": scopes}))
            .await
            .expect_error(StatusCode::FORBIDDEN, "forbidden");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("cannot create a key that may do more"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn an_unknown_scope_is_a_422_listing_the_vocabulary() {
    let app = TestApp::new().await;
    let detail = app
        .post_json(API_KEYS, json!({"name": "x", "scopes": ["read", "admin"]}))
        .await
        .expect_validation_error(&[&["body", "scopes", "1"]]);
    let message = detail[0]["msg"].as_str().unwrap_or_default();
    assert!(message.contains("read, write, invoke, keys"), "{message}");
}
