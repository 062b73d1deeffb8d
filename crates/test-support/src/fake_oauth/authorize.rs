//! Discovery (RFC 9728, RFC 8414), dynamic client registration (RFC 7591) and the
//! authorization endpoint (RFC 6749 §4.1.1 with RFC 7636, RFC 8707 and RFC 9207).

use std::sync::{Arc, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::form::{Params, is_pkce_string, scope_tokens};
use super::grants::{Client, Code, random_token};
use super::{CONSENT_HEADER, Shared};

/// The grant types this server implements.
const GRANT_TYPES: [&str; 2] = ["authorization_code", "refresh_token"];

/// `GET /.well-known/oauth-protected-resource/mcp` (RFC 9728 §3).
pub(super) async fn protected_resource_metadata(State(shared): State<Arc<Shared>>) -> Response {
    let mut metadata = json!({
        "resource": shared.mcp_url,
        "authorization_servers": [shared.issuer],
        "bearer_methods_supported": ["header"],
    });
    if !shared.options.resource_scopes.is_empty() {
        metadata["scopes_supported"] = json!(shared.options.resource_scopes);
    }
    Json(metadata).into_response()
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414 §2).
pub(super) async fn authorization_server_metadata(State(shared): State<Arc<Shared>>) -> Response {
    let options = &shared.options;
    let issuer = &shared.issuer;
    let mut metadata = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "response_types_supported": ["code"],
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": options.token_endpoint_auth_methods,
    });
    if options.registration {
        metadata["registration_endpoint"] = format!("{issuer}/register").into();
    }
    if let Some(methods) = &options.code_challenge_methods {
        metadata["code_challenge_methods_supported"] = json!(methods);
    }
    if !options.scopes_supported.is_empty() {
        metadata["scopes_supported"] = json!(options.scopes_supported);
    }
    if options.client_id_metadata_documents {
        metadata["client_id_metadata_document_supported"] = true.into();
    }
    if options.iss_parameter {
        metadata["authorization_response_iss_parameter_supported"] = true.into();
    }
    Json(metadata).into_response()
}

/// `POST /register` (RFC 7591 §3).
pub(super) async fn register(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed = serde_json::from_slice::<Value>(&body);
    shared
        .registrations
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(match &parsed {
            Ok(value) => value.clone(),
            Err(_) => String::from_utf8_lossy(&body).into_owned().into(),
        });
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.trim_start().starts_with("application/json"));
    let Some(request) = parsed
        .ok()
        .filter(|_| is_json)
        .and_then(|value| match value {
            Value::Object(request) => Some(request),
            _ => None,
        })
    else {
        return registration_error("invalid_client_metadata", "expected a JSON object");
    };
    match registered_client(&shared, &request) {
        Ok(client) => {
            let client_id = random_token();
            let answer = client_information(&client_id, &client, &request);
            shared.grants().clients.insert(client_id, client);
            (StatusCode::CREATED, no_store(), Json(answer)).into_response()
        }
        Err((error, description)) => registration_error(error, description),
    }
}

/// The client a registration request describes, or why it is refused (RFC 7591 §3.2.2).
fn registered_client(
    shared: &Shared,
    request: &Map<String, Value>,
) -> Result<Client, (&'static str, &'static str)> {
    const BAD_REDIRECTS: (&str, &str) = (
        "invalid_redirect_uri",
        "redirect_uris must be a non-empty array of absolute URLs without fragments",
    );
    let redirect_uris = request
        .get("redirect_uris")
        .and_then(Value::as_array)
        .filter(|uris| !uris.is_empty())
        .ok_or(BAD_REDIRECTS)?
        .iter()
        .map(|uri| uri.as_str().filter(|uri| is_redirect_uri(uri, false)))
        .collect::<Option<Vec<&str>>>()
        .ok_or(BAD_REDIRECTS)?;
    let method = match request.get("token_endpoint_auth_method") {
        None => "client_secret_basic",
        Some(method) => method.as_str().ok_or((
            "invalid_client_metadata",
            "token_endpoint_auth_method must be a string",
        ))?,
    };
    if !shared
        .options
        .token_endpoint_auth_methods
        .iter()
        .any(|supported| supported == method)
    {
        return Err((
            "invalid_client_metadata",
            "token_endpoint_auth_method is not supported",
        ));
    }
    // RFC 7591 §2: without grant_types the client uses only authorization_code, and then
    // it gets no refresh tokens.
    let grant_types = string_list(
        request,
        "grant_types",
        &["authorization_code"],
        &GRANT_TYPES,
    )
    .ok_or(("invalid_client_metadata", "unsupported grant_types"))?;
    string_list(request, "response_types", &["code"], &["code"])
        .ok_or(("invalid_client_metadata", "unsupported response_types"))?;
    Ok(Client {
        secret: (method != "none").then(random_token),
        auth_methods: vec![method.to_owned()],
        redirect_uris: redirect_uris.into_iter().map(str::to_owned).collect(),
        any_redirect_uri: false,
        grant_types,
    })
}

