//! Every failure mode ends as the right [`McpError`], over both transports, against the
//! fakes of [`super::fakes`].

use feather_service::vendors::CallEvents;
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue};
use serde_json::json;

use super::fakes::{self, Fake, Fault};
use super::{McpClient, McpEndpoint, McpError, McpLimits, McpTransport};
use crate::guard::UpstreamPolicy;

/// Short limits so hanging servers fail fast.
fn limits() -> McpLimits {
    McpLimits {
        connect_timeout: Duration::from_secs(1),
        request_timeout: Duration::from_millis(800),
        sync_timeout: Duration::from_secs(3),
        max_response_bytes: 1 << 20,
        max_pages: 5,
        max_tools: 50,
        max_catalog_bytes: 64 * 1024,
        ..McpLimits::default()
    }
}

fn client(limits: McpLimits) -> McpClient {
    let policy = UpstreamPolicy::with_allow_list("127.0.0.1/32").expect("allow-list");
    McpClient::new(&policy, limits).expect("client")
}

fn endpoint(fake: &Fake, transport: McpTransport) -> McpEndpoint {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
    headers.insert("x-api-key", HeaderValue::from_static("k3y"));
    McpEndpoint {
        connection_id: uuid::Uuid::nil(),
        url: fake.url.clone(),
        transport,
        headers,
    }
}

/// Starts the fake for `transport` (the legacy one for `Sse`).
async fn fake(transport: McpTransport, fault: Fault) -> Fake {
    match transport {
        McpTransport::Sse => fakes::legacy(fault).await,
        McpTransport::StreamableHttp | McpTransport::Auto => fakes::streamable(fault).await,
    }
}

const BOTH: [McpTransport; 2] = [McpTransport::StreamableHttp, McpTransport::Sse];

/// Lists tools from a fake with `fault`; checks the error never leaks a secret.
async fn list_with(transport: McpTransport, fault: Fault) -> Result<Vec<String>, McpError> {
    let fake = fake(transport, fault).await;
    let result = client(limits())
        .list_tools(&endpoint(&fake, transport))
        .await;
    fake.stop().await;
    if let Err(error) = &result {
        let message = error.to_string();
        assert!(
            !message.contains("s3cret") && !message.contains("k3y"),
            "{message}"
        );
        assert!(!message.contains("127.0.0.1"), "the URL leaked: {message}");
    }
    result.map(|tools| tools.into_iter().map(|tool| tool.name).collect())
}

