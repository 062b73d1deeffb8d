//! The fake itself, exercised over plain HTTP the way a client would, so that a test of
//! the real client failing against it means the client, not the fake.

use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::*;

mod tokens;

const REDIRECT: &str = "http://127.0.0.1:9/callback?from=test";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// A well-formed verifier that is not [`VERIFIER`].
const OTHER_VERIFIER: &str = "aBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn encode(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The authorization URL for `client_id` with PKCE S256 of [`VERIFIER`], `state`, the
/// MCP server as resource, and `extra`.
fn authorize_url(
    server: &FakeAuthorizationServer,
    client_id: &str,
    extra: &[(&str, &str)],
) -> String {
    let challenge = challenge_of(VERIFIER);
    let mcp_url = server.mcp_url();
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "st4te"),
        ("resource", mcp_url.as_str()),
    ];
    pairs.extend_from_slice(extra);
    format!("{}/authorize?{}", server.issuer(), encode(&pairs))
}

/// The query parameters of the redirect `location`.
fn redirect_params(location: &str) -> Vec<(String, String)> {
    let url = url::Url::parse(location).expect("the redirect is a URL");
    url.query_pairs().into_owned().collect()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

async fn get_json(url: &str) -> (StatusCode, Value) {
    let response = browser().get(url).send().await.expect("GET answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Registers a client; `body` is the registration request.
async fn register(server: &FakeAuthorizationServer, body: Value) -> (StatusCode, Value) {
    let response = browser()
        .post(format!("{}/register", server.issuer()))
        .json(&body)
        .send()
        .await
        .expect("registration answers");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A confidential client using `client_secret_basic` that may refresh: (id, secret).
async fn basic_client(server: &FakeAuthorizationServer) -> (String, String) {
    let (status, client) = register(
        server,
        json!({
            "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"],
            "client_name": "test",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    let id = client["client_id"].as_str().expect("a client_id");
    let secret = client["client_secret"].as_str().expect("a client_secret");
    (id.to_owned(), secret.to_owned())
}

#[derive(Debug)]
struct TokenAnswer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

impl TokenAnswer {
    fn error(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    fn field(&self, name: &str) -> String {
        let value = self.body[name].as_str();
        value
            .unwrap_or_else(|| panic!("no {name} in {}", self.body))
            .to_owned()
    }
}

/// POSTs `pairs` to the token endpoint, with Basic credentials when given (encoded as
/// RFC 6749 §2.3.1 says).
async fn token(
    server: &FakeAuthorizationServer,
    pairs: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> TokenAnswer {
    let mut request = browser()
        .post(format!("{}/token", server.issuer()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(pairs));
    if let Some((id, secret)) = basic {
        let form = |text: &str| encode(&[("", text)])[1..].to_owned();
        let credentials = STANDARD.encode(format!("{}:{}", form(id), form(secret)));
        request = request.header("authorization", format!("Basic {credentials}"));
    }
    let response = request.send().await.expect("the token endpoint answers");
    TokenAnswer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.json().await.unwrap_or(Value::Null),
    }
}

/// Approves an authorization for `client_id` and returns the code.
async fn code_for(
    server: &FakeAuthorizationServer,
    client_id: &str,
    extra: &[(&str, &str)],
) -> String {
    let location = server
        .approve(&authorize_url(server, client_id, extra))
        .await;
    let params = redirect_params(&location);
    param(&params, "code")
        .unwrap_or_else(|| panic!("no code in {location}"))
        .to_owned()
}

/// Exchanges `code` with Basic credentials and the right verifier.
async fn exchange(
    server: &FakeAuthorizationServer,
    code: &str,
    client: (&str, &str),
) -> TokenAnswer {
    let pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    token(server, &pairs, Some(client)).await
}

async fn refresh(
    server: &FakeAuthorizationServer,
    refresh_token: &str,
    client: (&str, &str),
) -> TokenAnswer {
    let pairs = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    token(server, &pairs, Some(client)).await
}

/// POSTs one JSON-RPC message to the MCP server with `token`, if any.
async fn mcp(
    server: &FakeAuthorizationServer,
    token: Option<&str>,
    message: Value,
) -> reqwest::Response {
    let mut request = browser()
        .post(server.mcp_url())
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&message);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("the MCP server answers")
}

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"}
        }
    })
}

fn tool_call() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "search_customers", "arguments": {"query": "a", "limit": 2}}
    })
}

