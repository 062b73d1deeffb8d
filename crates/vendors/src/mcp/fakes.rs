//! Small hand-written MCP servers on 127.0.0.1 that misbehave on request, speaking
//! Streamable HTTP or the legacy HTTP+SSE transport. Just enough protocol for the client:
//! `initialize`, `tools/list` (paged by cursor) and `tools/call` (echoes its arguments).
//! The Streamable HTTP fake gives each `initialize` a session of its own and refuses
//! (404) requests for a session it does not know, as servers that expire sessions do.

use std::collections::HashSet;
use std::convert::Infallible;
use std::future::IntoFuture;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use futures::channel::mpsc;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

/// How a fake misbehaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Fault {
    /// A well-behaved server: two pages of tools.
    None,
    /// Every request (the legacy GET included) answered with this status.
    Status(u16),
    /// Like `Status`, with a `WWW-Authenticate` challenge.
    Challenge(u16),
    /// The handshake never gets an answer (legacy: the endpoint event never comes).
    HangOnInit,
    /// `tools/list` never gets an answer.
    HangOnList,
    /// `tools/call` never gets an answer.
    HangOnCall,
    /// `tools/list` is answered with a body that is not JSON.
    InvalidJsonOnList,
    /// The first page announces a second; asking for it, the stream ends unanswered.
    CloseMidListing,
    /// Every page announces another.
    EndlessCursor,
    /// One page with this many tools.
    ManyTools(usize),
    /// A `tools/list` answer of 2 MiB, as JSON (`sse: false`) or as one event.
    HugeList { sse: bool },
    /// A listed tool lacks its `inputSchema`.
    ToolWithoutSchema,
    /// The handshake declares no `tools` capability; `tools/list` is "method not found".
    NoToolsCapability,
    /// `tools/call` is answered with a JSON-RPC error (-32602, "Unknown tool: …").
    RpcErrorOnCall,
    /// Legacy only: the endpoint event names another origin.
    ForeignEndpoint,
}

/// A running fake; [`Fake::stop`] ends it.
pub(super) struct Fake {
    /// The URL to give the client (`/mcp` or `/sse`).
    pub(super) url: Url,
    state: FakeState,
    stop: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

/// Method and headers of every request received.
type Seen = Arc<Mutex<Vec<(Method, HeaderMap)>>>;

impl Fake {
    /// The headers of every request received so far.
    pub(super) fn seen_headers(&self) -> Vec<HeaderMap> {
        self.seen()
            .into_iter()
            .map(|(_, headers)| headers)
            .collect()
    }

    /// How many `DELETE`s of a session the server received (Streamable HTTP).
    pub(super) fn session_deletes(&self) -> usize {
        self.seen()
            .iter()
            .filter(|(method, headers)| {
                method == Method::DELETE && headers.contains_key("mcp-session-id")
            })
            .count()
    }

    /// The JSON-RPC method of every message the server took (requests and
    /// notifications, not those refused for an unknown session), in order.
    pub(super) fn methods(&self) -> Vec<String> {
        self.state.methods().clone()
    }

    /// How many of [`Fake::methods`] are `method`.
    pub(super) fn count(&self, method: &str) -> usize {
        self.methods().iter().filter(|seen| *seen == method).count()
    }

    /// From now on, misbehave like this.
    pub(super) fn set_fault(&self, fault: Fault) {
        *self
            .state
            .fault
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = fault;
    }

    /// Forgets every session, as a restarted server does (Streamable HTTP).
    pub(super) fn forget_sessions(&self) {
        self.state.sessions().live.clear();
    }

