//! What the authorization server remembers: clients, codes, tokens, and the grant each code
//! began, so that a replayed code or refresh token can revoke everything issued from it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use serde_json::{Value, json};

use super::FakeOAuthOptions;

/// How long an authorization code may be redeemed (RFC 6749 §4.1.2 recommends at most
/// ten minutes; a short one catches a client that dawdles).
const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// A fresh unguessable value for IDs, secrets, codes and tokens.
pub(super) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::rng().random::<[u8; 32]>())
}

/// A client the server knows.
#[derive(Debug, Clone)]
pub(super) struct Client {
    pub(super) secret: Option<String>,
    /// The token endpoint authentication methods this client may use.
    pub(super) auth_methods: Vec<String>,
    pub(super) redirect_uris: Vec<String>,
    /// Pre-registered and metadata-document clients may use any absolute http(s) redirect
    /// URI (each is remembered); registered ones only those they registered.
    pub(super) any_redirect_uri: bool,
    pub(super) grant_types: Vec<String>,
}

impl Client {
    pub(super) fn may_refresh(&self) -> bool {
        self.grant_types
            .iter()
            .any(|grant| grant == "refresh_token")
    }
}

/// An issued authorization code and what it was bound to at `/authorize`.
#[derive(Debug, Clone)]
pub(super) struct Code {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) code_challenge: String,
    pub(super) resource: Option<String>,
    pub(super) scope: Vec<String>,
    pub(super) issued: Instant,
    pub(super) redeemed: bool,
    /// The grant the code begins: everything issued from it shares this.
    pub(super) grant: u64,
}

impl Code {
    pub(super) fn expired(&self) -> bool {
        self.issued.elapsed() > CODE_LIFETIME
    }
}

#[derive(Debug, Clone)]
pub(super) struct AccessToken {
    pub(super) resource: Option<String>,
    pub(super) scope: Vec<String>,
    pub(super) expires: Instant,
    /// Set by `expire_access_tokens`.
    pub(super) expired: bool,
    pub(super) grant: u64,
}

#[derive(Debug, Clone)]
pub(super) struct RefreshToken {
    pub(super) client_id: String,
    pub(super) resource: Option<String>,
    /// The scope of the original grant: a refresh may narrow it, never widen it.
    pub(super) scope: Vec<String>,
    /// Refresh tokens rotate: each may be used once.
    pub(super) used: bool,
    pub(super) grant: u64,
}

/// What a token request is granted.
#[derive(Debug)]
pub(super) struct Issue<'a> {
    pub(super) client_id: &'a str,
    pub(super) resource: Option<String>,
    /// What the access token carries.
    pub(super) scope: Vec<String>,
    /// What the refresh token keeps (the original grant's scope).
    pub(super) grant_scope: Vec<String>,
    pub(super) grant: u64,
    pub(super) refresh: bool,
}

#[derive(Debug, Default)]
pub(super) struct Grants {
    pub(super) clients: HashMap<String, Client>,
    pub(super) codes: HashMap<String, Code>,
    pub(super) access: HashMap<String, AccessToken>,
    pub(super) refresh: HashMap<String, RefreshToken>,
    revoked: HashSet<u64>,
    next_grant: u64,
}

impl Grants {
    /// No grants yet; the pre-registered client, if any, known.
    pub(super) fn new(options: &FakeOAuthOptions) -> Grants {
        let mut grants = Grants::default();
        if let Some((client_id, secret)) = &options.pre_registered {
            let auth_methods = match secret {
                Some(_) => options
                    .token_endpoint_auth_methods
                    .iter()
                    .filter(|method| method.starts_with("client_secret_"))
                    .cloned()
                    .collect(),
                None => vec!["none".to_owned()],
            };
            let client = Client {
                secret: secret.clone(),
                auth_methods,
                redirect_uris: Vec::new(),
                any_redirect_uri: true,
                grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
            };
            grants.clients.insert(client_id.clone(), client);
        }
        grants
    }

    /// The client `client_id`: a known one, or (when `metadata_documents`) a public client
    /// whose ID is an https URL, remembered from now on.
    pub(super) fn client(&mut self, client_id: &str, metadata_documents: bool) -> Option<&Client> {
        if !self.clients.contains_key(client_id)
            && metadata_documents
            && is_metadata_document_url(client_id)
        {
            let client = Client {
                secret: None,
                auth_methods: vec!["none".to_owned()],
                redirect_uris: Vec::new(),
                any_redirect_uri: true,
                grant_types: vec!["authorization_code".to_owned(), "refresh_token".to_owned()],
            };
            self.clients.insert(client_id.to_owned(), client);
        }
        self.clients.get(client_id)
    }

    /// A new grant, begun by an authorization code.
    pub(super) fn new_grant(&mut self) -> u64 {
        self.next_grant += 1;
        self.next_grant
    }

    pub(super) fn is_revoked(&self, grant: u64) -> bool {
        self.revoked.contains(&grant)
    }

    /// Revokes a grant: every token issued from its code (RFC 6749 §4.1.2, RFC 9700 §4.14).
    pub(super) fn revoke(&mut self, grant: u64) {
        self.revoked.insert(grant);
    }

    pub(super) fn revoke_all(&mut self) {
        let grants: Vec<u64> = self
            .access
            .values()
            .map(|token| token.grant)
            .chain(self.refresh.values().map(|token| token.grant))
            .collect();
        self.revoked.extend(grants);
    }

    pub(super) fn expire_access_tokens(&mut self) {
        for token in self.access.values_mut() {
            token.expired = true;
        }
    }

    /// The access token `token` if it is live: issued, unexpired and its grant unrevoked.
    pub(super) fn live_access_token(&self, token: &str) -> Option<&AccessToken> {
        self.access.get(token).filter(|access| {
            !access.expired && Instant::now() < access.expires && !self.is_revoked(access.grant)
        })
    }

    /// Issues an access token (and a refresh token when `issue.refresh`) and answers the
    /// token response's JSON (RFC 6749 §5.1).
    pub(super) fn issue(&mut self, issue: Issue<'_>, lifetime: Duration) -> Value {
        let access_token = random_token();
        self.access.insert(
            access_token.clone(),
            AccessToken {
                resource: issue.resource.clone(),
                scope: issue.scope.clone(),
                expires: Instant::now() + lifetime,
                expired: false,
                grant: issue.grant,
            },
        );
        let mut response = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
        });
        if issue.refresh {
            let refresh_token = random_token();
            self.refresh.insert(
                refresh_token.clone(),
                RefreshToken {
                    client_id: issue.client_id.to_owned(),
                    resource: issue.resource,
                    scope: issue.grant_scope,
                    used: false,
                    grant: issue.grant,
                },
            );
            response["refresh_token"] = refresh_token.into();
        }
        if !issue.scope.is_empty() {
            response["scope"] = issue.scope.join(" ").into();
        }
        response
    }
}

/// Whether `client_id` may name a client ID metadata document: an https URL with a path.
fn is_metadata_document_url(client_id: &str) -> bool {
    url::Url::parse(client_id)
        .is_ok_and(|url| url.scheme() == "https" && url.host().is_some() && url.path() != "/")
}
