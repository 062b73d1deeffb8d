//! The callback, `finalize` and `reauthorize`: the state alone authenticates the callback,
//! once; the code is exchanged with PKCE; the connection becomes active and syncs; every
//! refusal leaves it as it was with a reason, and the page says why.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{oauth_connection, path_and_query};
use crate::support::{
    CUSTOM_MCP, CapturedLogs, FakeAuthorizationServer, FakeOAuthOptions, TestApp, TestResponse,
    assert_no_secret, uuid,
};

const CALLBACK: &str = "/v1/integrations/oauth/callback";

/// An app with a pending OAuth connection to `server`: its id and its authorize URL.
async fn pending(app: &TestApp, server: &FakeAuthorizationServer) -> (String, String) {
    let created = app
        .post_json(CUSTOM_MCP, oauth_connection(&server.mcp_url(), json!({})))
        .await
        .expect(StatusCode::CREATED);
    (
        created["connection_id"].as_str().expect("an id").to_owned(),
        created["authorize_url"].as_str().expect("a URL").to_owned(),
    )
}

/// The browser landing on the service with the authorization server's redirect.
async fn land(app: &TestApp, location: &str) -> TestResponse {
    app.anonymous().get(&path_and_query(location)).await
}

fn finalize_url(connection_id: &str) -> String {
    format!("/v1/integrations/connections/{connection_id}/finalize")
}

