//! The callback: where the authorization server sends the user back. Authenticated by its
//! `state` alone (single use, bound to one connection, 10 minutes), it checks the issuer
//! (RFC 9207), exchanges the code and makes the connection active, or records why not.

use std::fmt;

use feather_domain::custom_mcp::McpMetadata;
use feather_domain::integration::ConnectionStatus;
use feather_domain::oauth::OAuthCredentials;
use feather_domain::text::quoted;
use feather_store::{JobKind, PendingAuthorization};
use uuid::Uuid;

use super::pending::{PendingFlow, state_hash};
use super::{IssuedTokens, OAuthFailure};
use crate::{Service, ServiceError, ServiceResult};

/// Longest `state` looked up; the service's own are 43 characters.
const STATE_MAX_CHARS: usize = 512;

/// What the authorization server's redirect carried (RFC 6749 §4.1.2, RFC 9207 §2).
/// `Debug` shows no code or state.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

/// How a callback ended, for the page the user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackOutcome {
    /// The connection is active and its tools are being synced.
    Connected {
        connection_id: Uuid,
        nickname: String,
    },
    /// Nothing was authorized; why, in one sentence (also the connection's
    /// `status_reason` when the state named one).
    Failed {
        connection_id: Option<Uuid>,
        reason: String,
    },
}

/// Why an authorization did not complete, and what it does to the connection.
enum Refusal {
    /// The user or the server declined, or the link expired: the connection keeps waiting
    /// for an authorization.
    NotAuthorized(String),
    /// The server's answer cannot be trusted or used: the connection is in `error`.
    Broken(String),
}

impl Service {
    /// Completes the authorization the callback's `state` names. Fails only when the
    /// store cannot be used; every refusal is an outcome.
    pub async fn complete_authorization(
        &self,
        params: CallbackParams,
    ) -> ServiceResult<CallbackOutcome> {
        let Some(state) = params
            .state
            .as_deref()
            .filter(|state| !state.is_empty() && state.chars().count() <= STATE_MAX_CHARS)
        else {
            return Ok(failed(
                None,
                "The callback carries no usable state; start the authorization again.",
            ));
        };
        let Some(pending) = self
            .store
            .take_oauth_authorization(&state_hash(state))
            .await?
        else {
            return Ok(failed(
                None,
                "This authorization is unknown, was already completed or was replaced by a \
                 newer one; start the authorization again.",
            ));
        };
        let connection_id = pending.connection_id;
        match self.authorize(&pending, &params).await? {
            Ok(outcome) => Ok(outcome),
            Err(refusal) => {
                let reason = self.record_refusal(&pending, refusal).await?;
                Ok(failed(Some(connection_id), &reason))
            }
        }
    }

    /// The pending authorization completed with the redirect's parameters, or why not.
    async fn authorize(
        &self,
        pending: &PendingAuthorization,
        params: &CallbackParams,
    ) -> ServiceResult<Result<CallbackOutcome, Refusal>> {
        if pending.expires_at < self.now() {
            return Ok(Err(Refusal::NotAuthorized(
                "The authorization took longer than 10 minutes and expired; authorize the \
                 connection again."
                    .to_owned(),
            )));
        }
        let Some(flow) = self.open_flow(pending) else {
            return Ok(Err(Refusal::NotAuthorized(
                "The authorization can no longer be read (the sealing key changed); authorize \
                 the connection again."
                    .to_owned(),
            )));
        };
        // Before anything else the answer says, errors included (RFC 9207 §2.4).
        if let Err(why) = check_issuer(&flow, params.iss.as_deref()) {
            return Ok(Err(Refusal::Broken(why)));
        }
        if let Some(error) = &params.error {
            let error = quoted(error);
            return Ok(Err(Refusal::NotAuthorized(
                match params.error_description.as_deref().map(quoted) {
                    Some(description) => format!(
                        "The authorization server did not authorize the connection: {error} \
                         ({description})."
                    ),
                    None => format!(
                        "The authorization server did not authorize the connection: {error}."
                    ),
                },
            )));
        }
        let Some(code) = params.code.as_deref().filter(|code| !code.is_empty()) else {
            return Ok(Err(Refusal::Broken(
                "The authorization server sent the user back without a code.".to_owned(),
            )));
        };
        let issued = self
            .oauth
            .exchange_code(
                &flow.settings,
                &flow.redirect_uri,
                code,
                &flow.code_verifier,
            )
            .await;
        match issued {
            Ok(issued) => self.activate(pending, flow, issued).await.map(Ok),
            Err(failure) => Ok(Err(Refusal::Broken(exchange_failure(&failure)))),
        }
    }

    fn open_flow(&self, pending: &PendingAuthorization) -> Option<PendingFlow> {
        let plaintext = self
            .secrets
            .open(pending.connection_id, &pending.sealed)
            .ok()?;
        serde_json::from_slice(&plaintext).ok()
    }

