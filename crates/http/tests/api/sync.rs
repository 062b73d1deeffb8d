//! Tool sync of custom MCP connections (DESIGN.md §3 Tool sync, Connection status): the job
//! runner end to end, `tools_status` pending → syncing → synced | failed, rejected
//! credentials, failed syncs that change nothing, and
//! `POST /v1/integrations/connections/{connection_id}/refresh-tools`.

use std::time::Duration;

use axum::http::StatusCode;
use feather_demo_mcp::TOOL_NAMES;
use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use feather_service::{NewConnection, SyncOutcome};
use feather_store::JobKind;
use serde_json::{Map, Value, json};

use crate::support::{
    FakeMcp, Seeded, TestApp, Upstream, mcp_connection, pluck, short_mcp_limits, start_demo,
    timestamp, with_fields,
};

/// A tool as an MCP server lists it, with a minimal input schema.
pub(crate) fn listed(name: &str) -> Value {
    json!({
        "name": name,
        "description": format!("The {name} tool."),
        "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}}
    })
}

/// What the fake server lists when it works.
pub(crate) fn two_tools() -> Upstream {
    Upstream::Lists(json!([listed("lookup"), listed("create_note")]))
}

/// A connection of the owner to `server` over Streamable HTTP, synced once.
pub(crate) async fn synced_connection(app: &TestApp, server: &FakeMcp) -> Seeded {
    let connection = app
        .connect_mcp(mcp_connection(server.url(), "streamable_http"))
        .await;
    let (outcome, synced) = app.sync_now(&connection).await;
    assert_eq!(outcome, SyncOutcome::Synced);
    synced
}

/// Asserts `metadata.tools_sync_error` is `{"message", "at"}` with a message saying `why`.
#[track_caller]
fn assert_sync_error(connection: &Value, why: &str) {
    let error = &connection["metadata"]["tools_sync_error"];
    let fields: Vec<&String> = error
        .as_object()
        .unwrap_or_else(|| panic!("no tools_sync_error in {connection:#}"))
        .keys()
        .collect();
    assert_eq!(fields, ["message", "at"], "{error:#}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "expected {why:?} in {message:?}");
    timestamp(&error["at"]);
}

/// Asserts `metadata.tools_sync_error` says `why` and when the next attempt runs.
#[track_caller]
fn assert_sync_error_with_retry(connection: &Value, why: &str) {
    let error = &connection["metadata"]["tools_sync_error"];
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(why), "expected {why:?} in {error:#}");
    timestamp(&error["retry_at"]);
}

#[tokio::test]
async fn the_job_runner_syncs_a_new_connection_within_seconds() {
    let app = TestApp::new().await;
    let demo = start_demo().await;
    // No transport: the contract's default, the legacy SSE transport.
    let connection = app
        .connect_mcp(json!({"nickname": "Demo", "server_url": demo.sse_url()}))
        .await;
    assert_eq!(app.connection(&connection).await["tools_status"], "pending");

    let jobs = app.start_job_runner();
    let synced = app
        .wait_for(&connection, "the first sync", |shown| {
            shown["tools_status"] == "synced"
        })
        .await;
    jobs.stop().await;

    let tools = synced["tools"].as_array().expect("tools");
    assert_eq!(
        pluck(tools, "tool_path"),
        TOOL_NAMES.map(Value::from).to_vec()
    );
    assert_eq!(synced["status"], "active");
    demo.shutdown().await;
}

#[tokio::test]
async fn refresh_tools_answers_202_at_once_and_the_job_runner_syncs_again() {
    let app = TestApp::new().await;
    let demo = start_demo().await;
    let jobs = app.start_job_runner();
    let connection = app
        .connect_mcp(mcp_connection(&demo.streamable_url(), "streamable_http"))
        .await;
    let first = app
        .wait_for(&connection, "the first sync", |shown| {
            shown["tools_status"] == "synced"
        })
        .await;
    let first_synced_at = timestamp(&first["tools_synced_at"]);

    let accepted = app
        .post_json(&connection.refresh_tools_url(), json!({}))
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(accepted["id"], first["id"]);
    assert_eq!(accepted["tools"], first["tools"]);

    let again = app
        .wait_for(&connection, "the second sync", |shown| {
            shown["tools_status"] == "synced"
                && timestamp(&shown["tools_synced_at"]) > first_synced_at
        })
        .await;
    jobs.stop().await;
    assert_eq!(
        pluck(again["tools"].as_array().expect("tools"), "id"),
        pluck(first["tools"].as_array().expect("tools"), "id"),
        "a re-sync keeps every tool's identity"
    );
    demo.shutdown().await;
}

