//! What goes wrong upstream, and the port that guards user-given upstream URLs. The
//! vendors crate implements the port (its SSRF guard); the binary and tests plug it in.

use async_trait::async_trait;
use feather_domain::text::{is_storable, storable_lossy};

/// Why an upstream call failed; `message` is one human sentence without secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UpstreamError {
    pub kind: UpstreamErrorKind,
    pub message: String,
    /// For [`UpstreamErrorKind::InsufficientScope`]: the scopes the server asked for.
    pub required_scopes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// The SSRF guard refused the address.
    Refused,
    /// The server rejected the credentials (HTTP 401 or 403).
    Unauthorized,
    /// The server refused the token for its scopes (HTTP 403 `insufficient_scope`): a new
    /// authorization with more scopes would help.
    InsufficientScope,
    Timeout,
    /// The catalog breaks a rule (duplicate names, invalid schemas…).
    InvalidCatalog,
    /// The connection's own stored configuration cannot be used (e.g. credentials sealed
    /// under another key).
    Misconfigured,
    /// Anything else: unreachable, protocol violation, too large, too many tools…
    Failed,
}

impl UpstreamErrorKind {
    /// Whether trying the same thing again later can succeed without anyone acting.
    pub fn is_transient(self) -> bool {
        matches!(self, UpstreamErrorKind::Timeout | UpstreamErrorKind::Failed)
    }
}

impl UpstreamError {
    /// The message is recorded on the connection and in invocations, so text it quotes
    /// from the server is made storable (see `feather_domain::text`).
    pub fn new(kind: UpstreamErrorKind, message: impl Into<String>) -> UpstreamError {
        let message = message.into();
        UpstreamError {
            kind,
            message: if is_storable(&message) {
                message
            } else {
                storable_lossy(&message)
            },
            required_scopes: Vec::new(),
        }
    }

    /// An [`UpstreamErrorKind::InsufficientScope`] refusal naming the `scopes` needed.
    pub fn insufficient_scope(message: impl Into<String>, scopes: Vec<String>) -> UpstreamError {
        UpstreamError {
            required_scopes: scopes,
            ..UpstreamError::new(UpstreamErrorKind::InsufficientScope, message)
        }
    }
}

/// The operator's policy for user-given upstream URLs (the SSRF guard), checked before a
/// URL is stored.
#[async_trait]
pub trait UrlGuard: Send + Sync + std::fmt::Debug {
    /// Whether `url` may be connected to (scheme, and every address it resolves to).
    async fn check_url(&self, url: &str) -> Result<(), UpstreamError>;
}