    fn seen(&self) -> Vec<(Method, HeaderMap)> {
        self.state
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Releases hanging handlers and streams, then waits for the server to end.
    pub(super) async fn stop(self) {
        self.stop.cancel();
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// A Streamable HTTP server at `/mcp`.
pub(super) async fn streamable(fault: Fault) -> Fake {
    start(fault, "/mcp", |router| {
        router.route(
            "/mcp",
            post(streamable_post)
                // No stream for server-initiated messages: rmcp goes on without one.
                .get(|| async { StatusCode::METHOD_NOT_ALLOWED })
                .delete(streamable_delete),
        )
    })
    .await
}

/// A legacy HTTP+SSE server: `GET /sse`, `POST /message`.
pub(super) async fn legacy(fault: Fault) -> Fake {
    start(fault, "/sse", |router| {
        router
            .route("/sse", get(legacy_get))
            .route("/message", post(legacy_post))
    })
    .await
}

#[derive(Clone)]
struct FakeState {
    fault: Arc<Mutex<Fault>>,
    seen: Seen,
    methods: Arc<Mutex<Vec<String>>>,
    sessions: Arc<Mutex<Sessions>>,
    stop: CancellationToken,
    /// The open legacy event stream's inbox.
    events: Arc<Mutex<Option<mpsc::UnboundedSender<Bytes>>>>,
}

/// The Streamable HTTP fake's sessions.
#[derive(Default)]
struct Sessions {
    issued: usize,
    live: HashSet<String>,
}

impl FakeState {
    fn fault(&self) -> Fault {
        *self.fault.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn methods(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.methods.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a message: records its method.
    fn take(&self, request: &Value) {
        if let Some(method) = request.get("method").and_then(Value::as_str) {
            self.methods().push(method.to_owned());
        }
    }

    /// The session a Streamable HTTP message belongs to: a new one for `initialize`, the
    /// one named by its header otherwise (empty when it names none); `None` for a session
    /// the server does not know.
    fn session_of(&self, request: &Value, headers: &HeaderMap) -> Option<String> {
        let mut sessions = self.sessions();
        if request.get("method").and_then(Value::as_str) == Some("initialize") {
            sessions.issued += 1;
            let id = format!("fake-session-{}", sessions.issued);
            sessions.live.insert(id.clone());
            return Some(id);
        }
        let Some(id) = headers.get("mcp-session-id") else {
            // A client of a server that handed out no session (it answered `initialize`
            // without one) sends none.
            return Some(String::new());
        };
        let id = id.to_str().ok()?;
        sessions.live.contains(id).then(|| id.to_owned())
    }

    fn record(&self, method: Method, headers: &HeaderMap) {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((method, headers.clone()));
    }

    fn events(&self) -> std::sync::MutexGuard<'_, Option<mpsc::UnboundedSender<Bytes>>> {
        self.events.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

async fn start(
    fault: Fault,
    path: &str,
    routes: impl FnOnce(Router<FakeState>) -> Router<FakeState>,
) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local address");
    let stop = CancellationToken::new();
    let state = FakeState {
        fault: Arc::new(Mutex::new(fault)),
        seen: Seen::default(),
        methods: Arc::default(),
        sessions: Arc::default(),
        stop: stop.clone(),
        events: Arc::default(),
    };
    let app = routes(Router::new()).with_state(state.clone());
    let task = tokio::spawn(
        axum::serve(listener, app)
            .with_graceful_shutdown(stop.clone().cancelled_owned())
            .into_future(),
    );
    Fake {
        url: Url::parse(&format!("http://{addr}{path}")).expect("fake URL"),
        state,
        stop,
        task,
    }
}

/// What the fake answers one client message with.
enum Reply {
    /// A notification or response: nothing to answer.
    Nothing,
    /// This JSON-RPC text (not necessarily valid).
    Message(String),
    /// An HTTP status, with a challenge or not.
    Status(u16, bool),
    /// Never answer.
    Hang,
    /// End the stream without answering.
    CloseStream,
}

fn reply(fault: Fault, request: &Value) -> Reply {
    match fault {
        Fault::Status(status) => return Reply::Status(status, false),
        Fault::Challenge(status) => return Reply::Status(status, true),
        _ => {}
    }
    let Some(id) = request.get("id").cloned() else {
        return Reply::Nothing;
    };
    let result = match request.get("method").and_then(Value::as_str) {
        Some("initialize") if fault == Fault::HangOnInit => return Reply::Hang,
        Some("initialize") => json!({
            "protocolVersion": "2025-06-18",
            "capabilities": if fault == Fault::NoToolsCapability { json!({}) } else { json!({"tools": {}}) },
            "serverInfo": {"name": "fake", "version": "1"}
        }),
        Some("tools/list") if fault != Fault::NoToolsCapability => {
            return list_reply(fault, &id, cursor(request));
        }
        Some("tools/call") if fault == Fault::HangOnCall => return Reply::Hang,
        Some("tools/call") if fault == Fault::RpcErrorOnCall => {
            return message(json!({"jsonrpc": "2.0", "id": id, "error": {
                "code": -32602, "message": "Unknown tool: \u{7}nope"
            }}));
        }
        Some("tools/call") => json!({
            "content": [{"type": "text", "text": "ok"}],
            "structuredContent": {"echo": request["params"]["arguments"]},
            "isError": false
        }),
        None if request.get("result").is_some() || request.get("error").is_some() => {
            return Reply::Nothing;
        }
        _ => {
            return message(
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no such method"}}),
            );
        }
    };
    message(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

fn list_reply(fault: Fault, id: &Value, cursor: Option<u64>) -> Reply {
    let page = cursor.unwrap_or(0);
    let (tools, next) = match fault {
        Fault::HangOnList => return Reply::Hang,
        Fault::InvalidJsonOnList => return Reply::Message("{not json".into()),
        Fault::CloseMidListing if page > 0 => return Reply::CloseStream,
        Fault::HugeList { .. } => {
            let tool =
                json!({"name": "huge", "description": "x".repeat(2 << 20), "inputSchema": {}});
            (vec![tool], None)
        }
        Fault::ManyTools(count) => ((0..count).map(|i| tool(page, i)).collect(), None),
        Fault::ToolWithoutSchema => (vec![tool(0, 0), json!({"name": "bare"})], None),
        Fault::EndlessCursor | Fault::CloseMidListing => (vec![tool(page, 0)], Some(page + 1)),
        _ => {
            let next = (page == 0).then_some(1);
            (vec![tool(page, 0), tool(page, 1)], next)
        }
    };
    let mut result = json!({"tools": tools});
    if let Some(next) = next {
        result["nextCursor"] = json!(next.to_string());
    }
    message(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

fn tool(page: u64, index: usize) -> Value {
    json!({
        "name": format!("tool_{page}_{index}"),
        "title": format!("Tool {page}.{index}"),
        "description": "A fake tool.",
        "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}},
        "outputSchema": {"type": "object"}
    })
}

fn cursor(request: &Value) -> Option<u64> {
    request["params"]["cursor"].as_str()?.parse().ok()
}

fn message(value: Value) -> Reply {
    Reply::Message(value.to_string())
}

fn sse_event(event: &str, data: &str) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}

fn status_response(status: u16, challenge: bool) -> Response {
    let status = StatusCode::from_u16(status).expect("valid status");
    if challenge {
        (
            status,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"fake\"")],
            "denied",
        )
            .into_response()
    } else {
        (status, "denied").into_response()
    }
}

async fn streamable_delete(State(state): State<FakeState>, headers: HeaderMap) -> StatusCode {
    state.record(Method::DELETE, &headers);
    if let Some(id) = headers
        .get("mcp-session-id")
        .and_then(|id| id.to_str().ok())
    {
        state.sessions().live.remove(id);
    }
    StatusCode::OK
}

async fn streamable_post(
    State(state): State<FakeState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state.record(Method::POST, &headers);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let fault = state.fault();
    let session = if let Fault::Status(_) | Fault::Challenge(_) = fault {
        // Refused before any session is looked at.
        String::new()
    } else {
        match state.session_of(&request, &headers) {
            Some(session) => session,
            None => return StatusCode::NOT_FOUND.into_response(),
        }
    };
    state.take(&request);
    match reply(fault, &request) {
        Reply::Nothing => StatusCode::ACCEPTED.into_response(),
        Reply::Status(status, challenge) => status_response(status, challenge),
        Reply::Hang => {
            state.stop.cancelled().await;
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
        Reply::CloseStream => event_stream(": nothing to say\n\n"),
        Reply::Message(text) if fault == (Fault::HugeList { sse: true }) => {
            event_stream(&format!("event: message\ndata: {text}\n\n"))
        }
        Reply::Message(text) => (
            [
                (header::CONTENT_TYPE.as_str(), "application/json"),
                ("mcp-session-id", session.as_str()),
            ],
            text,
        )
            .into_response(),
    }
}

fn event_stream(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        body.to_owned(),
    )
        .into_response()
}

async fn legacy_get(State(state): State<FakeState>, headers: HeaderMap) -> Response {
    state.record(Method::GET, &headers);
    let fault = state.fault();
    if let Fault::Status(status) | Fault::Challenge(status) = fault {
        return status_response(status, matches!(fault, Fault::Challenge(_)));
    }
    let (sender, inbox) = mpsc::unbounded::<Bytes>();
    let endpoint = match fault {
        Fault::ForeignEndpoint => "http://127.0.0.2:9/message",
        _ => "/message",
    };
    let first = match fault {
        // Keep the stream open without ever naming the endpoint.
        Fault::HangOnInit => Bytes::from_static(b": waiting\n\n"),
        _ => sse_event("endpoint", endpoint),
    };
    *state.events() = Some(sender);
    let stream = futures::stream::once(async move { first })
        .chain(inbox)
        .take_until(state.stop.clone().cancelled_owned())
        .map(Ok::<_, Infallible>);
    (
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn legacy_post(State(state): State<FakeState>, headers: HeaderMap, body: Bytes) -> Response {
    state.record(Method::POST, &headers);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    state.take(&request);
    match reply(state.fault(), &request) {
        Reply::Status(status, challenge) => return status_response(status, challenge),
        Reply::Message(text) => {
            if let Some(events) = state.events().as_ref() {
                // The stream may be gone already; then the client sees nothing, as in life.
                let _ = events.unbounded_send(sse_event("message", &text));
            }
        }
        Reply::CloseStream => *state.events() = None,
        Reply::Nothing | Reply::Hang => {}
    }
    (StatusCode::ACCEPTED, "Accepted").into_response()
}
