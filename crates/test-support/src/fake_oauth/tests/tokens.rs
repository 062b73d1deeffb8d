//! The token endpoint and the protected MCP server, over plain HTTP.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn a_client_registers_authorizes_exchanges_and_refreshes_with_rotation() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let (id, secret) = basic_client(&server).await;
    let client = (id.as_str(), secret.as_str());

    let location = server.approve(&authorize_url(&server, &id, &[])).await;
    assert!(
        location.starts_with("http://127.0.0.1:9/callback?from=test&"),
        "{location}"
    );
    let params = redirect_params(&location);
    assert_eq!(param(&params, "state"), Some("st4te"));
    assert_eq!(param(&params, "iss"), Some(server.issuer().as_str()));
    let code = param(&params, "code").expect("a code").to_owned();
    let authorize = server
        .requests()
        .into_iter()
        .find(|request| request.path == "/authorize");
    let authorize = authorize.expect("the authorization request is recorded");
    assert_eq!(
        authorize.param("code_challenge"),
        Some(challenge_of(VERIFIER))
    );

    let tokens = exchange(&server, &code, client).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert_eq!(tokens.headers["cache-control"], "no-store");
    assert_eq!(
        (&tokens.body["token_type"], &tokens.body["expires_in"]),
        (&json!("Bearer"), &json!(3600))
    );
    let access = tokens.field("access_token");
    let first_refresh = tokens.field("refresh_token");
    assert_eq!(
        mcp(&server, Some(&access), initialize()).await.status(),
        StatusCode::OK
    );

    let rotated = refresh(&server, &first_refresh, client).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let second_refresh = rotated.field("refresh_token");
    assert_ne!(second_refresh, first_refresh, "refresh tokens rotate");
    let second_access = rotated.field("access_token");
    assert_eq!(
        mcp(&server, Some(&second_access), initialize())
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(server.token_requests().len(), 2);
    assert_eq!(
        server.token_requests()[1].param("grant_type").as_deref(),
        Some("refresh_token")
    );

    // Replaying the spent refresh token revokes the whole grant.
    let replay = refresh(&server, &first_refresh, client).await;
    assert_eq!(
        (replay.status, replay.error()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    assert_eq!(
        refresh(&server, &second_refresh, client).await.error(),
        "invalid_grant"
    );
    let response = mcp(&server, Some(&second_access), initialize()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(www_authenticate(&response).contains("error=\"invalid_token\""));
    server.stop().await;
}

#[tokio::test]
async fn the_code_exchange_is_strict() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let (id, secret) = basic_client(&server).await;
    let client = (id.as_str(), secret.as_str());
    let exchange_with = |code: String, changes: Vec<(&'static str, &'static str)>| {
        let server = &server;
        async move {
            let mut pairs = vec![
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", VERIFIER),
            ];
            for (name, value) in changes {
                pairs.retain(|(key, _)| *key != name);
                pairs.push((name, value));
            }
            token(server, &pairs, Some(client)).await.error().to_owned()
        }
    };
    let cases = [
        (vec![("code_verifier", OTHER_VERIFIER)], "invalid_grant"),
        (
            vec![("redirect_uri", "http://127.0.0.1:9/other")],
            "invalid_grant",
        ),
        (
            vec![("resource", "http://127.0.0.1:9/mcp")],
            "invalid_target",
        ),
    ];
    for (changes, error) in cases {
        let code = code_for(&server, &id, &[]).await;
        assert_eq!(
            exchange_with(code, changes.clone()).await,
            error,
            "{changes:?}"
        );
    }

    // A code used twice: refused, and the tokens it gave revoked.
    let code = code_for(&server, &id, &[]).await;
    let tokens = exchange(&server, &code, client).await;
    let access = tokens.field("access_token");
    assert_eq!(
        exchange(&server, &code, client).await.error(),
        "invalid_grant"
    );
    let response = mcp(&server, Some(&access), initialize()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&server, &tokens.field("refresh_token"), client)
            .await
            .error(),
        "invalid_grant"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_client_must_authenticate_as_it_registered() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions::default()).await;
    let (id, secret) = basic_client(&server).await;
    let code = code_for(&server, &id, &[]).await;
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];

    let mut post = grant.to_vec();
    post.extend([
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ]);
    let answer = token(&server, &post, None).await;
    assert_eq!(
        (answer.status, answer.error()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert!(
        answer.headers["www-authenticate"]
            .to_str()
            .is_ok_and(|value| value.starts_with("Basic"))
    );

    let answer = token(&server, &post, Some((&id, &secret))).await;
    assert_eq!(
        (answer.status, answer.error()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );

    let answer = token(&server, &grant, Some((&id, "wrong"))).await;
    assert_eq!(
        (answer.status, answer.error()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );

    let mut public = grant.to_vec();
    public.push(("client_id", id.as_str()));
    assert_eq!(
        token(&server, &public, None).await.error(),
        "invalid_client"
    );

    // None of the refused attempts reached the code: it still works.
    let answer = token(&server, &grant, Some((&id, &secret))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    server.stop().await;
}

#[tokio::test]
async fn basic_credentials_are_form_urlencoded_first() {
    let options = FakeOAuthOptions {
        pre_registered: Some(("my client:1".into(), Some("s3cr3t/+&%".into()))),
        ..FakeOAuthOptions::default()
    };
    let server = FakeAuthorizationServer::start(options).await;
    let id = "my client:1";
    let code = code_for(&server, id, &[]).await;
    let grant = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
    ];
    let raw = STANDARD.encode("my client:1:s3cr3t/+&%");
    let answer = browser()
        .post(format!("{}/token", server.issuer()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {raw}"))
        .body(encode(&grant))
        .send()
        .await
        .expect("the token endpoint answers");
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    let answer = token(&server, &grant, Some((id, "s3cr3t/+&%"))).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    server.stop().await;
}

#[tokio::test]
async fn the_mcp_server_challenges_as_the_mcp_authorization_spec_says() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        challenge_scope: Some("mcp".into()),
        ..FakeOAuthOptions::default()
    })
    .await;
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        server.issuer()
    );

    let response = mcp(&server, None, initialize()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        www_authenticate(&response),
        format!("Bearer resource_metadata=\"{metadata}\", scope=\"mcp\"")
    );
    let response = mcp(&server, Some("made-up"), initialize()).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        www_authenticate(&response),
        format!("Bearer error=\"invalid_token\", resource_metadata=\"{metadata}\", scope=\"mcp\"")
    );

    let (id, secret) = basic_client(&server).await;
    let code = code_for(&server, &id, &[]).await;
    let tokens = exchange(&server, &code, (&id, &secret)).await;
    let access = tokens.field("access_token");
    let response = mcp(&server, Some(&access), initialize()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.expect("a JSON-RPC answer");
    assert!(answer["result"]["serverInfo"].is_object(), "{answer}");

    // Expired access tokens: refused, and a refresh gives a working one.
    server.expire_access_tokens();
    assert_eq!(
        mcp(&server, Some(&access), initialize()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refreshed = refresh(&server, &tokens.field("refresh_token"), (&id, &secret)).await;
    let access = refreshed.field("access_token");
    assert_eq!(
        mcp(&server, Some(&access), initialize()).await.status(),
        StatusCode::OK
    );

    server.revoke_grants();
    assert_eq!(
        mcp(&server, Some(&access), initialize()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refused = refresh(&server, &refreshed.field("refresh_token"), (&id, &secret)).await;
    assert_eq!(refused.error(), "invalid_grant");
    server.stop().await;
}

#[tokio::test]
async fn a_tool_call_needs_the_required_scope() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        required_scope: Some("tools:call".into()),
        ..FakeOAuthOptions::default()
    })
    .await;
    let (id, secret) = basic_client(&server).await;
    let code = code_for(&server, &id, &[("scope", "read")]).await;
    let tokens = exchange(&server, &code, (&id, &secret)).await;
    assert_eq!(tokens.field("scope"), "read");
    let narrow = tokens.field("access_token");
    assert_eq!(
        mcp(&server, Some(&narrow), initialize()).await.status(),
        StatusCode::OK
    );
    let response = mcp(&server, Some(&narrow), tool_call()).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        server.issuer()
    );
    assert_eq!(
        www_authenticate(&response),
        format!(
            "Bearer error=\"insufficient_scope\", scope=\"read tools:call\", resource_metadata=\"{metadata}\""
        )
    );

    // A refresh may narrow the scope, never widen it.
    let widened = [
        ("grant_type", "refresh_token"),
        ("refresh_token", &tokens.field("refresh_token")),
        ("scope", "read tools:call"),
    ];
    assert_eq!(
        token(&server, &widened, Some((&id, &secret))).await.error(),
        "invalid_scope"
    );

    let code = code_for(&server, &id, &[("scope", "read tools:call")]).await;
    let wide = exchange(&server, &code, (&id, &secret))
        .await
        .field("access_token");
    let response = mcp(&server, Some(&wide), tool_call()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.expect("a JSON-RPC answer");
    assert_eq!(answer["result"]["isError"], false, "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn public_and_metadata_document_clients_use_no_secret() {
    let server = FakeAuthorizationServer::start(FakeOAuthOptions {
        client_id_metadata_documents: true,
        ..FakeOAuthOptions::default()
    })
    .await;
    let client_id = "https://client.example/oauth/metadata.json";
    let code = code_for(&server, client_id, &[]).await;
    let mut grant = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", client_id),
    ];
    let tokens = token(&server, &grant, None).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);

    // A registered public client without the refresh_token grant type gets no refresh token.
    let (_, client) = register(
        &server,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}),
    )
    .await;
    let public_id = client["client_id"].as_str().expect("a client_id");
    let code = code_for(&server, public_id, &[]).await;
    grant[1].1 = &code;
    grant[4].1 = public_id;
    let tokens = token(&server, &grant, None).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);
    assert!(
        tokens.body.get("refresh_token").is_none(),
        "{}",
        tokens.body
    );
    server.stop().await;
}