#[tokio::test]
async fn refresh_tools_answers_202_with_the_current_row_and_queues_a_sync() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(two_tools()).await;
    let connection = synced_connection(&app, &server).await;
    let _first_sync = app.take_due_job().await;
    let current = app.connection(&connection).await;

    let accepted = app
        .post_json(&connection.refresh_tools_url(), json!({}))
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(accepted, current);

    let job = app.take_due_job().await.expect("a sync is queued");
    assert_eq!(
        (job.kind, job.connection_id),
        (JobKind::SyncTools, connection.id)
    );
    server.stop().await;
}

#[tokio::test]
async fn refresh_tools_of_a_connection_that_is_not_active_is_422() {
    let app = TestApp::new().await;
    for (integration_key, vendor, status) in [
        (
            IntegrationKey::Slack,
            Vendor::Nango,
            ConnectionStatus::Pending,
        ),
        (
            IntegrationKey::CustomMcp,
            Vendor::Mcp,
            ConnectionStatus::PendingOauth,
        ),
    ] {
        let created = app
            .service
            .create_connection(
                app.owner.id,
                NewConnection {
                    integration_key,
                    nickname: format!("Not active {}", status.as_str()),
                    vendor,
                    vendor_connection_id: None,
                    status,
                    metadata: Map::new(),
                    credentials: None,
                    sync_tools: false,
                },
            )
            .await
            .expect("create a connection");
        let connection = app.owned_connection(created.id).await;
        let before = app.state().await;
        let problems = app
            .post_json(&connection.refresh_tools_url(), json!({}))
            .await
            .expect_validation_error(&[&["path", "connection_id"]]);
        let message = problems[0]["msg"].as_str().unwrap_or_default();
        assert!(message.contains(status.as_str()), "{message}");
        TestApp::assert_unchanged(&before, &app.state().await);
        assert!(app.take_due_job().await.is_none(), "no sync was queued");
    }
}

#[tokio::test]
async fn tools_status_goes_from_pending_to_syncing_to_failed_when_the_server_hangs() {
    let app = TestApp::build()
        .mcp_limits(short_mcp_limits())
        .start()
        .await;
    let server = FakeMcp::start(Upstream::Hangs).await;
    let connection = app
        .connect_mcp(mcp_connection(server.url(), "streamable_http"))
        .await;
    assert_eq!(app.connection(&connection).await["tools_status"], "pending");

    let sync = tokio::spawn({
        let (service, owner, id) = (app.service.clone(), app.owner.id, connection.id);
        async move { service.sync_tools(owner, id, None).await }
    });
    app.wait_for(&connection, "the sync to start", |shown| {
        shown["tools_status"] == "syncing"
    })
    .await;
    let outcome = sync.await.expect("the sync task").expect("the sync runs");
    assert!(
        matches!(outcome, SyncOutcome::Retryable { .. }),
        "a timeout is worth retrying: {outcome:?}"
    );

    let failed = app.connection(&connection).await;
    assert_eq!(failed["tools_status"], "failed");
    assert_eq!(
        failed["status"], "active",
        "a slow server is not a credentials problem"
    );
    assert_eq!(failed["tools_synced_at"], Value::Null);
    assert_eq!(failed["tools"], json!([]));
    assert_sync_error(&failed, "did not answer in time");
    server.stop().await;
}

