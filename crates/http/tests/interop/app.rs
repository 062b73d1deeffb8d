//! `InteropApp`: the API suite's `TestApp` (the real router over a fresh SQLite store, with
//! the real vendor adapters allowed to reach 127.0.0.1/32 only) with the job runner doing
//! the tool syncs, as `serve` does, and the requests the interop suites make as its owner.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use feather_test_support::{RunningJobs, ServedApp, TestApp, TestResponse};
use serde_json::{Value, json};
use tokio::time::{Instant, sleep};
use uuid::Uuid;

pub use feather_test_support::{LISTING, timestamp};

/// How long a tool sync may take before the test gives up on it.
const SYNC_TIMEOUT: Duration = Duration::from_secs(60);

/// The application under test, acting as its owner organization, and its job workers.
#[derive(Debug)]
pub struct InteropApp {
    app: TestApp,
    _jobs: RunningJobs,
}

impl InteropApp {
    pub async fn new() -> InteropApp {
        let app = TestApp::new().await;
        let jobs = app.start_job_runner();
        InteropApp { app, _jobs: jobs }
    }

    /// The app served on a loopback port, for agents (MCP clients) to connect to.
    pub async fn serve(&self) -> ServedApp {
        self.app.serve().await
    }

    /// The organization's API key.
    pub fn key(&self) -> &str {
        &self.app.owner.key
    }

    /// Sends a bodyless request as the organization's key.
    pub async fn send(&self, method: Method, path: &str) -> TestResponse {
        self.app.as_owner().send(method, path, None).await
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.app.get(path).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.app.post_json(path, body).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> TestResponse {
        self.app.patch_json(path, body).await
    }

    /// `POST /v1/integrations/connections/custom-mcp` without credentials; the new
    /// connection's id.
    pub async fn connect(&self, nickname: &str, server_url: &str, transport: &str) -> Uuid {
        let created = self
            .post(
                "/v1/integrations/connections/custom-mcp",
                json!({
                    "nickname": nickname,
                    "server_url": server_url,
                    "transport": transport,
                    "auth_type": "none",
                }),
            )
            .await
            .expect(StatusCode::CREATED);
        assert_eq!(created["status"], "active", "{created:#}");
        assert_eq!(created["vendor"], "mcp", "{created:#}");
        created["connection_id"]
            .as_str()
            .and_then(|id| Uuid::parse_str(id).ok())
            .unwrap_or_else(|| panic!("no connection_id in {created:#}"))
    }

    /// `GET /v1/integrations/connections/{id}`.
    pub async fn connection(&self, id: Uuid) -> Value {
        self.get(&format!("{LISTING}/{id}"))
            .await
            .expect(StatusCode::OK)
    }

    /// Waits for the job runner to finish a sync of the connection that ends after
    /// `previous` (the `tools_synced_at` seen before, null for the first sync); the
    /// connection as it is then. A failed sync fails the test with its recorded reason.
    pub async fn synced(&self, id: Uuid, previous: &Value) -> Value {
        let deadline = Instant::now() + SYNC_TIMEOUT;
        loop {
            let connection = self.connection(id).await;
            match connection["tools_status"].as_str() {
                Some("synced") if connection["tools_synced_at"] != *previous => return connection,
                Some("failed") => panic!(
                    "the tool sync failed: {:#}",
                    connection["metadata"]["tools_sync_error"]
                ),
                _ => {}
            }
            assert!(
                Instant::now() < deadline,
                "no sync within {SYNC_TIMEOUT:?}: {connection:#}"
            );
            sleep(Duration::from_millis(50)).await;
        }
    }

    /// `POST …/{id}/test-mcp-call`.
    pub async fn call(&self, id: Uuid, slug: &str, input: Value) -> TestResponse {
        self.post(
            &format!("{LISTING}/{id}/test-mcp-call"),
            json!({"slug": slug, "input": input}),
        )
        .await
    }

    /// `PATCH …/{id}/tools/{tool_id}`; the tool as it is then.
    pub async fn configure(&self, id: Uuid, tool: &Value, patch: Value) -> Value {
        let tool_id = tool["id"].as_str().expect("a tool id");
        self.patch(&format!("{LISTING}/{id}/tools/{tool_id}"), patch)
            .await
            .expect(StatusCode::OK)
    }
}

/// The tool of `connection` (a `ConnectionResponse`) whose `tool_path` is `path`.
#[track_caller]
pub fn tool<'a>(connection: &'a Value, path: &str) -> &'a Value {
    connection["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|tool| tool["tool_path"] == path))
        .unwrap_or_else(|| panic!("no tool {path:?} in {connection:#}"))
}

/// The `tool_path`s of the connection's tools, in the listing's order.
pub fn tool_paths(connection: &Value) -> Vec<String> {
    connection["tools"]
        .as_array()
        .expect("tools is always present")
        .iter()
        .map(|tool| tool["tool_path"].as_str().expect("a tool_path").to_owned())
        .collect()
}