/// `POST …/reauthorize` as the owner (200 expected): the new authorize URL.
async fn reauthorize(app: &TestApp, connection_id: &str) -> String {
    let again = app
        .post_json(
            &format!("/v1/integrations/connections/{connection_id}/reauthorize"),
            json!({}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(again["connection_id"], json!(connection_id));
    again["authorize_url"].as_str().expect("a URL").to_owned()
}

#[tokio::test]
async fn an_approved_authorization_activates_the_connection_and_its_tools_sync() {
    let logs = CapturedLogs::start();
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let app = TestApp::new().await;
    let _jobs = app.start_job_runner();
    let (id, authorize_url) = pending(&app, &server).await;
    app.post_json(&finalize_url(&id), json!({}))
        .await
        .expect_validation_error(&[&["path", "connection_id"]]);

    let location = server.approve(&authorize_url).await;
    let page = land(&app, &location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(
        page.header("content-security-policy")
            .is_some_and(|policy| policy.contains("script-src 'self'"))
    );
    assert!(
        page.text()
            .contains("Docs is connected. You can close this window."),
        "{}",
        page.text()
    );
    assert!(page.text().contains(&format!("data-connection=\"{id}\"")));

    let seeded = app.owned_connection(uuid(&json!(id))).await;
    let synced = app
        .wait_for(&seeded, "the first sync", |connection| {
            connection["tools_status"] == "synced"
        })
        .await;
    assert_eq!(synced["status"], "active");
    assert_eq!(synced["status_reason"], Value::Null);
    assert!(synced["connected_at"].is_string());
    assert!(!synced["tools"].as_array().expect("tools").is_empty());

    let exchange = server.token_requests().pop().expect("a token request");
    assert_eq!(
        exchange.param("grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(exchange.param("resource"), Some(server.mcp_url()));
    assert!(exchange.param("code_verifier").is_some());

    let finalized = app
        .post_json(&finalize_url(&id), json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(finalized["status"], "active");
    let again = app
        .post_json(&finalize_url(&id), json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        again["connected_at"], finalized["connected_at"],
        "finalize is idempotent"
    );

    // The same redirect again: the state was used.
    let replay = land(&app, &location).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert!(
        replay.text().contains("already completed"),
        "{}",
        replay.text()
    );
    assert_eq!(
        server.token_requests().len(),
        1,
        "a used state exchanges nothing"
    );

    let secrets: Vec<String> = server
        .token_requests()
        .iter()
        .flat_map(|request| {
            ["code", "code_verifier"].map(|name| request.param(name).unwrap_or_default())
        })
        .collect();
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&app.listing().await[0].to_string(), &secrets, "the listing");
    assert_no_secret(&logs.text(), &secrets, "the log");
    server.stop().await;
}

#[tokio::test]
async fn a_denied_authorization_keeps_the_connection_pending_with_the_reason() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let app = TestApp::new().await;
    let (id, authorize_url) = pending(&app, &server).await;
    // What the server writes is quoted, made storable and escaped.
    let mut denied = url::Url::parse(&server.deny(&authorize_url).await).expect("a URL");
    let pairs: Vec<(String, String)> = denied
        .query_pairs()
        .map(|(name, value)| match name.as_ref() {
            "error_description" => (name.into_owned(), "No\0<b>thanks</b>".to_owned()),
            _ => (name.into_owned(), value.into_owned()),
        })
        .collect();
    denied.query_pairs_mut().clear().extend_pairs(pairs);
    let denied = denied.to_string();
    let page = land(&app, &denied).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text().contains("access_denied"), "{}", page.text());
    assert!(page.text().contains("&lt;b&gt;thanks"), "{}", page.text());
    assert!(!page.text().contains('\0'));
    let connection = &app.listing().await[0];
    assert_eq!(connection["status"], "pending_oauth");
    assert!(
        connection["status_reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("access_denied"))
    );
    assert_eq!(server.token_requests().len(), 0);
    let refused = app
        .post_json(&finalize_url(&id), json!({}))
        .await
        .expect_validation_error(&[&["path", "connection_id"]]);
    assert!(
        refused[0]["msg"]
            .as_str()
            .expect("a message")
            .contains("reauthorize")
    );
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_or_missing_state_is_refused_with_a_page_and_changes_nothing() {
    let app = TestApp::new().await;
    for query in [
        "",
        "?code=abc",
        "?state=not-a-state&code=abc",
        "?state=%3Cscript%3E",
    ] {
        let page = app.anonymous().get(&format!("{CALLBACK}{query}")).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
        assert!(page.text().starts_with("<!doctype html>"), "{query}");
        assert!(!page.text().contains("<script>"), "{query}");
    }
    // The path v1.90 names answers the same.
    let page = app
        .anonymous()
        .get("/integrations/oauth/callback?state=x")
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_expired_state_is_refused_and_a_new_authorization_can_begin() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let app = TestApp::build()
        .clock(feather_service::ManualClock::starting_now())
        .start()
        .await;
    let (id, authorize_url) = pending(&app, &server).await;
    let location = server.approve(&authorize_url).await;
    app.clock().advance(chrono::Duration::minutes(11));
    let page = land(&app, &location).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.text().contains("expired"), "{}", page.text());
    assert_eq!(server.token_requests().len(), 0);
    assert_eq!(app.listing().await[0]["status"], "pending_oauth");

    let location = server.approve(&reauthorize(&app, &id).await).await;
    let page = land(&app, &location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(app.listing().await[0]["status"], "active");
    assert_eq!(
        server.registrations().len(),
        1,
        "the client is kept for the same issuer"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_new_authorization_replaces_the_one_before() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let app = TestApp::new().await;
    let (id, first) = pending(&app, &server).await;
    let second = reauthorize(&app, &id).await;
    let stale = land(&app, &server.approve(&first).await).await;
    assert_eq!(stale.status, StatusCode::BAD_REQUEST);
    let fresh = land(&app, &server.approve(&second).await).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text());
    server.stop().await;
}

#[tokio::test]
async fn another_organization_cannot_finalize_or_reauthorize() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let app = TestApp::new().await;
    let (id, _) = pending(&app, &server).await;
    for action in ["finalize", "reauthorize"] {
        app.as_stranger()
            .post_json(
                &format!("/v1/integrations/connections/{id}/{action}"),
                json!({}),
            )
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_static_connection_has_nothing_to_reauthorize() {
    let app = TestApp::new().await;
    let created = app
        .post_json(
            CUSTOM_MCP,
            json!({"nickname": "Static", "server_url": "http://127.0.0.1:1/mcp", "transport": "streamable_http"}),
        )
        .await
        .expect(StatusCode::CREATED);
    let id = created["connection_id"].as_str().expect("an id");
    app.post_json(
        &format!("/v1/integrations/connections/{id}/reauthorize"),
        json!({}),
    )
    .await
    .expect_validation_error(&[&["path", "connection_id"]]);
}

#[tokio::test]
async fn a_call_refused_for_its_scopes_asks_the_next_authorization_for_them() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        required_scope: Some("tools:call".to_owned()),
        ..FakeOAuthOptions::default()
    })
    .await;
    let app = TestApp::new().await;
    let (id, authorize_url) = pending(&app, &server).await;
    assert_eq!(super::query_param(&authorize_url, "scope"), None);
    let page = land(&app, &server.approve(&authorize_url).await).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    let seeded = app.owned_connection(uuid(&json!(id))).await;
    let (_, synced) = app.sync_now(&seeded).await;

    let refused = app
        .call_tool(&synced, "search_customers", json!({"query": "a"}))
        .await;
    let body = refused.expect_error(StatusCode::BAD_GATEWAY, "upstream_error");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("tools:call")),
        "{body}"
    );
    let connection = app.connection(&synced).await;
    assert_eq!(connection["status"], "error");
    assert!(
        connection["status_reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("re-authorize")),
        "{connection}"
    );

    let url = reauthorize(&app, &id).await;
    let scopes = super::query_param(&url, "scope").expect("scopes asked for");
    assert!(
        scopes.split(' ').any(|scope| scope == "tools:call"),
        "{scopes}"
    );
    let page = land(&app, &server.approve(&url).await).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert_eq!(app.connection(&synced).await["status"], "active");
    app.call_tool(&synced, "search_customers", json!({"query": "a"}))
        .await
        .expect(StatusCode::OK);
    server.stop().await;
}
