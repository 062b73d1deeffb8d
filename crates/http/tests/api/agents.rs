//! The MCP endpoint agents connect to (`/mcp`, `/mcp/{nickname_slug}`), driven by rmcp's
//! client over TCP against the demo MCP server: what an agent is shown, what its calls
//! become, and what it is refused (DESIGN.md §3 "Agent-facing tools").

use axum::http::StatusCode;
use feather_demo_mcp::DemoServer;
use feather_domain::invocation::InvocationMode;
#[allow(deprecated)]
use rmcp::model::LoggingLevel;
use rmcp::model::{CallToolResult, ProtocolVersion, Tool};
use serde_json::{Value, json};

use crate::support::{
    Agent, FakeMcp, Seeded, ServedApp, TestApp, Upstream, catalog, mcp_connection, start_demo,
};

/// The protocol versions the endpoint serves: two with sessions, one stateless (`None`:
/// 2026-07-28, by `server/discover`).
const VERSIONS: [Option<ProtocolVersion>; 3] = [
    Some(ProtocolVersion::V_2025_06_18),
    Some(ProtocolVersion::V_2025_11_25),
    None,
];

/// The app served, with the demo server connected as "Demo" and synced.
async fn demo_app() -> (TestApp, ServedApp, DemoServer, Seeded) {
    let app = TestApp::new().await;
    let demo = start_demo().await;
    let connection = app.connect_demo(&demo).await;
    let served = app.serve().await;
    (app, served, demo, connection)
}

/// The app with a fake upstream connected as "Demo" and synced, listing one tool named
/// `tool` (with an object input schema) and answering as `answer` says.
async fn fake_app(answer: fn(Value) -> Upstream, tool: &str) -> (TestApp, FakeMcp, Seeded) {
    let app = TestApp::new().await;
    let upstream = FakeMcp::start(answer(json!([
        {"name": tool, "inputSchema": {"type": "object"}}
    ])))
    .await;
    let connection = app
        .connect_mcp(mcp_connection(upstream.url(), "streamable_http"))
        .await;
    app.sync_now(&connection).await;
    (app, upstream, connection)
}

async fn owner_agent(app: &TestApp, served: &ServedApp, version: Option<ProtocolVersion>) -> Agent {
    Agent::connect(&served.url("/mcp"), &app.owner.key, version)
        .await
        .expect("the agent connects")
}

fn tool<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools
        .iter()
        .find(|tool| tool.name == name)
        .unwrap_or_else(|| panic!("no tool {name} in {tools:#?}"))
}

/// The text of a result's first content block.
fn text(result: &CallToolResult) -> String {
    let content = serde_json::to_value(&result.content).expect("content serializes");
    content[0]["text"].as_str().unwrap_or_default().to_owned()
}

fn structured(result: &CallToolResult) -> Value {
    result.structured_content.clone().unwrap_or(Value::Null)
}

#[tokio::test]
async fn each_version_settles_as_negotiated_and_lists_the_enabled_tools_by_slug() {
    let (app, served, demo, connection) = demo_app().await;
    app.configure_tool(&connection, "refund_order", json!({"is_enabled": false}))
        .await;
    let expected = [
        "demo_check_availability",
        "demo_create_ticket",
        "demo_get_order",
        "demo_search_customers",
        "demo_send_message",
    ];
    for (version, settled) in VERSIONS.into_iter().zip([
        ProtocolVersion::V_2025_06_18,
        ProtocolVersion::V_2025_11_25,
        ProtocolVersion::V_2026_07_28,
    ]) {
        let agent = owner_agent(&app, &served, version).await;
        assert_eq!(agent.protocol_version(), Some(settled.clone()));
        assert_eq!(agent.tool_names().await, expected, "{settled}");
        agent.close().await;
    }
    demo.shutdown().await;
}

