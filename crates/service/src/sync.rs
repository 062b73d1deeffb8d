//! Tool sync: fetch a connection's whole upstream catalog and record it, or record why
//! that failed (DESIGN.md §3 Tool sync).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use feather_domain::integration::ConnectionStatus;
use feather_store::{JobKind, SyncFailure};
use uuid::Uuid;

use crate::{Service, ServiceError, ServiceResult, UpstreamError, UpstreamErrorKind};

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
    /// credentials), or its vendor has no tool source.
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
        if connection.status != ConnectionStatus::Active
            || !self.vendors.has_tools(connection.vendor)
        {
            return Ok(SyncOutcome::Skipped);
        }
        self.store
            .mark_tools_syncing(organization_id, connection_id, self.now())
            .await?;
        let listed = match self.reach(&connection).await {
            Ok(upstream) => upstream.list_tools().await.map_err(ServiceError::from),
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
            Err(ServiceError::Upstream(mut error)) => {
                // Only an OAuth connection can be granted more scopes; for static
                // credentials it is a refusal like any other.
                if error.kind == UpstreamErrorKind::InsufficientScope
                    && !self
                        .widen_requested_scopes(organization_id, connection_id, &error)
                        .await?
                {
                    error.kind = UpstreamErrorKind::Unauthorized;
                }
                let at = self.now();
                let retry_at = retry_in
                    .filter(|_| error.kind.is_transient())
                    .map(|delay| at + crate::jobs::to_time_delta(delay));
                let failure = SyncFailure {
                    message: &error.message,
                    reason: failure_reason(&error, retry_at),
                    credentials_rejected: matches!(
                        error.kind,
                        UpstreamErrorKind::Unauthorized | UpstreamErrorKind::InsufficientScope
                    ),
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
                let at = self.now();
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

    /// Queues a tool sync of an active connection and returns its current view.
    pub async fn refresh_tools(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> ServiceResult<crate::ConnectionView> {
        let view = self.get_connection(organization_id, connection_id).await?;
        let connection = &view.connection;
        if connection.status != ConnectionStatus::Active {
            return Err(ServiceError::ConnectionNotActive(format!(
                "Only active connections can refresh their tools; this one is {}.",
                connection.status.as_str()
            )));
        }
        if !self.vendors.has_tools(connection.vendor) {
            return Err(ServiceError::ConnectionNotActive(
                "The connection's integration has no tool catalog to refresh.".to_owned(),
            ));
        }
        let at = self.now();
        self.store
            .enqueue_job(JobKind::SyncTools, organization_id, connection_id, at, at)
            .await?;
        self.jobs_queued.notify_waiters();
        Ok(view)
    }
}

/// The connection's `status_reason` after a failed sync: one sentence a person reads
/// first, so it says whether anything will happen by itself.
fn failure_reason(error: &UpstreamError, retry_at: Option<DateTime<Utc>>) -> String {
    match error.kind {
        UpstreamErrorKind::Unauthorized => {
            return "The upstream server rejected the connection's credentials.".to_owned();
        }
        // It says which scopes, and that a re-authorization grants them.
        UpstreamErrorKind::InsufficientScope => return error.message.clone(),
        _ => {}
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
