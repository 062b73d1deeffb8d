//! `POST …/custom-mcp` with `auth_type: "oauth"`: a `pending_oauth` connection and the URL
//! to authorize it, with the client registered in the specification's order.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::{oauth_connection, query_param};
use crate::support::{
    CUSTOM_MCP, FakeAuthorizationServer, FakeMcp, FakeOAuthOptions, TestApp, Upstream,
    assert_no_secret,
};

const REDIRECT_URI: &str = "http://127.0.0.1:8000/v1/integrations/oauth/callback";

#[tokio::test]
async fn connecting_registers_a_client_and_answers_where_to_authorize() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        resource_scopes: vec!["docs:read".to_owned()],
        scopes_supported: vec!["docs:read".to_owned(), "offline_access".to_owned()],
        ..FakeOAuthOptions::default()
    })
    .await;
    let app = TestApp::new().await;
    let created = app
        .post_json(CUSTOM_MCP, oauth_connection(&server.mcp_url(), json!({})))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(created["status"], "pending_oauth");
    assert_eq!(created["vendor"], "mcp");
    let state = created["state"].as_str().expect("a state");
    assert!(state.len() >= 43, "a state of at least 256 bits: {state}");
    let url = created["authorize_url"].as_str().expect("an authorize URL");
    assert!(
        url.starts_with(&format!("{}/authorize?", server.issuer())),
        "{url}"
    );
    let param = |name| query_param(url, name);
    assert_eq!(param("response_type").as_deref(), Some("code"));
    assert_eq!(param("state").as_deref(), Some(state));
    assert_eq!(param("redirect_uri").as_deref(), Some(REDIRECT_URI));
    assert_eq!(param("code_challenge_method").as_deref(), Some("S256"));
    assert!(param("code_challenge").is_some_and(|challenge| challenge.len() == 43));
    assert_eq!(param("resource"), Some(server.mcp_url()));
    assert_eq!(param("scope").as_deref(), Some("docs:read offline_access"));

    let registrations = server.registrations();
    assert_eq!(registrations.len(), 1, "one dynamic registration");
    let registration = &registrations[0];
    assert_eq!(registration["redirect_uris"], json!([REDIRECT_URI]));
    assert_eq!(
        registration["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        registration["token_endpoint_auth_method"],
        "client_secret_basic"
    );
    let client_id = param("client_id").expect("a client id");

    let listing = app.listing().await;
    assert_eq!(listing.len(), 1);
    let connection = &listing[0];
    assert_eq!(connection["status"], "pending_oauth");
    assert_eq!(connection["connected_at"], Value::Null);
    assert_eq!(connection["tools_status"], "pending");
    assert_eq!(connection["metadata"]["auth_type"], "oauth");
    assert_eq!(connection["metadata"]["oauth_issuer"], server.issuer());
    assert_eq!(
        connection["metadata"]["oauth_scopes"],
        json!(["docs:read", "offline_access"])
    );
    assert!(
        app.take_due_job().await.is_none(),
        "no sync before the authorization"
    );
    assert_no_secret(&listing[0].to_string(), &[state, &client_id], "the listing");
    server.stop().await;
}

#[tokio::test]
async fn the_operators_client_and_scopes_are_used_as_given() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        registration: false,
        pre_registered: Some((
            "operator-client".to_owned(),
            Some("operator-s3cret".to_owned()),
        )),
        ..FakeOAuthOptions::default()
    })
    .await;
    let app = TestApp::new().await;
    let created = app
        .post_json(
            CUSTOM_MCP,
            oauth_connection(
                &server.mcp_url(),
                json!({
                    "oauth_client_id": "operator-client",
                    "oauth_client_secret": "operator-s3cret",
                    "oauth_scopes": ["files:read", "files:write"],
                }),
            ),
        )
        .await
        .expect(StatusCode::CREATED);
    let url = created["authorize_url"].as_str().expect("an authorize URL");
    assert_eq!(
        query_param(url, "client_id").as_deref(),
        Some("operator-client")
    );
    assert_eq!(
        query_param(url, "scope").as_deref(),
        Some("files:read files:write")
    );
    assert!(server.registrations().is_empty(), "no registration");
    assert_no_secret(&created.to_string(), &["operator-s3cret"], "the answer");
    assert_no_secret(
        &app.listing().await[0].to_string(),
        &["operator-s3cret"],
        "the listing",
    );
    server.stop().await;
}

