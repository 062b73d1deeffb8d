//! The legacy HTTP+SSE transport (MCP 2024-11-05), which rmcp 3 no longer ships.
//!
//! `GET` on the server URL opens an event stream whose first `endpoint` event names the
//! URL to `POST` client messages to; the server's messages arrive as `message` events on
//! the stream. A reader task forwards them to rmcp; any failure of the stream ends it,
//! and its reason is kept in the session's [`FailureSlot`].

use futures::StreamExt;
use futures::stream::BoxStream;
use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE};
use rmcp::RoleClient;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use sse_stream::{Sse, SseStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};
use url::Url;

use super::errors::{FailureSlot, WRONG_TRANSPORT_STATUSES, from_reqwest, from_sse, from_status};
use super::session::OPENING;
use super::{McpError, McpLimits, McpTransport, sse_limit};

/// Server messages buffered between the reader task and rmcp; a bound so a server
/// flooding notifications waits on us instead of growing memory.
const INBOUND_CAPACITY: usize = 16;

// Timeouts in the reader and in POSTs are relabelled with the operation's phase when
// they surface (see `errors::in_phase`); opening is a phase of its own.
const READING: &str = "reading its answer";
const SENDING: &str = "sending a message";

type Events = BoxStream<'static, Result<Sse, sse_stream::Error>>;

/// An open legacy SSE session: the event stream's reader and the endpoint to post to.
pub(super) struct LegacySse {
    http: reqwest::Client,
    post_url: Url,
    headers: HeaderMap,
    inbound: mpsc::Receiver<ServerJsonRpcMessage>,
    stop: CancellationToken,
    reader: Option<JoinHandle<()>>,
    /// Stops the reader (and so the event stream) even if rmcp never calls `close`.
    _stop_on_drop: DropGuard,
}

impl LegacySse {
    /// Opens the event stream at `sse_url` and waits for its `endpoint` event. Not
    /// bounded in time: the caller puts a timeout around it.
    pub(super) async fn connect(
        http: reqwest::Client,
        sse_url: &Url,
        headers: HeaderMap,
        limits: &McpLimits,
        failure: FailureSlot,
    ) -> Result<LegacySse, McpError> {
        let response = http
            .get(sse_url.clone())
            .headers(headers.clone())
            .header(ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|error| from_reqwest(&error, OPENING))?;
        let status = response.status().as_u16();
        if WRONG_TRANSPORT_STATUSES.contains(&status) {
            return Err(McpError::WrongTransport {
                status,
                tried: McpTransport::Sse,
            });
        }
        if !response.status().is_success() {
            return Err(from_status(status));
        }
        check_event_stream(response.headers())?;
        let body = sse_limit::limit_events(response.bytes_stream(), limits.max_response_bytes);
        let mut events: Events = SseStream::from_bytes_stream(body).boxed();
        let post_url = endpoint(&mut events, sse_url).await?;

        let (sender, inbound) = mpsc::channel(INBOUND_CAPACITY);
        let stop = CancellationToken::new();
        let reader = tokio::spawn(read_messages(events, sender, stop.clone(), failure));
        Ok(LegacySse {
            http,
            post_url,
            headers,
            inbound,
            _stop_on_drop: stop.clone().drop_guard(),
            stop,
            reader: Some(reader),
        })
    }
}

fn check_event_stream(headers: &HeaderMap) -> Result<(), McpError> {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("text/event-stream") {
        return Ok(());
    }
    let shown: String = content_type.chars().take(64).collect();
    Err(McpError::Protocol(format!(
        "it answered the event-stream request with content type {shown:?}"
    )))
}

/// Waits for the `endpoint` event and resolves it against the stream's URL.
async fn endpoint(events: &mut Events, sse_url: &Url) -> Result<Url, McpError> {
    loop {
        match events.next().await {
            Some(Ok(event)) if event.event.as_deref() == Some("endpoint") => {
                return resolve_endpoint(sse_url, event.data.as_deref().unwrap_or(""));
            }
            // Comments and keep-alives may come first.
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(from_sse(&error, OPENING)),
            None => {
                return Err(McpError::Protocol(
                    "it closed the event stream without naming the endpoint to post to".into(),
                ));
            }
        }
    }
}

