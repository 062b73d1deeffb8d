//! Tool calls reuse the connection's upstream sessions: one handshake for many calls, a
//! bound per connection, no sharing between connections, idle sessions closed, forgotten
//! ones initialized again, abandoned calls cancelled on the server.

use std::time::Duration;

use feather_service::vendors::CallEvents;
use http::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use uuid::Uuid;

use super::fakes::{self, Fake, Fault};
use super::{McpClient, McpEndpoint, McpError, McpLimits, McpTransport};
use crate::guard::UpstreamPolicy;

const BOTH: [McpTransport; 2] = [McpTransport::StreamableHttp, McpTransport::Sse];

fn limits() -> McpLimits {
    McpLimits {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_millis(800),
        ..McpLimits::default()
    }
}

fn client(limits: McpLimits) -> McpClient {
    let policy = UpstreamPolicy::with_allow_list("127.0.0.1/32").expect("allow-list");
    McpClient::new(&policy, limits).expect("client")
}

async fn fake(transport: McpTransport, fault: Fault) -> Fake {
    match transport {
        McpTransport::Sse => fakes::legacy(fault).await,
        McpTransport::StreamableHttp | McpTransport::Auto => fakes::streamable(fault).await,
    }
}

fn endpoint(fake: &Fake, transport: McpTransport, connection_id: Uuid, key: &str) -> McpEndpoint {
    let mut headers = HeaderMap::new();
    headers.insert("x-api-key", HeaderValue::from_str(key).expect("header"));
    McpEndpoint {
        connection_id,
        url: fake.url.clone(),
        transport,
        headers,
    }
}

async fn call(client: &McpClient, endpoint: &McpEndpoint) -> Result<Value, McpError> {
    let arguments = json!({"q": "hi"}).as_object().cloned().expect("object");
    client
        .call_tool(endpoint, "tool_0_0", arguments, &CallEvents::none())
        .await
}

/// Waits (at most 5 s) until `condition` holds.
async fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn pool_calls_in_a_row_share_one_session() {
    for transport in BOTH {
        let fake = fake(transport, Fault::None).await;
        let client = client(limits());
        let endpoint = endpoint(&fake, transport, Uuid::new_v4(), "k");
        for _ in 0..3 {
            call(&client, &endpoint).await.expect("call");
        }
        assert_eq!(fake.count("initialize"), 1, "{transport:?}");
        assert_eq!(fake.count("tools/call"), 3, "{transport:?}");
        assert_eq!(fake.session_deletes(), 0, "{transport:?}");
        fake.stop().await;
    }
}

#[tokio::test]
async fn pool_calls_at_once_wait_for_a_session_when_all_are_busy() {
    let fake = fake(McpTransport::StreamableHttp, Fault::None).await;
    let client = client(McpLimits {
        sessions_per_connection: 1,
        ..limits()
    });
    let endpoint = endpoint(&fake, McpTransport::StreamableHttp, Uuid::new_v4(), "k");
    let calls = (0..4).map(|_| call(&client, &endpoint));
    for called in futures::future::join_all(calls).await {
        called.expect("call");
    }
    assert_eq!(fake.count("initialize"), 1);
    assert_eq!(fake.count("tools/call"), 4);
    fake.stop().await;
}

#[tokio::test]
async fn pool_connections_never_share_a_session() {
    let fake = fake(McpTransport::StreamableHttp, Fault::None).await;
    let client = client(limits());
    for connection in [Uuid::new_v4(), Uuid::new_v4()] {
        let endpoint = endpoint(&fake, McpTransport::StreamableHttp, connection, "same");
        call(&client, &endpoint).await.expect("call");
    }
    assert_eq!(fake.count("initialize"), 2);
    fake.stop().await;
}

#[tokio::test]
async fn pool_new_credentials_open_a_new_session_and_close_the_old_one() {
    let fake = fake(McpTransport::StreamableHttp, Fault::None).await;
    let client = client(limits());
    let connection = Uuid::new_v4();
    for key in ["old", "new", "new"] {
        let endpoint = endpoint(&fake, McpTransport::StreamableHttp, connection, key);
        call(&client, &endpoint).await.expect("call");
    }
    assert_eq!(fake.count("initialize"), 2);
    eventually("the old session is deleted", || fake.session_deletes() == 1).await;
    fake.stop().await;
}