fn www_authenticate(response: &reqwest::Response) -> String {
    let header = response.headers().get("www-authenticate");
    header
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn metadata_is_shaped_as_the_rfcs_say() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let issuer = server.issuer();
    assert!(issuer.starts_with("http://127.0.0.1:") && !issuer.ends_with('/'));

    let (status, prm) = get_json(&format!(
        "{issuer}/.well-known/oauth-protected-resource/mcp"
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        prm,
        json!({
            "resource": server.mcp_url(),
            "authorization_servers": [issuer],
            "bearer_methods_supported": ["header"],
        })
    );
    let (status, _) = get_json(&format!("{issuer}/.well-known/oauth-protected-resource")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        server.count("GET", "/.well-known/oauth-protected-resource"),
        1
    );

    let (status, metadata) =
        get_json(&format!("{issuer}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        metadata,
        json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "registration_endpoint": format!("{issuer}/register"),
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
        })
    );
    server.stop().await;

    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        registration: false,
        client_id_metadata_documents: true,
        iss_parameter: false,
        code_challenge_methods: None,
        scopes_supported: vec!["mcp".into()],
        resource_scopes: vec!["mcp".into()],
        ..FakeOAuthOptions::default()
    })
    .await;
    let issuer = server.issuer();
    let (_, metadata) = get_json(&format!("{issuer}/.well-known/oauth-authorization-server")).await;
    for absent in [
        "registration_endpoint",
        "code_challenge_methods_supported",
        "authorization_response_iss_parameter_supported",
    ] {
        assert!(metadata.get(absent).is_none(), "{absent} in {metadata}");
    }
    assert_eq!(metadata["client_id_metadata_document_supported"], true);
    assert_eq!(metadata["scopes_supported"], json!(["mcp"]));
    let (_, prm) = get_json(&format!(
        "{issuer}/.well-known/oauth-protected-resource/mcp"
    ))
    .await;
    assert_eq!(prm["scopes_supported"], json!(["mcp"]));
    let (status, _) = register(&server, json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

#[tokio::test]
async fn registration_validates_and_answers_client_information() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        token_endpoint_auth_methods: vec!["client_secret_post".into(), "none".into()],
        ..FakeOAuthOptions::default()
    })
    .await;
    let (status, error) = register(&server, json!({"client_name": "no redirects"})).await;
    assert_eq!(
        (status, &error["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_redirect_uri"))
    );
    let (status, error) = register(&server, json!({"redirect_uris": ["/relative"]})).await;
    assert_eq!(
        (status, &error["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_redirect_uri"))
    );
    // client_secret_basic is the default, and not advertised here.
    let (status, error) = register(&server, json!({"redirect_uris": [REDIRECT]})).await;
    assert_eq!(
        (status, &error["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_client_metadata"))
    );

    let request = json!({
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "client_name": "Feather",
        "application_type": "web",
        "scope": "mcp",
    });
    let (status, client) = register(&server, request.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{client}");
    assert!(client["client_id"].is_string() && client["client_id_issued_at"].is_u64());
    assert!(
        client.get("client_secret").is_none(),
        "a public client has no secret"
    );
    assert_eq!(client["token_endpoint_auth_method"], "none");
    assert_eq!(client["redirect_uris"], json!([REDIRECT]));
    assert_eq!(client["grant_types"], json!(["authorization_code"]));
    assert_eq!(client["response_types"], json!(["code"]));
    assert_eq!(
        (&client["client_name"], &client["scope"]),
        (&json!("Feather"), &json!("mcp"))
    );
    assert_eq!(server.registrations().len(), 4);
    assert_eq!(server.registrations()[3], request);
    server.stop().await;
}

#[tokio::test]
async fn the_authorization_endpoint_refuses_as_rfc_6749_says() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        scopes_supported: vec!["mcp".into()],
        ..FakeOAuthOptions::default()
    })
    .await;
    let (id, _) = basic_client(&server).await;

    // Not redirected: an unknown client, a redirect URI it did not register.
    for url in [
        authorize_url(&server, "nobody", &[]),
        authorize_url(&server, &id, &[]).replace("callback", "elsewhere"),
    ] {
        let response = browser()
            .get(&url)
            .header(CONSENT_HEADER, "approve")
            .send()
            .await;
        let response = response.expect("the authorization endpoint answers");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(response.headers().get("location").is_none());
    }

    let refused = |url: String| {
        let server = &server;
        async move {
            let location = server.approve(&url).await;
            let params = redirect_params(&location);
            assert_eq!(param(&params, "state"), Some("st4te"), "{location}");
            assert_eq!(param(&params, "iss"), Some(server.issuer().as_str()));
            assert!(param(&params, "code").is_none(), "{location}");
            param(&params, "error").unwrap_or_default().to_owned()
        }
    };
    let base = authorize_url(&server, &id, &[]);
    let plain = base.replace("S256", "plain");
    let no_challenge = base.replace("code_challenge=", "not_a_challenge=");
    let wrong_resource = authorize_url(&server, &id, &[("resource", "http://127.0.0.1:9/mcp")]);
    assert_eq!(refused(plain).await, "invalid_request");
    assert_eq!(refused(no_challenge).await, "invalid_request");
    assert_eq!(refused(wrong_resource).await, "invalid_target");
    assert_eq!(
        refused(authorize_url(&server, &id, &[("scope", "admin")])).await,
        "invalid_scope"
    );
    assert_eq!(
        refused(base.replace("response_type=code", "response_type=token")).await,
        "unsupported_response_type"
    );
    assert_eq!(
        refused(authorize_url(&server, &id, &[("state", "again")])).await,
        "invalid_request"
    );

    let location = server.deny(&base).await;
    let params = redirect_params(&location);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "state"), Some("st4te"));

    // A client fetching the URL itself gets the consent page, not a code.
    let response = browser().get(&base).send().await.expect("the consent page");
    assert_eq!(response.status(), StatusCode::OK);
    server.stop().await;
}
