//! Authorizations in progress (OAuth `state`s handed out and not yet used), keyed by the
//! state's hash.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::write::{Write, with_tx};
use crate::{Store, StoreResult, with_pool};

/// An authorization in progress, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingAuthorization {
    pub organization_id: Uuid,
    pub connection_id: Uuid,
    /// Sealed for `connection_id`.
    pub sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Write {
    /// Keeps an authorization under `state_hash`, in place of every other the connection
    /// had (a new authorize URL makes the earlier ones useless), and forgets every
    /// authorization of any connection that expired before `now`.
    pub async fn replace_oauth_authorization(
        &mut self,
        state_hash: &[u8],
        pending: &PendingAuthorization,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        with_tx!(self, |connection| {
            sqlx::query(
                "DELETE FROM oauth_authorizations WHERE connection_id = $1 OR expires_at < $2",
            )
            .bind(pending.connection_id)
            .bind(now)
            .execute(&mut *connection)
            .await?;
            sqlx::query(
                "INSERT INTO oauth_authorizations \
                 (state_hash, organization_id, connection_id, sealed, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(state_hash)
            .bind(pending.organization_id)
            .bind(pending.connection_id)
            .bind(&pending.sealed)
            .bind(pending.created_at)
            .bind(pending.expires_at)
            .execute(connection)
            .await
            .map(drop)
        })?;
        Ok(())
    }
}

impl Store {
    /// Takes the authorization kept under `state_hash`: it is deleted as it is read, so a
    /// state is used at most once however many callbacks race with it. Expired ones are
    /// returned too (the caller says why it refuses them).
    pub async fn take_oauth_authorization(
        &self,
        state_hash: &[u8],
    ) -> StoreResult<Option<PendingAuthorization>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(
                "DELETE FROM oauth_authorizations WHERE state_hash = $1 \
                 RETURNING organization_id, connection_id, sealed, created_at, expires_at",
            )
            .bind(state_hash)
            .fetch_optional(pool)
            .await
        })?)
    }

    /// Whether the connection has an authorization in progress that has not expired.
    pub async fn has_oauth_authorization(
        &self,
        connection_id: Uuid,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let (count,): (i64,) = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT COUNT(*) FROM oauth_authorizations \
                 WHERE connection_id = $1 AND expires_at >= $2",
            )
            .bind(connection_id)
            .bind(now)
            .fetch_one(pool)
            .await
        })?;
        Ok(count > 0)
    }
}
