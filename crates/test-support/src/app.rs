//! `TestApp`: the real router over a fresh store, two organizations with a key each,
//! replicas, and the seeding helpers.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use feather_http::{AppOptions, RateLimits};
use feather_service::testing::new_custom_mcp_connection;
use feather_service::{ManualClock, SecretBox, Service, ServiceLimits, UpstreamTool, Upstreams};
use feather_store::testing::TestDatabase;
use feather_vendors::McpLimits;
use feather_vendors::guard::UpstreamPolicy;
use http_body_util::BodyExt;
use serde_json::{Map, Value, json};
use tower::ServiceExt;
use uuid::Uuid;

use crate::*;

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
    /// Ends the router's MCP streams, for a server to stop without waiting for them.
    end_streams: tokio_util::sync::CancellationToken,
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
        let end_streams = unlimited.mcp.end_streams.clone();
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
            end_streams,
        }
    }
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
            end_streams: options.mcp.end_streams.clone(),
            router: feather_http::app_with(service.clone(), options),
            service,
            owner: self.owner.clone(),
            stranger: self.stranger.clone(),
            database: None,
            clock: self.clock.clone(),
        }
    }

    pub(crate) fn router(&self) -> Router {
        self.router.clone()
    }

    pub(crate) fn end_streams(&self) -> tokio_util::sync::CancellationToken {
        self.end_streams.clone()
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
                annotations: None,
            })
            .collect();
        self.service
            .store()
            .seed_catalog(self.owner.id, connection, &catalog, feather_store::now())
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
            .seed_connection(
                &feather_domain::connection::Connection {
                    id,
                    ..feather_store::testing::active_mcp_connection(
                        self.owner.id,
                        nickname_slug,
                        created_at,
                    )
                },
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
            .create_connection(org.id, new_custom_mcp_connection(nickname))
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

    pub(crate) async fn seeded(&self, org: &Org, connection_id: Uuid) -> Seeded {
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
