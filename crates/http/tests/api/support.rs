//! `TestApp`: the real router over a fresh SQLite store, two organizations with a key each,
//! small request helpers, seeding helpers, and the assertions every module shares.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use feather_http::{AppOptions, RateLimits};
use feather_service::{
    ManualClock, NewConnection, SecretBox, Service, ServiceLimits, UpstreamTool, Upstreams,
};
use feather_store::testing::TestDatabase;
use feather_vendors::McpLimits;
use feather_vendors::guard::UpstreamPolicy;
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tower::ServiceExt;
use uuid::Uuid;

pub mod catalog;

/// The real vendor adapters, allowed to reach servers on this machine's loopback address
/// only, with the MCP client bounded by `limits`.
pub fn loopback_upstreams(limits: McpLimits) -> Upstreams {
    let policy = UpstreamPolicy::with_allow_list("127.0.0.1/32").expect("allow list");
    feather_vendors::upstreams(&policy, limits).expect("MCP client")
}

/// The service over `store`, reaching the outside through `upstreams`, reading the time
/// from `clock` when given one.
pub fn test_service(
    store: feather_store::Store,
    upstreams: Upstreams,
    clock: Option<&ManualClock>,
) -> Service {
    // One key for every test service, as replicas of one deployment share theirs.
    let service = Service::new(
        store,
        SecretBox::new(*b"the-key-every-test-replica-uses!"),
        upstreams,
    );
    match clock {
        Some(clock) => service.with_clock(Arc::new(clock.clone())),
        None => service,
    }
}

/// An organization and the plain-text API key it was created with.
#[derive(Debug, Clone)]
pub struct Org {
    pub id: Uuid,
    pub key: String,
    pub key_id: Uuid,
}

/// The application under test, over its own throwaway database.
#[derive(Debug)]
pub struct TestApp {
    pub service: Service,
    router: Router,
    /// The organization requests act for unless a test says otherwise.
    pub owner: Org,
    /// A second organization, for cross-organization tests.
    pub stranger: Org,
    /// The database, owned by the original app; None on a replica made from it.
    database: Option<TestDatabase>,
    /// The clock the service reads, when the test moves time itself.
    clock: Option<ManualClock>,
}

/// Builds a [`TestApp`] that differs from [`TestApp::new`]'s.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until started"]
pub struct TestAppBuilder {
    database: Option<TestDatabase>,
    mcp_limits: McpLimits,
    upstreams: Option<Upstreams>,
    service_limits: ServiceLimits,
    clock: Option<ManualClock>,
}

impl TestAppBuilder {
    /// Over `database` instead of a fresh SQLite one.
    pub fn over(self, database: TestDatabase) -> Self {
        TestAppBuilder {
            database: Some(database),
            ..self
        }
    }

    /// The real adapters, with the MCP client bounded by `limits`.
    pub fn mcp_limits(self, mcp_limits: McpLimits) -> Self {
        TestAppBuilder { mcp_limits, ..self }
    }

    /// Reaching the outside through `upstreams` only.
    pub fn upstreams(self, upstreams: Upstreams) -> Self {
        TestAppBuilder {
            upstreams: Some(upstreams),
            ..self
        }
    }

    /// The service's per-organization limits.
    pub fn service_limits(self, service_limits: ServiceLimits) -> Self {
        TestAppBuilder {
            service_limits,
            ..self
        }
    }

    /// The service reads the time from `clock` (and so do replicas made from the app).
    pub fn clock(self, clock: ManualClock) -> Self {
        TestAppBuilder {
            clock: Some(clock),
            ..self
        }
    }

