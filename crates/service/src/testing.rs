//! A service for tests of its use cases that never leave the store.

use std::sync::Arc;

use async_trait::async_trait;
use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use feather_domain::oauth::{OAuthSettings, ServerAuthorization};
use feather_store::Store;
use url::Url;

use crate::oauth::{
    AuthorizationClient, AuthorizationStart, ClientMetadata, IssuedTokens, OAuthFailure,
    RegisteredClient,
};
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
            oauth: Arc::new(RefuseEveryUrl),
            vendors: VendorRegistry::new(),
        },
    )
}

#[derive(Debug)]
struct RefuseEveryUrl;

#[async_trait]
impl UrlGuard for RefuseEveryUrl {
    async fn check_url(&self, _url: &str) -> Result<(), UpstreamError> {
        Err(refused())
    }
}

#[async_trait]
impl AuthorizationClient for RefuseEveryUrl {
    async fn discover(&self, _server_url: &Url) -> Result<ServerAuthorization, UpstreamError> {
        Err(refused())
    }

    async fn register(
        &self,
        _registration_endpoint: &str,
        _metadata: &ClientMetadata,
    ) -> Result<RegisteredClient, OAuthFailure> {
        Err(refused().into())
    }

    fn start_authorization(
        &self,
        _settings: &OAuthSettings,
        _redirect_uri: &str,
    ) -> Result<AuthorizationStart, String> {
        Err("tests of the service reach no upstream".to_owned())
    }

    async fn exchange_code(
        &self,
        _settings: &OAuthSettings,
        _redirect_uri: &str,
        _code: &str,
        _code_verifier: &str,
    ) -> Result<IssuedTokens, OAuthFailure> {
        Err(refused().into())
    }
}

fn refused() -> UpstreamError {
    UpstreamError::new(
        UpstreamErrorKind::Refused,
        "tests of the service reach no upstream",
    )
}
