//! An authorization in progress, as sealed in the store until its callback lands.

use std::fmt;

use feather_domain::oauth::OAuthSettings;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a `state` stays usable (DESIGN.md §3).
pub const AUTHORIZATION_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

/// What the callback needs to complete an authorization: the settings it was begun with
/// and its PKCE verifier. Sealed for the connection; `Debug` shows no secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingFlow {
    pub(crate) settings: OAuthSettings,
    pub(crate) code_verifier: String,
    pub(crate) redirect_uri: String,
    /// The issuer the redirect's `iss` must name (RFC 9207): the one whose metadata was
    /// read; `None` when the endpoints were given or defaulted, so there is none to
    /// compare with.
    pub(crate) expected_issuer: Option<String>,
}

impl fmt::Debug for PendingFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingFlow")
            .field("settings", &self.settings)
            .field("code_verifier", &"…")
            .field("redirect_uri", &self.redirect_uri)
            .field("expected_issuer", &self.expected_issuer)
            .finish()
    }
}

/// The key a `state` is stored under: its SHA-256, so the table alone cannot complete an
/// authorization.
pub(crate) fn state_hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}
