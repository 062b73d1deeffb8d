//! OAuth for custom MCP servers: the port to the OAuth client (implemented in the vendors
//! crate) and the use cases over it.

mod callback;
mod config;
mod connect;
mod discover;
mod finalize;
mod pending;
mod plan;
mod reauthorize;
mod step_up;

pub use callback::{CallbackOutcome, CallbackParams};
pub use config::{CALLBACK_PATH, CLIENT_METADATA_PATH, OAuthClientConfig};
pub use connect::AuthorizationLink;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use feather_domain::oauth::{OAuthSettings, OAuthTokens, ServerAuthorization, TokenEndpointAuth};
use url::Url;

use crate::UpstreamError;

/// Speaks OAuth with MCP servers and their authorization servers. Every method that
/// reaches out fails with an [`UpstreamError`] only when the server cannot be asked
/// (unreachable, refused by the upstream policy, too slow); what it answers is in the
/// result.
#[async_trait]
pub trait AuthorizationClient: Send + Sync + fmt::Debug {
    /// How the server at `server_url` wants to be authorized.
    async fn discover(&self, server_url: &Url) -> Result<ServerAuthorization, UpstreamError>;

    /// Registers the service as a client at `registration_endpoint` (RFC 7591).
    async fn register(
        &self,
        registration_endpoint: &str,
        metadata: &ClientMetadata,
    ) -> Result<RegisteredClient, OAuthFailure>;

    /// The URL to send the user to, with a fresh `state` and PKCE verifier. Fails only
    /// when an endpoint in `settings` is not a usable URL.
    fn start_authorization(
        &self,
        settings: &OAuthSettings,
        redirect_uri: &str,
    ) -> Result<AuthorizationStart, String>;

    /// Exchanges an authorization code for tokens.
    async fn exchange_code(
        &self,
        settings: &OAuthSettings,
        redirect_uri: &str,
        code: &str,
        code_verifier: &str,
    ) -> Result<IssuedTokens, OAuthFailure>;
}

/// What the service says about itself when it registers (RFC 7591 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadata {
    pub client_name: String,
    pub redirect_uri: String,
    pub token_endpoint_auth_method: TokenEndpointAuth,
    /// The scopes it will ask for; empty: none named.
    pub scopes: Vec<String>,
}

/// A registered client (RFC 7591 §3.2.1).
#[derive(Clone, PartialEq, Eq)]
pub struct RegisteredClient {
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The method the server registered, when it says.
    pub token_endpoint_auth_method: Option<String>,
}

/// An authorization begun: where to send the user, and what the callback will need.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationStart {
    pub url: String,
    pub state: String,
    pub code_verifier: String,
}

/// Tokens as the token endpoint issued them (RFC 6749 §5.1).
#[derive(Clone, PartialEq, Eq)]
pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: Option<Duration>,
    /// The scopes granted, when the server says.
    pub scopes: Option<Vec<String>>,
}

/// Why an OAuth request did not give what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthFailure {
    /// The server answered with an OAuth error (RFC 6749 §5.2, RFC 7591 §3.2.2) or an
    /// answer that is not one it may give.
    #[error("{}", describe_rejection(.error, .description.as_deref()))]
    Rejected {
        /// The OAuth error code (`invalid_grant`, …), or a description of the answer.
        error: String,
        description: Option<String>,
    },
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl IssuedTokens {
    /// The tokens to keep, issued at `now` for `asked` scopes.
    pub(crate) fn into_tokens(
        self,
        now: chrono::DateTime<chrono::Utc>,
        asked: &[String],
    ) -> OAuthTokens {
        OAuthTokens {
            access_token: self.access_token,
            refresh_token: self.refresh_token,
            expires_at: self
                .expires_in
                .and_then(|lifetime| chrono::Duration::from_std(lifetime).ok())
                .and_then(|lifetime| now.checked_add_signed(lifetime)),
            scopes: self.scopes.unwrap_or_else(|| asked.to_vec()),
        }
    }
}

fn describe_rejection(error: &str, description: Option<&str>) -> String {
    match description {
        Some(description) => format!("The authorization server refused: {error} ({description})."),
        None => format!("The authorization server refused: {error}."),
    }
}

impl fmt::Debug for RegisteredClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisteredClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field(
                "token_endpoint_auth_method",
                &self.token_endpoint_auth_method,
            )
            .finish()
    }
}

impl fmt::Debug for AuthorizationStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationStart")
            .field("state", &"…")
            .field("code_verifier", &"…")
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("access_token", &"…")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish()
    }
}
