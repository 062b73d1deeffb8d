//! The OAuth client of custom MCP servers: discovery of how a server wants to be
//! authorized, client registration, the authorization code grant and refresh, all within
//! the operator's upstream policy (every URL a server or its metadata names is checked by
//! the SSRF guard before it is requested).

mod discovery;
mod fetch;
mod registration;
mod tokens;

use async_trait::async_trait;
use feather_domain::oauth::{OAuthSettings, ServerAuthorization};
use feather_service::UpstreamError;
use feather_service::oauth::{
    AuthorizationClient, AuthorizationStart, ClientMetadata, IssuedTokens, OAuthFailure,
    RegisteredClient,
};
use url::Url;

use crate::guard::UpstreamPolicy;

/// An authorization server's refusal, each part fit to quote in a connection's
/// `status_reason` whatever the server sent.
pub(crate) fn rejected(error: &str, description: Option<&str>) -> OAuthFailure {
    use feather_domain::text::quoted;
    OAuthFailure::Rejected {
        error: quoted(error),
        description: description.map(quoted),
    }
}
use fetch::GuardedHttp;

/// Talks to MCP servers and their authorization servers for the service.
#[derive(Debug, Clone)]
pub struct McpOAuthClient {
    http: GuardedHttp,
}

impl McpOAuthClient {
    /// # Errors
    /// When the HTTP client cannot be set up (no TLS backend).
    pub fn new(policy: &UpstreamPolicy) -> Result<McpOAuthClient, reqwest::Error> {
        Ok(McpOAuthClient {
            http: GuardedHttp::new(policy)?,
        })
    }
}

#[async_trait]
impl AuthorizationClient for McpOAuthClient {
    async fn discover(&self, server_url: &Url) -> Result<ServerAuthorization, UpstreamError> {
        discovery::discover(&self.http, server_url).await
    }

    async fn register(
        &self,
        registration_endpoint: &str,
        metadata: &ClientMetadata,
    ) -> Result<RegisteredClient, OAuthFailure> {
        registration::register(&self.http, registration_endpoint, metadata).await
    }

    fn start_authorization(
        &self,
        settings: &OAuthSettings,
        redirect_uri: &str,
    ) -> Result<AuthorizationStart, String> {
        tokens::start_authorization(settings, redirect_uri)
    }

    async fn exchange_code(
        &self,
        settings: &OAuthSettings,
        redirect_uri: &str,
        code: &str,
        code_verifier: &str,
    ) -> Result<IssuedTokens, OAuthFailure> {
        tokens::exchange_code(&self.http, settings, redirect_uri, code, code_verifier).await
    }
}
