//! `POST /v1/integrations/connections/custom-mcp`: connecting a custom MCP server with
//! static credentials, the checks on the request (SSRF guard included), what is kept
//! secret, and the organization boundary of every custom-MCP endpoint.

use axum::http::{Method, StatusCode};
use feather_demo_mcp::TOOL_NAMES;
use feather_service::{ServiceLimits, SyncOutcome};
use feather_store::JobKind;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{
    CUSTOM_MCP, CapturedLogs, FakeMcp, LISTING, TestApp, Upstream, assert_no_secret, keys,
    mcp_connection, pluck, set, start_demo, timestamp, with_fields,
};

/// An address the guard allows (TestApp allows 127.0.0.1/32) where nothing listens.
const NOWHERE: &str = "http://127.0.0.1:1/mcp";

#[tokio::test]
async fn connect_returns_201_active_with_vendor_mcp_and_queues_a_first_sync() {
    let app = TestApp::new().await;
    let response = app
        .post_json(CUSTOM_MCP, mcp_connection(NOWHERE, "streamable_http"))
        .await;
    let created = response.expect(StatusCode::CREATED);
    assert_eq!(
        keys(&created),
        set(&[
            "connection_id",
            "status",
            "vendor",
            "authorize_url",
            "state"
        ])
    );
    assert_eq!(created["status"], "active");
    assert_eq!(created["vendor"], "mcp");
    assert_eq!(created["authorize_url"], Value::Null);
    assert_eq!(created["state"], Value::Null);

    let listing = app.listing().await;
    assert_eq!(listing.len(), 1);
    let connection = &listing[0];
    assert_eq!(connection["id"], created["connection_id"]);
    assert_eq!(connection["integration_key"], "custom_mcp");
    assert_eq!(connection["nickname"], "Demo");
    assert_eq!(connection["nickname_slug"], "demo");
    assert_eq!(connection["vendor"], "mcp");
    assert_eq!(connection["status"], "active");
    assert_eq!(connection["status_reason"], Value::Null);
    assert_eq!(connection["tools_status"], "pending");
    assert_eq!(connection["tools_synced_at"], Value::Null);
    assert_eq!(connection["tools"], json!([]));
    assert_eq!(
        timestamp(&connection["connected_at"]),
        timestamp(&connection["created_at"])
    );
    assert_eq!(
        connection["metadata"],
        json!({"server_url": NOWHERE, "transport": "streamable_http", "auth_type": "none"})
    );

    let job = app.take_due_job().await.expect("a sync is queued at once");
    assert_eq!(
        (job.kind, job.connection_id),
        (JobKind::SyncTools, uuid_of(&created))
    );
    assert!(app.take_due_job().await.is_none(), "one sync, not more");
}

#[tokio::test]
async fn connect_defaults_to_the_legacy_sse_transport_and_no_auth() {
    let app = TestApp::new().await;
    app.connect_mcp(json!({"nickname": "Legacy", "server_url": NOWHERE}))
        .await;
    let metadata = &app.listing().await[0]["metadata"];
    assert_eq!(metadata["transport"], "sse");
    assert_eq!(metadata["auth_type"], "none");
}

