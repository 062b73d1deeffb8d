//! Tool sync: fetch a connection's whole upstream catalog and record it, or record why
//! that failed (DESIGN.md §3 Tool sync).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use feather_domain::custom_mcp::McpCredentials;
use feather_domain::integration::{ConnectionStatus, Vendor};
use feather_store::{Connection, SyncFailure, now};
use uuid::Uuid;

use crate::{McpTarget, Service, ServiceError, ServiceResult, UpstreamError, UpstreamErrorKind};

/// What a connection says when its sync's result could not be saved. The store's own
/// error goes to the log, not to the organization.
const UNSAVED_SYNC: &str =
    "The catalog could not be saved (a storage error; the service log has details).";

/// How a sync ended. Failures are recorded on the connection either way; the outcome
/// tells the job runner whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    Synced,
    /// Nothing to do: the connection is gone, not active (a sync must not retry rejected
    /// credentials), or has no catalog to sync.
    Skipped,
    /// Worth another try later (timeout, unreachable, protocol error). `retry_at` is when
    /// the connection says the next attempt runs, or None when none was planned (the
    /// connection then shows `failed`).
    Retryable {
        reason: String,
        retry_at: Option<DateTime<Utc>>,
    },
    /// Another try cannot help until something changes (credentials rejected, address
    /// refused, invalid catalog).
    Permanent(String),
}

impl Service {
    /// Syncs the connection's tool catalog: `tools_status` goes `syncing`, then `synced`
    /// (every tool upserted in one transaction) or `failed` (no tool changed, the reason
    /// in `status_reason` and `metadata.tools_sync_error`; rejected credentials also set
    /// `status` `error`). A failure for a passing reason with `retry_in` given is not final:
    /// `tools_status` stays `syncing` and the error says when the next attempt runs.
    pub async fn sync_tools(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        retry_in: Option<Duration>,
    ) -> ServiceResult<SyncOutcome> {
        let Some(connection) = self
            .store
            .get_connection(organization_id, connection_id)
            .await?
        else {
            return Ok(SyncOutcome::Skipped);
        };
        if connection.vendor != Vendor::Mcp || connection.status != ConnectionStatus::Active {
            return Ok(SyncOutcome::Skipped);
        }
        self.store
            .mark_tools_syncing(organization_id, connection_id, now())
            .await?;
        let listed = match self.mcp_target(&connection).await {
            Ok(target) => self
                .mcp
                .list_tools(&target)
                .await
                .map_err(ServiceError::from),
            Err(error) => Err(error),
        };
        let recorded = match listed {
            Ok(tools) => {
                self.record_catalog(organization_id, connection_id, tools)
                    .await
            }
            Err(error) => Err(error),
        };
        match recorded {
            Ok(()) => Ok(SyncOutcome::Synced),
            Err(ServiceError::Upstream(error)) => {
                let at = now();
                let retry_at = retry_in
                    .filter(|_| error.kind.is_transient())
                    .map(|delay| at + crate::jobs::to_time_delta(delay));
                let failure = SyncFailure {
                    message: &error.message,
                    reason: failure_reason(&error, retry_at),
                    credentials_rejected: error.kind == UpstreamErrorKind::Unauthorized,
                    retry_at,
                    at,
                };
                self.store
                    .record_sync_failure(organization_id, connection_id, &failure)
                    .await?;
                Ok(if error.kind.is_transient() {
                    SyncOutcome::Retryable {
                        reason: error.message,
                        retry_at,
                    }
                } else {
                    SyncOutcome::Permanent(error.message)
                })
            }
            // Deleted while it was being synced: nothing left to record.
            Err(ServiceError::NotFound(_)) => Ok(SyncOutcome::Skipped),
            // The result could not be saved (a store failure). The connection says so, so
            // that it never stays `syncing` without a word; when even that cannot be
            // written, the store is down and the runner's retry covers it.
            Err(unsaved) => {
                tracing::error!(error = %unsaved, "could not save the tool sync");
                let at = now();
                let retry_at = retry_in.map(|delay| at + crate::jobs::to_time_delta(delay));
                let failure = SyncFailure {
                    message: UNSAVED_SYNC,
                    reason: failure_sentence(UNSAVED_SYNC, retry_at),
                    credentials_rejected: false,
                    retry_at,
                    at,
                };
                self.store
                    .record_sync_failure(organization_id, connection_id, &failure)
                    .await?;
                Ok(SyncOutcome::Retryable {
                    reason: unsaved.to_string(),
                    retry_at,
                })
            }
        }
    }

    /// How to reach the connection's MCP server, credentials unsealed.
    pub(crate) async fn mcp_target(&self, connection: &Connection) -> ServiceResult<McpTarget> {
        let server_url = connection
            .metadata
            .get("server_url")
            .and_then(|url| url.as_str())
            .ok_or_else(|| misconfigured("has no server URL"))?
            .to_owned();
        let transport = connection
            .metadata
            .get("transport")
            .cloned()
            .and_then(|transport| serde_json::from_value(transport).ok())
            .ok_or_else(|| misconfigured("has no valid transport"))?;
        let credentials = match self.store.connection_secret(connection.id).await? {
            Some(sealed) => {
                let plaintext = self.secrets.open(connection.id, &sealed).map_err(|_| {
                    misconfigured(
                        "has credentials that the configured FEATHER_SECRET_KEY does not open; the key was changed, or its key file lost",
                    )
                })?;
                serde_json::from_slice::<McpCredentials>(&plaintext)
                    .map_err(|_| misconfigured("has unreadable credentials"))?
            }
            None => McpCredentials::default(),
        };
        Ok(McpTarget {
            // The URL as given, when its query is sealed (the metadata shows it redacted).
            server_url: credentials.server_url.clone().unwrap_or(server_url),
            transport,
            headers: credentials.request_headers(),
        })
    }
}

/// The connection's `status_reason` after a failed sync: one sentence a person reads
/// first, so it says whether anything will happen by itself.
fn failure_reason(error: &UpstreamError, retry_at: Option<DateTime<Utc>>) -> String {
    if error.kind == UpstreamErrorKind::Unauthorized {
        return "The MCP server rejected the connection's credentials.".to_owned();
    }
    failure_sentence(&error.message, retry_at)
}

fn failure_sentence(message: &str, retry_at: Option<DateTime<Utc>>) -> String {
    match retry_at {
        Some(at) => format!(
            "The tool sync failed and is retried at {}: {message}",
            at.to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
        None => format!("The tool sync failed: {message}"),
    }
}

fn misconfigured(what: &str) -> ServiceError {
    UpstreamError::new(
        UpstreamErrorKind::Misconfigured,
        format!("The connection's stored configuration {what}."),
    )
    .into()
}
