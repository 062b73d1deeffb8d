//! The record of tool invocations, for analytics.

mod group_writer;

pub(crate) use group_writer::GroupWriter;

use chrono::{DateTime, Utc};
use feather_domain::invocation::InvocationMode;
use uuid::Uuid;

use crate::{Store, StoreResult, listing_write, with_pool};

/// One call of a tool through the service.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Invocation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub connection_id: Uuid,
    pub tool_id: Uuid,
    pub tool_path: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// `ok`, `tool_error` (the tool answered `isError`), `upstream_error` or `timeout`.
    pub outcome: String,
    pub error: Option<String>,
    #[sqlx(try_from = "String")]
    pub mode: InvocationMode,
}

impl Store {
    /// Records an invocation. The listing does not show invocations, so its version stays.
    pub async fn record_invocation(&self, invocation: &Invocation) -> StoreResult<()> {
        self.invocations.record(invocation.clone()).await
    }

    /// Sets the connection's `last_used_at` to `at` (the listing shows it, so its version
    /// moves). A later time already recorded is kept.
    pub async fn mark_connection_used(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        listing_write!(self, organization_id, |tx| {
            sqlx::query(
                "UPDATE connections SET last_used_at = $3 WHERE organization_id = $1 \
                 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(organization_id)
            .bind(connection_id)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        })?;
        Ok(())
    }

    /// The connection's invocations, newest first.
    pub async fn list_invocations(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> StoreResult<Vec<Invocation>> {
        let invocations = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT id, organization_id, connection_id, tool_id, tool_path, started_at, \
                 duration_ms, outcome, error, mode FROM tool_invocations \
                 WHERE organization_id = $1 AND connection_id = $2 \
                 ORDER BY started_at DESC, id DESC",
            )
            .bind(organization_id)
            .bind(connection_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(invocations)
    }
}
