//! The MCP endpoint agents connect to (DESIGN.md §3 "Agent-facing tools"): `/mcp` serves
//! the organization's tools, `/mcp/{nickname_slug}` one connection's, over Streamable
//! HTTP (rmcp's server: sessions for 2025-06-18 and 2025-11-25, stateless requests for
//! 2026-07-28). Requests are authenticated by the organization's API key like the rest
//! of the API; `Host` and `Origin` are checked against DNS rebinding.

mod catalog;
mod events;
mod server;
mod stateless_list;
mod watch;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use feather_service::Principal;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

pub(crate) use catalog::AgentCatalog;
use server::AgentServer;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::{AppState, MAX_BODY_BYTES};

/// How the MCP endpoint behaves.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// `Host` values (`name` or `name:port`) the endpoint answers; a request naming
    /// another is refused with 403 (DNS rebinding). Empty: any host.
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`scheme://host:port`, `:*` for any port) allowed to call the
    /// endpoint; a request with another `Origin` is refused with 403. A request without
    /// `Origin` (not from a browser) is not affected.
    pub allowed_origins: Vec<String>,
    /// Tools in one page of `tools/list`.
    pub tools_page_size: usize,
    /// How often an open session checks for changes another replica made (this
    /// process's own changes are told at once).
    pub change_poll: Duration,
    /// Cancelled when the server stops: ends open streams and sessions, so that a
    /// graceful stop does not wait for them.
    pub end_streams: CancellationToken,
}

impl Default for McpOptions {
    /// Loopback only: a deployment reached by another name lists it.
    fn default() -> Self {
        McpOptions {
            allowed_hosts: ["localhost", "127.0.0.1", "::1", "[::1]"]
                .map(String::from)
                .to_vec(),
            allowed_origins: ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
                .map(String::from)
                .to_vec(),
            tools_page_size: 500,
            change_poll: Duration::from_secs(5),
            end_streams: CancellationToken::new(),
        }
    }
}

/// Who an MCP request is from, and which endpoint it reached.
#[derive(Debug, Clone)]
pub(crate) struct AgentCaller {
    pub principal: Principal,
    /// The connection of `/mcp/{nickname_slug}`; `None` on `/mcp`.
    pub connection_slug: Option<String>,
}

impl AgentCaller {
    /// Whether a session opened by `self` may serve `other`: same organization (keys
    /// may differ) and same endpoint.
    fn serves_as(&self, other: &AgentCaller) -> bool {
        self.principal.organization_id == other.principal.organization_id
            && self.connection_slug == other.connection_slug
    }
}

pub(crate) fn router(state: AppState) -> Router<AppState> {
    let options = &state.mcp;
    // An empty list of hosts is the transport's "any host".
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(options.allowed_hosts.clone())
        .with_allowed_origins(options.allowed_origins.clone())
        .enforce_origin_validation()
        .with_max_request_body_bytes(MAX_BODY_BYTES)
        // A stateless request's answer as JSON, unless the call sends notifications first:
        // as `stateless_list` answers, and one event stream less to set up.
        .with_json_response(true)
        .with_cancellation_token(options.end_streams.child_token());
    let factory_state = state.clone();
    let transport = Arc::new(StreamableHttpService::new(
        move || Ok(AgentServer::new(factory_state.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    ));
    // Shared, not cloned: the transport clones its configuration (host and origin lists,
    // a cancellation token) with itself, and the router clones its service per request.
    let transport = tower::service_fn(move |request: Request| {
        let transport = Arc::clone(&transport);
        async move { Ok::<_, Infallible>(transport.handle(request).await.map(Body::new)) }
    });
    Router::new()
        .route_service("/mcp", transport.clone())
        .route_service("/mcp/{nickname_slug}", transport)
        .route_layer(from_fn_with_state(
            state.clone(),
            stateless_list::answer_from_catalog,
        ))
        .route_layer(from_fn_with_state(state, authenticate))
}

/// Authenticates the request by its API key (401 with `WWW-Authenticate` otherwise; the
/// key needs the `invoke` scope), checks the connection of `/mcp/{nickname_slug}` exists,
/// and hands the caller to the MCP server.
async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let caller = match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let connection_slug = parts.uri.path().strip_prefix("/mcp/").map(str::to_owned);
    if let Some(slug) = &connection_slug {
        match state
            .service
            .has_connection_slug(caller.organization_id(), slug)
            .await
        {
            Ok(true) => {}
            Ok(false) => return ApiError::NotFound("connection").into_response(),
            Err(error) => return ApiError::from(error).into_response(),
        }
    }
    parts.extensions.insert(AgentCaller {
        principal: caller.0,
        connection_slug,
    });
    let mut response = next.run(Request::from_parts(parts, body)).await;
    response
        .extensions_mut()
        .insert(crate::middleware::KeepsItsBody);
    response
}