#[tokio::test]
async fn listing_shows_the_demo_servers_tools_after_a_sync_over_every_transport() {
    let app = TestApp::new().await;
    let demo = start_demo().await;
    let cases = [
        ("streamable_http", demo.streamable_url()),
        ("sse", demo.sse_url()),
        ("auto", demo.streamable_url()),
        // Auto falls back to the legacy transport when the URL only speaks that.
        ("auto", demo.sse_url()),
    ];
    for (transport, server_url) in &cases {
        let connection = app
            .connect_mcp(with_fields(
                mcp_connection(server_url, transport),
                json!({"nickname": format!("{transport} {server_url}")}),
            ))
            .await;
        let (outcome, _) = app.sync_now(&connection).await;
        assert_eq!(outcome, SyncOutcome::Synced, "{transport} at {server_url}");

        let shown = app.connection(&connection).await;
        assert_eq!(
            shown["tools_status"], "synced",
            "{transport} at {server_url}"
        );
        let synced_at = timestamp(&shown["tools_synced_at"]);
        assert_eq!(timestamp(&shown["last_refreshed_at"]), synced_at);
        let tools = shown["tools"].as_array().expect("tools");
        assert_eq!(
            pluck(tools, "tool_path"),
            TOOL_NAMES.map(Value::from).to_vec(),
            "{transport} at {server_url}"
        );
        assert_eq!(
            pluck(tools, "is_enabled"),
            vec![json!(true); TOOL_NAMES.len()],
            "new tools start enabled"
        );
        for tool in tools {
            let slug = format!(
                "{}_{}",
                connection.nickname_slug,
                tool["tool_path"].as_str().expect("path")
            );
            assert_eq!(tool["slug"], slug.as_str());
            assert_eq!(tool["input_schema"]["type"], "object", "{tool:#}");
            assert!(
                tool["response_schema"].is_object(),
                "the demo's outputSchema: {tool:#}"
            );
            assert!(tool["description"].is_string(), "{tool:#}");
        }
    }
    assert_eq!(app.listing().await.len(), cases.len());
    demo.shutdown().await;
}

#[tokio::test]
async fn display_names_follow_the_title_then_the_annotations_title_then_the_humanized_name() {
    let app = TestApp::new().await;
    let demo = start_demo().await;
    let connection = app.connect_demo(&demo).await;
    // search_customers has a title; send_message only an annotations title;
    // check_availability neither.
    for (tool_path, display_name) in [
        ("search_customers", "Search customers"),
        ("send_message", "Send customer message"),
        ("check_availability", "Check Availability"),
    ] {
        assert_eq!(
            app.tool(&connection, tool_path).await["display_name"],
            display_name,
            "{tool_path}"
        );
    }
    demo.shutdown().await;
}

#[tokio::test]
async fn connect_rejects_unknown_fields_and_creates_nothing() {
    let app = TestApp::new().await;
    let before = app.state().await;
    app.post_json(
        CUSTOM_MCP,
        with_fields(
            mcp_connection(NOWHERE, "sse"),
            json!({"colour": "blue", "tools": []}),
        ),
    )
    .await
    .expect_validation_error(&[&["body", "colour"], &["body", "tools"]]);
    assert_nothing_created(&app, &before).await;
}

