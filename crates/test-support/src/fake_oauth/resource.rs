//! The protected MCP server: the demo tools behind Bearer authentication, challenging the
//! way the MCP authorization spec asks (RFC 9728 §5.1, RFC 6750 §3).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use feather_demo_mcp::DemoTools;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{MAX_BODY_BYTES, Shared};

pub(super) type McpService = StreamableHttpService<DemoTools, NeverSessionManager>;

/// The demo tools over stateless Streamable HTTP answering in JSON: no session to keep,
/// so a client that re-authenticates mid-way needs no new handshake, and no event stream
/// left open for [`super::FakeAuthorizationServer::stop`] to wait on.
pub(super) fn mcp_service(stop: CancellationToken) -> McpService {
    let tools = DemoTools::new();
    // rmcp's default Host allow-list (localhost, 127.0.0.1, ::1) fits a loopback bind.
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_cancellation_token(stop);
    StreamableHttpService::new(
        move || Ok(tools.clone()),
        Arc::new(NeverSessionManager::default()),
        config,
    )
}

/// `/mcp`, any method: the MCP server for a live token of this resource, else a challenge.
pub(super) async fn mcp(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let live_scope = bearer_token(&parts.headers).and_then(|token| {
        let grants = shared.grants();
        let access = grants.live_access_token(&token)?;
        let resource = access.resource.as_deref();
        resource
            .is_none_or(|resource| resource == shared.mcp_url)
            .then(|| access.scope.clone())
    });
    let Some(granted) = live_scope else {
        // RFC 6750 §3.1: a request without credentials gets no error code.
        let error = parts
            .headers
            .contains_key(AUTHORIZATION)
            .then_some(("error", "invalid_token"));
        let metadata = shared.resource_metadata_url();
        let scope = shared.options.challenge_scope.as_deref();
        let params = error
            .into_iter()
            .chain([("resource_metadata", metadata.as_str())])
            .chain(scope.map(|scope| ("scope", scope)));
        return challenge(StatusCode::UNAUTHORIZED, params);
    };
    // The recording layer has already bounded (and buffered) the body.
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    if let Some(required) = &shared.options.required_scope
        && !granted.contains(required)
        && calls_a_tool(&body)
    {
        // RFC 6750 §3.1: the scope needed, which includes what the token already has.
        let mut scope = granted;
        scope.push(required.clone());
        let scope = scope.join(" ");
        let metadata = shared.resource_metadata_url();
        let params = [
            ("error", "insufficient_scope"),
            ("scope", scope.as_str()),
            ("resource_metadata", metadata.as_str()),
        ];
        return challenge(StatusCode::FORBIDDEN, params);
    }
    let request = Request::from_parts(parts, Body::from(body));
    shared.mcp.handle(request).await.map(Body::new)
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1), the only way this server
/// accepts one (`bearer_methods_supported: ["header"]`).
fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let (scheme, token) = headers.get(AUTHORIZATION)?.to_str().ok()?.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// Whether the JSON-RPC message (or batch) in `body` is a `tools/call` request.
fn calls_a_tool(body: &[u8]) -> bool {
    let is_call = |message: &Value| message["method"] == "tools/call";
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(batch)) => batch.iter().any(is_call),
        Ok(message) => is_call(&message),
        Err(_) => false,
    }
}

/// A Bearer challenge with `params` in order, as the MCP authorization spec's examples
/// have them.
fn challenge<'a>(
    status: StatusCode,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Response {
    let params: Vec<String> = params
        .into_iter()
        .map(|(name, value)| format!("{name}=\"{value}\""))
        .collect();
    let header = format!("Bearer {}", params.join(", "));
    let mut response = status.into_response();
    if let Ok(header) = HeaderValue::from_str(&header) {
        response.headers_mut().insert(WWW_AUTHENTICATE, header);
    }
    response
}
