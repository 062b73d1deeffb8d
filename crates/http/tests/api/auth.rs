//! Authentication: which keys are accepted, in which headers, and what a refusal looks like.

use axum::http::{Method, StatusCode};
use chrono::TimeDelta;
use feather_service::{Clock, ManualClock};
use serde_json::{Value, json};

use crate::support::{API_KEYS, Auth, LISTING, Seeded, TestApp, catalog};

/// One request to every endpoint that needs a key, with real ids and valid bodies, so
/// authentication is the only reason any of them can fail.
fn every_protected_request(
    app: &TestApp,
    connection: &Seeded,
) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, "/v1/integrations".to_owned(), None),
        (Method::GET, LISTING.to_owned(), None),
        (Method::GET, connection.url(), None),
        (
            Method::PATCH,
            connection.url(),
            Some(json!({"nickname": "Renamed"})),
        ),
        (Method::DELETE, connection.url(), None),
        (
            Method::PATCH,
            connection.tools_url(),
            Some(json!({"is_enabled": false})),
        ),
        (
            Method::PATCH,
            connection.tool_url("send_message"),
            Some(json!({"is_enabled": false})),
        ),
        (Method::GET, API_KEYS.to_owned(), None),
        (
            Method::POST,
            API_KEYS.to_owned(),
            Some(json!({"name": "ci"})),
        ),
        (
            Method::DELETE,
            format!("{API_KEYS}/{}", app.owner.key_id),
            None,
        ),
    ]
}

/// Sends every protected request with `auth` and asserts each is a 401 `ErrorResponse`
/// that changed nothing.
async fn assert_every_endpoint_refuses(app: &TestApp, auth: Auth) {
    let connection = app.seed_connection("Acme", catalog::standard()).await;
    let before = app.state().await;
    for (method, path, body) in every_protected_request(app, &connection) {
        let client = app.with(auth.clone());
        let response = match body {
            Some(body) => {
                let bytes = serde_json::to_vec(&body).expect("serialize");
                client
                    .send_raw(method.clone(), &path, "application/json", bytes)
                    .await
            }
            None => client.send(method.clone(), &path, None).await,
        };
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{method} {path} with {auth:?}"
        );
        response.expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    TestApp::assert_unchanged(&before, &app.state().await);
}

#[tokio::test]
async fn every_endpoint_refuses_a_request_without_a_key() {
    let app = TestApp::new().await;
    assert_every_endpoint_refuses(&app, Auth::None).await;
}

#[tokio::test]
async fn every_endpoint_refuses_a_malformed_key() {
    let app = TestApp::new().await;
    assert_every_endpoint_refuses(&app, Auth::ApiKey("not-a-key".to_owned())).await;
    assert_every_endpoint_refuses(&app, Auth::Bearer("not-a-key".to_owned())).await;
}

#[tokio::test]
async fn every_endpoint_refuses_an_unknown_key_of_the_right_shape() {
    let app = TestApp::new().await;
    let unknown = format!("fth_{}", "A1b2C3d4E5".repeat(4));
    assert_eq!(
        unknown.len(),
        app.owner.key.len(),
        "same shape as a real key"
    );
    assert_every_endpoint_refuses(&app, Auth::ApiKey(unknown.clone())).await;
    assert_every_endpoint_refuses(&app, Auth::Bearer(unknown)).await;
}

#[tokio::test]
async fn every_endpoint_refuses_a_revoked_key_in_either_header() {
    let app = TestApp::new().await;
    let created = app
        .post_json(API_KEYS, json!({"name": "to revoke"}))
        .await
        .expect(StatusCode::CREATED);
    let key = created["plain_text_key"]
        .as_str()
        .expect("a key")
        .to_owned();
    app.delete(&format!(
        "{API_KEYS}/{}",
        created["id"].as_str().expect("an id")
    ))
    .await
    .expect(StatusCode::NO_CONTENT);
    assert_every_endpoint_refuses(&app, Auth::ApiKey(key.clone())).await;
    assert_every_endpoint_refuses(&app, Auth::Bearer(key)).await;
}