/// The endpoint must stay on the stream's origin: a server could otherwise make this
/// service post (with the connection's credentials) to any address, internal ones
/// included, past the check the server URL passed.
fn resolve_endpoint(sse_url: &Url, data: &str) -> Result<Url, McpError> {
    let post_url = sse_url
        .join(data.trim())
        .map_err(|_| McpError::Protocol("its endpoint event does not hold a valid URL".into()))?;
    if post_url.origin() != sse_url.origin() {
        return Err(McpError::Protocol(
            "it named an endpoint on another origin, which is refused".into(),
        ));
    }
    Ok(post_url)
}

/// Forwards the server's messages to rmcp until the stream ends, fails or is stopped.
/// Ending drops `sender`, which rmcp sees as the transport closing.
async fn read_messages(
    mut events: Events,
    sender: mpsc::Sender<ServerJsonRpcMessage>,
    stop: CancellationToken,
    failure: FailureSlot,
) {
    loop {
        let event = tokio::select! {
            biased;
            () = stop.cancelled() => return,
            event = events.next() => event,
        };
        let event = match event {
            Some(Ok(event)) => event,
            Some(Err(error)) => return failure.record(from_sse(&error, READING)),
            None => {
                return failure.record(McpError::Protocol(
                    "it closed the event stream before the session ended".into(),
                ));
            }
        };
        // `message` is the only event carrying JSON-RPC; a repeated `endpoint` or
        // vendor events are not ours to interpret.
        if !matches!(event.event.as_deref(), None | Some("message")) {
            continue;
        }
        let Some(data) = event.data else { continue };
        let Ok(message) = serde_json::from_str::<ServerJsonRpcMessage>(&data) else {
            // Skipping it could leave a request waiting for an answer that was this one.
            return failure.record(McpError::Protocol(
                "it sent a message that is not valid JSON-RPC".into(),
            ));
        };
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            sent = sender.send(message) => if sent.is_err() { return },
        }
    }
}

impl Transport<RoleClient> for LegacySse {
    type Error = McpError;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), McpError>> + Send + 'static {
        let request = self
            .http
            .post(self.post_url.clone())
            .headers(self.headers.clone())
            .json(&item);
        async move {
            // The answer travels on the event stream; the POST only says "accepted".
            let response = request
                .send()
                .await
                .map_err(|error| from_reqwest(&error, SENDING))?;
            let status = response.status();
            if status.is_success() {
                Ok(())
            } else {
                Err(from_status(status.as_u16()))
            }
        }
    }

    async fn receive(&mut self) -> Option<ServerJsonRpcMessage> {
        self.inbound.recv().await
    }

    async fn close(&mut self) -> Result<(), McpError> {
        self.stop.cancel();
        if let Some(reader) = self.reader.take() {
            // The reader only fails to join if it panicked; the session is over either way.
            let _ = reader.await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    #[test]
    fn endpoints_resolve_against_the_stream_url() {
        let sse = url("http://127.0.0.1:9/mcp/sse?x=1");
        assert_eq!(
            resolve_endpoint(&sse, "/messages?sessionId=a\n").map(String::from),
            Ok("http://127.0.0.1:9/messages?sessionId=a".to_owned())
        );
        assert_eq!(
            resolve_endpoint(&sse, "messages").map(String::from),
            Ok("http://127.0.0.1:9/mcp/messages".to_owned())
        );
        assert!(resolve_endpoint(&sse, "http://127.0.0.1:9/m").is_ok());
    }

    #[test]
    fn endpoints_on_another_origin_are_refused() {
        let sse = url("http://127.0.0.1:9/sse");
        for other in [
            "http://127.0.0.1:10/m",
            "https://127.0.0.1:9/m",
            "http://169.254.169.254/latest",
            "//localhost:9/m",
        ] {
            assert!(
                matches!(resolve_endpoint(&sse, other), Err(McpError::Protocol(_))),
                "{other}"
            );
        }
    }

    #[test]
    fn only_event_streams_are_accepted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "Text/Event-Stream; charset=utf-8".parse().expect("value"),
        );
        assert!(check_event_stream(&headers).is_ok());
        headers.insert(CONTENT_TYPE, "application/json".parse().expect("value"));
        assert!(check_event_stream(&headers).is_err());
        assert!(check_event_stream(&HeaderMap::new()).is_err());
    }
}