#[tokio::test]
async fn a_pinned_field_is_absent_from_the_schema_and_its_value_wins_on_every_call() {
    let (app, served, demo, connection) = demo_app().await;
    app.configure_tool(
        &connection,
        "search_customers",
        json!({"input_defaults": {
            "limit": {"value": 3, "type": "pinned"},
            "plan": {"value": "pro", "type": "default"}
        }}),
    )
    .await;
    for version in VERSIONS {
        let agent = owner_agent(&app, &served, version.clone()).await;
        let tools = agent.list_all_tools().await;
        let schema = &tool(&tools, "demo_search_customers").input_schema;
        let properties = schema["properties"].as_object().expect("properties");
        assert!(
            !properties.contains_key("limit"),
            "{version:?}: {schema:#?}"
        );
        assert_eq!(properties["plan"]["default"], "pro", "the default is shown");
        assert_eq!(schema["required"], json!(["query"]));

        let result = agent
            .call(
                "demo_search_customers",
                json!({"query": "", "limit": 50, "plan": null}),
            )
            .await
            .expect("the call is answered");
        assert_ne!(result.is_error, Some(true), "{result:#?}");
        let customers = structured(&result)["customers"].as_array().cloned();
        assert_eq!(customers.map(|c| c.len()), Some(3), "the pin, not 50");
        agent.close().await;
    }
    let modes: Vec<InvocationMode> = app
        .invocations(&connection)
        .await
        .into_iter()
        .map(|invocation| invocation.mode)
        .collect();
    assert_eq!(modes, [InvocationMode::Agent; 3]);
    demo.shutdown().await;
}