#[tokio::test]
async fn a_key_is_refused_from_its_expiry_on() {
    let app = TestApp::build()
        .clock(ManualClock::starting_now())
        .start()
        .await;
    let expires_at = app.clock().now() + TimeDelta::hours(1);
    let created = app
        .post_json(
            API_KEYS,
            json!({"name": "short-lived", "expires_at": expires_at}),
        )
        .await
        .expect(StatusCode::CREATED);
    let key = created["plain_text_key"]
        .as_str()
        .expect("a key")
        .to_owned();
    app.clock().advance(TimeDelta::minutes(59));
    app.with(Auth::ApiKey(key.clone()))
        .get(LISTING)
        .await
        .expect(StatusCode::OK);
    // Past the second a checked key is trusted for, and at its expiry.
    app.clock().advance(TimeDelta::minutes(1));
    app.with(Auth::ApiKey(key))
        .get(LISTING)
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    let keys = app.get(API_KEYS).await.expect(StatusCode::OK);
    let listed = keys
        .as_array()
        .and_then(|keys| keys.iter().find(|listed| listed["id"] == created["id"]))
        .expect("the key is listed");
    assert_eq!(listed["is_active"], false, "{listed:#}");
}

#[tokio::test]
async fn the_key_is_accepted_in_x_api_key_or_as_a_bearer_token() {
    let app = TestApp::new().await;
    app.seed_connection("Acme", catalog::standard()).await;
    let by_header = app
        .with(Auth::ApiKey(app.owner.key.clone()))
        .get(LISTING)
        .await
        .expect(StatusCode::OK);
    let by_bearer = app
        .with(Auth::Bearer(app.owner.key.clone()))
        .get(LISTING)
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_header, by_bearer);
    assert_eq!(by_header.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::new().await;
    app.with(Auth::Header(
        "authorization",
        format!("bearer {}", app.owner.key),
    ))
    .get(LISTING)
    .await
    .expect(StatusCode::OK);
}

#[tokio::test]
async fn other_authorization_schemes_are_refused() {
    let app = TestApp::new().await;
    for value in [
        format!("Basic {}", app.owner.key),
        format!("Token {}", app.owner.key),
        app.owner.key.clone(),
        "Bearer".to_owned(),
        "Bearer ".to_owned(),
    ] {
        app.with(Auth::Header("authorization", value))
            .get(LISTING)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

#[tokio::test]
async fn a_key_is_refused_after_any_change_to_it() {
    let app = TestApp::new().await;
    let key = &app.owner.key;
    let last = key.chars().last().expect("a non-empty key");
    let flipped = if last == 'a' { 'b' } else { 'a' };
    for variant in [
        format!("{}{flipped}", &key[..key.len() - 1]),
        key.to_uppercase(),
        format!("{key}x"),
        key[..key.len() - 1].to_owned(),
    ] {
        app.with(Auth::ApiKey(variant))
            .get(LISTING)
            .await
            .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
}

#[tokio::test]
async fn each_refusal_says_what_to_send_instead() {
    let app = TestApp::new().await;
    let message = |auth: Auth| {
        let app = &app;
        async move {
            let body = app
                .with(auth)
                .get(LISTING)
                .await
                .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
            body["message"].as_str().unwrap_or_default().to_owned()
        }
    };
    let without_key = message(Auth::None).await;
    assert!(
        without_key.contains("x-api-key: <key>") && without_key.contains("Bearer <key>"),
        "{without_key}"
    );
    let without_scheme = message(Auth::Header("authorization", app.owner.key.clone())).await;
    assert!(
        without_scheme.contains("must read `Bearer <key>`"),
        "{without_scheme}"
    );
    let revoked_or_unknown = message(Auth::ApiKey(format!("fth_{}", "A1b2C3d4E5".repeat(4)))).await;
    assert!(
        revoked_or_unknown.contains("not valid"),
        "{revoked_or_unknown}"
    );
}
