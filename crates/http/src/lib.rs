//! The HTTP API of feather-integrations: axum routers per resource, authentication,
//! request extraction, the error format, and the OpenAPI document generated from the
//! handlers. No SQL and no business rules live here.

mod auth;
mod conditional;
mod error;
mod extract;
mod mcp;
mod metrics;
mod middleware;
mod openapi;
mod rate_limits;
mod routes;
mod schemas;
mod server;

use std::sync::Arc;

use axum::Router;
use feather_service::{ListingCache, Service};

pub use mcp::McpOptions;
pub use openapi::openapi;
pub use rate_limits::RateLimits;
pub use server::{ServerLimits, serve};

/// Largest request body accepted; larger ones answer 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of every handler: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppInner>);

#[derive(Debug)]
pub struct AppInner {
    pub service: Service,
    /// None when the listing cache is switched off (every listing rendered afresh).
    listing_cache: Option<ListingCache<conditional::Tagged>>,
    /// The tools each organization's agents are shown; None when the listing cache is
    /// switched off.
    agent_catalogs: Option<ListingCache<mcp::AgentCatalog>>,
    rate_limits: rate_limits::Limiters,
    mcp: McpOptions,
}

/// How the HTTP application behaves.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// Keep each organization's serialized listing while its version is unchanged.
    pub listing_cache: bool,
    /// The most bytes of listings kept; the least recently used go first.
    pub listing_cache_bytes: usize,
    /// API requests answered at once; one more is refused at once with 503 `overloaded`
    /// and `Retry-After`, rather than queued (the health endpoints are not counted).
    pub max_in_flight: usize,
    /// How long a request body may take to arrive; past it the request is refused.
    pub request_body_timeout: std::time::Duration,
    /// Requests a second per API key and per organization.
    pub rate_limits: RateLimits,
    /// The MCP endpoint agents connect to.
    pub mcp: McpOptions,
}

impl AppOptions {
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 512;
}

impl Default for AppOptions {
    fn default() -> Self {
        AppOptions {
            listing_cache: true,
            listing_cache_bytes: feather_service::DEFAULT_CACHE_BYTES,
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            request_body_timeout: std::time::Duration::from_secs(30),
            rate_limits: RateLimits::default(),
            mcp: McpOptions::default(),
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// The complete HTTP application over `service`.
pub fn app(service: Service) -> Router {
    app_with(service, AppOptions::default())
}

/// The complete HTTP application over `service`, configured.
pub fn app_with(service: Service, options: AppOptions) -> Router {
    // Installed before anything records, so that no early sample is lost.
    metrics::recorder();
    let state = AppState(Arc::new(AppInner {
        service,
        listing_cache: options
            .listing_cache
            .then(|| ListingCache::new(options.listing_cache_bytes)),
        agent_catalogs: options
            .listing_cache
            .then(|| ListingCache::new(options.listing_cache_bytes)),
        rate_limits: rate_limits::Limiters::new(options.rate_limits),
        mcp: options.mcp.clone(),
    }));
    middleware::wrap(routes::router(state, &options))
}
