//! The job runner end to end: syncs queued by connecting run in the background, and a
//! sync whose worker died is finished by another runner.

use std::time::Duration;

use axum::http::StatusCode;
use chrono::TimeDelta;
use feather_demo_mcp::{DemoServer, TOOL_NAMES};
use feather_service::JobSettings;
use serde_json::{Value, json};

use crate::support::{
    FakeMcp, RunningJobs, TestApp, Upstream, mcp_connection, short_mcp_limits, with_fields,
};

/// A runner with a short lease, so that a dead worker's claim expires within the test.
fn quick_runner(app: &TestApp) -> RunningJobs {
    app.start_job_runner_with(JobSettings {
        workers: 2,
        poll_interval: Duration::from_millis(100),
        lease: Duration::from_secs(1),
        ..JobSettings::default()
    })
}

async fn connect_demo(app: &TestApp, server: &DemoServer) -> String {
    let response = app
        .post_json(
            "/v1/integrations/connections/custom-mcp",
            json!({
                "nickname": "Support Desk",
                "server_url": server.streamable_url(),
                "transport": "streamable_http"
            }),
        )
        .await
        .expect(StatusCode::CREATED);
    response["connection_id"]
        .as_str()
        .expect("connection id")
        .to_owned()
}

/// The connection as listed, once its `tools_status` is `status` (within 10 s).
async fn when_tools_status(app: &TestApp, connection_id: &str, status: &str) -> Value {
    for _ in 0..100 {
        let connection = app
            .get(&format!("/v1/integrations/connections/{connection_id}"))
            .await
            .expect(StatusCode::OK);
        if connection["tools_status"] == status {
            return connection;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the connection's tools_status did not become {status:?} within 10 s");
}

fn tool_paths(connection: &Value) -> Vec<String> {
    connection["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|tool| tool["tool_path"].as_str().expect("tool_path").to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_connections_tools_appear_once_the_runner_has_synced_it() {
    let app = TestApp::new().await;
    let server = DemoServer::start("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("demo server");
    let runner = quick_runner(&app);

    let connection_id = connect_demo(&app, &server).await;
    let synced = when_tools_status(&app, &connection_id, "synced").await;

    let mut expected: Vec<String> = TOOL_NAMES.iter().map(|name| (*name).to_owned()).collect();
    expected.sort();
    assert_eq!(tool_paths(&synced), expected);
    assert!(synced["tools_synced_at"].is_string());
    runner.stop().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_sync_claimed_by_a_worker_that_died_is_finished_by_another_runner() {
    let app = TestApp::new().await;
    let server = DemoServer::start("127.0.0.1:0".parse().expect("address"))
        .await
        .expect("demo server");
    let connection_id = connect_demo(&app, &server).await;

    // A worker claims the queued sync and dies without a word.
    let at = feather_store::now();
    let store = app.service.store();
    let claimed = store
        .claim_job("worker-that-died", at, at + TimeDelta::seconds(1))
        .await
        .expect("claim")
        .expect("the queued sync");
    assert_eq!(claimed.connection_id.to_string(), connection_id);

    let runner = quick_runner(&app);
    let synced = when_tools_status(&app, &connection_id, "synced").await;
    assert_eq!(tool_paths(&synced).len(), TOOL_NAMES.len());
    assert!(
        store
            .pending_jobs(claimed.connection_id)
            .await
            .expect("jobs")
            .is_empty()
    );
    runner.stop().await;
    server.shutdown().await;
}

#[tokio::test]
async fn stopping_the_runner_puts_a_running_sync_back_in_the_queue() {
    let app = TestApp::new().await;
    // A server that accepts the connection and never answers: the sync hangs.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("listener");
    let address = listener.local_addr().expect("address");
    let hold = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    let response = app
        .post_json(
            "/v1/integrations/connections/custom-mcp",
            json!({
                "nickname": "Silent",
                "server_url": format!("http://{address}/mcp"),
                "transport": "streamable_http"
            }),
        )
        .await
        .expect(StatusCode::CREATED);
    let connection_id: uuid::Uuid = response["connection_id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");

    let runner = quick_runner(&app);
    let store = app.service.store();
    // A worker holds the sync (it hangs on the upstream) before the runner is stopped.
    when_tools_status(&app, &connection_id.to_string(), "syncing").await;
    runner.stop().await;

    let waiting = store.pending_jobs(connection_id).await.expect("jobs");
    assert_eq!(waiting.len(), 1, "the sync is queued again");
    assert_eq!(waiting[0].lease_expires_at, None);
    assert_eq!(
        waiting[0].attempts, 0,
        "a release does not count as an attempt"
    );
    hold.abort();
}

#[tokio::test]
async fn one_organizations_hanging_servers_do_not_hold_up_another_organizations_sync() {
    let app = TestApp::build()
        .mcp_limits(short_mcp_limits())
        .start()
        .await;
    let hanging = FakeMcp::start(Upstream::Hangs).await;
    // Six connections of the owner whose syncs each hang for the whole sync timeout,
    // queued before the stranger's.
    let mut stuck = Vec::new();
    for index in 0..6 {
        let body = with_fields(
            mcp_connection(hanging.url(), "streamable_http"),
            json!({"nickname": format!("Stuck {index}")}),
        );
        stuck.push(app.connect_mcp(body).await);
    }
    let working = FakeMcp::start(Upstream::Lists(json!([
        {"name": "lookup", "inputSchema": {"type": "object"}}
    ])))
    .await;
    let created = app
        .as_stranger()
        .post_json(
            "/v1/integrations/connections/custom-mcp",
            mcp_connection(working.url(), "streamable_http"),
        )
        .await
        .expect(StatusCode::CREATED);
    let strangers = format!(
        "/v1/integrations/connections/{}",
        created["connection_id"].as_str().expect("id")
    );

    let runner = quick_runner(&app);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let shown = app
            .as_stranger()
            .get(&strangers)
            .await
            .expect(StatusCode::OK);
        if shown["tools_status"] == "synced" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never synced: {shown:#}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // With two workers, one went to the stranger at once: most of the owner's syncs have
    // not started yet. Claimed in queue order, all six would have started before it.
    let mut never_started = 0;
    for connection in &stuck {
        if app.connection(connection).await["tools_status"] == "pending" {
            never_started += 1;
        }
    }
    assert!(
        never_started >= 4,
        "{never_started} of the owner's 6 syncs not started"
    );
    runner.stop().await;
    hanging.stop().await;
    working.stop().await;
}
