//! Use cases of feather-integrations: what a caller can do, with the transactions and
//! checks each needs. The HTTP layer translates requests into calls here; the domain layer
//! holds the rules; the store holds the data; upstreams are reached through the ports of
//! [`vendors`] (chosen per connection from a [`VendorRegistry`]) and URLs checked by a
//! [`UrlGuard`], which the vendors crate implements.

mod agent;
mod blocking;
mod call_targets;
mod catalog;
mod clock;
mod connections;
mod custom_mcp;
mod error;
mod identity;
mod input_validators;
mod invoke;
mod jobs;
mod key_cache;
mod key_rotation;
mod listing_cache;
pub mod oauth;
mod reach;
mod secrets;
mod sync;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod upstream;
pub mod vendors;
mod version_reads;
mod views;

use std::sync::Arc;

pub use agent::{AgentCall, AgentTool};
pub use clock::{Clock, ManualClock, SystemClock};
pub use connections::{NewConnection, ToolConfigInput};
pub use custom_mcp::CustomMcpConnected;
pub use error::{ServiceError, ServiceResult};
pub use feather_domain::catalog::UpstreamTool;
pub use identity::{CreatedApiKey, NewApiKeyInput, Principal};
pub use invoke::{Invocation, InvokeRequest};
pub use jobs::{JobRunner, JobSettings};
pub use key_rotation::{Rotation, SealingKeyCheck};
pub use listing_cache::{DEFAULT_CACHE_BYTES, ListingCache, RenderedListing};
pub use secrets::{KeyId, Resealed, SecretBox, UnsealError};
pub use sync::SyncOutcome;
pub use upstream::{UpstreamError, UpstreamErrorKind, UrlGuard};
pub use vendors::{Upstreams, VendorRegistry};
pub use views::{ConnectionToolView, ConnectionView};

use feather_store::Store;
use tokio::sync::Notify;

/// The service: every use case, over one store and the outside world's ports.
#[derive(Debug, Clone)]
pub struct Service {
    store: Store,
    secrets: SecretBox,
    url_guard: Arc<dyn UrlGuard>,
    oauth: Arc<dyn oauth::AuthorizationClient>,
    oauth_config: oauth::OAuthClientConfig,
    vendors: VendorRegistry,
    /// Wakes this process's job workers when it queues work, so that a sync starts at
    /// once instead of at the next poll. Other replicas find the job by polling.
    jobs_queued: Arc<Notify>,
    keys: Arc<key_cache::KeyCache>,
    /// Listing-version reads in flight, shared by the requests (of any transport) that
    /// arrive while one is.
    listing_versions: Arc<version_reads::VersionReads>,
    /// Compiled input schemas of the tools called recently.
    input_validators: Arc<input_validators::InputValidators>,
    /// What agents' calls go upstream with, per listing version.
    call_targets: Arc<call_targets::CallTargets>,
    limits: ServiceLimits,
    clock: Arc<dyn Clock>,
}

/// Limits an operator can set per organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLimits {
    /// Connections one organization may have. Default 100: with each catalog at most
    /// `CATALOG_MAX_BYTES`, it bounds one organization's listing.
    pub max_connections_per_organization: u32,
}

impl Default for ServiceLimits {
    fn default() -> Self {
        ServiceLimits {
            max_connections_per_organization: 100,
        }
    }
}

impl Service {
    pub fn new(store: Store, secrets: SecretBox, upstreams: Upstreams) -> Service {
        Service {
            store,
            secrets,
            url_guard: upstreams.url_guard,
            oauth: upstreams.oauth,
            oauth_config: oauth::OAuthClientConfig::default(),
            vendors: upstreams.vendors,
            jobs_queued: Arc::new(Notify::new()),
            keys: Arc::default(),
            listing_versions: Arc::default(),
            input_validators: Arc::default(),
            call_targets: Arc::default(),
            limits: ServiceLimits::default(),
            clock: Arc::new(SystemClock),
        }
    }

    /// This service reading the time from `clock` instead of the system's.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Service {
        Service { clock, ..self }
    }

    /// The time every rule of this service uses (see [`Clock`]).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    /// This service presenting itself to authorization servers as `config` says.
    pub fn with_oauth_client(self, oauth_config: oauth::OAuthClientConfig) -> Service {
        Service {
            oauth_config,
            ..self
        }
    }

    /// How this service presents itself to authorization servers.
    pub fn oauth_client(&self) -> &oauth::OAuthClientConfig {
        &self.oauth_config
    }

    /// This service with `limits` instead of the defaults.
    pub fn with_limits(self, limits: ServiceLimits) -> Service {
        Service { limits, ..self }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Whether this process can serve: its store answers. Any failure is
    /// [`ServiceError::Unavailable`].
    pub async fn check_ready(&self) -> ServiceResult<()> {
        self.store
            .ping()
            .await
            .map_err(|error| ServiceError::Unavailable(error.to_string()))
    }

    /// How many background jobs are in each state (`queued`, `running`, …).
    pub async fn job_counts(&self) -> ServiceResult<Vec<(String, i64)>> {
        Ok(self.store.count_jobs_by_state().await?)
    }

    /// The organization's listing version, from a read of the store that started after
    /// this call began (shared with the calls that arrived alongside it). The version moves
    /// with every write that changes what `list_connections` returns, so a listing
    /// rendered at this version, or from data read after this call, is fresh while it is
    /// unchanged: what a [`ListingCache`] keeps.
    pub async fn fresh_listing_version(&self, organization_id: uuid::Uuid) -> ServiceResult<i64> {
        self.listing_versions
            .read(organization_id, async {
                Ok(self
                    .store
                    .listing_version(organization_id)
                    .await?
                    .unwrap_or_default())
            })
            .await
    }
}
