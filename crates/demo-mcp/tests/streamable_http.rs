//! The demo server seen through rmcp's own Streamable HTTP client.

use std::time::{Duration, Instant};

use feather_demo_mcp::{DemoServer, TOOL_NAMES};
use rmcp::{
    RoleClient, ServiceExt,
    model::{CallToolRequestParams, CallToolResult, Tool},
    service::RunningService,
    transport::StreamableHttpClientTransport,
};
use serde_json::{Value, json};

type Client = RunningService<RoleClient, ()>;

const STEP: Duration = Duration::from_secs(10);

async fn start() -> (DemoServer, Client) {
    let server = DemoServer::start("127.0.0.1:0".parse().expect("socket address"))
        .await
        .expect("server starts");
    assert!(server.local_addr().ip().is_loopback());
    assert_eq!(
        server.streamable_url(),
        format!("http://127.0.0.1:{}/mcp", server.local_addr().port())
    );
    let transport = StreamableHttpClientTransport::from_uri(server.streamable_url());
    let client = tokio::time::timeout(STEP, ().serve(transport))
        .await
        .expect("initialize timed out")
        .expect("initialize failed");
    (server, client)
}

async fn call(client: &Client, name: &'static str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    tokio::time::timeout(
        STEP,
        client.call_tool(CallToolRequestParams::new(name).with_arguments(args)),
    )
    .await
    .expect("call timed out")
    .expect("call failed at the protocol level")
}

fn structured(result: &CallToolResult) -> &Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "unexpected tool error: {result:?}"
    );
    result
        .structured_content
        .as_ref()
        .expect("structured content")
}

fn property<'a>(tool: &'a Tool, name: &str) -> &'a Value {
    tool.input_schema
        .get("properties")
        .and_then(|p| p.get(name))
        .unwrap_or_else(|| panic!("{} has no input property {name}", tool.name))
}

