//! The legacy HTTP+SSE transport (MCP 2024-11-05), which rmcp 3 no longer ships.
//!
//! `GET /sse` opens a session: the response is an event stream whose first event is
//! `endpoint` with the URL to post to, followed by one `message` event per server
//! JSON-RPC message. `POST /message?sessionId=…` hands one client message to that
//! session and answers `202 Accepted`; the reply travels on the event stream.
//!
//! Each session is an rmcp server over a pair of in-memory channels. The session
//! lives exactly as long as its event stream: when the client disconnects (or the
//! server shuts down) the stream is dropped, and that drop removes the session and
//! stops its rmcp service.

use std::{
    collections::HashMap,
    convert::Infallible,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    task::{Context, Poll},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Query, State},
    http::StatusCode,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{get, post},
};
use futures::{SinkExt, Stream, StreamExt, channel::mpsc, stream::BoxStream};
use rmcp::{
    ServiceExt,
    model::{ClientJsonRpcMessage, ServerJsonRpcMessage},
};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::tools::DemoTools;

/// Messages buffered per direction before the sender waits; a demo client rarely
/// has more than a handful in flight, and a bound keeps a stuck reader from
/// growing memory without limit.
const CHANNEL_CAPACITY: usize = 32;

type Sessions = Arc<Mutex<HashMap<String, mpsc::Sender<ClientJsonRpcMessage>>>>;

#[derive(Clone)]
struct LegacySse {
    /// Open sessions by id, each with the inbox of its rmcp service.
    sessions: Sessions,
    tools: DemoTools,
    /// Cancelled on server shutdown; every session runs on a child of it.
    shutdown: CancellationToken,
}

/// Routes `GET /sse` and `POST /message`.
pub(crate) fn router(tools: DemoTools, shutdown: CancellationToken) -> Router {
    let state = LegacySse {
        sessions: Arc::default(),
        tools,
        shutdown,
    };
    Router::new()
        .route("/sse", get(open_session))
        .route("/message", post(post_message))
        .with_state(state)
}

fn lock(
    sessions: &Sessions,
) -> MutexGuard<'_, HashMap<String, mpsc::Sender<ClientJsonRpcMessage>>> {
    // The map stays consistent even if a holder panicked: every critical section
    // is a single insert, remove or lookup.
    sessions.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn open_session(State(state): State<LegacySse>) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (client_tx, client_rx) = mpsc::channel::<ClientJsonRpcMessage>(CHANNEL_CAPACITY);
    let (server_tx, server_rx) = mpsc::channel::<ServerJsonRpcMessage>(CHANNEL_CAPACITY);
    let session_ct = state.shutdown.child_token();
    lock(&state.sessions).insert(id.clone(), client_tx);

    let tools = state.tools.clone();
    let service_ct = session_ct.clone();
    let session_id = id.clone();
    tokio::spawn(async move {
        // `(Sink, Stream)` is an rmcp transport; this waits for `initialize` first.
        match tools
            .serve_with_ct((server_tx, client_rx), service_ct)
            .await
        {
            Ok(service) => {
                let reason = service.waiting().await;
                tracing::debug!(session_id, ?reason, "legacy SSE session ended");
            }
            Err(error) => {
                tracing::debug!(session_id, %error, "legacy SSE session ended before initialization");
            }
        }
    });

    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/message?sessionId={id}"));
    let messages = server_rx.filter_map(|message| async move {
        match serde_json::to_string(&message) {
            Ok(json) => Some(Event::default().event("message").data(json)),
            Err(error) => {
                tracing::warn!(%error, "dropping a server message that does not serialize");
                None
            }
        }
    });
    let events = futures::stream::once(async { endpoint })
        .chain(messages)
        // Ends the response on shutdown, so graceful shutdown need not wait for the client.
        .take_until(session_ct.clone().cancelled_owned())
        .map(Ok::<_, Infallible>)
        .boxed();
    let stream = SessionStream {
        events,
        _guard: SessionGuard {
            id,
            sessions: state.sessions.clone(),
            ct: session_ct,
        },
    };
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Deserialize)]
struct MessageQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

async fn post_message(
    State(state): State<LegacySse>,
    Query(query): Query<MessageQuery>,
    body: Bytes,
) -> (StatusCode, &'static str) {
    let Some(mut inbox) = lock(&state.sessions).get(&query.session_id).cloned() else {
        return (StatusCode::NOT_FOUND, "unknown session");
    };
    let message: ClientJsonRpcMessage = match serde_json::from_slice(&body) {
        Ok(message) => message,
        Err(error) => {
            tracing::debug!(%error, "rejecting a malformed legacy SSE message");
            return (StatusCode::BAD_REQUEST, "body is not a JSON-RPC message");
        }
    };
    if inbox.send(message).await.is_err() {
        // The session ended between the lookup and the send.
        return (StatusCode::NOT_FOUND, "unknown session");
    }
    (StatusCode::ACCEPTED, "accepted")
}

/// The event stream of one session; dropping it ends the session.
struct SessionStream {
    events: BoxStream<'static, Result<Event, Infallible>>,
    _guard: SessionGuard,
}

impl Stream for SessionStream {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.events.poll_next_unpin(cx)
    }
}

/// Removes the session and stops its service when the event stream goes away.
struct SessionGuard {
    id: String,
    sessions: Sessions,
    ct: CancellationToken,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        lock(&self.sessions).remove(&self.id);
        self.ct.cancel();
    }
}