fn protocol_reason(result: Result<Vec<String>, McpError>) -> String {
    match result {
        Err(McpError::Protocol(reason)) => reason,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[tokio::test]
async fn mcp_lists_every_page_and_sends_the_headers() {
    for transport in BOTH {
        let fake = fake(transport, Fault::None).await;
        let tools = client(limits())
            .list_tools(&endpoint(&fake, transport))
            .await
            .expect("listing");
        let names: Vec<_> = tools.iter().map(|tool| tool.name.as_str()).collect();
        assert_eq!(
            names,
            ["tool_0_0", "tool_0_1", "tool_1_0", "tool_1_1"],
            "{transport:?}"
        );
        assert_eq!(tools[0].title.as_deref(), Some("Tool 0.0"));
        assert_eq!(tools[0].output_schema, Some(json!({"type": "object"})));
        if transport == McpTransport::StreamableHttp {
            assert_eq!(fake.session_deletes(), 1, "the session was not closed");
        }
        let seen = fake.seen_headers();
        assert!(!seen.is_empty());
        for headers in &seen {
            assert_eq!(headers["authorization"], "Bearer s3cret", "{transport:?}");
            assert_eq!(headers["x-api-key"], "k3y", "{transport:?}");
        }
        fake.stop().await;
    }
}

#[tokio::test]
async fn mcp_a_server_without_the_tools_capability_has_no_tools() {
    for transport in BOTH {
        let tools = list_with(transport, Fault::NoToolsCapability).await;
        assert_eq!(tools, Ok(Vec::new()), "{transport:?}");
    }
}

#[tokio::test]
async fn mcp_a_json_rpc_error_from_a_tool_call_is_the_servers_own_answer() {
    for transport in BOTH {
        let fake = fake(transport, Fault::RpcErrorOnCall).await;
        let error = client(limits())
            .call_tool(
                &endpoint(&fake, transport),
                "nope",
                Default::default(),
                &CallEvents::none(),
            )
            .await
            .expect_err("refused");
        fake.stop().await;
        assert_eq!(
            error,
            McpError::Rpc {
                during: "calling the tool",
                code: -32602,
                message: "Unknown tool: nope".into(),
            },
            "{transport:?}"
        );
        assert_eq!(
            error.to_string(),
            "The MCP server answered with JSON-RPC error -32602 while calling the tool: \
             Unknown tool: nope."
        );
    }
}

#[tokio::test]
async fn mcp_call_tool_returns_the_result_json() {
    for transport in BOTH {
        let fake = fake(transport, Fault::None).await;
        let arguments = json!({"q": "hello"}).as_object().cloned().expect("object");
        let result = client(limits())
            .call_tool(
                &endpoint(&fake, transport),
                "tool_0_0",
                arguments,
                &CallEvents::none(),
            )
            .await
            .expect("call");
        assert_eq!(result["structuredContent"], json!({"echo": {"q": "hello"}}));
        assert_eq!(result["isError"], json!(false));
        fake.stop().await;
    }
}

#[tokio::test]
async fn mcp_401_and_403_are_unauthorized_with_or_without_a_challenge() {
    for transport in BOTH {
        for status in [401, 403] {
            for fault in [Fault::Status(status), Fault::Challenge(status)] {
                let error = list_with(transport, fault).await.expect_err("refused");
                assert_eq!(
                    error,
                    McpError::Unauthorized { status },
                    "{transport:?} {fault:?}"
                );
                assert!(error.is_unauthorized());
            }
        }
    }
}

#[tokio::test]
async fn mcp_other_statuses_are_not_unauthorized() {
    for transport in BOTH {
        let error = list_with(transport, Fault::Status(503))
            .await
            .expect_err("503");
        assert!(
            matches!(error, McpError::Unreachable(_)),
            "{transport:?}: {error:?}"
        );
        let error = list_with(transport, Fault::Status(418))
            .await
            .expect_err("418");
        assert!(
            matches!(error, McpError::Protocol(_)),
            "{transport:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn mcp_a_handshake_refused_with_400_404_or_405_suggests_the_other_transport() {
    for transport in BOTH {
        for status in [400, 404, 405] {
            let error = list_with(transport, Fault::Status(status))
                .await
                .expect_err("refused");
            assert_eq!(
                error,
                McpError::WrongTransport {
                    status,
                    tried: transport
                },
                "{transport:?}"
            );
            let sentence = error.to_string();
            let suggested = match transport {
                McpTransport::Sse => "\"streamable_http\"",
                _ => "\"sse\"",
            };
            assert!(
                sentence.contains(&format!("HTTP {status}"))
                    && sentence.contains(suggested)
                    && sentence.contains("\"auto\""),
                "{sentence}"
            );
        }
    }
}

#[tokio::test]
async fn mcp_hanging_servers_time_out() {
    for transport in BOTH {
        for (fault, during) in [
            (Fault::HangOnInit, "opening the session"),
            (Fault::HangOnList, "listing tools"),
        ] {
            let started = Instant::now();
            let error = list_with(transport, fault).await.expect_err("hang");
            assert_eq!(
                error,
                McpError::Timeout { during },
                "{transport:?} {fault:?}"
            );
            assert!(
                started.elapsed() < Duration::from_secs(3),
                "{transport:?} {fault:?}"
            );
        }
    }
}

#[tokio::test]
async fn mcp_a_hanging_tool_call_times_out() {
    for transport in BOTH {
        let fake = fake(transport, Fault::HangOnCall).await;
        let started = Instant::now();
        let error = client(limits())
            .call_tool(
                &endpoint(&fake, transport),
                "tool_0_0",
                Default::default(),
                &CallEvents::none(),
            )
            .await
            .expect_err("hang");
        assert_eq!(
            error,
            McpError::Timeout {
                during: "calling the tool"
            },
            "{transport:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(3), "{transport:?}");
        fake.stop().await;
    }
}

#[tokio::test]
async fn mcp_unreachable_servers_fail_fast() {
    // Bind then drop a listener: its port refuses connections.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    for transport in BOTH {
        let endpoint = McpEndpoint {
            connection_id: uuid::Uuid::nil(),
            url: format!("http://127.0.0.1:{port}/mcp").parse().expect("url"),
            transport,
            headers: HeaderMap::new(),
        };
        let error = client(limits())
            .list_tools(&endpoint)
            .await
            .expect_err("refused");
        assert!(
            matches!(error, McpError::Unreachable(_)),
            "{transport:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn mcp_invalid_json_rpc_is_a_protocol_error() {
    for transport in BOTH {
        let reason = protocol_reason(list_with(transport, Fault::InvalidJsonOnList).await);
        assert!(reason.contains("JSON-RPC"), "{transport:?}: {reason}");
    }
}

#[tokio::test]
async fn mcp_a_server_closing_mid_listing_is_a_protocol_error() {
    for transport in BOTH {
        let reason = protocol_reason(list_with(transport, Fault::CloseMidListing).await);
        assert!(reason.contains("closed"), "{transport:?}: {reason}");
    }
}

#[tokio::test]
async fn mcp_endless_pagination_is_capped() {
    for transport in BOTH {
        let reason = protocol_reason(list_with(transport, Fault::EndlessCursor).await);
        assert!(reason.contains("within 5 pages"), "{transport:?}: {reason}");
    }
}

#[tokio::test]
async fn mcp_too_many_tools_are_refused() {
    for transport in BOTH {
        let error = list_with(transport, Fault::ManyTools(51))
            .await
            .expect_err("too many");
        assert_eq!(error, McpError::TooManyTools { limit: 50 }, "{transport:?}");
        let tools = list_with(transport, Fault::ManyTools(50))
            .await
            .expect("at the limit");
        assert_eq!(tools.len(), 50);
    }
}

#[tokio::test]
async fn mcp_listing_stops_at_the_page_that_passes_the_catalog_size_limit() {
    for transport in BOTH {
        let fake = fake(transport, Fault::EndlessCursor).await;
        let tiny = McpLimits {
            max_catalog_bytes: 1,
            ..limits()
        };
        let result = client(tiny).list_tools(&endpoint(&fake, transport)).await;
        fake.stop().await;
        match result {
            Err(McpError::Catalog(error)) => {
                assert!(
                    error.0.contains("larger than the limit of 1 bytes"),
                    "{error}"
                );
            }
            other => panic!("{transport:?}: expected the size limit, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn mcp_answers_over_the_size_limit_are_too_large() {
    for (transport, fault) in [
        (McpTransport::StreamableHttp, Fault::HugeList { sse: false }),
        // rmcp's own event limit, recognized by its message: this pins that message.
        (McpTransport::StreamableHttp, Fault::HugeList { sse: true }),
        (McpTransport::Sse, Fault::HugeList { sse: true }),
    ] {
        let error = list_with(transport, fault).await.expect_err("too large");
        assert_eq!(error, McpError::TooLarge, "{transport:?} {fault:?}");
    }
}

#[tokio::test]
async fn mcp_a_tool_without_input_schema_is_named() {
    for transport in BOTH {
        let reason = protocol_reason(list_with(transport, Fault::ToolWithoutSchema).await);
        assert!(
            reason.contains("\"bare\" has no inputSchema"),
            "{transport:?}: {reason}"
        );
    }
}

#[tokio::test]
async fn mcp_a_legacy_endpoint_on_another_origin_is_refused() {
    let reason = protocol_reason(list_with(McpTransport::Sse, Fault::ForeignEndpoint).await);
    assert!(reason.contains("another origin"), "{reason}");
}

#[tokio::test]
async fn mcp_auto_falls_back_to_legacy_only_on_legacy_hints() {
    // A legacy-only server answers the initialize POST with 405: Auto uses its SSE stream.
    let legacy = fakes::legacy(Fault::None).await;
    let tools = client(limits())
        .list_tools(&endpoint(&legacy, McpTransport::Auto))
        .await
        .expect("fallback");
    assert_eq!(tools.len(), 4);
    legacy.stop().await;

    // A refusal of the credentials is final, not a reason to try another transport.
    let error = list_with(McpTransport::Auto, Fault::Status(401))
        .await
        .expect_err("401");
    assert_eq!(error, McpError::Unauthorized { status: 401 });
}

#[tokio::test]
async fn mcp_addresses_outside_the_policy_are_refused_before_connecting() {
    let fake = fakes::streamable(Fault::None).await;
    let strict = McpClient::new(&UpstreamPolicy::public_only(), limits()).expect("client");
    let error = strict
        .list_tools(&endpoint(&fake, McpTransport::StreamableHttp))
        .await
        .expect_err("loopback refused");
    assert!(matches!(error, McpError::Refused(_)), "{error:?}");
    assert!(
        fake.seen_headers().is_empty(),
        "a request reached the server"
    );
    fake.stop().await;
}

#[tokio::test]
async fn mcp_reserved_headers_are_refused_before_connecting() {
    let fake = fakes::streamable(Fault::None).await;
    let mut endpoint = endpoint(&fake, McpTransport::StreamableHttp);
    endpoint
        .headers
        .insert("mcp-session-id", HeaderValue::from_static("s3cret"));
    let error = client(limits())
        .list_tools(&endpoint)
        .await
        .expect_err("reserved");
    assert!(matches!(error, McpError::InvalidHeader(_)), "{error:?}");
    assert!(!error.to_string().contains("s3cret"));
    assert!(
        fake.seen_headers().is_empty(),
        "a request reached the server"
    );
    fake.stop().await;
}

#[test]
fn mcp_endpoint_debug_hides_secrets() {
    let mut headers = HeaderMap::new();
    headers.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
    let endpoint = McpEndpoint {
        connection_id: uuid::Uuid::nil(),
        url: "https://example.com/mcp?key=k3y".parse().expect("url"),
        transport: McpTransport::Auto,
        headers,
    };
    let shown = format!("{endpoint:?}");
    assert!(
        shown.contains("authorization") && shown.contains("example.com/mcp"),
        "{shown}"
    );
    assert!(
        !shown.contains("s3cret") && !shown.contains("k3y"),
        "{shown}"
    );
}
