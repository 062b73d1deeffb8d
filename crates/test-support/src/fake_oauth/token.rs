//! The token endpoint: client authentication (RFC 6749 §2.3, §3.2.1), the code exchange
//! (§4.1.3 with RFC 7636 §4.6 and RFC 8707 §2.2) and refresh with rotation (§6, OAuth 2.1
//! §4.3.1, RFC 9700 §4.14).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::Shared;
use super::authorize::no_store;
use super::form::{Params, decode_credential, is_pkce_string, scope_tokens};
use super::grants::Issue;

/// An error answer of the token endpoint (RFC 6749 §5.2).
type Refusal = Box<Response>;

/// `POST /token`.
pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match answer(&shared, &headers, &body) {
        Ok(response) => response,
        Err(refusal) => *refusal,
    }
}

fn answer(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Response, Refusal> {
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(refuse(
            "invalid_request",
            "the body must be form-urlencoded",
        ));
    }
    let params = Params::parse(&String::from_utf8_lossy(body));
    if let Some(name) = params.repeated() {
        return Err(refuse("invalid_request", &format!("{name} is repeated")));
    }
    let client_id = authenticate(shared, headers, &params)?;
    let granted = match params.get("grant_type") {
        None => return Err(refuse("invalid_request", "grant_type is missing")),
        Some("authorization_code") => exchange_code(shared, &client_id, &params)?,
        Some("refresh_token") => refresh(shared, &client_id, &params)?,
        Some(_) => return Err(refuse("unsupported_grant_type", "unsupported grant_type")),
    };
    Ok((no_store(), Json(granted)).into_response())
}

/// The authenticated client's ID: the method it used must be the one it registered and
/// the only one it used.
fn authenticate(shared: &Shared, headers: &HeaderMap, params: &Params) -> Result<String, Refusal> {
    let basic = match headers.get(AUTHORIZATION) {
        None => None,
        Some(value) => Some(
            basic_credentials(value)
                .ok_or_else(|| invalid_client(true, "malformed Basic credentials"))?,
        ),
    };
    let body_secret = params.get("client_secret").map(str::to_owned);
    let body_id = params.get("client_id");
    let (client_id, method, secret) = match basic {
        Some(_) if body_secret.is_some() => {
            return Err(refuse(
                "invalid_request",
                "more than one client authentication method",
            ));
        }
        Some((id, _)) if body_id.is_some_and(|body_id| body_id != id) => {
            return Err(invalid_client(true, "client_id differs from Basic's"));
        }
        Some((id, secret)) => (id, "client_secret_basic", Some(secret)),
        None => {
            let id = body_id.ok_or_else(|| invalid_client(false, "no client authentication"))?;
            let method = match body_secret {
                Some(_) => "client_secret_post",
                None => "none",
            };
            (id.to_owned(), method, body_secret)
        }
    };
    let attempted_basic = method == "client_secret_basic";
    let mut grants = shared.grants();
    let metadata_documents = shared.options.client_id_metadata_documents;
    let Some(client) = grants.client(&client_id, metadata_documents) else {
        return Err(invalid_client(attempted_basic, "unknown client"));
    };
    let expects_basic = client
        .auth_methods
        .iter()
        .any(|m| m == "client_secret_basic");
    if !client.auth_methods.iter().any(|allowed| allowed == method) {
        return Err(invalid_client(
            attempted_basic || expects_basic,
            "not the client's token endpoint authentication method",
        ));
    }
    if client.secret != secret {
        return Err(invalid_client(attempted_basic, "wrong client secret"));
    }
    Ok(client_id)
}

