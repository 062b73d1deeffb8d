//! The MCP client for custom MCP servers: lists a server's tools and calls them.
//!
//! A listing (a sync) opens a session of its own and closes it afterwards: it reads the
//! server's capabilities afresh, and syncs are rare. Tool calls take a session from the
//! connection's pool (`pool`) and give it back, so a call costs one round trip. Every
//! failure mode ends as an [`McpError`] within the configured limits: unreachable, slow
//! or hanging servers (timeouts), broken streams, invalid JSON-RPC, oversized answers
//! (size caps) and endless pagination (page, tool and catalog size caps). Connections go
//! through the [`UpstreamPolicy`]'s HTTP client, so every address is checked and pinned.

mod errors;
mod events;
mod legacy_sse;
mod pool;
mod session;
mod sse_limit;
mod streamable;
mod tools;

#[cfg(test)]
mod demo_tests;
#[cfg(test)]
mod fakes;
#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod pool_tests;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use feather_domain::catalog::{UpstreamTool, catalog_too_large, tool_bytes};
use feather_service::vendors::CallEvents;
use tokio::time::Instant;
use uuid::Uuid;

pub use errors::McpError;

use crate::guard::UpstreamPolicy;
use pool::{Lease, PoolLimits, SessionPool};
use session::{CALLING, LISTING, OPENING, Session};

/// How to reach a custom MCP server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpTransport {
    /// Streamable HTTP (MCP 2025-03-26 and later).
    StreamableHttp,
    /// The legacy HTTP+SSE transport (MCP 2024-11-05): the URL is the event stream's.
    Sse,
    /// Streamable HTTP, falling back to legacy SSE on the same URL when the server
    /// answers the `initialize` POST with 400, 404 or 405 (MCP backwards-compatibility
    /// guidance).
    Auto,
}

/// A connection's server and the headers every request to it carries: credentials
/// already resolved into headers by the caller (`authorization: Bearer …`, a user-chosen
/// API-key header, custom headers).
#[derive(Clone, PartialEq, Eq)]
pub struct McpEndpoint {
    /// The connection whose server this is: its sessions are kept for it alone.
    pub connection_id: Uuid,
    /// The server URL (for [`McpTransport::Sse`], the event stream's URL).
    pub url: url::Url,
    /// Which transport to speak.
    pub transport: McpTransport,
    /// Headers sent with every request; their values are secrets.
    pub headers: http::HeaderMap,
}

impl fmt::Debug for McpEndpoint {
    /// Shows the URL without its query (which may carry a key) and header names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut url = self.url.clone();
        if url.query().is_some() {
            url.set_query(Some("…"));
        }
        url.set_fragment(None);
        f.debug_struct("McpEndpoint")
            .field("connection_id", &self.connection_id)
            .field("url", &url.as_str())
            .field("transport", &self.transport)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Bounds on every exchange with a server.
#[derive(Debug, Clone)]
pub struct McpLimits {
    /// Establishing a TCP (and TLS) connection. Default 5 s.
    pub connect_timeout: Duration,
    /// One request: the handshake, one `tools/list` page, one `tools/call`; also the
    /// longest silence tolerated while reading an answer. Default 30 s.
    pub request_timeout: Duration,
    /// A whole `list_tools`, pagination included. Default 120 s.
    pub sync_timeout: Duration,
    /// The largest single answer (JSON body or event). Default 16 MiB.
    pub max_response_bytes: usize,
    /// The most `tools/list` pages followed. Default 1000.
    pub max_pages: usize,
    /// The most tools accepted from one server. Default 10 000.
    pub max_tools: usize,
    /// The largest catalog accepted from one server, counted as the domain counts it
    /// (`feather_domain::catalog::tool_bytes`): listing stops at the page that passes it.
    /// Default `CATALOG_MAX_BYTES` (8 MiB).
    pub max_catalog_bytes: usize,
    /// The most sessions kept open to one connection's server, and so the most calls to
    /// it at once (more wait for a free session, within their own time). Default 16.
    pub sessions_per_connection: usize,
    /// How long an unused session is kept open. Default 60 s.
    pub session_idle_timeout: Duration,
}

impl Default for McpLimits {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            sync_timeout: Duration::from_secs(120),
            max_response_bytes: 16 * 1024 * 1024,
            max_pages: 1000,
            max_tools: 10_000,
            max_catalog_bytes: feather_domain::catalog::CATALOG_MAX_BYTES,
            sessions_per_connection: 16,
            session_idle_timeout: Duration::from_secs(60),
        }
    }
}

/// Talks to custom MCP servers. Cheap to clone (the HTTP client and the session pool are
/// shared).
#[derive(Debug, Clone)]
pub struct McpClient {
    policy: UpstreamPolicy,
    http: reqwest::Client,
    limits: McpLimits,
    sessions: SessionPool,
}