#[tokio::test]
async fn a_server_without_registration_needs_the_operators_client_id() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        registration: false,
        ..FakeOAuthOptions::default()
    })
    .await;
    let app = TestApp::new().await;
    let problems = app
        .post_json(CUSTOM_MCP, oauth_connection(&server.mcp_url(), json!({})))
        .await
        .expect_validation_error(&[&["body", "oauth_client_id"]]);
    assert!(
        problems[0]["msg"]
            .as_str()
            .expect("a message")
            .contains(REDIRECT_URI),
        "the message says which redirect URI to register: {problems:?}"
    );
    assert_eq!(app.listing().await, Vec::<Value>::new(), "nothing stored");
    server.stop().await;
}

#[tokio::test]
async fn a_server_that_needs_no_oauth_or_publishes_unusable_metadata_is_refused() {
    let app = TestApp::new().await;
    let open = FakeMcp::start(Upstream::Lists(json!([]))).await;
    app.post_json(CUSTOM_MCP, oauth_connection(open.url(), json!({})))
        .await
        .expect_validation_error(&[&["body", "auth_type"]]);
    let no_pkce = FakeAuthorizationServer::start(FakeOAuthOptions {
        code_challenge_methods: None,
        ..FakeOAuthOptions::default()
    })
    .await;
    app.post_json(CUSTOM_MCP, oauth_connection(&no_pkce.mcp_url(), json!({})))
        .await
        .expect_validation_error(&[&["body", "server_url"]]);
    assert_eq!(no_pkce.count("GET", "/authorize"), 0);
    assert_eq!(app.listing().await, Vec::<Value>::new(), "nothing stored");
    open.stop().await;
    no_pkce.stop().await;
}

#[tokio::test]
async fn explicit_endpoints_must_be_web_urls_come_together_and_the_token_url_passes_the_guard() {
    let app = TestApp::new().await;
    let bare = FakeMcp::start(Upstream::Status(401)).await;
    let explicit = |authorize: &str, token: &str| {
        oauth_connection(
            bare.url(),
            json!({
                "oauth_authorize_url": authorize,
                "oauth_token_url": token,
                "oauth_client_id": "c",
            }),
        )
    };
    // The service requests the token URL itself; only the browser opens the other.
    app.post_json(
        CUSTOM_MCP,
        explicit("http://10.0.0.1/authorize", "http://10.0.0.1/token"),
    )
    .await
    .expect_validation_error(&[&["body", "oauth_token_url"]]);
    app.post_json(
        CUSTOM_MCP,
        explicit("javascript:alert(1)", "http://127.0.0.1:1/token"),
    )
    .await
    .expect_validation_error(&[&["body", "oauth_authorize_url"]]);
    app.post_json(
        CUSTOM_MCP,
        oauth_connection(
            bare.url(),
            json!({"oauth_authorize_url": "http://127.0.0.1:1/authorize"}),
        ),
    )
    .await
    .expect_validation_error(&[&["body", "oauth_token_url"]]);
    assert_eq!(app.listing().await, Vec::<Value>::new(), "nothing stored");

    let created = app
        .post_json(
            CUSTOM_MCP,
            explicit(
                "https://idp.internal.example/authorize",
                "http://127.0.0.1:1/token",
            ),
        )
        .await
        .expect(StatusCode::CREATED);
    let url = created["authorize_url"].as_str().expect("an authorize URL");
    assert!(
        url.starts_with("https://idp.internal.example/authorize?"),
        "{url}"
    );
    assert_eq!(query_param(url, "client_id").as_deref(), Some("c"));
    bare.stop().await;
}