#[tokio::test]
async fn lists_every_tool_with_input_and_output_schemas() {
    let (server, client) = start().await;
    let tools = tokio::time::timeout(STEP, client.list_all_tools())
        .await
        .expect("tools/list timed out")
        .expect("tools/list failed");

    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, TOOL_NAMES);

    for tool in &tools {
        assert_eq!(
            tool.input_schema.get("type"),
            Some(&json!("object")),
            "{}",
            tool.name
        );
        assert!(
            tool.input_schema.get("properties").is_some(),
            "{}",
            tool.name
        );
        let output = tool
            .output_schema
            .as_ref()
            .unwrap_or_else(|| panic!("{} has no outputSchema", tool.name));
        assert_eq!(output.get("type"), Some(&json!("object")), "{}", tool.name);
        assert!(
            tool.description.as_deref().is_some_and(|d| !d.is_empty()),
            "{}",
            tool.name
        );
    }

    let tool = |name: &str| tools.iter().find(|t| t.name == name).expect("listed tool");

    // Display-name variety: `title`, only `annotations.title`, neither.
    assert_eq!(
        tool("search_customers").title.as_deref(),
        Some("Search customers")
    );
    let send = tool("send_message");
    assert_eq!(send.title, None);
    assert_eq!(
        send.annotations.as_ref().and_then(|a| a.title.as_deref()),
        Some("Send customer message")
    );
    let availability = tool("check_availability");
    assert_eq!(availability.title, None);
    assert_eq!(
        availability
            .annotations
            .as_ref()
            .and_then(|a| a.title.as_deref()),
        None
    );

    // Schema features the platform's form rendering and validation are tested against.
    let limit = property(tool("search_customers"), "limit");
    assert_eq!(
        (limit["minimum"].as_u64(), limit["maximum"].as_u64()),
        (Some(1), Some(50))
    );
    assert_eq!(limit["default"], json!(10));
    let ticket = tool("create_ticket");
    assert_eq!(property(ticket, "customer_email")["format"], json!("email"));
    assert_eq!(property(ticket, "tags")["maxItems"], json!(10));
    assert_eq!(property(ticket, "subject")["maxLength"], json!(200));
    assert_eq!(
        property(tool("send_message"), "text")["maxLength"],
        json!(2000)
    );
    assert_eq!(property(availability, "date")["format"], json!("date"));
    let duration = property(availability, "duration_minutes");
    assert_eq!(
        (duration["minimum"].as_u64(), duration["maximum"].as_u64()),
        (Some(15), Some(240))
    );
    assert!(property(tool("get_order"), "order_id")["pattern"].is_string());
    assert!(
        property(tool("refund_order"), "items")
            .to_string()
            .contains("maxItems")
    );
    let schema_text = serde_json::to_string(&ticket.input_schema).expect("schema serializes");
    assert!(
        schema_text.contains(r#""urgent""#),
        "priority enum: {schema_text}"
    );
    let order_out = serde_json::to_string(
        tool("get_order")
            .output_schema
            .as_ref()
            .expect("output schema"),
    )
    .expect("schema serializes");
    assert!(order_out.contains(r#""date-time""#), "{order_out}");

    client.cancel().await.expect("client closes");
    server.shutdown().await;
}

#[tokio::test]
async fn calls_return_structured_content() {
    let (server, client) = start().await;

    let found = call(&client, "search_customers", json!({ "query": "ADA" })).await;
    let found = structured(&found);
    assert_eq!(found["total_matches"], json!(1));
    assert_eq!(
        found["customers"][0],
        json!({ "id": "cus_1001", "name": "Ada Lovelace", "email": "ada@analytical.example", "plan": "pro" })
    );
    let limited = call(
        &client,
        "search_customers",
        json!({ "query": "", "limit": 3, "plan": null }),
    )
    .await;
    assert_eq!(
        structured(&limited)["customers"].as_array().map(Vec::len),
        Some(3)
    );
    assert_eq!(structured(&limited)["total_matches"], json!(8));

    let order = call(&client, "get_order", json!({ "order_id": "ORD-1001" })).await;
    let order = &structured(&order)["order"];
    assert_eq!(order["status"], json!("delivered"));
    assert_eq!(order["total_cents"], json!(15_900));
    assert_eq!(
        order["items"][1],
        json!({ "sku": "CBL-USBC-2M", "quantity": 2, "unit_price_cents": 1500 })
    );

    let ticket = call(
        &client,
        "create_ticket",
        json!({
            "subject": "Keyboard arrived broken",
            "body": "Two keys are missing.",
            "priority": "high",
            "customer_email": "ada@analytical.example",
            "tags": ["hardware", "rma"],
        }),
    )
    .await;
    let ticket = &structured(&ticket)["ticket"];
    assert_eq!(ticket["status"], json!("open"));
    assert_eq!(ticket["priority"], json!("high"));
    assert_eq!(ticket["customer_id"], json!("cus_1001"));
    assert!(
        ticket["id"]
            .as_str()
            .expect("ticket id")
            .starts_with("TCK-")
    );

    let message = call(
        &client,
        "send_message",
        json!({ "channel": "email", "text": "We're on it." }),
    )
    .await;
    let message = &structured(&message)["message"];
    assert_eq!(message["channel"], json!("email"));
    assert!(
        message["thread_id"]
            .as_str()
            .expect("thread id")
            .starts_with("thr_")
    );
    assert_ne!(message["id"], ticket["id"]);

    let slots = call(
        &client,
        "check_availability",
        json!({ "date": "2025-06-03", "duration_minutes": 60, "timezone": "Europe/Berlin" }),
    )
    .await;
    let slots = structured(&slots);
    assert_eq!(slots["timezone"], json!("Europe/Berlin"));
    assert!(!slots["slots"].as_array().expect("slots array").is_empty());
    let weekend = call(
        &client,
        "check_availability",
        json!({ "date": "2025-06-07" }),
    )
    .await;
    assert_eq!(structured(&weekend)["slots"], json!([]));

    let refund = call(
        &client,
        "refund_order",
        json!({ "order_id": "ORD-1001", "reason": "damaged", "items": [{ "sku": "KB-MECH-01", "quantity": 1 }] }),
    )
    .await;
    let refund = &structured(&refund)["refund"];
    assert_eq!(refund["amount_cents"], json!(12_900));
    assert_eq!(refund["status"], json!("pending"));

    client.cancel().await.expect("client closes");
    server.shutdown().await;
}

#[tokio::test]
async fn failures_are_tool_errors() {
    let (server, client) = start().await;

    let unknown = call(
        &client,
        "refund_order",
        json!({ "order_id": "ORD-9999", "reason": "other" }),
    )
    .await;
    assert_eq!(unknown.is_error, Some(true));
    let text = serde_json::to_string(&unknown.content).expect("content serializes");
    assert!(text.contains("ORD-9999"), "{text}");

    let cancelled = call(
        &client,
        "refund_order",
        json!({ "order_id": "ORD-1004", "reason": "changed_mind" }),
    )
    .await;
    assert_eq!(cancelled.is_error, Some(true));

    // rmcp doesn't enforce the schema, the tools do.
    let too_many = call(
        &client,
        "search_customers",
        json!({ "query": "a", "limit": 51 }),
    )
    .await;
    assert_eq!(too_many.is_error, Some(true));
    let bad_date = call(
        &client,
        "check_availability",
        json!({ "date": "2025-02-30" }),
    )
    .await;
    assert_eq!(bad_date.is_error, Some(true));
    let bad_email = call(
        &client,
        "create_ticket",
        json!({ "subject": "s", "body": "b", "customer_email": "nobody" }),
    )
    .await;
    assert_eq!(bad_email.is_error, Some(true));

    client.cancel().await.expect("client closes");
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_is_prompt_with_a_connected_client() {
    let (server, client) = start().await;
    structured(&call(&client, "get_order", json!({ "order_id": "ORD-1002" })).await);

    let started = Instant::now();
    server.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );

    // The session is gone with the server.
    let after = tokio::time::timeout(
        STEP,
        client.call_tool(CallToolRequestParams::new("get_order")),
    )
    .await
    .expect("a call to a stopped server should fail, not hang");
    assert!(after.is_err(), "{after:?}");
    drop(client);
}