/// The strings of `request[field]` (or `default`), if all are among `supported`.
fn string_list(
    request: &Map<String, Value>,
    field: &str,
    default: &[&str],
    supported: &[&str],
) -> Option<Vec<String>> {
    let values = match request.get(field) {
        None => default.iter().map(|value| (*value).to_owned()).collect(),
        Some(values) => values
            .as_array()?
            .iter()
            .map(|value| value.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()?,
    };
    values
        .iter()
        .all(|value| supported.contains(&value.as_str()))
        .then_some(values)
}

/// The client information response (RFC 7591 §3.2.1).
fn client_information(client_id: &str, client: &Client, request: &Map<String, Value>) -> Value {
    let issued_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let mut answer = json!({
        "client_id": client_id,
        "client_id_issued_at": issued_at,
        "redirect_uris": client.redirect_uris,
        "token_endpoint_auth_method": client.auth_methods[0],
        "grant_types": client.grant_types,
        "response_types": ["code"],
    });
    if let Some(secret) = &client.secret {
        answer["client_secret"] = secret.as_str().into();
        // Required with a secret; 0 is "never expires".
        answer["client_secret_expires_at"] = 0.into();
    }
    for echoed in ["client_name", "application_type", "scope"] {
        if let Some(value) = request.get(echoed) {
            answer[echoed] = value.clone();
        }
    }
    answer
}

fn registration_error(error: &str, description: &str) -> Response {
    let body = json!({"error": error, "error_description": description});
    (StatusCode::BAD_REQUEST, no_store(), Json(body)).into_response()
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, for answers carrying credentials.
pub(super) fn no_store() -> [(&'static str, &'static str); 2] {
    [("cache-control", "no-store"), ("pragma", "no-cache")]
}

/// Whether `uri` is an absolute URL without a fragment (RFC 6749 §3.1.2), and, when
/// `http_only`, an http(s) one with a host.
fn is_redirect_uri(uri: &str, http_only: bool) -> bool {
    url::Url::parse(uri).is_ok_and(|url| {
        url.fragment().is_none()
            && (!http_only || (matches!(url.scheme(), "http" | "https") && url.has_host()))
    })
}

/// `GET /authorize`: an error page for a request that cannot be redirected safely, a
/// consent page for a browser that is not one of the helpers, else the redirect back.
pub(super) async fn authorize(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = Params::parse(uri.query().unwrap_or_default());
    let redirect_uri = match checked_redirect_uri(&shared, &params) {
        Ok(redirect_uri) => redirect_uri,
        Err(description) => return authorize_page_error(description),
    };
    let back = Redirect {
        shared: &shared,
        redirect_uri: &redirect_uri,
        state: params.get("state"),
    };
    let client_id = params.get("client_id").unwrap_or_default();
    let request = match authorization_request(&shared, &params, client_id) {
        Ok(request) => request,
        Err((error, description)) => return back.error(error, description),
    };
    match headers
        .get(CONSENT_HEADER)
        .and_then(|value| value.to_str().ok())
    {
        Some("approve") => {
            let code = random_token();
            let mut grants = shared.grants();
            let grant = grants.new_grant();
            let bound = Code {
                client_id: request.client_id,
                redirect_uri: redirect_uri.clone(),
                code_challenge: request.code_challenge,
                resource: request.resource,
                scope: request.scope,
                issued: Instant::now(),
                redeemed: false,
                grant,
            };
            grants.codes.insert(code.clone(), bound);
            drop(grants);
            back.to(&[("code", &code)])
        }
        Some("deny") => back.error("access_denied", "the user refused"),
        _ => Html("<h1>Sign in and consent</h1><p>(the fake's consent page)</p>").into_response(),
    }
}

/// The client's redirect URI, if the request names a known client and a redirect URI it
/// may use; else why not, for the error page (RFC 6749 §4.1.2.1: never redirected).
fn checked_redirect_uri(shared: &Shared, params: &Params) -> Result<String, &'static str> {
    if params.all("client_id").len() > 1 {
        return Err("client_id is repeated");
    }
    let client_id = params.get("client_id").ok_or("client_id is missing")?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or("redirect_uri is missing")?;
    if params.all("redirect_uri").len() > 1 {
        return Err("redirect_uri is repeated");
    }
    let metadata_documents = shared.options.client_id_metadata_documents;
    let mut grants = shared.grants();
    let client = grants
        .client(client_id, metadata_documents)
        .ok_or("unknown client_id")?;
    if client
        .redirect_uris
        .iter()
        .any(|known| known == redirect_uri)
    {
        return Ok(redirect_uri.to_owned());
    }
    if !(client.any_redirect_uri && is_redirect_uri(redirect_uri, true)) {
        return Err("redirect_uri is not one the client registered");
    }
    if let Some(client) = grants.clients.get_mut(client_id) {
        client.redirect_uris.push(redirect_uri.to_owned());
    }
    Ok(redirect_uri.to_owned())
}

/// What a valid authorization request asks for.
#[derive(Debug)]
struct AuthorizationRequest {
    client_id: String,
    code_challenge: String,
    resource: Option<String>,
    scope: Vec<String>,
}

/// The request, once the client and redirect URI are known to be good; else the error to
/// redirect with (RFC 6749 §4.1.2.1, RFC 7636 §4.4.1, RFC 8707 §2).
fn authorization_request(
    shared: &Shared,
    params: &Params,
    client_id: &str,
) -> Result<AuthorizationRequest, (&'static str, &'static str)> {
    if params.repeated().is_some() {
        return Err(("invalid_request", "a parameter is repeated"));
    }
    match params.get("response_type") {
        None => return Err(("invalid_request", "response_type is missing")),
        Some("code") => {}
        Some(_) => return Err(("unsupported_response_type", "only code is supported")),
    }
    let code_challenge = params
        .get("code_challenge")
        .ok_or(("invalid_request", "code_challenge is required"))?;
    if params.get("code_challenge_method") != Some("S256") {
        return Err(("invalid_request", "code_challenge_method must be S256"));
    }
    if !is_pkce_string(code_challenge) {
        return Err(("invalid_request", "code_challenge is malformed"));
    }
    let resources = params.all("resource");
    if resources.iter().any(|resource| *resource != shared.mcp_url) {
        return Err(("invalid_target", "the only resource here is the MCP server"));
    }
    let scope = match params.get("scope") {
        None => Vec::new(),
        Some(scope) => scope_tokens(scope).ok_or(("invalid_scope", "malformed scope"))?,
    };
    let supported = &shared.options.scopes_supported;
    if !supported.is_empty() && !scope.iter().all(|token| supported.contains(token)) {
        return Err(("invalid_scope", "a requested scope is not supported"));
    }
    Ok(AuthorizationRequest {
        client_id: client_id.to_owned(),
        code_challenge: code_challenge.to_owned(),
        resource: resources.first().map(|resource| (*resource).to_owned()),
        scope,
    })
}

/// The answer to an authorization request that cannot be redirected.
fn authorize_page_error(description: &str) -> Response {
    let body = json!({"error": "invalid_request", "error_description": description});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// The way back to the client: its redirect URI (its own query kept) with the response
/// parameters, `state` and `iss` added.
struct Redirect<'a> {
    shared: &'a Shared,
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

impl Redirect<'_> {
    fn error(&self, error: &str, description: &str) -> Response {
        self.to(&[("error", error), ("error_description", description)])
    }

    fn to(&self, params: &[(&str, &str)]) -> Response {
        let Ok(mut location) = url::Url::parse(self.redirect_uri) else {
            return authorize_page_error("redirect_uri is not a URL");
        };
        {
            let mut query = location.query_pairs_mut();
            query.extend_pairs(params);
            if let Some(state) = self.state {
                query.append_pair("state", state);
            }
            if self.shared.options.iss_parameter {
                query.append_pair("iss", &self.shared.issuer);
            }
        }
        (StatusCode::FOUND, [(LOCATION, location.to_string())]).into_response()
    }
}