    /// The real router over the store, with two organizations.
    pub async fn start(self) -> TestApp {
        let database = match self.database {
            Some(database) => database,
            None => TestDatabase::sqlite().await,
        };
        let upstreams = self
            .upstreams
            .unwrap_or_else(|| loopback_upstreams(self.mcp_limits));
        let service = test_service(database.store.clone(), upstreams, self.clock.as_ref())
            .with_limits(self.service_limits);
        // The suites send bursts far past any rate limit; the limits have tests of their own.
        let unlimited = AppOptions {
            rate_limits: RateLimits::UNLIMITED,
            ..AppOptions::default()
        };
        let router = feather_http::app_with(service.clone(), unlimited);
        let owner = create_org(&service, "Owner Inc").await;
        let stranger = create_org(&service, "Stranger Ltd").await;
        TestApp {
            service,
            router,
            owner,
            stranger,
            database: Some(database),
            clock: self.clock,
        }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// `x-api-key: <key>`
    ApiKey(String),
    /// `Authorization: Bearer <key>`
    Bearer(String),
    /// Any header, verbatim.
    Header(&'static str, String),
}

/// Sends requests with one identity.
#[derive(Debug)]
pub struct Client<'a> {
    app: &'a TestApp,
    auth: Auth,
}

/// A response, read whole.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A connection created through the service, with the ids of its tools by `tool_path`.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub id: Uuid,
    pub nickname_slug: String,
    pub tools: BTreeMap<String, Uuid>,
}

impl Seeded {
    pub fn url(&self) -> String {
        format!("/v1/integrations/connections/{}", self.id)
    }

    pub fn tools_url(&self) -> String {
        format!("{}/tools", self.url())
    }

    pub fn tool_id(&self, tool_path: &str) -> Uuid {
        *self
            .tools
            .get(tool_path)
            .unwrap_or_else(|| panic!("the seeded connection has no tool {tool_path:?}"))
    }

    pub fn tool_url(&self, tool_path: &str) -> String {
        format!("{}/{}", self.tools_url(), self.tool_id(tool_path))
    }
}

pub const LISTING: &str = "/v1/integrations/connections";
pub const API_KEYS: &str = "/v1/identity/api-keys";

impl TestApp {
    /// A fresh SQLite store, the real router, and two organizations.
    pub async fn new() -> TestApp {
        TestApp::build().start().await
    }

    /// The real router over `database`, with two organizations.
    pub async fn over(database: TestDatabase) -> TestApp {
        TestApp::build().over(database).start().await
    }

    /// An app that differs from [`TestApp::new`]'s in what the builder says.
    pub fn build() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// The clock the app's service reads; the test moves it.
    #[track_caller]
    pub fn clock(&self) -> &ManualClock {
        self.clock
            .as_ref()
            .expect("the app was built with a manual clock (TestApp::build().clock(…))")
    }

    /// Another replica of the service over this app's database: a pool, caches and router
    /// of its own, the same organizations.
    pub async fn replica(&self, options: feather_http::AppOptions) -> TestApp {
        let database = self
            .database
            .as_ref()
            .expect("replicas are made from the app that owns the database");
        let service = test_service(
            database.another_replica().await,
            loopback_upstreams(McpLimits::default()),
            self.clock.as_ref(),
        );
        TestApp {
            router: feather_http::app_with(service.clone(), options),
            service,
            owner: self.owner.clone(),
            stranger: self.stranger.clone(),
            database: None,
            clock: self.clock.clone(),
        }
    }