impl McpClient {
    /// A client whose connections obey `policy` and `limits`.
    ///
    /// # Errors
    /// [`McpError::Unreachable`] if the HTTP client cannot be built (no TLS backend).
    pub fn new(policy: &UpstreamPolicy, limits: McpLimits) -> Result<McpClient, McpError> {
        let http = policy
            .http_client_builder()
            .connect_timeout(limits.connect_timeout)
            // Per read, not per request: a total timeout would cut long event streams,
            // and each operation has its own deadline anyway.
            .read_timeout(limits.request_timeout)
            // Pooled sessions keep their connections: they were checked by the policy's
            // resolver when they were made, and are not kept longer than a session.
            .pool_idle_timeout(limits.session_idle_timeout)
            .build()
            .map_err(|_| McpError::Unreachable("the HTTP client could not be set up".into()))?;
        let sessions = SessionPool::new(PoolLimits {
            sessions_per_connection: limits.sessions_per_connection,
            idle_timeout: limits.session_idle_timeout,
            close_budget: limits.connect_timeout,
        });
        Ok(McpClient {
            policy: policy.clone(),
            http,
            limits,
            sessions,
        })
    }

    /// Opens a session, lists every tool (following `nextCursor`, capped by `max_pages`
    /// and `max_tools`), closes the session. Bounded by `sync_timeout`, plus at most
    /// `connect_timeout` to say goodbye.
    ///
    /// # Errors
    /// Any [`McpError`]; tools are returned as listed otherwise (duplicates and schema
    /// validity are the caller's to judge).
    pub async fn list_tools(&self, endpoint: &McpEndpoint) -> Result<Vec<UpstreamTool>, McpError> {
        let deadline = after(self.limits.sync_timeout);
        let session = self.step(deadline, OPENING, self.open(endpoint)).await?;
        let listed = self.list_all(&session, deadline).await;
        session.close(self.limits.connect_timeout).await;
        listed
    }

    /// Calls the tool on a session of the connection's pool (opening one if none is
    /// free). Returns the `CallToolResult` as MCP JSON (`content`, `structuredContent`,
    /// `isError`); a result with `isError: true` is still `Ok`, as it is the tool's
    /// answer. What the server tells while the call runs goes to `events`. Bounded by
    /// `connect_timeout` + `request_timeout`, waiting for a free session included; a call
    /// that runs out of time, or whose future is dropped, is cancelled on the server and
    /// its session closed in the background.
    ///
    /// # Errors
    /// Any [`McpError`].
    pub async fn call_tool(
        &self,
        endpoint: &McpEndpoint,
        name: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        events: &CallEvents,
    ) -> Result<serde_json::Value, McpError> {
        let deadline = after(
            self.limits
                .connect_timeout
                .saturating_add(self.limits.request_timeout),
        );
        let lease = self.step(deadline, OPENING, self.lease(endpoint)).await?;
        let called = self
            .step(
                deadline,
                CALLING,
                lease.session().call_tool(name, arguments, events),
            )
            .await;
        match &called {
            // The server answered: the session is as good as before.
            Ok(_) | Err(McpError::Rpc { .. }) => lease.give_back(),
            // The session may be broken, or still busy with the call: closed.
            Err(_) => drop(lease),
        }
        called
    }

    /// A session of the connection's pool, or a new one.
    async fn lease(&self, endpoint: &McpEndpoint) -> Result<Lease, McpError> {
        self.sessions.lease(endpoint, || self.open(endpoint)).await
    }

    /// Checks the URL against the policy, then opens a session. Not bounded in time: the
    /// caller puts a timeout around it.
    async fn open(&self, endpoint: &McpEndpoint) -> Result<Session, McpError> {
        // The HTTP client's resolver checks every host name, but an IP-literal URL never
        // reaches a resolver: this check covers it (and non-http schemes).
        self.policy
            .check_url(endpoint.url.as_str())
            .await
            .map_err(McpError::Refused)?;
        Session::open(&self.http, endpoint, &self.limits).await
    }

    async fn list_all(
        &self,
        session: &Session,
        deadline: Instant,
    ) -> Result<Vec<UpstreamTool>, McpError> {
        if !session.offers_tools() {
            return Ok(Vec::new());
        }
        let mut listed = Vec::new();
        let mut listed_bytes = 0usize;
        let mut cursor = None;
        for _ in 0..self.limits.max_pages {
            let result = self
                .step(deadline, LISTING, session.list_tools_page(cursor))
                .await?;
            let page = tools::parse_page(result)?;
            if listed.len() + page.tools.len() > self.limits.max_tools {
                return Err(McpError::TooManyTools {
                    limit: self.limits.max_tools,
                });
            }
            listed_bytes = page
                .tools
                .iter()
                .map(tool_bytes)
                .fold(listed_bytes, usize::saturating_add);
            if listed_bytes > self.limits.max_catalog_bytes {
                return Err(McpError::Catalog(catalog_too_large(
                    listed_bytes,
                    self.limits.max_catalog_bytes,
                )));
            }
            listed.extend(page.tools);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(listed),
            }
        }
        Err(McpError::Protocol(format!(
            "its tool list did not end within {} pages",
            self.limits.max_pages
        )))
    }

    /// Runs one request with `request_timeout`, cut short by the operation's deadline.
    async fn step<T>(
        &self,
        deadline: Instant,
        during: &'static str,
        request: impl Future<Output = Result<T, McpError>>,
    ) -> Result<T, McpError> {
        let step_deadline = deadline.min(after(self.limits.request_timeout));
        tokio::time::timeout_at(step_deadline, request)
            .await
            .unwrap_or(Err(McpError::Timeout { during }))
    }
}

/// `duration` from now; a configured duration too large for the clock means "a century".
fn after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}