    /// Seals the tokens with the connection's other credentials, makes it active and
    /// queues its sync, in one transaction.
    async fn activate(
        &self,
        pending: &PendingAuthorization,
        flow: PendingFlow,
        issued: IssuedTokens,
    ) -> ServiceResult<CallbackOutcome> {
        let (organization_id, connection_id) = (pending.organization_id, pending.connection_id);
        let Some(connection) = self
            .store
            .get_connection(organization_id, connection_id)
            .await?
        else {
            return Ok(failed(
                Some(connection_id),
                "The connection was deleted before its authorization completed.",
            ));
        };
        let now = self.now();
        let tokens = issued.into_tokens(now, &flow.settings.scopes);
        // Read in the write: another listing write of the credentials (a step-up) cannot
        // slip between this read and the write back.
        let mut write = self.store.begin_listing_write(organization_id).await?;
        let sealed = write.connection_secret(connection_id).await?;
        let mut credentials = self.open_mcp_credentials(connection_id, sealed.as_deref())?;
        let mut metadata = McpMetadata::from_metadata(&connection.metadata).ok_or_else(|| {
            ServiceError::Internal("a custom MCP connection without its settings".to_owned())
        })?;
        metadata.oauth_issuer = Some(flow.settings.client.issuer.clone());
        metadata.oauth_scopes = flow.settings.scopes.clone();
        credentials.oauth = Some(OAuthCredentials {
            settings: flow.settings,
            tokens: Some(tokens),
        });
        let plaintext = serde_json::to_vec(&credentials)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        let sealed = self.secrets.seal(connection_id, &plaintext);
        write
            .put_connection_secret(connection_id, &sealed, now)
            .await?;
        write
            .activate_connection(
                organization_id,
                connection_id,
                &metadata.into_metadata(),
                now,
            )
            .await?;
        write
            .enqueue_job(JobKind::SyncTools, organization_id, connection_id, now, now)
            .await?;
        write.commit().await?;
        self.jobs_queued.notify_waiters();
        Ok(CallbackOutcome::Connected {
            connection_id,
            nickname: connection.nickname,
        })
    }

    /// Records why the authorization did not complete on the connection, unless it is
    /// active (a failed re-authorization leaves a working connection as it was).
    async fn record_refusal(
        &self,
        pending: &PendingAuthorization,
        refusal: Refusal,
    ) -> ServiceResult<String> {
        let (status, reason) = match refusal {
            Refusal::NotAuthorized(reason) => (None, reason),
            Refusal::Broken(reason) => (Some(ConnectionStatus::Error), reason),
        };
        let (organization_id, connection_id) = (pending.organization_id, pending.connection_id);
        let Some(connection) = self
            .store
            .get_connection(organization_id, connection_id)
            .await?
        else {
            return Ok(reason);
        };
        if connection.status == ConnectionStatus::Active {
            return Ok(reason);
        }
        let status = status.unwrap_or(connection.status);
        let mut write = self.store.begin_listing_write(organization_id).await?;
        write
            .set_connection_status(organization_id, connection_id, status, &reason, self.now())
            .await?;
        write.commit().await?;
        Ok(reason)
    }
}

/// RFC 9207 §2.4: an `iss` must name the issuer whose metadata was read, compared as
/// strings; a server that promised `iss` must send it.
fn check_issuer(flow: &PendingFlow, iss: Option<&str>) -> Result<(), String> {
    let Some(expected) = &flow.expected_issuer else {
        return Ok(());
    };
    match iss {
        Some(iss) if iss == expected => Ok(()),
        Some(iss) => Err(format!(
            "The authorization server's answer names the issuer {}, not {expected}; it was \
             refused as a possible mix-up attack (RFC 9207).",
            quoted(iss)
        )),
        None if flow.settings.iss_parameter_supported => Err(format!(
            "The authorization server {expected} promised to name itself in its answer (iss) \
             and did not; it was refused (RFC 9207)."
        )),
        None => Ok(()),
    }
}

fn exchange_failure(failure: &OAuthFailure) -> String {
    match failure {
        OAuthFailure::Rejected { .. } => {
            format!("Exchanging the authorization code failed. {failure}")
        }
        OAuthFailure::Upstream(unreachable) => {
            format!("Exchanging the authorization code failed: {unreachable}")
        }
    }
}

fn failed(connection_id: Option<Uuid>, reason: &str) -> CallbackOutcome {
    CallbackOutcome::Failed {
        connection_id,
        reason: reason.to_owned(),
    }
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("state", &self.state.as_ref().map(|_| "…"))
            .field("code", &self.code.as_ref().map(|_| "…"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("iss", &self.iss)
            .finish()
    }
}
