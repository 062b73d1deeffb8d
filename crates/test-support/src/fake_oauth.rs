//! `FakeAuthorizationServer`: an OAuth 2.1 authorization server and the MCP server it
//! protects, in one loopback process, as strict as a real pair, so a test of the service's
//! OAuth client fails where a real server would refuse it.
//!
//! It plays the authorization server (RFC 6749 with PKCE per RFC 7636, dynamic client
//! registration per RFC 7591, metadata per RFC 8414, resource indicators per RFC 8707 and
//! the `iss` response parameter per RFC 9207) and the resource server of the MCP
//! authorization spec (protected-resource metadata per RFC 9728, Bearer challenges per
//! RFC 6750) in front of the demo MCP server's tools.
//!
//! The user's browser is [`FakeAuthorizationServer::approve`] (or `deny`): it sends the
//! consent as a header only the helpers set, so the client under test never needs to know
//! about it, and a client that fetches the authorization URL itself gets a consent page,
//! not a code.

mod authorize;
mod form;
mod grants;
mod resource;
#[cfg(test)]
mod tests;
mod token;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header::LOCATION};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::grants::Grants;

/// The header through which [`FakeAuthorizationServer::approve`] and
/// [`FakeAuthorizationServer::deny`] give the user's answer: `approve` or `deny`.
const CONSENT_HEADER: &str = "x-fake-oauth-consent";

/// The largest request body recorded (and accepted): far above anything OAuth or a test's
/// MCP call sends.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How long [`FakeAuthorizationServer::stop`] waits for connections to wind down before
/// aborting the server task.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How a [`FakeAuthorizationServer`] is configured; [`Default`] is a well-behaved server
/// with registration, PKCE S256, `iss` and refresh tokens.
#[derive(Debug, Clone)]
pub struct FakeOAuthOptions {
    /// Advertise and serve `POST /register` (RFC 7591).
    pub registration: bool,
    /// Advertise `client_id_metadata_document_supported`, and accept an `https` URL as the
    /// client ID of a public client (without fetching it: tests cannot serve https).
    pub client_id_metadata_documents: bool,
    /// Advertise `authorization_response_iss_parameter_supported` and send `iss` on every
    /// authorization response (RFC 9207).
    pub iss_parameter: bool,
    /// `token_endpoint_auth_methods_supported`; registration accepts only these.
    pub token_endpoint_auth_methods: Vec<String>,
    /// A client known without registration: `(client_id, client_secret)`. With a secret it
    /// may authenticate by `client_secret_basic` or `client_secret_post` (whichever are
    /// advertised); without one it is public (`none`). It may use any absolute http(s)
    /// redirect URI.
    pub pre_registered: Option<(String, Option<String>)>,
    /// The authorization server's `scopes_supported`; when non-empty, `/authorize` refuses
    /// any other scope. Empty omits the field and accepts any scope.
    pub scopes_supported: Vec<String>,
    /// The protected-resource metadata's `scopes_supported` (empty omits the field).
    pub resource_scopes: Vec<String>,
    /// The `scope` of the 401 challenge, if any.
    pub challenge_scope: Option<String>,
    /// A scope every MCP `tools/call` needs; a token without it is answered 403
    /// `insufficient_scope`.
    pub required_scope: Option<String>,
    /// How long an access token lives (`expires_in`); the resource server enforces it.
    pub access_token_lifetime: Duration,
    /// Issue refresh tokens (to clients whose grant types include `refresh_token`).
    pub issue_refresh_tokens: bool,
    /// `code_challenge_methods_supported`; `None` omits the field. `/authorize` requires
    /// S256 whatever is advertised.
    pub code_challenge_methods: Option<Vec<String>>,
}

impl Default for FakeOAuthOptions {
    fn default() -> Self {
        FakeOAuthOptions {
            registration: true,
            client_id_metadata_documents: false,
            iss_parameter: true,
            token_endpoint_auth_methods: ["client_secret_basic", "client_secret_post", "none"]
                .map(str::to_owned)
                .to_vec(),
            pre_registered: None,
            scopes_supported: Vec::new(),
            resource_scopes: Vec::new(),
            challenge_scope: None,
            required_scope: None,
            access_token_lifetime: Duration::from_secs(3600),
            issue_refresh_tokens: true,
            code_challenge_methods: Some(vec!["S256".to_owned()]),
        }
    }
}

/// One request the server received, as it arrived.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: String,
}

impl RecordedRequest {
    /// The parameters as `application/x-www-form-urlencoded` pairs: the query of a GET,
    /// the body of anything else.
    pub fn form(&self) -> Vec<(String, String)> {
        let text = if self.method == "GET" {
            self.query.as_deref().unwrap_or_default()
        } else {
            &self.body
        };
        form::pairs(text)
    }

    /// The first value of the parameter `name` in [`RecordedRequest::form`].
    pub fn param(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}

/// An OAuth 2.1 authorization server and the MCP server it protects, on one loopback port.
pub struct FakeAuthorizationServer {
    shared: Arc<Shared>,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl std::fmt::Debug for FakeAuthorizationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAuthorizationServer")
            .field("issuer", &self.shared.issuer)
            .field("options", &self.shared.options)
            .finish_non_exhaustive()
    }
}