/// A stateless 2026-07-28 `tools/list` as a client sends it over HTTP, with `extra`
/// headers; its JSON-RPC answer.
async fn list_statelessly(app: &TestApp, cursor: Option<&str>, extra: &[(&str, &str)]) -> Value {
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let params = match cursor {
        Some(cursor) => json!({"cursor": cursor, "_meta": meta}),
        None => json!({"_meta": meta}),
    };
    let body = json!({"jsonrpc": "2.0", "id": "list-1", "method": "tools/list", "params": params});
    let headers = [
        ("host", "localhost:8000"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/list"),
    ];
    let headers: Vec<_> = headers.iter().chain(extra).copied().collect();
    let response = app.as_owner().post_json_with("/mcp", body, &headers).await;
    assert_eq!(response.status, StatusCode::OK, "{extra:?}");
    assert_eq!(response.header("content-type"), Some("application/json"));
    response.json()
}

#[tokio::test]
async fn a_stateless_list_from_the_kept_page_is_the_one_the_transport_gives() {
    let app = TestApp::new().await;
    let demo = start_demo().await;
    let connection = app.connect_demo(&demo).await;
    app.configure_tool(
        &connection,
        "search_customers",
        json!({"input_defaults": {"limit": {"value": 3, "type": "pinned"}}}),
    )
    .await;
    // Without `Origin` the kept page answers; a browser's request goes through the
    // transport, which checks its origin.
    let browser = [("origin", "http://localhost:8000")];
    let kept = list_statelessly(&app, None, &[]).await;
    assert_eq!(kept, list_statelessly(&app, None, &browser).await);
    assert_eq!(kept["id"], "list-1");
    assert_eq!(kept["result"]["ttlMs"], 0);
    let tools = kept["result"]["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let search = tools
        .iter()
        .find(|tool| tool["name"] == "demo_search_customers");
    let properties = &search.expect("the tool is listed")["inputSchema"]["properties"];
    assert!(properties.get("limit").is_none(), "pinned: {properties}");

    app.configure_tool(
        &connection,
        "search_customers",
        json!({"is_enabled": false}),
    )
    .await;
    let after = list_statelessly(&app, None, &[]).await;
    let names: Vec<&Value> = after["result"]["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|tool| &tool["name"])
        .collect();
    assert_eq!(names.len(), tools.len() - 1, "the toggle shows at once");
    assert!(!names.contains(&&json!("demo_search_customers")));

    let refused = list_statelessly(&app, Some("not-handed-out"), &[]).await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    demo.shutdown().await;
}

#[tokio::test]
async fn a_tools_annotations_are_passed_on_as_the_server_listed_them() {
    let app = TestApp::new().await;
    let annotations = json!({"title": "Look up", "readOnlyHint": true, "openWorldHint": false});
    let upstream = FakeMcp::start(Upstream::Lists(json!([
        {"name": "lookup", "inputSchema": {"type": "object"}, "annotations": annotations},
        {"name": "plain", "inputSchema": {"type": "object"}}
    ])))
    .await;
    let connection = app
        .connect_mcp(mcp_connection(upstream.url(), "streamable_http"))
        .await;
    app.sync_now(&connection).await;
    let served = app.serve().await;
    let agent = owner_agent(&app, &served, None).await;
    let tools = agent.list_all_tools().await;
    let listed = |name: &str| serde_json::to_value(tool(&tools, name)).expect("a tool");
    assert_eq!(listed("demo_lookup")["annotations"], annotations);
    assert_eq!(listed("demo_plain").get("annotations"), None);
    agent.close().await;
    upstream.stop().await;
}

#[tokio::test]
async fn arguments_that_do_not_fit_come_back_as_a_tool_error_naming_the_field() {
    let (app, served, demo, connection) = demo_app().await;
    let agent = owner_agent(&app, &served, None).await;
    let result = agent
        .call("demo_search_customers", json!({"query": 7}))
        .await
        .expect("a tool result, not a protocol error");
    assert_eq!(result.is_error, Some(true));
    let sentence = text(&result);
    assert!(sentence.contains("`query`"), "{sentence}");
    assert!(
        app.invocations(&connection).await.is_empty(),
        "nothing was sent"
    );
    agent.close().await;
    demo.shutdown().await;
}

#[tokio::test]
async fn a_field_map_narrows_the_answer_and_the_schema_the_agent_is_shown() {
    let (app, served, demo, connection) = demo_app().await;
    app.configure_tool(
        &connection,
        "search_customers",
        json!({"response_field_map": {"field_mappings": [{"path": "total_matches", "alias": "count"}]}}),
    )
    .await;
    let agent = owner_agent(&app, &served, Some(ProtocolVersion::V_2025_11_25)).await;
    let tools = agent.list_all_tools().await;
    let output = tool(&tools, "demo_search_customers")
        .output_schema
        .clone()
        .expect("an output schema");
    let properties = output["properties"].as_object().expect("properties");
    assert_eq!(properties.keys().collect::<Vec<_>>(), ["count"]);

    let result = agent
        .call("demo_search_customers", json!({"query": ""}))
        .await
        .expect("the call is answered");
    assert_eq!(structured(&result), json!({"count": 8}));
    assert_eq!(text(&result), r#"{"count":8}"#);
    agent.close().await;
    demo.shutdown().await;
}

#[tokio::test]
async fn each_call_goes_out_with_the_configuration_saved_before_it() {
    let (app, served, demo, connection) = demo_app().await;
    let agent = owner_agent(&app, &served, None).await;
    let search = || agent.call("demo_search_customers", json!({"query": ""}));
    for limit in [3, 2] {
        let pin = json!({"input_defaults": {"limit": {"value": limit, "type": "pinned"}}});
        app.configure_tool(&connection, "search_customers", pin)
            .await;
        let result = search().await.expect("a tool result");
        let customers = structured(&result)["customers"].as_array().map(Vec::len);
        assert_eq!(customers, Some(limit), "{result:#?}");
    }
    app.configure_tool(
        &connection,
        "search_customers",
        json!({"is_enabled": false}),
    )
    .await;
    let refused = search().await.expect("a tool result");
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("disabled"), "{}", text(&refused));
    agent.close().await;
    demo.shutdown().await;
}

#[tokio::test]
async fn a_disabled_tool_is_not_listed_and_a_call_to_it_says_why() {
    let (app, served, demo, connection) = demo_app().await;
    app.configure_tool(&connection, "get_order", json!({"is_enabled": false}))
        .await;
    let agent = owner_agent(&app, &served, None).await;
    assert!(
        !agent
            .tool_names()
            .await
            .contains(&"demo_get_order".to_owned())
    );
    let result = agent
        .call("demo_get_order", json!({"order_id": "ord_1"}))
        .await
        .expect("a tool result");
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("disabled"), "{}", text(&result));
    agent.close().await;
    demo.shutdown().await;
}

#[tokio::test]
async fn another_organizations_agent_sees_none_of_the_tools_and_cannot_call_them() {
    let (app, served, demo, connection) = demo_app().await;
    let stranger = Agent::connect(&served.url("/mcp"), &app.stranger.key, None)
        .await
        .expect("the stranger connects");
    assert_eq!(stranger.tool_names().await, Vec::<String>::new());
    let refused = stranger
        .call("demo_search_customers", json!({"query": ""}))
        .await
        .expect_err("a protocol error");
    assert!(refused.contains("Unknown tool"), "{refused}");
    assert!(app.invocations(&connection).await.is_empty());
    stranger.close().await;
    demo.shutdown().await;
}

#[tokio::test]
async fn a_connections_endpoint_serves_its_own_tools_only() {
    let (app, served, demo, _connection) = demo_app().await;
    let other = app
        .seed_connection("Other Desk", vec![catalog::send_message()])
        .await;
    let agent = Agent::connect(&served.url("/mcp/other_desk"), &app.owner.key, None)
        .await
        .expect("the agent connects");
    assert_eq!(agent.tool_names().await, [other.slug("send_message")]);
    let refused = agent
        .call("demo_search_customers", json!({"query": ""}))
        .await
        .expect_err("another connection's tool is unknown here");
    assert!(refused.contains("Unknown tool"), "{refused}");
    agent.close().await;

    let everything = owner_agent(&app, &served, None).await;
    assert_eq!(
        everything.tool_names().await.len(),
        7,
        "both connections on /mcp"
    );
    everything.close().await;

    app.as_owner()
        .post_json("/mcp/no_such_desk", initialize())
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
    demo.shutdown().await;
}

#[tokio::test]
async fn a_stale_pin_blocks_the_call_with_a_sentence_naming_the_field() {
    let app = TestApp::new().await;
    let integer_limit = json!({"type": "object", "properties": {"limit": {"type": "integer"}}});
    let connection = app
        .seed_connection("Desk", vec![catalog::tool("search", integer_limit)])
        .await;
    app.configure_tool(
        &connection,
        "search",
        json!({"input_defaults": {"limit": {"value": 3, "type": "pinned"}}}),
    )
    .await;
    let string_limit = json!({"type": "object", "properties": {"limit": {"type": "string"}}});
    app.resync(&connection, vec![catalog::tool("search", string_limit)])
        .await;
    let served = app.serve().await;
    let agent = owner_agent(&app, &served, None).await;
    let result = agent
        .call("desk_search", json!({}))
        .await
        .expect("a tool result");
    assert_eq!(result.is_error, Some(true));
    let sentence = text(&result);
    assert!(sentence.contains("pinned value of `limit`"), "{sentence}");
    agent.close().await;
}

#[tokio::test]
async fn an_open_session_is_told_when_its_tools_change() {
    let (app, served, demo, connection) = demo_app().await;
    let agent = owner_agent(&app, &served, Some(ProtocolVersion::V_2025_11_25)).await;
    assert_eq!(agent.tool_names().await.len(), 6);
    app.configure_tool(&connection, "send_message", json!({"is_enabled": false}))
        .await;
    assert!(
        agent.tool_list_changed().await,
        "no list_changed after a toggle"
    );
    assert_eq!(agent.tool_names().await.len(), 5);
    app.configure_tool(
        &connection,
        "get_order",
        json!({"input_defaults": {"order_id": {"value": "ORD-1001", "type": "pinned"}}}),
    )
    .await;
    assert!(
        agent.tool_list_changed().await,
        "no list_changed after a pin"
    );
    agent.close().await;
    demo.shutdown().await;
}

#[tokio::test]
#[allow(deprecated)] // MCP logging: deprecated in 2026-07-28, part of the 2025 versions.
async fn an_upstreams_progress_and_log_messages_reach_the_agent_as_it_asked() {
    let (app, upstream, _) = fake_app(Upstream::Notifies, "export").await;
    let served = app.serve().await;
    let warning = json!({"level": "warning", "logger": "fake", "data": "almost out of quota"});

    // A session sets its level once; the debug message is below it.
    let session = owner_agent(&app, &served, Some(ProtocolVersion::V_2025_11_25)).await;
    session.set_log_level(LoggingLevel::Warning).await;
    let result = session
        .call_reporting("demo_export", json!({}), "agent-7", LoggingLevel::Debug)
        .await
        .expect("the call is answered");
    assert_ne!(result.is_error, Some(true), "{result:#?}");
    let notified = session.notifications(4).await;
    assert_eq!(progress_of_one_token(&notified), [0.0, 50.0, 100.0]);
    assert_eq!(logs(&notified), [warning]);
    session.close().await;

    // A 2026-07-28 request opts in with its own level.
    let stateless = owner_agent(&app, &served, None).await;
    stateless
        .call_reporting("demo_export", json!({}), "agent-7", LoggingLevel::Debug)
        .await
        .expect("the call is answered");
    let notified = stateless.notifications(5).await;
    assert_eq!(progress_of_one_token(&notified), [0.0, 50.0, 100.0]);
    assert_eq!(logs(&notified).len(), 2, "debug and warning: {notified:#?}");
    stateless.close().await;
    upstream.stop().await;
}

#[tokio::test]
async fn agent_calls_and_dashboard_tests_share_one_upstream_session() {
    let (app, upstream, connection) = fake_app(Upstream::Lists, "lookup").await;
    let handshakes_of_the_sync = upstream.received("initialize");
    let served = app.serve().await;

    let agent = owner_agent(&app, &served, None).await;
    for _ in 0..3 {
        let result = agent
            .call("demo_lookup", json!({}))
            .await
            .expect("answered");
        assert_ne!(result.is_error, Some(true), "{result:#?}");
    }
    app.call_tool(&connection, "lookup", json!({}))
        .await
        .expect(StatusCode::OK);

    assert_eq!(upstream.received("tools/call"), 4);
    assert_eq!(
        upstream.received("initialize") - handshakes_of_the_sync,
        1,
        "one handshake for every call: {:?}",
        upstream.methods()
    );
    agent.close().await;
    upstream.stop().await;
}

#[tokio::test]
async fn an_agent_cancelling_a_call_cancels_it_upstream() {
    let (app, upstream, _) = fake_app(Upstream::HangsOnCall, "export").await;
    let served = app.serve().await;
    let agent = owner_agent(&app, &served, Some(ProtocolVersion::V_2025_11_25)).await;

    let pending = agent.start_call("demo_export", json!({})).await;
    upstream.until_calls_received(1).await;
    pending.cancel().await;
    upstream.until_received("notifications/cancelled", 1).await;

    // The session stays usable, and so does the upstream's connection slot.
    upstream.answer(Upstream::Lists(json!([
        {"name": "export", "inputSchema": {"type": "object"}}
    ])));
    let result = agent
        .call("demo_export", json!({}))
        .await
        .expect("answered");
    assert_ne!(result.is_error, Some(true), "{result:#?}");
    agent.close().await;
    upstream.stop().await;
}

/// The progress values notified, in order, all under one token (the agent's: its client
/// chooses it).
#[track_caller]
fn progress_of_one_token(notified: &[Value]) -> Vec<f64> {
    let progress: Vec<&Value> = notified.iter().filter_map(|n| n.get("progress")).collect();
    let tokens: Vec<&Value> = progress.iter().map(|p| &p["progressToken"]).collect();
    assert!(
        tokens.windows(2).all(|pair| pair[0] == pair[1]),
        "{tokens:?}"
    );
    assert!(progress.iter().all(|p| p["total"].as_f64() == Some(100.0)));
    progress
        .iter()
        .filter_map(|p| p["progress"].as_f64())
        .collect()
}

/// The log messages notified, in order.
fn logs(notified: &[Value]) -> Vec<Value> {
    notified
        .iter()
        .filter_map(|n| n.get("log").cloned())
        .collect()
}

/// A raw `initialize` request body.
fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}
        }
    })
}