/// The client ID and secret of `Authorization: Basic …`, each form-urlencoded before
/// encoding (RFC 6749 §2.3.1).
fn basic_credentials(value: &HeaderValue) -> Option<(String, String)> {
    let (scheme, credentials) = value.to_str().ok()?.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(credentials.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((decode_credential(id)?, decode_credential(secret)?))
}

/// `grant_type=authorization_code`.
fn exchange_code(
    shared: &Shared,
    client_id: &str,
    params: &Params,
) -> Result<serde_json::Value, Refusal> {
    let code = params
        .get("code")
        .ok_or_else(|| refuse("invalid_request", "code is missing"))?;
    let mut grants = shared.grants();
    let Some(bound) = grants.codes.get_mut(code) else {
        return Err(refuse("invalid_grant", "unknown code"));
    };
    if bound.client_id != client_id {
        return Err(refuse(
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    if bound.redeemed {
        let grant = bound.grant;
        grants.revoke(grant);
        return Err(refuse(
            "invalid_grant",
            "the code was already used; what it granted is revoked",
        ));
    }
    // Any attempt spends the code, so that its verifier cannot be guessed.
    bound.redeemed = true;
    let bound = bound.clone();
    if bound.expired() {
        return Err(refuse("invalid_grant", "the code expired"));
    }
    if params.get("redirect_uri") != Some(bound.redirect_uri.as_str()) {
        return Err(refuse(
            "invalid_grant",
            "redirect_uri differs from the authorization request's",
        ));
    }
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| refuse("invalid_request", "code_verifier is missing"))?;
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    if !is_pkce_string(verifier) || challenge != bound.code_challenge {
        return Err(refuse("invalid_grant", "code_verifier does not match"));
    }
    let resource = token_resource(shared, params, bound.resource.as_deref())?;
    let refresh = shared.options.issue_refresh_tokens
        && grants
            .clients
            .get(client_id)
            .is_some_and(|client| client.may_refresh());
    let issue = Issue {
        client_id,
        resource,
        scope: bound.scope.clone(),
        grant_scope: bound.scope,
        grant: bound.grant,
        refresh,
    };
    Ok(grants.issue(issue, shared.options.access_token_lifetime))
}

/// `grant_type=refresh_token`: the token is spent, and a new one comes with the new access
/// token; spending one twice revokes the grant.
fn refresh(
    shared: &Shared,
    client_id: &str,
    params: &Params,
) -> Result<serde_json::Value, Refusal> {
    let token = params
        .get("refresh_token")
        .ok_or_else(|| refuse("invalid_request", "refresh_token is missing"))?;
    let mut grants = shared.grants();
    if !grants
        .clients
        .get(client_id)
        .is_some_and(|client| client.may_refresh())
    {
        return Err(refuse(
            "unauthorized_client",
            "the client did not register the refresh_token grant type",
        ));
    }
    let Some(stored) = grants.refresh.get(token).cloned() else {
        return Err(refuse("invalid_grant", "unknown refresh token"));
    };
    if stored.client_id != client_id || grants.is_revoked(stored.grant) {
        return Err(refuse("invalid_grant", "the refresh token is not valid"));
    }
    if stored.used {
        grants.revoke(stored.grant);
        return Err(refuse(
            "invalid_grant",
            "the refresh token was already used; the grant is revoked",
        ));
    }
    let scope = match params.get("scope") {
        None => stored.scope.clone(),
        Some(scope) => scope_tokens(scope)
            .filter(|tokens| tokens.iter().all(|token| stored.scope.contains(token)))
            .ok_or_else(|| refuse("invalid_scope", "scope exceeds the original grant"))?,
    };
    let resource = token_resource(shared, params, stored.resource.as_deref())?;
    if let Some(spent) = grants.refresh.get_mut(token) {
        spent.used = true;
    }
    let issue = Issue {
        client_id,
        resource,
        scope,
        grant_scope: stored.scope,
        grant: stored.grant,
        refresh: true,
    };
    Ok(grants.issue(issue, shared.options.access_token_lifetime))
}

/// The audience of the token to issue: the token request's `resource`, which must be the
/// authorized one when the grant named one (RFC 8707 §2.2), else the grant's.
fn token_resource(
    shared: &Shared,
    params: &Params,
    authorized: Option<&str>,
) -> Result<Option<String>, Refusal> {
    let requested = params.all("resource");
    match requested.as_slice() {
        [] => Ok(authorized.map(str::to_owned)),
        [resource]
            if *resource == shared.mcp_url
                && authorized.is_none_or(|authorized| authorized == *resource) =>
        {
            Ok(Some((*resource).to_owned()))
        }
        _ => Err(refuse(
            "invalid_target",
            "resource is not the authorized one",
        )),
    }
}

fn refuse(error: &str, description: &str) -> Refusal {
    let body = json!({"error": error, "error_description": description});
    Box::new((StatusCode::BAD_REQUEST, no_store(), Json(body)).into_response())
}

/// 401 `invalid_client`, with the Basic challenge RFC 6749 §5.2 requires when the client
/// tried (or should have tried) the Authorization header.
fn invalid_client(basic: bool, description: &str) -> Refusal {
    let body = json!({"error": "invalid_client", "error_description": description});
    let mut response = (StatusCode::UNAUTHORIZED, no_store(), Json(body)).into_response();
    if basic {
        let challenge = HeaderValue::from_static("Basic realm=\"fake-oauth\"");
        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    }
    Box::new(response)
}