    /// Sends `request` through the router, as a client would.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .expect("read the response body")
            .to_bytes();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub fn as_owner(&self) -> Client<'_> {
        self.with(Auth::ApiKey(self.owner.key.clone()))
    }

    pub fn as_stranger(&self) -> Client<'_> {
        self.with(Auth::ApiKey(self.stranger.key.clone()))
    }

    pub fn anonymous(&self) -> Client<'_> {
        self.with(Auth::None)
    }

    pub fn with(&self, auth: Auth) -> Client<'_> {
        Client { app: self, auth }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.as_owner().get(path).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> TestResponse {
        self.as_owner().post_json(path, body).await
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> TestResponse {
        self.as_owner().patch_json(path, body).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.as_owner().delete(path).await
    }

    /// The owner's listing.
    pub async fn listing(&self) -> Vec<Value> {
        as_array(self.get(LISTING).await.expect(StatusCode::OK))
    }

    /// One of the owner's connections, as `GET /v1/integrations/connections/{id}` shows it.
    pub async fn connection(&self, connection: &Seeded) -> Value {
        self.get(&connection.url()).await.expect(StatusCode::OK)
    }

    /// One tool of the owner's connection, as the connection shows it.
    pub async fn tool(&self, connection: &Seeded, tool_path: &str) -> Value {
        let connection = self.connection(connection).await;
        connection["tools"]
            .as_array()
            .and_then(|tools| tools.iter().find(|tool| tool["tool_path"] == tool_path))
            .cloned()
            .unwrap_or_else(|| panic!("no tool {tool_path:?} in {connection:#}"))
    }

    /// Everything both organizations can observe through the API: their connections with
    /// tools, and their keys. A rejected request must leave this exactly as it was.
    pub async fn state(&self) -> Value {
        let mut state = Map::new();
        for (name, client) in [("owner", self.as_owner()), ("stranger", self.as_stranger())] {
            let connections = client.get(LISTING).await.expect(StatusCode::OK);
            let keys = client.get(API_KEYS).await.expect(StatusCode::OK);
            state.insert(
                name.to_owned(),
                json!({"connections": connections, "api_keys": keys}),
            );
        }
        Value::Object(state)
    }

    /// Fails the test if anything observable changed since `before` was taken.
    #[track_caller]
    pub fn assert_unchanged(before: &Value, after: &Value) {
        assert!(
            before == after,
            "the rejected request changed the stored state\nbefore: {before:#}\nafter: {after:#}"
        );
    }

    /// A custom MCP connection of the owner whose catalog has been synced with `tools`.
    pub async fn seed_connection(&self, nickname: &str, tools: Vec<UpstreamTool>) -> Seeded {
        self.seed_connection_for(&self.owner, nickname, tools).await
    }

    /// A custom MCP connection of `org` whose catalog has been synced with `tools`.
    pub async fn seed_connection_for(
        &self,
        org: &Org,
        nickname: &str,
        tools: Vec<UpstreamTool>,
    ) -> Seeded {
        let connection = self.create_connection(org, nickname).await;
        self.sync(org, connection, tools).await
    }

    /// A connection of the owner whose tools are written straight to the store, skipping
    /// the catalog checks a sync applies: for rows that no longer pass them (written
    /// before a rule existed, or edited by hand), which reads must still survive.
    pub async fn seed_connection_unchecked(
        &self,
        nickname: &str,
        tools: Vec<UpstreamTool>,
    ) -> Seeded {
        let connection = self.create_connection(&self.owner, nickname).await;
        let catalog: Vec<feather_store::CatalogTool> = tools
            .into_iter()
            .map(|tool| feather_store::CatalogTool {
                slug: format!("odd_{}", tool.name),
                display_name: tool.name.clone(),
                tool_path: tool.name,
                description: tool.description,
                input_schema: tool.input_schema,
                response_schema: tool.output_schema,
            })
            .collect();
        self.service
            .store()
            .apply_catalog(self.owner.id, connection, &catalog, feather_store::now())
            .await
            .expect("write the tools");
        self.seeded(&self.owner, connection).await
    }

    /// A custom MCP connection of the owner that has never synced its catalog.
    pub async fn seed_unsynced_connection(&self, nickname: &str) -> Seeded {
        let id = self.create_connection(&self.owner, nickname).await;
        self.seeded(&self.owner, id).await
    }

    /// An owner's connection written straight to the store with the given id and creation
    /// time, for ordering ties the service cannot produce on demand.
    pub async fn insert_connection_at(
        &self,
        id: Uuid,
        created_at: chrono::DateTime<chrono::Utc>,
        nickname_slug: &str,
    ) -> Seeded {
        self.service
            .store()
            .insert_connection(
                &feather_domain::connection::Connection {
                    id,
                    ..feather_store::testing::active_mcp_connection(
                        self.owner.id,
                        nickname_slug,
                        created_at,
                    )
                },
                None,
                None,
            )
            .await
            .expect("insert a connection");
        self.seeded(&self.owner, id).await
    }

    /// Records `tools` as the connection's current upstream catalog (a re-sync).
    pub async fn resync(&self, connection: &Seeded, tools: Vec<UpstreamTool>) -> Seeded {
        let org = self.org_of(connection).await;
        self.sync(&org, connection.id, tools).await
    }

    async fn create_connection(&self, org: &Org, nickname: &str) -> Uuid {
        self.service
            .create_connection(
                org.id,
                NewConnection {
                    integration_key: IntegrationKey::CustomMcp,
                    nickname: nickname.to_owned(),
                    vendor: Vendor::Mcp,
                    vendor_connection_id: None,
                    status: ConnectionStatus::Active,
                    metadata: Map::new(),
                    credentials: None,
                    sync_tools: false,
                },
            )
            .await
            .expect("create a connection")
            .id
    }

    async fn sync(&self, org: &Org, connection_id: Uuid, tools: Vec<UpstreamTool>) -> Seeded {
        self.service
            .record_catalog(org.id, connection_id, tools)
            .await
            .expect("record the catalog");
        self.seeded(org, connection_id).await
    }

    async fn seeded(&self, org: &Org, connection_id: Uuid) -> Seeded {
        let view = self
            .service
            .get_connection(org.id, connection_id)
            .await
            .expect("read the seeded connection");
        Seeded {
            id: view.connection.id,
            nickname_slug: view.connection.nickname_slug,
            tools: view
                .tools
                .into_iter()
                .map(|tool| (tool.tool.tool_path, tool.tool.id))
                .collect(),
        }
    }

    async fn org_of(&self, connection: &Seeded) -> Org {
        for org in [&self.owner, &self.stranger] {
            if self
                .service
                .get_connection(org.id, connection.id)
                .await
                .is_ok()
            {
                return org.clone();
            }
        }
        panic!(
            "connection {} belongs to no test organization",
            connection.id
        )
    }
}

