//! The client against a real MCP server, `feather_demo_mcp::DemoServer` (rmcp's server
//! for Streamable HTTP, its own glue for legacy SSE), over every transport setting.

use feather_service::vendors::CallEvents;
use std::net::{Ipv4Addr, SocketAddr};

use feather_demo_mcp::{DemoServer, TOOL_NAMES};
use http::{HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

use super::{McpClient, McpEndpoint, McpError, McpLimits, McpTransport};
use crate::guard::UpstreamPolicy;

async fn demo() -> DemoServer {
    DemoServer::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("demo server starts")
}

fn client() -> McpClient {
    let policy = UpstreamPolicy::with_allow_list("127.0.0.1/32").expect("allow-list");
    McpClient::new(&policy, McpLimits::default()).expect("client")
}

/// Every way of reaching the demo: (transport, URL).
fn endpoints(demo: &DemoServer) -> Vec<McpEndpoint> {
    let mut headers = HeaderMap::new();
    // The demo ignores credentials; sending them checks they do not disturb anything.
    headers.insert("authorization", HeaderValue::from_static("Bearer demo"));
    [
        (McpTransport::StreamableHttp, demo.streamable_url()),
        (McpTransport::Sse, demo.sse_url()),
        (McpTransport::Auto, demo.streamable_url()),
        // The legacy URL refuses the initialize POST (405): Auto falls back to SSE.
        (McpTransport::Auto, demo.sse_url()),
    ]
    .into_iter()
    .map(|(transport, url)| McpEndpoint {
        connection_id: uuid::Uuid::nil(),
        url: url.parse().expect("demo URL"),
        transport,
        headers: headers.clone(),
    })
    .collect()
}

fn arguments(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("arguments are an object")
}

#[tokio::test]
async fn mcp_demo_tools_are_listed_with_their_schemas_over_every_transport() {
    let demo = demo().await;
    let client = client();
    for endpoint in endpoints(&demo) {
        let tools = client.list_tools(&endpoint).await.expect("listing");
        let names: Vec<_> = tools.iter().map(|tool| tool.name.as_str()).collect();
        assert_eq!(names, TOOL_NAMES, "{endpoint:?}");
        for tool in &tools {
            assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
            assert!(tool.input_schema["properties"].is_object(), "{}", tool.name);
            assert!(tool.output_schema.is_some(), "{}", tool.name);
            assert!(tool.description.is_some(), "{}", tool.name);
        }
        let titles: Vec<_> = tools.iter().map(|tool| tool.title.as_deref()).collect();
        assert_eq!(
            titles,
            [
                None, // check_availability has no title at all
                Some("Create support ticket"),
                Some("Look up order"),
                Some("Refund order"),
                Some("Search customers"),
                Some("Send customer message"), // from annotations.title
            ],
            "{endpoint:?}"
        );
        assert!(tools[4].input_schema["properties"]["query"].is_object());
    }
    demo.shutdown().await;
}

#[tokio::test]
async fn mcp_demo_tool_calls_return_structured_content_over_every_transport() {
    let demo = demo().await;
    let client = client();
    for endpoint in endpoints(&demo) {
        let result = client
            .call_tool(
                &endpoint,
                "search_customers",
                arguments(json!({"query": "", "limit": 2})),
                &CallEvents::none(),
            )
            .await
            .expect("call");
        assert_ne!(result["isError"], json!(true), "{endpoint:?}: {result}");
        let customers = result["structuredContent"]["customers"]
            .as_array()
            .unwrap_or_else(|| panic!("{endpoint:?}: no structured customers in {result}"));
        assert_eq!(customers.len(), 2, "{endpoint:?}");
        assert!(result["content"].is_array(), "{endpoint:?}");
    }
    demo.shutdown().await;
}

#[tokio::test]
async fn mcp_demo_tool_errors_are_answers_and_unknown_tools_are_errors() {
    let demo = demo().await;
    let client = client();
    for endpoint in endpoints(&demo) {
        // The tool refuses the argument: still the tool's answer, flagged isError.
        let result = client
            .call_tool(
                &endpoint,
                "search_customers",
                arguments(json!({"query": "", "limit": 0})),
                &CallEvents::none(),
            )
            .await
            .expect("a tool error is a result");
        assert_eq!(result["isError"], json!(true), "{endpoint:?}: {result}");

        let error = client
            .call_tool(&endpoint, "no_such_tool", Map::new(), &CallEvents::none())
            .await
            .expect_err("unknown tool");
        assert!(
            matches!(error, McpError::Rpc { code: -32602, .. }),
            "the server's own refusal, with its code: {endpoint:?}: {error:?}"
        );
    }
    demo.shutdown().await;
}
