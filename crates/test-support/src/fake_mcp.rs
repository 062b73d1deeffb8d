//! `FakeMcp`: just enough of an MCP server, answering as each test needs.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How a [`FakeMcp`] answers.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// A working server listing these tools (MCP `Tool` objects); calls echo their
    /// arguments as structured content.
    Lists(Value),
    /// Every request answered with this HTTP status.
    Status(u16),
    /// Every request answered with this HTTP status and, as the body, every header the
    /// request carried (as some proxies' error pages do).
    EchoesHeaders(u16),
    /// Every request redirected (307) to this URL.
    RedirectsTo(String),
    /// The handshake is never answered.
    Hangs,
    /// Lists these tools; a tool call is never answered.
    HangsOnCall(Value),
    /// `tools/list` is answered with a body that is not JSON.
    InvalidJsonOnList,
    /// Lists these tools; a call is answered on an event stream: progress 0, 50 and 100
    /// of 100 under the request's progress token (when it has one), a `debug` and a
    /// `warning` log message, then the echo of its arguments.
    Notifies(Value),
}

/// A tiny Streamable HTTP MCP server on 127.0.0.1 (at `/mcp`) that answers as told and
/// records the headers of every request.
#[derive(Debug)]
pub struct FakeMcp {
    url: String,
    state: FakeState,
    task: JoinHandle<std::io::Result<()>>,
}

#[derive(Debug, Clone)]
struct FakeState {
    upstream: Arc<Mutex<Upstream>>,
    seen: Arc<Mutex<Vec<HeaderMap>>>,
    /// The query string of every request, in order.
    queries: Arc<Mutex<Vec<Option<String>>>>,
    /// The JSON-RPC method of every request and notification received, in order.
    methods: Arc<Mutex<Vec<String>>>,
    stop: CancellationToken,
}

impl FakeMcp {
    pub async fn start(upstream: Upstream) -> FakeMcp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = FakeState {
            upstream: Arc::new(Mutex::new(upstream)),
            seen: Arc::default(),
            queries: Arc::default(),
            methods: Arc::default(),
            stop: CancellationToken::new(),
        };
        let app = Router::new()
            .route("/mcp", axum::routing::any(fake_mcp))
            .with_state(state.clone());
        let serve =
            axum::serve(listener, app).with_graceful_shutdown(state.stop.clone().cancelled_owned());
        FakeMcp {
            url: format!("http://{addr}/mcp"),
            state,
            task: tokio::spawn(std::future::IntoFuture::into_future(serve)),
        }
    }

    /// The server URL, for `transport: streamable_http`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// From now on, answer like this.
    pub fn answer(&self, upstream: Upstream) {
        *self
            .state
            .upstream
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = upstream;
    }

    /// The headers of every request received so far.
    pub fn requests(&self) -> Vec<HeaderMap> {
        self.state
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The query string of every request received so far.
    pub fn queries(&self) -> Vec<Option<String>> {
        self.state
            .queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The JSON-RPC method of every request and notification received so far.
    pub fn methods(&self) -> Vec<String> {
        self.state
            .methods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many of [`FakeMcp::methods`] are `method`.
    pub fn received(&self, method: &str) -> usize {
        self.methods().iter().filter(|seen| *seen == method).count()
    }

    /// Waits until the server has received `count` `tools/call` requests (answered or
    /// still hanging); fails the test after 10 s.
    pub async fn until_calls_received(&self, count: usize) {
        self.until_received("tools/call", count).await;
    }

    /// Waits until the server has received `count` messages of `method`; fails the test
    /// after 10 s.
    pub async fn until_received(&self, method: &str, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.received(method) < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server received {} of {count} {method} within 10 s",
                self.received(method)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Releases hanging requests and stops the server.
    pub async fn stop(self) {
        self.state.stop.cancel();
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Just enough of Streamable HTTP for the service's client: `initialize`, `tools/list`
/// (one page), `tools/call`.
async fn fake_mcp(
    State(state): State<FakeState>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(headers.clone());
    state
        .queries
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(uri.query().map(str::to_owned));
    let upstream = state
        .upstream
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match upstream {
        Upstream::Status(status) => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            return (status, "denied").into_response();
        }
        Upstream::EchoesHeaders(status) => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            return (status, format!("denied: {headers:?}")).into_response();
        }
        Upstream::RedirectsTo(location) => {
            return axum::response::Redirect::temporary(&location).into_response();
        }
        _ => {}
    }
    match method {
        Method::POST => {}
        Method::DELETE => return StatusCode::OK.into_response(),
        // No stream for server-initiated messages.
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if let Some(method) = request["method"].as_str() {
        state
            .methods
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(method.to_owned());
    }
    let Some(id) = request.get("id").cloned() else {
        // A notification.
        return StatusCode::ACCEPTED.into_response();
    };
    let hang = || async {
        state.stop.cancelled().await;
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    };
    let result = match (request["method"].as_str(), &upstream) {
        (Some("initialize"), Upstream::Hangs) => return hang().await,
        (Some("initialize"), _) => json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake", "version": "1"}
        }),
        (Some("tools/list"), Upstream::InvalidJsonOnList) => {
            return json_rpc_response("{not json".to_owned());
        }
        (
            Some("tools/list"),
            Upstream::Lists(tools) | Upstream::HangsOnCall(tools) | Upstream::Notifies(tools),
        ) => {
            json!({"tools": tools})
        }
        (Some("tools/call"), Upstream::HangsOnCall(_)) => return hang().await,
        (Some("tools/call"), Upstream::Notifies(_)) => return notifying_call(&request, id),
        (Some("tools/call"), _) => json!({
            "content": [{"type": "text", "text": "ok"}],
            "structuredContent": {"echo": request["params"]["arguments"]},
            "isError": false
        }),
        _ => {
            let error = json!({"code": -32601, "message": "no such method"});
            return json_rpc_response(
                json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string(),
            );
        }
    };
    json_rpc_response(json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string())
}

/// The answer of [`Upstream::Notifies`] to a `tools/call`: its notifications, then its
/// result, as one event stream.
fn notifying_call(request: &Value, id: Value) -> Response {
    let mut messages = Vec::new();
    if let Some(token) = request["params"]["_meta"].get("progressToken") {
        for progress in [0, 50, 100] {
            messages.push(json!({
                "jsonrpc": "2.0",
                "method": "notifications/progress",
                "params": {"progressToken": token, "progress": progress, "total": 100}
            }));
        }
    }
    for (level, data) in [("debug", "starting"), ("warning", "almost out of quota")] {
        messages.push(json!({
            "jsonrpc": "2.0",
            "method": "notifications/message",
            "params": {"level": level, "logger": "fake", "data": data}
        }));
    }
    let result = json!({
        "content": [{"type": "text", "text": "ok"}],
        "structuredContent": {"echo": request["params"]["arguments"]},
        "isError": false
    });
    messages.push(json!({"jsonrpc": "2.0", "id": id, "result": result}));
    let stream: String = messages
        .iter()
        .map(|message| format!("event: message\ndata: {message}\n\n"))
        .collect();
    (
        [
            (CONTENT_TYPE.as_str(), "text/event-stream"),
            ("mcp-session-id", "fake-session"),
        ],
        stream,
    )
        .into_response()
}

fn json_rpc_response(text: String) -> Response {
    (
        [
            (CONTENT_TYPE.as_str(), "application/json"),
            ("mcp-session-id", "fake-session"),
        ],
        text,
    )
        .into_response()
}