async fn create_org(service: &Service, name: &str) -> Org {
    let (organization, key) = service
        .create_organization(name)
        .await
        .expect("create an organization");
    Org {
        id: organization.id,
        key: key.plain_text_key,
        key_id: key.key.id,
    }
}

impl Client<'_> {
    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, None).await
    }

    /// A GET with extra request headers.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut request = self.request(Method::GET, path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Body::empty())
            .expect("a well-formed test request");
        self.app.send(request).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn post_json(&self, path: &str, body: Value) -> TestResponse {
        self.send_json(Method::POST, path, &body).await
    }

    pub async fn patch_json(&self, path: &str, body: Value) -> TestResponse {
        self.send_json(Method::PATCH, path, &body).await
    }

    async fn send_json(&self, method: Method, path: &str, body: &Value) -> TestResponse {
        let bytes = serde_json::to_vec(body).expect("serialize the request body");
        self.send(method, path, Some(("application/json", bytes)))
            .await
    }

    /// A request with a body sent as is, under `content_type`.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> TestResponse {
        self.send(method, path, Some((content_type, body.into())))
            .await
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> TestResponse {
        let mut request = self.request(method, path);
        let body = match body {
            None => Body::empty(),
            Some((content_type, bytes)) => {
                request = request
                    .header(CONTENT_TYPE, content_type)
                    .header(CONTENT_LENGTH, bytes.len());
                Body::from(bytes)
            }
        };
        let request = request.body(body).expect("a well-formed test request");
        self.app.send(request).await
    }
}

impl Client<'_> {
    /// A request to `path` carrying this client's credentials.
    fn request(&self, method: Method, path: &str) -> axum::http::request::Builder {
        let request = Request::builder().method(method).uri(path);
        match &self.auth {
            Auth::None => request,
            Auth::ApiKey(key) => request.header("x-api-key", key),
            Auth::Bearer(key) => request.header(AUTHORIZATION, format!("Bearer {key}")),
            Auth::Header(name, value) => request.header(*name, value),
        }
    }
}