#[tokio::test]
async fn pool_an_idle_session_is_closed_after_the_idle_timeout() {
    let fake = fake(McpTransport::StreamableHttp, Fault::None).await;
    let client = client(McpLimits {
        session_idle_timeout: Duration::from_millis(200),
        ..limits()
    });
    let endpoint = endpoint(&fake, McpTransport::StreamableHttp, Uuid::new_v4(), "k");
    call(&client, &endpoint).await.expect("call");
    eventually("the idle session is deleted", || {
        fake.session_deletes() == 1
    })
    .await;
    call(&client, &endpoint)
        .await
        .expect("call after the expiry");
    assert_eq!(fake.count("initialize"), 2);
    fake.stop().await;
}

#[tokio::test]
async fn pool_a_session_the_server_forgot_is_initialized_again_and_the_call_sent_once() {
    let fake = fake(McpTransport::StreamableHttp, Fault::None).await;
    let client = client(limits());
    let endpoint = endpoint(&fake, McpTransport::StreamableHttp, Uuid::new_v4(), "k");
    call(&client, &endpoint).await.expect("call");
    fake.forget_sessions();
    let result = call(&client, &endpoint)
        .await
        .expect("call after the restart");
    assert_eq!(result["structuredContent"], json!({"echo": {"q": "hi"}}));
    assert_eq!(fake.count("initialize"), 2);
    // The call refused with 404 was never taken; only its retry was.
    assert_eq!(fake.count("tools/call"), 2);
    fake.stop().await;
}

/// A fake whose tool calls hang, and a client keeping one session for the connection.
async fn one_session_hanging(transport: McpTransport) -> (Fake, McpClient, McpEndpoint) {
    let fake = fake(transport, Fault::HangOnCall).await;
    let client = client(McpLimits {
        sessions_per_connection: 1,
        ..limits()
    });
    let endpoint = endpoint(&fake, transport, Uuid::new_v4(), "k");
    (fake, client, endpoint)
}

/// Once the fake answers again, a call succeeds on a new session: the hung one's slot
/// was freed.
async fn the_only_session_slot_is_free_again(
    fake: Fake,
    client: &McpClient,
    endpoint: &McpEndpoint,
) {
    fake.set_fault(Fault::None);
    call(client, endpoint)
        .await
        .expect("the only session slot is free again");
    assert_eq!(fake.count("initialize"), 2);
    fake.stop().await;
}

#[tokio::test]
async fn pool_a_call_that_times_out_is_cancelled_upstream_and_frees_its_session() {
    let (fake, client, endpoint) = one_session_hanging(McpTransport::StreamableHttp).await;
    let hung = call(&client, &endpoint).await;
    assert!(
        matches!(
            hung,
            Err(McpError::Timeout {
                during: "calling the tool"
            })
        ),
        "{hung:?}"
    );
    eventually("the server is told of the cancellation", || {
        fake.count("notifications/cancelled") == 1
    })
    .await;
    eventually("the session is deleted", || fake.session_deletes() == 1).await;
    the_only_session_slot_is_free_again(fake, &client, &endpoint).await;
}

#[tokio::test]
async fn pool_a_legacy_session_whose_stream_went_silent_is_not_reused() {
    // A legacy server that never answers leaves the event stream silent past the read
    // timeout: the stream, and with it the session, ends.
    let (fake, client, endpoint) = one_session_hanging(McpTransport::Sse).await;
    let hung = call(&client, &endpoint).await;
    assert!(matches!(hung, Err(McpError::Timeout { .. })), "{hung:?}");
    the_only_session_slot_is_free_again(fake, &client, &endpoint).await;
}

#[tokio::test]
async fn pool_a_tool_error_answer_keeps_the_session() {
    let fake = fake(McpTransport::StreamableHttp, Fault::RpcErrorOnCall).await;
    let client = client(limits());
    let endpoint = endpoint(&fake, McpTransport::StreamableHttp, Uuid::new_v4(), "k");
    for _ in 0..2 {
        let refused = call(&client, &endpoint).await;
        assert!(matches!(refused, Err(McpError::Rpc { .. })), "{refused:?}");
    }
    assert_eq!(fake.count("initialize"), 1);
    fake.stop().await;
}
