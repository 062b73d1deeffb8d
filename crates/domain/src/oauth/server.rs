//! What discovery found out about how a server wants to be authorized.

use super::{AuthorizationServerMetadata, BearerChallenge, ScopeSources, requested_scopes};

/// How the server at a URL wants to be authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerAuthorization {
    /// The server answered an unauthenticated request: it needs no OAuth.
    Open,
    /// It asks for OAuth, and discovery found where to get it.
    OAuth(Box<OAuthServer>),
    /// It asks for credentials, but what it publishes cannot be used (no metadata, or
    /// metadata that breaks a rule); why, in one sentence for the operator.
    Unusable(String),
}

/// A server that takes OAuth, and the authorization server that issues its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthServer {
    /// The resource to name in the authorization and token requests (RFC 8707), as the
    /// protected-resource metadata wrote it (or the server URL, for a server without).
    pub resource: String,
    /// The server's challenge to the unauthenticated request, if it sent one.
    pub challenge: Option<BearerChallenge>,
    /// The protected resource's `scopes_supported`.
    pub resource_scopes: Option<Vec<String>>,
    pub authorization_server: AuthorizationServerMetadata,
    pub source: MetadataSource,
}

/// Where the authorization server's description came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataSource {
    /// Protected-resource metadata named the issuer, whose metadata was found and checked
    /// (2025-11-25 and later).
    Discovered,
    /// A 2025-03-26 server without protected-resource metadata: the authorization
    /// server's metadata at the server's own origin.
    ServerOrigin,
    /// A 2025-03-26 server with no metadata at all: the default `/authorize`, `/token` and
    /// `/register` at its origin. Nothing says whether it takes PKCE, so it is sent
    /// unchecked.
    DefaultEndpoints,
}

impl OAuthServer {
    /// The scopes to ask for, given the operator's choice (empty: none made).
    pub fn scopes(&self, operator: &[String]) -> Vec<String> {
        requested_scopes(ScopeSources {
            operator,
            challenge: self
                .challenge
                .as_ref()
                .and_then(|challenge| challenge.scope.as_deref()),
            resource: self.resource_scopes.as_deref(),
            authorization_server: self.authorization_server.scopes_supported.as_deref(),
        })
    }

    /// Whether clients can register themselves (RFC 7591): the metadata names a
    /// registration endpoint, or the 2025-03-26 defaults include `/register`.
    pub fn supports_registration(&self) -> bool {
        self.authorization_server.supports_registration()
    }
}