impl TestResponse {
    /// The body as JSON (`Null` when empty).
    #[track_caller]
    pub fn json(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "the {} response is not JSON ({error}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("an ASCII header value"))
    }

    /// Asserts the status and returns the JSON body.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> Value {
        assert_eq!(
            self.status,
            status,
            "unexpected status; body: {}",
            String::from_utf8_lossy(&self.body)
        );
        self.json()
    }

    /// Asserts an `ErrorResponse` with this status and code: JSON, exactly `error` and
    /// `message`, the message a non-empty sentence.
    #[track_caller]
    pub fn expect_error(&self, status: StatusCode, code: &str) -> Value {
        let body = self.expect(status);
        assert!(
            self.header("content-type")
                .is_some_and(|value| value.starts_with("application/json")),
            "an error response must be JSON: {:?}",
            self.headers
        );
        assert_eq!(
            keys(&body),
            set(&["error", "message"]),
            "not an ErrorResponse: {body:#}"
        );
        assert_eq!(body["error"], code, "wrong error code: {body:#}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(!message.trim().is_empty(), "empty error message: {body:#}");
        body
    }

    /// Asserts a 422 `HTTPValidationError` whose problems are located at exactly `locs`
    /// (in any order), each with a message and a type. Returns the problems.
    #[track_caller]
    pub fn expect_validation_error(&self, locs: &[&[&str]]) -> Vec<Value> {
        let body = self.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(keys(&body), set(&["detail"]), "not an HTTPValidationError");
        let detail = body["detail"].as_array().cloned().unwrap_or_default();
        let mut found: Vec<Vec<String>> = Vec::new();
        for problem in &detail {
            let loc = problem["loc"]
                .as_array()
                .unwrap_or_else(|| panic!("a problem without loc: {problem:#}"))
                .iter()
                .map(|segment| match segment {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    other => panic!("loc segments are strings or integers, got {other}"),
                })
                .collect();
            for field in ["msg", "type"] {
                assert!(
                    problem[field]
                        .as_str()
                        .is_some_and(|s| !s.trim().is_empty()),
                    "a problem without {field}: {problem:#}"
                );
            }
            found.push(loc);
        }
        let mut expected: Vec<Vec<String>> = locs
            .iter()
            .map(|loc| loc.iter().map(|s| (*s).to_owned()).collect())
            .collect();
        found.sort();
        expected.sort();
        assert_eq!(found, expected, "wrong problem locations in {body:#}");
        detail
    }
}

/// The keys of a JSON object.
#[track_caller]
pub fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[track_caller]
pub fn as_array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => panic!("not an array: {other:#}"),
    }
}

/// The values of `field` in each object of `items`.
pub fn pluck<'a>(items: impl IntoIterator<Item = &'a Value>, field: &str) -> Vec<Value> {
    items.into_iter().map(|item| item[field].clone()).collect()
}

/// A `Uuid` in a JSON value.
#[track_caller]
pub fn uuid(value: &Value) -> Uuid {
    value
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .unwrap_or_else(|| panic!("not a UUID: {value}"))
}

/// An RFC 3339 timestamp in UTC (`Z`), as every timestamp of the API must be.
#[track_caller]
pub fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp string: {value}"));
    assert!(text.ends_with('Z'), "a timestamp not in UTC: {text}");
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("not RFC 3339 ({error}): {text}"))
        .to_utc()
}

/// The seed contract (`../shared/contract/list-connections.openapi.yaml`) as JSON, read at
/// test time. Tests that call it are `#[feather_test_gates::contract]`: ignored where the
/// clone has no `../shared`.
pub fn seed_contract() -> Value {
    read_contract("list-connections.openapi.yaml")
}

/// The later public spec (`../shared/contract/integrations-v1.90.openapi.json`), binding for
/// the shapes of the other endpoints.
pub fn later_contract() -> Value {
    read_contract("integrations-v1.90.openapi.json")
}

