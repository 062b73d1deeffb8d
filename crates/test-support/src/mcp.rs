//! Custom MCP connections: connecting, syncing, invoking, and the job runner.

use std::time::Duration;

use axum::http::StatusCode;
use feather_demo_mcp::DemoServer;
use feather_service::{JobRunner, JobSettings, SyncOutcome};
use feather_vendors::McpLimits;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};
use uuid::Uuid;

use crate::*;

pub const CUSTOM_MCP: &str = "/v1/integrations/connections/custom-mcp";

/// The longest a test waits for background work (a sync by the job runner).
const PATIENCE: Duration = Duration::from_secs(10);

/// MCP limits short enough to watch a hanging server time out within a test.
pub fn short_mcp_limits() -> McpLimits {
    McpLimits {
        connect_timeout: Duration::from_millis(500),
        request_timeout: Duration::from_secs(1),
        sync_timeout: Duration::from_secs(2),
        ..McpLimits::default()
    }
}

/// A `CustomMcpConnectionCreate` body: no auth, the given server and transport.
pub fn mcp_connection(server_url: &str, transport: &str) -> Value {
    json!({"nickname": "Demo", "server_url": server_url, "transport": transport})
}

/// `body` with the fields of `extra` added (or replaced).
pub fn with_fields(mut body: Value, extra: Value) -> Value {
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

/// The demo MCP server on a free loopback port.
pub async fn start_demo() -> DemoServer {
    DemoServer::start(([127, 0, 0, 1], 0).into())
        .await
        .expect("start the demo MCP server")
}

/// Fails the test if any of `secrets` appears in `text`.
#[track_caller]
pub fn assert_no_secret(text: &str, secrets: &[&str], what: &str) {
    for secret in secrets {
        assert!(
            !text.contains(secret),
            "{what} shows the secret {secret:?}:\n{text}"
        );
    }
}

impl TestApp {
    /// Connects a custom MCP server as the owner through the API (201 expected); the
    /// connection has no tools until a sync runs.
    pub async fn connect_mcp(&self, body: Value) -> Seeded {
        let created = self
            .post_json(CUSTOM_MCP, body)
            .await
            .expect(StatusCode::CREATED);
        self.owned_connection(uuid(&created["connection_id"])).await
    }

    /// One of the owner's connections, with its tools as they are now.
    pub async fn owned_connection(&self, connection_id: Uuid) -> Seeded {
        self.seeded(&self.owner, connection_id).await
    }

    /// Connects the demo server over Streamable HTTP as "Demo" and syncs its tools now.
    pub async fn connect_demo(&self, demo: &DemoServer) -> Seeded {
        let connection = self
            .connect_mcp(mcp_connection(&demo.streamable_url(), "streamable_http"))
            .await;
        let (outcome, synced) = self.sync_now(&connection).await;
        assert_eq!(outcome, SyncOutcome::Synced, "the demo server's tools sync");
        synced
    }

    /// Runs one tool sync attempt of the owner's connection at once (what the job runner
    /// does for its last attempt: no retry planned), and returns how it ended with the
    /// connection's tools as they are now.
    pub async fn sync_now(&self, connection: &Seeded) -> (SyncOutcome, Seeded) {
        let outcome = self
            .service
            .sync_tools(self.owner.id, connection.id, None)
            .await
            .expect("the sync runs");
        (outcome, self.owned_connection(connection.id).await)
    }

    /// Claims the next due background job, if any (it will not run): shows what was queued.
    pub async fn take_due_job(&self) -> Option<feather_store::Job> {
        let now = feather_store::now();
        self.service
            .store()
            .claim_job("test-probe", now, now + chrono::TimeDelta::minutes(1))
            .await
            .expect("claim a job")
    }

    /// Starts the real job runner over this app's service, polling often.
    pub fn start_job_runner(&self) -> RunningJobs {
        self.start_job_runner_with(JobSettings {
            poll_interval: Duration::from_millis(50),
            first_retry_delay: Duration::from_millis(100),
            ..JobSettings::default()
        })
    }

    /// Starts the real job runner over this app's service, working as `settings` say.
    pub fn start_job_runner_with(&self, settings: JobSettings) -> RunningJobs {
        let runner = JobRunner::new(self.service.clone(), settings);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(runner.run(shutdown.clone()));
        RunningJobs {
            shutdown: shutdown.drop_guard(),
            task,
        }
    }

    /// Polls the owner's connection until `done` holds of it (for at most `PATIENCE`) and
    /// returns it; fails the test with the last state seen otherwise.
    pub async fn wait_for(
        &self,
        connection: &Seeded,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let current = self.connection(connection).await;
            if done(&current) {
                return current;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {PATIENCE:?} for {what}; the connection is now {current:#}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// `POST …/{connection_id}/test-mcp-call` as the owner.
    pub async fn call_tool(
        &self,
        connection: &Seeded,
        tool_path: &str,
        input: Value,
    ) -> TestResponse {
        self.post_json(
            &connection.test_mcp_call_url(),
            json!({"slug": connection.slug(tool_path), "input": input}),
        )
        .await
    }

    /// `POST …/{connection_id}/test-invoke` as the owner; `response_field_map` is sent
    /// when given (`Some(Value::Null)` sends an explicit null).
    pub async fn test_invoke(
        &self,
        connection: &Seeded,
        tool_path: &str,
        input: Value,
        response_field_map: Option<Value>,
    ) -> TestResponse {
        let mut body = json!({"slug": connection.slug(tool_path), "input": input});
        if let Some(map) = response_field_map {
            body["response_field_map"] = map;
        }
        self.post_json(&connection.test_invoke_url(), body).await
    }

    /// `PATCH` one tool of the owner's connection (200 expected); returns the tool.
    pub async fn configure_tool(
        &self,
        connection: &Seeded,
        tool_path: &str,
        patch: Value,
    ) -> Value {
        self.patch_json(&connection.tool_url(tool_path), patch)
            .await
            .expect(StatusCode::OK)
    }

    /// The invocations recorded for the owner's connection, newest first.
    pub async fn invocations(&self, connection: &Seeded) -> Vec<feather_store::Invocation> {
        self.service
            .store()
            .list_invocations(self.owner.id, connection.id)
            .await
            .expect("list the invocations")
    }
}

impl Seeded {
    /// The slug of one of the connection's tools (`tool_path` already in slug form).
    pub fn slug(&self, tool_path: &str) -> String {
        format!("{}_{tool_path}", self.nickname_slug)
    }

    pub fn refresh_tools_url(&self) -> String {
        format!("{}/refresh-tools", self.url())
    }

    pub fn test_mcp_call_url(&self) -> String {
        format!("{}/test-mcp-call", self.url())
    }

    pub fn test_invoke_url(&self) -> String {
        format!("{}/test-invoke", self.url())
    }
}

/// The real job runner, running in the background until [`RunningJobs::stop`] or until
/// dropped (which cancels it without waiting).
#[derive(Debug)]
pub struct RunningJobs {
    shutdown: DropGuard,
    task: JoinHandle<()>,
}

impl RunningJobs {
    /// Cancels the runner and waits for its workers to end.
    pub async fn stop(self) {
        let RunningJobs { shutdown, task } = self;
        drop(shutdown);
        tokio::time::timeout(PATIENCE, task)
            .await
            .expect("the job runner stops in time")
            .expect("the job runner does not panic");
    }
}
