//! `POST /v1/integrations/connections/custom-mcp/discover`: what a server says about its
//! authorization, asked before anything is stored.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{FakeAuthorizationServer, FakeMcp, FakeOAuthOptions, TestApp, Upstream};

const DISCOVER: &str = "/v1/integrations/connections/custom-mcp/discover";

#[tokio::test]
async fn a_server_with_metadata_reports_its_endpoints_registration_and_scopes() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        resource_scopes: vec!["docs:read".to_owned(), "docs:write".to_owned()],
        scopes_supported: vec!["docs:read".to_owned(), "docs:write".to_owned()],
        ..FakeOAuthOptions::default()
    })
    .await;
    let app = TestApp::new().await;
    let found = app
        .post_json(DISCOVER, json!({"server_url": server.mcp_url()}))
        .await
        .expect(StatusCode::OK);
    let issuer = server.issuer();
    assert_eq!(
        found,
        json!({
            "supports_dcr": true,
            "authorize_url": format!("{issuer}/authorize"),
            "token_url": format!("{issuer}/token"),
            "scopes": ["docs:read", "docs:write"],
            "oauth_required": true,
            "supports_client_id_metadata_document": false,
            "detail": format!("The server takes OAuth tokens from {issuer}."),
        })
    );
    assert_eq!(
        app.listing().await,
        Vec::<serde_json::Value>::new(),
        "nothing stored"
    );
    // The unauthenticated probe, then the metadata the challenge names, then the
    // authorization server's: nothing else.
    let asked: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .map(|request| (request.method, request.path))
        .collect();
    assert_eq!(
        asked,
        [
            ("POST", "/mcp"),
            ("GET", "/.well-known/oauth-protected-resource/mcp"),
            ("GET", "/.well-known/oauth-authorization-server"),
        ]
        .map(|(method, path)| (method.to_owned(), path.to_owned()))
    );
    server.stop().await;
}

#[tokio::test]
async fn a_server_that_needs_no_credentials_says_so() {
    let open = FakeMcp::start(Upstream::Lists(json!([]))).await;
    let app = TestApp::new().await;
    let found = app
        .post_json(
            DISCOVER,
            json!({"server_url": open.url(), "transport": "streamable_http"}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(found["oauth_required"], false);
    assert_eq!(found["supports_dcr"], false);
    assert_eq!(found["authorize_url"], serde_json::Value::Null);
    assert!(
        found["detail"]
            .as_str()
            .expect("a detail")
            .contains("auth_type none"),
        "{found}"
    );
    open.stop().await;
}

#[tokio::test]
async fn a_server_without_metadata_is_offered_the_2025_03_26_default_endpoints() {
    let bare = FakeMcp::start(Upstream::Status(401)).await;
    let app = TestApp::new().await;
    let found = app
        .post_json(DISCOVER, json!({"server_url": bare.url()}))
        .await
        .expect(StatusCode::OK);
    let origin = bare.url().trim_end_matches("/mcp").to_owned();
    assert_eq!(found["oauth_required"], true);
    assert_eq!(
        found["supports_dcr"], true,
        "2025-03-26's defaults include /register"
    );
    assert_eq!(found["authorize_url"], format!("{origin}/authorize"));
    assert_eq!(found["token_url"], format!("{origin}/token"));
    assert!(
        found["detail"]
            .as_str()
            .expect("a detail")
            .contains("publishes no metadata"),
        "{found}"
    );
    bare.stop().await;
}

#[tokio::test]
async fn metadata_without_pkce_is_reported_as_unusable() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        code_challenge_methods: None,
        ..FakeOAuthOptions::default()
    })
    .await;
    let app = TestApp::new().await;
    let found = app
        .post_json(DISCOVER, json!({"server_url": server.mcp_url()}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(found["oauth_required"], true);
    assert_eq!(found["authorize_url"], serde_json::Value::Null);
    assert!(
        found["detail"].as_str().expect("a detail").contains("PKCE"),
        "{found}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_refused_or_malformed_url_is_a_422_and_an_unreachable_one_a_502() {
    let app = TestApp::new().await;
    app.post_json(DISCOVER, json!({"server_url": "http://10.0.0.1/mcp"}))
        .await
        .expect_validation_error(&[&["body", "server_url"]]);
    app.post_json(
        DISCOVER,
        json!({"server_url": "", "transport": "carrier-pigeon"}),
    )
    .await
    .expect_validation_error(&[&["body", "server_url"], &["body", "transport"]]);
    app.post_json(
        DISCOVER,
        json!({"server_url": "http://127.0.0.1:1/mcp", "extra": 1}),
    )
    .await
    .expect_validation_error(&[&["body", "extra"]]);
    app.post_json(DISCOVER, json!({"server_url": "http://127.0.0.1:1/mcp"}))
        .await
        .expect_error(StatusCode::BAD_GATEWAY, "upstream_error");
}

#[tokio::test]
async fn discovery_needs_a_key_that_may_write() {
    let app = TestApp::new().await;
    app.anonymous()
        .post_json(DISCOVER, json!({"server_url": "http://127.0.0.1:1/mcp"}))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
}