fn read_contract(file: &str) -> Value {
    let path = format!(
        "{}/../../../shared/contract/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("the contract {path} cannot be read: {error}"));
    if file.ends_with(".json") {
        serde_json::from_str(&text).expect("the contract is valid JSON")
    } else {
        yaml_serde::from_str(&text).expect("the contract is valid YAML")
    }
}

/// A validator for `schema`, a JSON Schema (2020-12) whose `$ref`s point into `components`
/// (an OpenAPI document's `components`), with formats asserted.
pub fn component_validator(components: &Value, schema: Value) -> jsonschema::Validator {
    let mut document = schema;
    document["components"] = components.clone();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&document)
        .expect("the contract's schemas compile")
}

/// Asserts `instance` is valid, listing every violation otherwise.
#[track_caller]
pub fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|error| format!("{}: {error}", error.instance_path().as_str()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} breaks the contract:\n{}\n{instance:#}",
        errors.join("\n")
    );
}

// ---- custom MCP servers: connecting, syncing, invoking ---------------------------------

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use feather_demo_mcp::DemoServer;
use feather_service::{JobRunner, JobSettings, SyncOutcome};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

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
        let runner = JobRunner::new(
            self.service.clone(),
            JobSettings {
                poll_interval: Duration::from_millis(50),
                first_retry_delay: Duration::from_millis(100),
                ..JobSettings::default()
            },
        );
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(runner.run(shutdown.clone()));
        RunningJobs { shutdown, task }
    }

    /// Polls the owner's connection until `done` holds of it (at most [`PATIENCE`]) and
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

/// The real job runner, running in the background until [`RunningJobs::stop`].
#[derive(Debug)]
pub struct RunningJobs {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl RunningJobs {
    /// Cancels the runner and waits for its workers to end.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(PATIENCE, self.task)
            .await
            .expect("the job runner stops in time")
            .expect("the job runner does not panic");
    }
}

/// How a [`FakeMcp`] answers.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// A working server listing these tools (MCP `Tool` objects); calls echo their
    /// arguments as structured content.
    Lists(Value),
    /// Every request answered with this HTTP status.
    Status(u16),
    /// Every request answered with this HTTP status and, as the body, every header the
    /// request carried (as some proxies' error pages do).
    EchoesHeaders(u16),
    /// Every request redirected (307) to this URL.
    RedirectsTo(String),
    /// The handshake is never answered.
    Hangs,
    /// Lists these tools; a tool call is never answered.
    HangsOnCall(Value),
    /// `tools/list` is answered with a body that is not JSON.
    InvalidJsonOnList,
}

/// A tiny Streamable HTTP MCP server on 127.0.0.1 (at `/mcp`) that answers as told and
/// records the headers of every request.
#[derive(Debug)]
pub struct FakeMcp {
    url: String,
    state: FakeState,
    task: JoinHandle<std::io::Result<()>>,
}

#[derive(Debug, Clone)]
struct FakeState {
    upstream: Arc<Mutex<Upstream>>,
    seen: Arc<Mutex<Vec<HeaderMap>>>,
    /// The query string of every request, in order.
    queries: Arc<Mutex<Vec<Option<String>>>>,
    /// `tools/call` requests received, answered or not.
    calls: Arc<AtomicUsize>,
    stop: CancellationToken,
}