#[tokio::test]
async fn without_a_valid_key_the_endpoint_answers_401_with_a_bearer_challenge() {
    let app = TestApp::new().await;
    for client in [
        app.anonymous(),
        app.with(crate::support::Auth::ApiKey("nope".into())),
    ] {
        let response = client.post_json("/mcp", initialize()).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        let challenge = response.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer realm="), "{challenge:?}");
    }
}

#[tokio::test]
async fn a_request_naming_another_host_or_origin_is_refused_against_dns_rebinding() {
    let app = TestApp::new().await;
    let accepts = [("accept", "application/json, text/event-stream")];
    for headers in [
        vec![("host", "attacker.example")],
        vec![
            ("host", "localhost"),
            ("origin", "https://attacker.example"),
        ],
    ] {
        let headers: Vec<_> = headers.into_iter().chain(accepts).collect();
        let response = app
            .as_owner()
            .post_json_with("/mcp", initialize(), &headers)
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{headers:?}");
    }
    let allowed = [
        ("host", "localhost:8000"),
        ("origin", "http://localhost:8000"),
    ];
    let headers: Vec<_> = allowed.into_iter().chain(accepts).collect();
    let response = app
        .as_owner()
        .post_json_with("/mcp", initialize(), &headers)
        .await;
    assert_eq!(response.status, StatusCode::OK);
}
