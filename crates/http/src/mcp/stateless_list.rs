//! A stateless (2026-07-28) `tools/list` answered from the bytes the catalog keeps, with no
//! MCP server started for it: the request agents send most, and its answer changes only
//! with the organization's listing version. Only a request the transport would certainly
//! accept and serve statelessly is answered here (the headers a non-browser client sends,
//! a `Host` an allowed entry names as written, a well-formed body); anything else goes on
//! to the transport, which answers it as before, errors included. Both give the same
//! answer (the API tests compare them).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, GetMeta, ProtocolVersion, RequestId};

use super::{AgentCaller, catalog};
use crate::AppState;

/// The largest body answered here: a `tools/list` request is a few hundred bytes.
const MAX_LIST_REQUEST_BYTES: usize = 64 * 1024;

/// Answers a plain stateless `tools/list` from the kept page; hands anything else on.
pub(super) async fn answer_from_catalog(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if !is_plain_stateless_list(&request, &state.mcp.allowed_hosts) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // The length was checked: only a client that stops sending fails here.
    let Ok(body) = axum::body::to_bytes(body, MAX_LIST_REQUEST_BYTES).await else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            "Bad Request: the body could not be read",
        )
            .into_response();
    };
    match listed(&state, parts.extensions.get::<AgentCaller>(), &body).await {
        Some(answer) => answer,
        None => next.run(Request::from_parts(parts, Body::from(body))).await,
    }
}

/// The answer to the `tools/list` request in `body`, when it is one this module answers
/// and its page is at hand.
async fn listed(state: &AppState, caller: Option<&AgentCaller>, body: &[u8]) -> Option<Response> {
    let caller = caller?;
    let Ok(ClientJsonRpcMessage::Request(request)) = serde_json::from_slice(body) else {
        return None;
    };
    let ClientRequest::ListToolsRequest(list) = &request.request else {
        return None;
    };
    let meta = request.request.get_meta();
    if meta.protocol_version() != Some(ProtocolVersion::V_2026_07_28)
        || !meta
            .missing_required_keys(&ProtocolVersion::V_2026_07_28)
            .is_empty()
    {
        return None;
    }
    let cursor = list
        .params
        .as_ref()
        .and_then(|params| params.cursor.as_deref());
    // A failure (the store, a cursor not handed out) is the transport's to answer.
    let catalog = catalog::current(state, caller.principal.organization_id)
        .await
        .ok()?;
    let page = catalog
        .stateless_page_json(caller.connection_slug.as_deref(), cursor)
        .ok()??;
    json_rpc_result(&request.id, &page)
}

/// `{"jsonrpc":"2.0","id":…,"result":…}` around the serialized `result`, as rmcp writes a
/// response. The kept page is sent as it is, not copied into one buffer with the rest.
fn json_rpc_result(id: &RequestId, result: &Bytes) -> Option<Response> {
    let mut head = br#"{"jsonrpc":"2.0","id":"#.to_vec();
    serde_json::to_writer(&mut head, id).ok()?;
    head.extend_from_slice(br#","result":"#);
    let body = Chunks(VecDeque::from([
        Bytes::from(head),
        result.clone(),
        Bytes::from_static(b"}"),
    ]));
    let content_type = [(CONTENT_TYPE, HeaderValue::from_static("application/json"))];
    Some((content_type, Body::new(body)).into_response())
}

/// A body of a few chunks, written in turn, whose length is known from the start.
struct Chunks(VecDeque<Bytes>);

impl HttpBody for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|chunk| Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.iter().map(|chunk| chunk.len() as u64).sum())
    }
}

/// Whether `request` is a stateless 2026-07-28 `tools/list` POST as a non-browser client
/// sends it, with nothing the transport would refuse or treat otherwise.
fn is_plain_stateless_list(request: &Request, allowed_hosts: &[String]) -> bool {
    let headers = request.headers();
    request.method() == Method::POST
        && only_value(headers, "mcp-protocol-version") == Some("2026-07-28")
        && only_value(headers, "mcp-method") == Some("tools/list")
        && headers
            .keys()
            .filter(|name| name.as_str().starts_with("mcp-"))
            .all(|name| matches!(name.as_str(), "mcp-protocol-version" | "mcp-method"))
        // A browser sends `Origin`: the transport checks it.
        && !headers.contains_key(ORIGIN)
        && only_value(headers, HOST.as_str()).is_some_and(|host| plainly_allowed(host, allowed_hosts))
        && only_value(headers, ACCEPT.as_str()).is_some_and(accepts_json_and_event_stream)
        && only_value(headers, CONTENT_TYPE.as_str()).is_some_and(|value| {
            media_type(value).is_some_and(|essence| essence.eq_ignore_ascii_case("application/json"))
        })
        && only_value(headers, CONTENT_LENGTH.as_str())
            .and_then(|length| length.parse::<usize>().ok())
            .is_some_and(|length| length <= MAX_LIST_REQUEST_BYTES)
}

/// The header's value when it is sent once, as text.
fn only_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let value = values.next()?;
    values
        .next()
        .is_none()
        .then(|| value.to_str().ok())
        .flatten()
}

/// Whether an entry of `allowed` names `host` (`name` or `name:port`) exactly as written,
/// or its name when the entry has no port: a host the transport's check, which also
/// normalizes case and brackets, allows too. An empty list allows any host, as there.
fn plainly_allowed(host: &str, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Ok(authority) = Authority::try_from(host) else {
        return false;
    };
    allowed
        .iter()
        .any(|entry| entry == host || entry == authority.host())
}

/// Whether an `Accept` list of plain media types (no parameters, so no weights) names
/// both JSON and server-sent events, as the transport requires.
fn accepts_json_and_event_stream(accept: &str) -> bool {
    let listed: Vec<&str> = accept.split(',').map(str::trim).collect();
    listed.iter().all(|essence| !essence.contains(';'))
        && ["application/json", "text/event-stream"]
            .iter()
            .all(|wanted| {
                listed
                    .iter()
                    .any(|essence| essence.eq_ignore_ascii_case(wanted))
            })
}

/// The media type of a `Content-Type` value, without its parameters.
fn media_type(value: &str) -> Option<&str> {
    value.split(';').next().map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> Vec<String> {
        ["localhost", "127.0.0.1", "example.com:8443"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn a_host_is_plainly_allowed_by_its_name_or_by_an_entry_with_its_port() {
        assert!(plainly_allowed("localhost", &allowed()));
        assert!(plainly_allowed("127.0.0.1:8080", &allowed()));
        assert!(plainly_allowed("example.com:8443", &allowed()));
        assert!(plainly_allowed("anything:1", &[]));
    }

    #[test]
    fn other_hosts_and_other_spellings_are_left_to_the_transport() {
        assert!(!plainly_allowed("example.com", &allowed()));
        assert!(!plainly_allowed("example.com:443", &allowed()));
        assert!(!plainly_allowed("LOCALHOST", &allowed()));
        assert!(!plainly_allowed("evil.test", &allowed()));
        assert!(!plainly_allowed("not a host", &allowed()));
    }

    #[test]
    fn accept_must_list_json_and_event_stream_without_weights() {
        assert!(accepts_json_and_event_stream(
            "application/json, text/event-stream"
        ));
        assert!(accepts_json_and_event_stream(
            "text/event-stream,application/json"
        ));
        assert!(!accepts_json_and_event_stream("application/json"));
        assert!(!accepts_json_and_event_stream(
            "application/json, text/event-stream;q=0"
        ));
        assert!(!accepts_json_and_event_stream("*/*"));
    }
}