#[tokio::test]
async fn a_failed_attempt_with_a_retry_planned_stays_syncing_and_says_when() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(Upstream::Status(503)).await;
    let connection = app
        .connect_mcp(mcp_connection(server.url(), "streamable_http"))
        .await;

    let outcome = app
        .service
        .sync_tools(app.owner.id, connection.id, Some(Duration::from_secs(20)))
        .await
        .expect("the sync runs");
    let SyncOutcome::Retryable {
        retry_at: Some(retry_at),
        ..
    } = outcome
    else {
        panic!("a 503 is retried: {outcome:?}");
    };
    let retrying = app.connection(&connection).await;
    assert_eq!(
        retrying["tools_status"], "syncing",
        "not `failed` while another attempt is planned"
    );
    let error = &retrying["metadata"]["tools_sync_error"];
    assert_eq!(timestamp(&error["retry_at"]), retry_at);
    let reason = retrying["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("The tool sync failed and is retried at ")
            && reason.contains("HTTP 503"),
        "{reason}"
    );

    // The last attempt: the failure is final and says so at the top level.
    app.sync_now(&connection).await;
    let failed = app.connection(&connection).await;
    assert_eq!(failed["tools_status"], "failed");
    assert_sync_error(&failed, "HTTP 503");
    let reason = failed["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("The tool sync failed: The MCP server is unavailable"),
        "{reason}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_sync_whose_result_cannot_be_saved_says_so_and_ends_failed_when_given_up() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(two_tools()).await;
    let connection = app
        .connect_mcp(mcp_connection(server.url(), "streamable_http"))
        .await;
    app.service
        .store()
        .refuse_tool_writes()
        .await
        .expect("install the fault");

    let outcome = app
        .service
        .sync_tools(app.owner.id, connection.id, Some(Duration::from_secs(20)))
        .await
        .expect("the failure is recorded");
    assert!(
        matches!(
            outcome,
            SyncOutcome::Retryable {
                retry_at: Some(_),
                ..
            }
        ),
        "a storage failure is worth retrying: {outcome:?}"
    );
    let retrying = app.connection(&connection).await;
    assert_eq!(retrying["tools_status"], "syncing");
    assert_sync_error_with_retry(&retrying, "could not be saved");

    // The last attempt gives up: the connection must not stay `syncing`.
    let (outcome, _) = app.sync_now(&connection).await;
    assert!(
        matches!(outcome, SyncOutcome::Retryable { retry_at: None, .. }),
        "{outcome:?}"
    );
    let failed = app.connection(&connection).await;
    assert_eq!(failed["tools_status"], "failed");
    assert_eq!(failed["tools"], json!([]));
    assert_sync_error(&failed, "could not be saved");
    let reason = failed["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("The tool sync failed: The catalog could not be saved"),
        "{reason}"
    );
    assert!(
        !reason.contains("refused by a test"),
        "the store's own error stays in the log: {reason}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_streamable_server_connected_with_the_default_transport_is_told_which_to_use() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(two_tools()).await;
    let connection = app
        .connect_mcp(json!({"nickname": "Default transport", "server_url": server.url()}))
        .await;
    let (outcome, _) = app.sync_now(&connection).await;
    assert!(
        matches!(outcome, SyncOutcome::Permanent(_)),
        "the same handshake fails on every retry: {outcome:?}"
    );
    let failed = app.connection(&connection).await;
    assert_eq!(failed["metadata"]["transport"], "sse");
    let reason = failed["status_reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("HTTP 405")
            && reason.contains("(the default when none is given)")
            && reason.contains("\"streamable_http\"")
            && reason.contains("\"auto\""),
        "{reason}"
    );
    server.stop().await;
}

#[tokio::test]
async fn rejected_credentials_set_status_error_with_a_reason_and_keep_the_tools() {
    for status in [401, 403] {
        let app = TestApp::new().await;
        let server = FakeMcp::start(two_tools()).await;
        let connection = synced_connection(&app, &server).await;
        let synced = app.connection(&connection).await;

        server.answer(Upstream::Status(status));
        let (outcome, _) = app.sync_now(&connection).await;
        assert!(
            matches!(outcome, SyncOutcome::Permanent(_)),
            "retrying cannot fix credentials: {outcome:?}"
        );

        let rejected = app.connection(&connection).await;
        assert_eq!(rejected["status"], "error", "HTTP {status}");
        let reason = rejected["status_reason"].as_str().unwrap_or_default();
        assert!(reason.contains("credentials"), "HTTP {status}: {reason:?}");
        assert_eq!(rejected["tools_status"], "failed");
        assert_sync_error(&rejected, &format!("HTTP {status}"));
        assert_eq!(rejected["tools"], synced["tools"], "no tool changed");
        assert_eq!(rejected["tools_synced_at"], synced["tools_synced_at"]);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_connection_whose_credentials_were_rejected_cannot_refresh_its_tools() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(Upstream::Status(401)).await;
    let connection = app
        .connect_mcp(mcp_connection(server.url(), "streamable_http"))
        .await;
    app.sync_now(&connection).await;
    assert_eq!(app.connection(&connection).await["status"], "error");

    // Not active: the rule. Such a connection is fixed by connecting again.
    server.answer(two_tools());
    let refused = app
        .post_json(&connection.refresh_tools_url(), json!({}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused["detail"][0]["loc"],
        json!(["path", "connection_id"])
    );
    assert_eq!(refused["detail"][0]["type"], "connection_not_active");
    // A sync job left over from before is skipped, not run against the rejected credentials.
    let (outcome, _) = app.sync_now(&connection).await;
    assert_eq!(outcome, SyncOutcome::Skipped);
    let unchanged = app.connection(&connection).await;
    assert_eq!(unchanged["status"], "error");
    assert_eq!(unchanged["tools"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn a_failed_resync_changes_no_tool_and_records_why() {
    let app = TestApp::build()
        .mcp_limits(short_mcp_limits())
        .start()
        .await;
    let server = FakeMcp::start(two_tools()).await;
    let connection = synced_connection(&app, &server).await;
    let synced = app.connection(&connection).await;
    let invalid_schema = json!({
        "name": "broken",
        "inputSchema": {"type": "object", "properties": {"a": {"type": 12}}}
    });
    let cases = [
        ("a server error", Upstream::Status(500), "unavailable", true),
        (
            "a body that is not JSON",
            Upstream::InvalidJsonOnList,
            "JSON-RPC",
            true,
        ),
        (
            "a server that never answers",
            Upstream::Hangs,
            "did not answer in time",
            true,
        ),
        (
            "duplicate tool names",
            Upstream::Lists(json!([
                listed("lookup"),
                listed("new_one"),
                listed("lookup")
            ])),
            "\"lookup\" more than once",
            false,
        ),
        (
            "a tool with an invalid input schema",
            Upstream::Lists(json!([listed("lookup"), listed("new_one"), invalid_schema])),
            "input schema of tool \"broken\" is invalid",
            false,
        ),
    ];
    for (case, upstream, why, retryable) in cases {
        server.answer(upstream);
        let (outcome, _) = app.sync_now(&connection).await;
        match &outcome {
            SyncOutcome::Retryable { .. } if retryable => {}
            SyncOutcome::Permanent(_) if !retryable => {}
            other => panic!("{case}: unexpected outcome {other:?}"),
        }
        let failed = app.connection(&connection).await;
        assert_eq!(failed["tools_status"], "failed", "{case}");
        assert_eq!(failed["status"], "active", "{case}");
        let reason = failed["status_reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("The tool sync failed: ") && reason.contains(why),
            "{case}: the reason is shown at the top level: {reason:?}"
        );
        assert_sync_error(&failed, why);
        assert_eq!(failed["tools"], synced["tools"], "{case}: a tool changed");
        assert_eq!(
            failed["tools_synced_at"], synced["tools_synced_at"],
            "{case}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_resync_adds_new_tools_enabled_and_keeps_the_operators_choices() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(Upstream::Lists(json!([listed("lookup")]))).await;
    let connection = synced_connection(&app, &server).await;
    let configured = app
        .configure_tool(
            &connection,
            "lookup",
            json!({"is_enabled": false, "input_defaults": {"q": {"value": "x"}}}),
        )
        .await;

    server.answer(Upstream::Lists(json!([
        listed("lookup"),
        {"name": "create_note", "title": "Create a note", "inputSchema": {"type": "object"}},
        {"name": "archive_note", "annotations": {"title": "Archive"}, "inputSchema": {"type": "object"}}
    ])));
    let (outcome, _) = app.sync_now(&connection).await;
    assert_eq!(outcome, SyncOutcome::Synced);

    let lookup = app.tool(&connection, "lookup").await;
    assert_eq!(lookup["is_enabled"], false);
    assert_eq!(lookup["input_defaults"], configured["input_defaults"]);
    assert_eq!(lookup["id"], configured["id"]);
    for (tool_path, display_name) in [
        ("create_note", "Create a note"),
        ("archive_note", "Archive"),
    ] {
        let tool = app.tool(&connection, tool_path).await;
        assert_eq!(tool["is_enabled"], true, "{tool_path}");
        assert_eq!(tool["display_name"], display_name, "{tool_path}");
    }
    assert_eq!(lookup["display_name"], "Lookup");
    server.stop().await;
}

#[tokio::test]
async fn a_server_that_redirects_to_a_refused_address_fails_the_sync_without_following() {
    let app = TestApp::build()
        .mcp_limits(short_mcp_limits())
        .start()
        .await;
    let server = FakeMcp::start(two_tools()).await;
    let connection = synced_connection(&app, &server).await;
    let synced = app.connection(&connection).await;
    for (location, why) in [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://10.0.0.1/mcp", "private"),
    ] {
        server.answer(Upstream::RedirectsTo(location.to_owned()));
        let (outcome, _) = app.sync_now(&connection).await;
        assert!(
            matches!(outcome, SyncOutcome::Permanent(_)),
            "a refused address needs someone to act, not a retry: {location}: {outcome:?}"
        );
        let failed = app.connection(&connection).await;
        assert_eq!(failed["tools_status"], "failed", "{location}");
        assert_sync_error(&failed, why);
        let message = failed["metadata"]["tools_sync_error"]["message"].to_string();
        assert!(
            !message.contains("HTTP 307"),
            "the refusal, not the redirect: {message}"
        );
        assert_eq!(failed["tools"], synced["tools"], "{location}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed_so_no_credential_leaves() {
    let app = TestApp::build()
        .mcp_limits(short_mcp_limits())
        .start()
        .await;
    let elsewhere = FakeMcp::start(two_tools()).await;
    let server = FakeMcp::start(Upstream::RedirectsTo(elsewhere.url().to_owned())).await;
    let connection = app
        .connect_mcp(with_fields(
            mcp_connection(server.url(), "streamable_http"),
            json!({"auth_type": "api_key", "api_key": "k-5ecret", "api_key_header": "X-Api-Key",
                   "headers": {"X-Tenant": "t-5ecret"}}),
        ))
        .await;
    let (outcome, _) = app.sync_now(&connection).await;
    assert!(
        matches!(outcome, SyncOutcome::Permanent(_)),
        "a refused redirect needs someone to act: {outcome:?}"
    );
    let failed = app.connection(&connection).await;
    assert_sync_error(&failed, "redirected to another origin");
    assert!(!server.requests().is_empty(), "the first server was asked");
    assert!(
        elsewhere.requests().is_empty(),
        "the other origin received nothing: no key, no header, no body"
    );
    server.stop().await;
    elsewhere.stop().await;
}

#[tokio::test]
async fn tools_whose_names_slug_to_nothing_get_a_stand_in_with_suffixes() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(Upstream::Lists(json!([listed("!!!"), listed("???")]))).await;
    synced_connection(&app, &server).await;
    let listing = app
        .get(crate::support::LISTING)
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        pluck(listing[0]["tools"].as_array().into_iter().flatten(), "slug"),
        [json!("demo_tool"), json!("demo_tool_2")]
    );
    server.stop().await;
}

#[tokio::test]
async fn operator_changes_made_while_syncs_run_are_all_kept() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(Upstream::Lists(json!([
        listed("a"),
        listed("b"),
        listed("c"),
        listed("d")
    ])))
    .await;
    let connection = synced_connection(&app, &server).await;

    let syncs = async {
        for _ in 0..10 {
            app.sync_now(&connection).await;
        }
    };
    let patches = async {
        for (round, tool) in ["a", "b", "c", "d"].iter().cycle().take(20).enumerate() {
            app.configure_tool(
                &connection,
                tool,
                json!({
                    "is_enabled": round % 2 == 0,
                    "input_defaults": {"q": {"value": format!("round {round}"), "type": "pinned"}}
                }),
            )
            .await;
        }
    };
    tokio::join!(syncs, patches);

    // Each tool keeps the last change made to it, whatever the syncs did in between.
    let listed = app.connection(&connection).await;
    for tool in listed["tools"].as_array().expect("tools") {
        let last_round = match tool["tool_path"].as_str().expect("path") {
            "a" => 16,
            "b" => 17,
            "c" => 18,
            "d" => 19,
            other => panic!("unexpected tool {other}"),
        };
        assert_eq!(tool["is_enabled"], json!(last_round % 2 == 0), "{tool}");
        assert_eq!(
            tool["input_defaults"]["q"]["value"],
            json!(format!("round {last_round}")),
            "{tool}"
        );
    }
    server.stop().await;
}