impl FakeMcp {
    pub async fn start(upstream: Upstream) -> FakeMcp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local address");
        let state = FakeState {
            upstream: Arc::new(Mutex::new(upstream)),
            seen: Arc::default(),
            queries: Arc::default(),
            calls: Arc::default(),
            stop: CancellationToken::new(),
        };
        let app = Router::new()
            .route("/mcp", axum::routing::any(fake_mcp))
            .with_state(state.clone());
        let serve =
            axum::serve(listener, app).with_graceful_shutdown(state.stop.clone().cancelled_owned());
        FakeMcp {
            url: format!("http://{addr}/mcp"),
            state,
            task: tokio::spawn(std::future::IntoFuture::into_future(serve)),
        }
    }

    /// The server URL, for `transport: streamable_http`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// From now on, answer like this.
    pub fn answer(&self, upstream: Upstream) {
        *self
            .state
            .upstream
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = upstream;
    }

    /// The headers of every request received so far.
    pub fn requests(&self) -> Vec<HeaderMap> {
        self.state
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The query string of every request received so far.
    pub fn queries(&self) -> Vec<Option<String>> {
        self.state
            .queries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until the server has received `count` `tools/call` requests (answered or
    /// still hanging); fails the test after 10 s.
    pub async fn until_calls_received(&self, count: usize) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.state.calls.load(Ordering::SeqCst) < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the server received {} of {count} tool calls within 10 s",
                self.state.calls.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Releases hanging requests and stops the server.
    pub async fn stop(self) {
        self.state.stop.cancel();
        let mut task = self.task;
        if tokio::time::timeout(Duration::from_secs(5), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
}

/// Just enough of Streamable HTTP for the service's client: `initialize`, `tools/list`
/// (one page), `tools/call`.
async fn fake_mcp(
    State(state): State<FakeState>,
    method: Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    state
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(headers.clone());
    state
        .queries
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(uri.query().map(str::to_owned));
    let upstream = state
        .upstream
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match upstream {
        Upstream::Status(status) => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            return (status, "denied").into_response();
        }
        Upstream::EchoesHeaders(status) => {
            let status = StatusCode::from_u16(status).expect("a valid status");
            return (status, format!("denied: {headers:?}")).into_response();
        }
        Upstream::RedirectsTo(location) => {
            return axum::response::Redirect::temporary(&location).into_response();
        }
        _ => {}
    }
    match method {
        Method::POST => {}
        Method::DELETE => return StatusCode::OK.into_response(),
        // No stream for server-initiated messages.
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let Some(id) = request.get("id").cloned() else {
        // A notification.
        return StatusCode::ACCEPTED.into_response();
    };
    let hang = || async {
        state.stop.cancelled().await;
        StatusCode::SERVICE_UNAVAILABLE.into_response()
    };
    if request["method"] == "tools/call" {
        state.calls.fetch_add(1, Ordering::SeqCst);
    }
    let result = match (request["method"].as_str(), &upstream) {
        (Some("initialize"), Upstream::Hangs) => return hang().await,
        (Some("initialize"), _) => json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fake", "version": "1"}
        }),
        (Some("tools/list"), Upstream::InvalidJsonOnList) => {
            return json_rpc_response("{not json".to_owned());
        }
        (Some("tools/list"), Upstream::Lists(tools) | Upstream::HangsOnCall(tools)) => {
            json!({"tools": tools})
        }
        (Some("tools/call"), Upstream::HangsOnCall(_)) => return hang().await,
        (Some("tools/call"), _) => json!({
            "content": [{"type": "text", "text": "ok"}],
            "structuredContent": {"echo": request["params"]["arguments"]},
            "isError": false
        }),
        _ => {
            let error = json!({"code": -32601, "message": "no such method"});
            return json_rpc_response(
                json!({"jsonrpc": "2.0", "id": id, "error": error}).to_string(),
            );
        }
    };
    json_rpc_response(json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string())
}

fn json_rpc_response(text: String) -> Response {
    (
        [
            (CONTENT_TYPE.as_str(), "application/json"),
            ("mcp-session-id", "fake-session"),
        ],
        text,
    )
        .into_response()
}

/// Every log line written while it lives (on this thread, which is the whole runtime
/// of a `#[tokio::test]`), at every level.
#[derive(Debug)]
pub struct CapturedLogs {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    pub fn start() -> CapturedLogs {
        let lines: Arc<Mutex<Vec<u8>>> = Arc::default();
        let writer = {
            let lines = lines.clone();
            move || LogWriter(lines.clone())
        };
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(writer)
            .finish();
        CapturedLogs {
            lines,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned()
    }
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl TestResponse {
    /// The body as text, as a client would see it.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
