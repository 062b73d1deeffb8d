//! A service for tests of its use cases that never leave the store.

use std::sync::Arc;

use async_trait::async_trait;
use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use feather_store::Store;

use crate::{
    NewConnection, SecretBox, Service, UpstreamError, UpstreamErrorKind, Upstreams, UrlGuard,
    VendorRegistry,
};

/// An active custom MCP connection to create, nicknamed `nickname`, with no credentials
/// and no first sync.
pub fn new_custom_mcp_connection(nickname: &str) -> NewConnection {
    NewConnection {
        integration_key: IntegrationKey::CustomMcp,
        nickname: nickname.to_owned(),
        vendor: Vendor::Mcp,
        vendor_connection_id: None,
        status: ConnectionStatus::Active,
        metadata: serde_json::Map::new(),
        credentials: None,
        sync_tools: false,
    }
}

/// The service over `store`, with no vendor registered and every upstream URL refused.
pub fn service_over(store: Store) -> Service {
    Service::new(
        store,
        SecretBox::new(*b"the-key-of-every-service-test!!!"),
        Upstreams {
            url_guard: Arc::new(RefuseEveryUrl),
            vendors: VendorRegistry::new(),
        },
    )
}

#[derive(Debug)]
struct RefuseEveryUrl;

#[async_trait]
impl UrlGuard for RefuseEveryUrl {
    async fn check_url(&self, _url: &str) -> Result<(), UpstreamError> {
        Err(UpstreamError::new(
            UpstreamErrorKind::Refused,
            "tests of the service reach no upstream",
        ))
    }
}
