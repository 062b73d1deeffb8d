//! A service for tests of its use cases that never leave the store.

use std::sync::Arc;

use async_trait::async_trait;
use feather_store::Store;

use crate::{
    SecretBox, Service, UpstreamError, UpstreamErrorKind, Upstreams, UrlGuard, VendorRegistry,
};

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
