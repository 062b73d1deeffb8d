//! The legacy HTTP+SSE glue, exercised at the HTTP level.

use std::{
    pin::Pin,
    time::{Duration, Instant},
};

use feather_demo_mcp::{DemoServer, TOOL_NAMES};
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};

const STEP: Duration = Duration::from_secs(10);

/// A minimal SSE reader: yields `(event, data)` pairs and skips comments (keep-alives).
struct Events {
    bytes: Pin<Box<dyn Stream<Item = reqwest::Result<Vec<u8>>> + Send>>,
    buffer: String,
}

impl Events {
    /// Opens `url`, returning the status, the content type and the events.
    async fn open(url: &str) -> (StatusCode, String, Self) {
        let response = reqwest::get(url).await.expect("GET /sse");
        let status = response.status();
        let content_type = response.headers()["content-type"]
            .to_str()
            .expect("ASCII content type")
            .to_owned();
        let events = Events {
            bytes: Box::pin(
                response
                    .bytes_stream()
                    .map(|chunk| chunk.map(|b| b.to_vec())),
            ),
            buffer: String::new(),
        };
        (status, content_type, events)
    }

    /// The next event, or `None` once the stream has ended.
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut event, mut data) = (String::from("message"), Vec::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event = value.trim_start().to_owned();
                    } else if let Some(value) = line.strip_prefix("data:") {
                        data.push(value.strip_prefix(' ').unwrap_or(value).to_owned());
                    }
                }
                if data.is_empty() {
                    continue; // a comment-only block
                }
                return Some((event, data.join("\n")));
            }
            let chunk = tokio::time::timeout(STEP, self.bytes.next())
                .await
                .expect("no event in time")?
                .ok()?;
            self.buffer
                .push_str(std::str::from_utf8(&chunk).expect("UTF-8 event stream"));
        }
    }

    async fn next_message(&mut self) -> Value {
        let (event, data) = self.next().await.expect("stream ended");
        assert_eq!(event, "message");
        serde_json::from_str(&data).expect("message data is JSON")
    }
}

async fn start() -> DemoServer {
    let server = DemoServer::start("127.0.0.1:0".parse().expect("socket address"))
        .await
        .expect("server starts");
    assert_eq!(
        server.sse_url(),
        format!("http://127.0.0.1:{}/sse", server.local_addr().port())
    );
    server
}

/// Opens a session and returns its event stream and the absolute POST URL.
async fn open_session(server: &DemoServer) -> (Events, String) {
    let (status, content_type, mut events) = Events::open(&server.sse_url()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/event-stream");
    let (event, data) = events.next().await.expect("endpoint event");
    assert_eq!(event, "endpoint");
    assert!(data.starts_with("/message?sessionId="), "{data}");
    let url = format!("http://{}{data}", server.local_addr());
    (events, url)
}

async fn post(url: &str, body: &Value) -> StatusCode {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("POST /message")
        .status()
}

fn initialize(id: u64) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2024-11-05",
            "capabilities": {},
            "clientInfo": { "name": "legacy-test", "version": "0" },
        },
    })
}

#[tokio::test]
async fn a_full_session_runs_over_sse() {
    let server = start().await;
    let (mut events, url) = open_session(&server).await;

    assert_eq!(post(&url, &initialize(1)).await, StatusCode::ACCEPTED);
    let response = events.next_message().await;
    assert_eq!(response["id"], json!(1));
    assert_eq!(response["result"]["protocolVersion"], json!("2024-11-05"));
    assert_eq!(
        response["result"]["serverInfo"]["name"],
        json!("feather-demo")
    );

    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    assert_eq!(post(&url, &initialized).await, StatusCode::ACCEPTED);
    let list = json!({ "jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {} });
    assert_eq!(post(&url, &list).await, StatusCode::ACCEPTED);
    let response = events.next_message().await;
    assert_eq!(response["id"], json!(2));
    assert_eq!(
        response["result"]["tools"].as_array().map(Vec::len),
        Some(TOOL_NAMES.len())
    );

    let call = json!({
        "jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": { "name": "refund_order", "arguments": { "order_id": "ORD-0000", "reason": "other" } },
    });
    assert_eq!(post(&url, &call).await, StatusCode::ACCEPTED);
    let response = events.next_message().await;
    assert_eq!(response["id"], json!(3));
    assert_eq!(response["result"]["isError"], json!(true));

    drop(events);
    server.shutdown().await;
}

#[tokio::test]
async fn unknown_or_closed_sessions_are_404() {
    let server = start().await;
    let base = format!("http://{}/message?sessionId=", server.local_addr());
    assert_eq!(
        post(&format!("{base}nope"), &initialize(1)).await,
        StatusCode::NOT_FOUND
    );

    // Dropping the event stream ends the session; the server notices the
    // disconnect asynchronously, so poll for it.
    let (events, url) = open_session(&server).await;
    drop(events);
    let deadline = Instant::now() + STEP;
    loop {
        let status = post(&url, &initialize(1)).await;
        if status == StatusCode::NOT_FOUND {
            break;
        }
        assert_eq!(status, StatusCode::ACCEPTED);
        assert!(Instant::now() < deadline, "session outlived its stream");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A body that is not JSON-RPC is a client error, not a crash.
    let (_events, url) = open_session(&server).await;
    let status = reqwest::Client::new()
        .post(&url)
        .body("not json")
        .send()
        .await
        .expect("POST /message")
        .status();
    assert_eq!(status, StatusCode::BAD_REQUEST);

    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_is_prompt_with_an_open_stream() {
    let server = start().await;
    let (mut events, url) = open_session(&server).await;
    assert_eq!(post(&url, &initialize(1)).await, StatusCode::ACCEPTED);
    events.next_message().await;

    let started = Instant::now();
    server.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    // The server ended the stream rather than leaving the client hanging.
    assert_eq!(events.next().await, None);
}