#[tokio::test]
async fn connect_rejects_each_bad_input_with_a_422_naming_the_field_and_creates_nothing() {
    let app = TestApp::new().await;
    let valid = mcp_connection(NOWHERE, "streamable_http");
    let missing_server_url = json!({"nickname": "Demo", "transport": "sse"});
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "missing server_url",
            missing_server_url,
            &["body", "server_url"],
        ),
        (
            "blank server_url",
            with_fields(valid.clone(), json!({"server_url": "  "})),
            &["body", "server_url"],
        ),
        (
            "unknown transport",
            with_fields(valid.clone(), json!({"transport": "websocket"})),
            &["body", "transport"],
        ),
        (
            "bearer without a token",
            with_fields(valid.clone(), json!({"auth_type": "bearer"})),
            &["body", "token"],
        ),
        (
            "bearer with an empty token",
            with_fields(valid.clone(), json!({"auth_type": "bearer", "token": ""})),
            &["body", "token"],
        ),
        (
            "api_key without a key",
            with_fields(
                valid.clone(),
                json!({"auth_type": "api_key", "api_key_header": "X-Key"}),
            ),
            &["body", "api_key"],
        ),
        (
            "a token with auth_type none",
            with_fields(valid.clone(), json!({"token": "stray"})),
            &["body", "token"],
        ),
        (
            "an api key with auth_type bearer",
            with_fields(
                valid.clone(),
                json!({"auth_type": "bearer", "token": "t", "api_key": "k"}),
            ),
            &["body", "api_key"],
        ),
        (
            "an unknown auth_type",
            with_fields(valid.clone(), json!({"auth_type": "basic"})),
            &["body", "auth_type"],
        ),
        (
            "a reserved header",
            with_fields(
                valid.clone(),
                json!({"headers": {"Mcp-Session-Id": "mine"}}),
            ),
            &["body", "headers", "Mcp-Session-Id"],
        ),
        (
            "a header that would replace the credential",
            with_fields(
                valid.clone(),
                json!({"auth_type": "bearer", "token": "t", "headers": {"Authorization": "Basic x"}}),
            ),
            &["body", "headers", "Authorization"],
        ),
        (
            "an invalid header value",
            with_fields(
                valid.clone(),
                json!({"headers": {"X-Tenant": "line\nbreak"}}),
            ),
            &["body", "headers", "X-Tenant"],
        ),
        (
            "an invalid header name",
            with_fields(valid.clone(), json!({"headers": {"Bad Name": "v"}})),
            &["body", "headers", "Bad Name"],
        ),
        (
            "a token that cannot travel in a header",
            with_fields(
                valid.clone(),
                json!({"auth_type": "bearer", "token": "a\r\nb"}),
            ),
            &["body", "token"],
        ),
        (
            "oauth fields without auth_type oauth",
            with_fields(valid.clone(), json!({"oauth_client_id": "abc"})),
            &["body", "oauth_client_id"],
        ),
        (
            "a nickname without letters or digits",
            with_fields(valid.clone(), json!({"nickname": "!!!"})),
            &["body", "nickname"],
        ),
    ];
    let before = app.state().await;
    for (case, body, loc) in cases {
        let response = app.post_json(CUSTOM_MCP, body).await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{case}: {}",
            response.text()
        );
        response.expect_validation_error(&[loc]);
    }
    assert_nothing_created(&app, &before).await;
}

#[tokio::test]
async fn connect_lists_every_problem_of_a_request_in_one_422() {
    let app = TestApp::new().await;
    let before = app.state().await;
    app.post_json(
        CUSTOM_MCP,
        json!({
            "nickname": "Demo",
            "server_url": "",
            "transport": "carrier_pigeon",
            "auth_type": "bearer",
            "api_key": "stray",
            "headers": {"Content-Type": "text/plain", "X-Ok": "line\nbreak"}
        }),
    )
    .await
    .expect_validation_error(&[
        &["body", "server_url"],
        &["body", "transport"],
        &["body", "token"],
        &["body", "api_key"],
        &["body", "headers", "Content-Type"],
        &["body", "headers", "X-Ok"],
    ]);
    assert_nothing_created(&app, &before).await;
}

