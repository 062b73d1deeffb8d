//! What the service keeps to get and renew a custom MCP connection's OAuth tokens: its
//! client at the authorization server, where and for what it asks, and the tokens. All
//! of it is sealed with the connection's credentials; `Debug` never shows a secret.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How the client authenticates at the token endpoint (RFC 8414 §2, RFC 7591 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuth {
    /// HTTP Basic with the URL-encoded id and secret (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// The id and secret in the form body.
    ClientSecretPost,
    /// A public client: only its id, in the form body.
    None,
}

impl TokenEndpointAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenEndpointAuth::ClientSecretBasic => "client_secret_basic",
            TokenEndpointAuth::ClientSecretPost => "client_secret_post",
            TokenEndpointAuth::None => "none",
        }
    }

    pub fn parse(method: &str) -> Option<TokenEndpointAuth> {
        [
            TokenEndpointAuth::ClientSecretBasic,
            TokenEndpointAuth::ClientSecretPost,
            TokenEndpointAuth::None,
        ]
        .into_iter()
        .find(|known| known.as_str() == method)
    }

    /// The method for a client with or without a secret at a server that advertises
    /// `advertised` (absent: RFC 8414's default, `client_secret_basic`). A client with a
    /// secret prefers Basic, then the body; one without can only be public.
    pub fn choose(advertised: Option<&[String]>, has_secret: bool) -> TokenEndpointAuth {
        if !has_secret {
            return TokenEndpointAuth::None;
        }
        let offers = |method: TokenEndpointAuth| {
            advertised.is_none_or(|methods| methods.iter().any(|m| m == method.as_str()))
        };
        if offers(TokenEndpointAuth::ClientSecretBasic) {
            TokenEndpointAuth::ClientSecretBasic
        } else if offers(TokenEndpointAuth::ClientSecretPost) {
            TokenEndpointAuth::ClientSecretPost
        } else {
            TokenEndpointAuth::None
        }
    }
}

/// How the service got its client id at an authorization server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientRegistration {
    /// The operator's `oauth_client_id` (and secret).
    Operator,
    /// The URL of the Client ID Metadata Document the service publishes.
    MetadataDocument,
    /// Dynamic client registration (RFC 7591).
    Dynamic,
}

/// The service's client at one authorization server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClient {
    /// The authorization server the client belongs to: a client is never shown to another.
    pub issuer: String,
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub auth_method: TokenEndpointAuth,
    pub registration: ClientRegistration,
}

/// Where the connection gets its tokens, and for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthSettings {
    pub client: OAuthClient,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    /// The `resource` of every authorization and token request (RFC 8707).
    pub resource: String,
    /// The scopes asked for; empty: no `scope` parameter.
    pub scopes: Vec<String>,
    /// Whether the authorization server promised `iss` in its redirects (RFC 9207 §3):
    /// then a redirect without it is refused.
    pub iss_parameter_supported: bool,
}

/// Tokens from the token endpoint.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthTokens {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires, if the server said (`expires_in`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// The scopes granted, if the server said (else those asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// A connection's OAuth state: how to get tokens (kept from the first authorization
/// begun, so a later one keeps its client), and the tokens once one has completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthCredentials {
    pub settings: OAuthSettings,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<OAuthTokens>,
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field("auth_method", &self.auth_method)
            .field("registration", &self.registration)
            .finish()
    }
}

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("access_token", &"…")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "…"))
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods(list: &[&str]) -> Vec<String> {
        list.iter().map(|method| (*method).to_owned()).collect()
    }

    #[test]
    fn a_client_with_a_secret_prefers_basic_then_the_body() {
        let both = methods(&["client_secret_post", "client_secret_basic"]);
        assert_eq!(
            TokenEndpointAuth::choose(Some(&both), true),
            TokenEndpointAuth::ClientSecretBasic
        );
        let post = methods(&["client_secret_post", "none"]);
        assert_eq!(
            TokenEndpointAuth::choose(Some(&post), true),
            TokenEndpointAuth::ClientSecretPost
        );
    }

    #[test]
    fn an_unadvertised_method_list_means_basic() {
        assert_eq!(
            TokenEndpointAuth::choose(None, true),
            TokenEndpointAuth::ClientSecretBasic
        );
    }

    #[test]
    fn a_client_without_a_secret_is_public() {
        let basic = methods(&["client_secret_basic"]);
        assert_eq!(
            TokenEndpointAuth::choose(Some(&basic), false),
            TokenEndpointAuth::None
        );
    }

    #[test]
    fn debug_output_shows_no_secret() {
        let credentials = OAuthCredentials {
            settings: OAuthSettings {
                client: OAuthClient {
                    issuer: "https://auth.example.com".to_owned(),
                    client_id: "client".to_owned(),
                    client_secret: Some("client-s3cret".to_owned()),
                    auth_method: TokenEndpointAuth::ClientSecretBasic,
                    registration: ClientRegistration::Dynamic,
                },
                authorization_endpoint: "https://auth.example.com/authorize".to_owned(),
                token_endpoint: "https://auth.example.com/token".to_owned(),
                resource: "https://mcp.example.com/mcp".to_owned(),
                scopes: vec![],
                iss_parameter_supported: true,
            },
            tokens: Some(OAuthTokens {
                access_token: "access-s3cret".to_owned(),
                refresh_token: Some("refresh-s3cret".to_owned()),
                expires_at: None,
                scopes: vec![],
            }),
        };
        let debug = format!("{credentials:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("client"));
    }
}