/// What every handler shares.
struct Shared {
    options: FakeOAuthOptions,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    issuer: String,
    /// `<issuer>/mcp`: the one resource this server protects.
    mcp_url: String,
    requests: Mutex<Vec<RecordedRequest>>,
    registrations: Mutex<Vec<Value>>,
    grants: Mutex<Grants>,
    mcp: resource::McpService,
}

impl Shared {
    /// The grants, even if a handler panicked holding them: a test's failure shows up
    /// once, not again as a poisoned lock in every later request.
    fn grants(&self) -> std::sync::MutexGuard<'_, Grants> {
        self.grants.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `<issuer>/.well-known/oauth-protected-resource/mcp` (RFC 9728 §3.1).
    fn resource_metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/mcp", self.issuer)
    }
}

impl FakeAuthorizationServer {
    pub async fn start(options: FakeOAuthOptions) -> FakeAuthorizationServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let issuer = format!("http://{addr}");
        let stop = CancellationToken::new();
        let shared = Arc::new(Shared {
            grants: Mutex::new(Grants::new(&options)),
            mcp_url: format!("{issuer}/mcp"),
            issuer,
            options,
            requests: Mutex::default(),
            registrations: Mutex::default(),
            mcp: resource::mcp_service(stop.child_token()),
        });
        let serve = axum::serve(listener, router(&shared))
            .with_graceful_shutdown(stop.clone().cancelled_owned());
        FakeAuthorizationServer {
            shared,
            stop,
            task: tokio::spawn(std::future::IntoFuture::into_future(serve)),
        }
    }

    /// `http://127.0.0.1:PORT`, as the metadata's `issuer` and the `iss` parameter say it.
    pub fn issuer(&self) -> String {
        self.shared.issuer.clone()
    }

    /// `http://127.0.0.1:PORT/mcp`: the protected MCP server, and its resource identifier.
    pub fn mcp_url(&self) -> String {
        self.shared.mcp_url.clone()
    }

    /// Plays the user's browser: GETs `authorize_url` with redirects disabled, the user
    /// consenting, and returns the `Location` it redirects to (the client's redirect URI
    /// with code/state/iss, or with error=...).
    ///
    /// Fails the test when the server does not redirect (an unknown client or a redirect
    /// URI it may not send to), showing its answer.
    pub async fn approve(&self, authorize_url: &str) -> String {
        consent(authorize_url, "approve").await
    }

    /// Same, the user refusing: the redirect carries error=access_denied (and state, iss).
    pub async fn deny(&self, authorize_url: &str) -> String {
        consent(authorize_url, "deny").await
    }

    /// Every request received so far, in order (the helpers' own included).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many requests of `method` to `path` (exactly, without the query) were received.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|request| request.method.eq_ignore_ascii_case(method) && request.path == path)
            .count()
    }

    /// The body of every dynamic client registration request, as JSON (a body that is not
    /// JSON as a string), valid or not.
    pub fn registrations(&self) -> Vec<Value> {
        self.shared
            .registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every access token issued so far now answers 401 `invalid_token`; refresh tokens
    /// still work.
    pub fn expire_access_tokens(&self) {
        self.shared.grants().expire_access_tokens();
    }

    /// Every grant so far is revoked: its access tokens answer 401 `invalid_token`, its
    /// refresh tokens `invalid_grant`.
    pub fn revoke_grants(&self) {
        self.shared.grants().revoke_all();
    }

    /// The `POST /token` requests received so far, in order.
    pub fn token_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.method == "POST" && request.path == "/token")
            .collect()
    }

    /// Releases hanging requests and stops the server.
    pub async fn stop(self) {
        self.stop.cancel();
        let mut task = self.task;
        if tokio::time::timeout(STOP_GRACE, &mut task).await.is_err() {
            task.abort();
        }
    }
}

fn router(shared: &Arc<Shared>) -> Router {
    let mut router = Router::new()
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(authorize::protected_resource_metadata),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorize::authorization_server_metadata),
        )
        .route("/authorize", get(authorize::authorize))
        .route("/token", post(token::token))
        .route("/mcp", any(resource::mcp));
    if shared.options.registration {
        router = router.route("/register", post(authorize::register));
    }
    // An explicit fallback, so that unknown paths (such as the root protected-resource
    // metadata) pass through the recording layer too.
    router
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(shared),
            record,
        ))
        .with_state(Arc::clone(shared))
}

/// Records the request, body and all, before any handler answers it.
async fn record(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(recorded);
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// GETs `authorize_url` with the user's `answer` and returns where it redirects.
async fn consent(authorize_url: &str, answer: &str) -> String {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client without redirects");
    let response = browser
        .get(authorize_url)
        .header(CONSENT_HEADER, answer)
        .send()
        .await
        .expect("the authorization endpoint answers");
    let status = response.status();
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|location| location.to_str().ok())
        .map(str::to_owned);
    match location {
        Some(location) if status.is_redirection() => location,
        _ => {
            let body = response.text().await.unwrap_or_default();
            panic!("the authorization endpoint answered {status} without redirecting: {body}")
        }
    }
}