#[tokio::test]
async fn connect_refuses_private_loopback_link_local_and_metadata_addresses_saying_why() {
    let app = TestApp::new().await;
    let before = app.state().await;
    for (server_url, why) in [
        ("http://10.0.0.1/mcp", "a private address"),
        ("http://192.168.1.20:8080/mcp", "a private address"),
        ("http://169.254.169.254/", "a cloud metadata address"),
        ("http://169.254.10.1/mcp", "a link-local address"),
        ("http://127.0.0.2/mcp", "a loopback address"),
        ("http://[::1]:1/", "a loopback address"),
        ("http://localhost:1/", "a loopback address"),
        ("http://0.0.0.0:1/mcp", "the unspecified address"),
        ("http://[fe80::1]/mcp", "a link-local address"),
    ] {
        let problems = app
            .post_json(CUSTOM_MCP, mcp_connection(server_url, "streamable_http"))
            .await
            .expect_validation_error(&[&["body", "server_url"]]);
        let message = problems[0]["msg"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{server_url}: {message}");
        assert_eq!(problems[0]["type"], "url_refused", "{server_url}");
    }
    assert_nothing_created(&app, &before).await;
}

#[tokio::test]
async fn connect_refuses_urls_that_are_not_http_or_carry_credentials_without_echoing_them() {
    let app = TestApp::new().await;
    let before = app.state().await;
    for (server_url, why) in [
        ("ftp://127.0.0.1/mcp", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("not a url", "not a valid URL"),
        (
            "http://admin:hunter2@127.0.0.1:1/mcp",
            "user name or password",
        ),
    ] {
        let response = app
            .post_json(CUSTOM_MCP, mcp_connection(server_url, "streamable_http"))
            .await;
        let problems = response.expect_validation_error(&[&["body", "server_url"]]);
        let message = problems[0]["msg"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{server_url}: {message}");
        assert_no_secret(&response.text(), &["hunter2"], "the 422");
    }
    assert_nothing_created(&app, &before).await;
}

#[tokio::test]
async fn credentials_reach_the_server_but_are_never_shown_logged_or_stored_in_clear() {
    const TOKEN: &str = "tok-5ecret-bearer-value";
    const API_KEY: &str = "key-5ecret-api-value";
    const TENANT: &str = "tenant-5ecret-header-value";
    const QUERY_KEY: &str = "query-5ecret-key-value";
    let secrets = [TOKEN, API_KEY, TENANT, QUERY_KEY];
    let logs = CapturedLogs::start();
    let app = TestApp::new().await;
    // A server that records what it receives and rejects everything.
    let server = FakeMcp::start(Upstream::Status(401)).await;

    let bearer_body = json!({
        "nickname": "Bearer", "server_url": server.url(), "transport": "streamable_http",
        "auth_type": "bearer", "token": TOKEN, "headers": {"X-Tenant": TENANT}
    });
    let api_key_body = json!({
        "nickname": "Api key", "server_url": server.url(), "transport": "streamable_http",
        "auth_type": "api_key", "api_key": API_KEY, "api_key_header": "X-Secret-Key"
    });
    let query_body = json!({
        "nickname": "Query key", "server_url": format!("{}?api_key={QUERY_KEY}&v=2", server.url()),
        "transport": "streamable_http"
    });
    let mut responses = Vec::new();
    let mut connections = Vec::new();
    for body in [bearer_body, api_key_body, query_body] {
        let response = app.post_json(CUSTOM_MCP, body).await;
        let created = response.expect(StatusCode::CREATED);
        responses.push(response.text());
        let connection = app.owned_connection(uuid_of(&created)).await;
        let (outcome, _) = app.sync_now(&connection).await;
        assert!(matches!(outcome, SyncOutcome::Permanent(_)), "{outcome:?}");
        connections.push(connection);
    }

    // They reached the server, each where it belongs.
    let requests = server.requests();
    let carrying = |name: &str, value: &str| {
        requests
            .iter()
            .any(|headers| headers.get(name).is_some_and(|sent| sent == value))
    };
    assert!(carrying("authorization", &format!("Bearer {TOKEN}")));
    assert!(carrying("x-tenant", TENANT));
    assert!(carrying("x-secret-key", API_KEY));
    let query = format!("api_key={QUERY_KEY}&v=2");
    assert!(
        server.queries().contains(&Some(query)),
        "{:?}",
        server.queries()
    );

    // The API never shows them; the listing names the headers only.
    let listing = app.get(LISTING).await;
    let shown = listing.expect(StatusCode::OK);
    assert_eq!(shown[0]["metadata"]["auth_type"], "bearer");
    assert_eq!(
        shown[0]["metadata"]["custom_header_names"],
        json!(["X-Tenant"])
    );
    assert_eq!(shown[1]["metadata"]["auth_type"], "api_key");
    assert_eq!(shown[1]["metadata"]["api_key_header"], "X-Secret-Key");
    assert_eq!(
        shown[2]["metadata"]["server_url"],
        format!("{}?api_key=…&v=…", server.url())
    );
    let mut pages = vec![listing.text()];
    pages.extend(responses);
    for connection in &connections {
        pages.push(app.get(&connection.url()).await.text());
        let refresh_url = connection.refresh_tools_url();
        pages.push(app.post_json(&refresh_url, json!({})).await.text());
    }
    pages.push(app.anonymous().get("/openapi.json").await.text());
    for page in &pages {
        assert_no_secret(page, &secrets, "a response");
    }

    // At rest they are sealed, not stored in clear.
    for connection in &connections {
        let sealed = app
            .service
            .store()
            .connection_secret(connection.id)
            .await
            .expect("read the sealed credentials")
            .expect("the connection has sealed credentials");
        for secret in secrets {
            assert!(
                !sealed
                    .windows(secret.len())
                    .any(|window| window == secret.as_bytes()),
                "the stored credentials contain {secret:?} in clear"
            );
        }
    }

    // And no log line carries them, at any level.
    let logged = logs.text();
    assert!(!logged.is_empty(), "the log capture works");
    assert_no_secret(&logged, &secrets, "the log");
    server.stop().await;
}

/// Some servers' error pages repeat the request's headers.
const ECHOED_TOKEN: &str = "tok-echoed-5ecret-value";

#[tokio::test]
async fn credentials_a_failing_server_echoes_back_never_reach_a_response() {
    for status in [400, 401, 500] {
        let app = TestApp::new().await;
        for (what, text) in fail_echoing_the_credentials(&app, status).await {
            assert_no_secret(&text, &[ECHOED_TOKEN], &format!("HTTP {status}: {what}"));
        }
    }
}

#[tokio::test]
async fn credentials_a_failing_server_echoes_back_never_reach_a_log_line() {
    for status in [400, 401, 500] {
        let logs = CapturedLogs::start();
        let app = TestApp::new().await;
        fail_echoing_the_credentials(&app, status).await;
        assert_no_secret(
            &logs.text(),
            &[ECHOED_TOKEN],
            &format!("HTTP {status}: the log"),
        );
    }
}

/// Connects a server with a bearer token and syncs it; then the server fails every
/// request with `status`, repeating the headers it received, while a tool is called and
/// the tools are synced again. Returns what the API answered meanwhile.
async fn fail_echoing_the_credentials(app: &TestApp, status: u16) -> Vec<(&'static str, String)> {
    let server = FakeMcp::start(Upstream::Lists(json!([
        {"name": "lookup", "inputSchema": {"type": "object"}}
    ])))
    .await;
    let connection = app
        .connect_mcp(with_fields(
            mcp_connection(server.url(), "streamable_http"),
            json!({"auth_type": "bearer", "token": ECHOED_TOKEN}),
        ))
        .await;
    app.sync_now(&connection).await;

    server.answer(Upstream::EchoesHeaders(status));
    let call = app.call_tool(&connection, "lookup", json!({})).await;
    call.expect_error(StatusCode::BAD_GATEWAY, "upstream_error");
    app.sync_now(&connection).await;
    let listing = app.get(LISTING).await;
    assert_eq!(listing.json()[0]["tools_status"], "failed", "HTTP {status}");
    server.stop().await;
    vec![
        ("the failed call", call.text()),
        ("the listing", listing.text()),
    ]
}

#[tokio::test]
async fn concurrent_connects_with_one_nickname_all_succeed_with_distinct_slugs() {
    let app = TestApp::new().await;
    let connects = (0..10).map(|_| app.post_json(CUSTOM_MCP, mcp_connection(NOWHERE, "sse")));
    for response in futures::future::join_all(connects).await {
        response.expect(StatusCode::CREATED);
    }
    let listing = app.get(LISTING).await.expect(StatusCode::OK);
    let mut slugs: Vec<String> = listing
        .as_array()
        .expect("a list")
        .iter()
        .map(|connection| {
            connection["nickname_slug"]
                .as_str()
                .expect("slug")
                .to_owned()
        })
        .collect();
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 10, "{slugs:?}");
}

#[tokio::test]
async fn an_organization_at_its_connection_limit_gets_409_limit_reached_and_nothing_changes() {
    let app = TestApp::build()
        .service_limits(ServiceLimits {
            max_connections_per_organization: 2,
        })
        .start()
        .await;
    for _ in 0..2 {
        app.post_json(CUSTOM_MCP, mcp_connection(NOWHERE, "sse"))
            .await
            .expect(StatusCode::CREATED);
    }
    let _queued = (app.take_due_job().await, app.take_due_job().await);
    let before = app.state().await;
    let refused = app
        .post_json(CUSTOM_MCP, mcp_connection(NOWHERE, "sse"))
        .await
        .expect_error(StatusCode::CONFLICT, "limit_reached");
    let message = refused["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("already has 2 connections")
            && message.contains("--max-connections-per-org"),
        "{message}"
    );
    assert_nothing_created(&app, &before).await;
    // Another organization has its own allowance.
    app.as_stranger()
        .post_json(CUSTOM_MCP, mcp_connection(NOWHERE, "sse"))
        .await
        .expect(StatusCode::CREATED);
}

#[tokio::test]
async fn another_orgs_connection_is_404_on_every_custom_mcp_endpoint_and_nothing_changes() {
    let app = TestApp::new().await;
    let demo = start_demo().await;
    let connection = app.connect_demo(&demo).await;
    let _first_sync = app.take_due_job().await;
    let call = json!({"slug": connection.slug("search_customers"), "input": {"query": "ada"}});
    let before = app.state().await;
    let stranger = app.as_stranger();
    for (url, body) in [
        (connection.refresh_tools_url(), json!({})),
        (connection.test_mcp_call_url(), call.clone()),
        (connection.test_invoke_url(), call.clone()),
    ] {
        stranger
            .post_json(&url, body)
            .await
            .expect_error(StatusCode::NOT_FOUND, "not_found");
    }
    TestApp::assert_unchanged(&before, &app.state().await);
    assert!(
        app.invocations(&connection).await.is_empty(),
        "nothing was invoked"
    );
    assert!(app.take_due_job().await.is_none(), "no sync was queued");
    demo.shutdown().await;
}

#[tokio::test]
async fn custom_mcp_endpoints_answer_404_for_an_unknown_connection_and_422_for_a_malformed_id() {
    let app = TestApp::new().await;
    let call = json!({"slug": "demo_search_customers", "input": {}});
    for (suffix, body) in [
        ("refresh-tools", json!({})),
        ("test-mcp-call", call.clone()),
        ("test-invoke", call.clone()),
    ] {
        app.post_json(
            &format!("{LISTING}/{}/{suffix}", Uuid::now_v7()),
            body.clone(),
        )
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
        app.post_json(&format!("{LISTING}/not-a-uuid/{suffix}"), body)
            .await
            .expect_validation_error(&[&["path", "connection_id"]]);
    }
}

#[tokio::test]
async fn connecting_requires_an_api_key() {
    let app = TestApp::new().await;
    app.anonymous()
        .post_json(CUSTOM_MCP, mcp_connection(NOWHERE, "sse"))
        .await
        .expect_error(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(app.listing().await, Vec::<Value>::new());
}

#[tokio::test]
async fn a_connect_body_that_is_not_json_is_400() {
    let app = TestApp::new().await;
    app.as_owner()
        .send_raw(Method::POST, CUSTOM_MCP, "application/json", "{nickname")
        .await
        .expect_error(StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(app.listing().await, Vec::<Value>::new());
}

/// A rejected connect leaves everything as it was and queues no sync.
async fn assert_nothing_created(app: &TestApp, before: &Value) {
    TestApp::assert_unchanged(before, &app.state().await);
    assert!(
        app.take_due_job().await.is_none(),
        "a rejected connect queued a sync"
    );
}

fn uuid_of(created: &Value) -> Uuid {
    crate::support::uuid(&created["connection_id"])
}
