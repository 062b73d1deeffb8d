//! `InteropApp`: the real router over a fresh SQLite store, with the real vendor adapters
//! (allowed to reach 127.0.0.1/32 only) and a job runner doing the tool syncs, as `serve`
//! does. Requests go through the router in process (tower `oneshot`).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{Method, Request, StatusCode};
use feather_service::{JobRunner, JobSettings, SecretBox, Service};
use feather_store::testing::TestDatabase;
use feather_vendors::McpLimits;
use feather_vendors::guard::UpstreamPolicy;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use uuid::Uuid;

pub const LISTING: &str = "/v1/integrations/connections";

/// How long a tool sync may take before the test gives up on it.
const SYNC_TIMEOUT: Duration = Duration::from_secs(60);

/// The application under test, one organization, and its job workers.
#[derive(Debug)]
pub struct InteropApp {
    router: Router,
    key: String,
    shutdown: CancellationToken,
    workers: Option<JoinHandle<()>>,
    _database: TestDatabase,
}

/// A response, read whole, its body as JSON (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
}

impl Answer {
    /// Asserts the status and returns the body.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {:#}",
            self.body
        );
        self.body
    }

    /// Asserts an `ErrorResponse` with this status and code.
    #[track_caller]
    pub fn expect_error(self, status: StatusCode, code: &str) -> Value {
        let body = self.expect(status);
        assert_eq!(body["error"], code, "wrong error: {body:#}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error without a message: {body:#}"
        );
        body
    }
}

impl InteropApp {
    pub async fn new() -> InteropApp {
        let database = TestDatabase::sqlite().await;
        let policy = UpstreamPolicy::with_allow_list("127.0.0.1/32").expect("allow list");
        let upstreams =
            feather_vendors::upstreams(&policy, McpLimits::default()).expect("MCP client");
        let service = Service::new(
            database.store.clone(),
            SecretBox::new(SecretBox::generate_key()),
            upstreams,
        );
        let (_, key) = service
            .create_organization("Interop Inc")
            .await
            .expect("create an organization");
        let shutdown = CancellationToken::new();
        let runner = JobRunner::new(
            service.clone(),
            JobSettings {
                workers: 1,
                poll_interval: Duration::from_millis(100),
                max_attempts: 1,
                first_retry_delay: Duration::from_millis(100),
                ..JobSettings::default()
            },
        );
        let workers = tokio::spawn(runner.run(shutdown.clone()));
        InteropApp {
            // Each suite calls tools faster than the upstream budget allows a client.
            router: feather_http::app_with(
                service,
                feather_http::AppOptions {
                    rate_limits: feather_http::RateLimits::UNLIMITED,
                    ..feather_http::AppOptions::default()
                },
            ),
            key: key.plain_text_key,
            shutdown,
            workers: Some(workers),
            _database: database,
        }
    }

    /// Sends a request as the organization's key.
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header("x-api-key", &self.key);
        let body = match body {
            None => Body::empty(),
            Some(json) => {
                let bytes = serde_json::to_vec(&json).expect("serialize the body");
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .header(CONTENT_LENGTH, bytes.len());
                Body::from(bytes)
            }
        };
        let response = self
            .router
            .clone()
            .oneshot(request.body(body).expect("a well-formed request"))
            .await
            .expect("the router is infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("read the body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                panic!(
                    "a {status} answer that is not JSON ({error}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Answer { status, body }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PATCH, path, Some(body)).await
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
    pub async fn call(&self, id: Uuid, slug: &str, input: Value) -> Answer {
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

impl Drop for InteropApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        if let Some(workers) = self.workers.take() {
            workers.abort();
        }
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

/// An RFC 3339 timestamp of the API.
#[track_caller]
pub fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("not RFC 3339 ({error}): {text}"))
        .to_utc()
}
