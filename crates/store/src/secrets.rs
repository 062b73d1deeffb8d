//! Sealed credentials seen as a whole: which keys sealed them, and re-sealing them one by
//! one while other replicas use them.
//!
//! The store never sees a key. Each row's `key_id` is generated from its sealed value (the
//! key id a version-2 value carries; see migration 0006), so it is exactly as current as
//! the value, whichever code wrote it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::write::{Write, with_tx};
use crate::{Store, StoreResult, with_pool};

/// How many sealed credentials one key sealed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedByKey {
    /// The key id recorded with the values; `None` for values that record none (format
    /// version 1, written before key ids existed).
    pub key_id: Option<Vec<u8>>,
    pub count: u64,
}

/// One connection's sealed credentials.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SealedSecret {
    pub organization_id: Uuid,
    pub connection_id: Uuid,
    pub sealed: Vec<u8>,
}

/// Which sealed credentials [`Store::sealed_secrets`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedWith<'a> {
    /// Those that record no key id.
    NoRecordedKey,
    /// Those not recorded as sealed with this key id (including those that record none).
    AnyKeyBut(&'a [u8]),
}

/// The select list and join of [`Store::sealed_secrets`], as a literal for `concat!`.
macro_rules! sealed_secrets_from {
    () => {
        "SELECT c.organization_id, s.connection_id, s.sealed \
         FROM connection_secrets s JOIN connections c ON c.id = s.connection_id "
    };
}

const NO_RECORDED_KEY_PAGE: &str = concat!(
    sealed_secrets_from!(),
    "WHERE s.key_id IS NULL AND s.connection_id > $1 ORDER BY s.connection_id LIMIT $2"
);

const ANY_KEY_BUT_PAGE: &str = concat!(
    sealed_secrets_from!(),
    "WHERE (s.key_id IS NULL OR s.key_id <> $1) AND s.connection_id > $2 \
     ORDER BY s.connection_id LIMIT $3"
);

impl Store {
    /// The stored credentials counted by the key that sealed them, in key id order (those
    /// that record none first).
    pub async fn sealed_secrets_by_key(&self) -> StoreResult<Vec<SealedByKey>> {
        let rows: Vec<(Option<Vec<u8>>, i64)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT key_id, COUNT(*) FROM connection_secrets \
                 GROUP BY key_id ORDER BY key_id NULLS FIRST",
            )
            .fetch_all(pool)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(key_id, count)| SealedByKey {
                key_id,
                count: u64::try_from(count).unwrap_or_default(),
            })
            .collect())
    }

    /// Up to `limit` sealed credentials of the kind `which`, with connection ids after
    /// `after` (all when `None`), in connection id order: pages of a walk over the table
    /// that stays correct while rows are added, changed and deleted.
    pub async fn sealed_secrets(
        &self,
        which: SealedWith<'_>,
        after: Option<Uuid>,
        limit: u32,
    ) -> StoreResult<Vec<SealedSecret>> {
        // Every id is greater than the nil UUID, on both backends (bytes compared in order).
        let after = after.unwrap_or(Uuid::nil());
        let limit = i64::from(limit);
        let page = with_pool!(self, |pool| match which {
            SealedWith::NoRecordedKey => {
                sqlx::query_as(NO_RECORDED_KEY_PAGE)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
            }
            SealedWith::AnyKeyBut(key_id) => {
                sqlx::query_as(ANY_KEY_BUT_PAGE)
                    .bind(key_id)
                    .bind(after)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
            }
        })?;
        Ok(page)
    }

    /// Replaces the connection's sealed credentials with `sealed` if they are still
    /// `expected` (compare-and-set: a value another replica wrote meanwhile is never
    /// overwritten). False when they changed or are gone. What the listing shows does not
    /// change, so the listing version does not move.
    pub async fn replace_sealed_secret(
        &self,
        connection_id: Uuid,
        expected: &[u8],
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let replaced = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE connection_secrets SET sealed = $3, updated_at = $4 \
                 WHERE connection_id = $1 AND sealed = $2",
            )
            .bind(connection_id)
            .bind(expected)
            .bind(sealed)
            .bind(at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(replaced == 1)
    }
}

impl Write {
    /// Deletes the connection's sealed credentials if they are still `secret.sealed`.
    /// False when they changed or are gone.
    pub async fn delete_sealed_secret(&mut self, secret: &SealedSecret) -> StoreResult<bool> {
        let deleted = with_tx!(self, |connection| {
            sqlx::query("DELETE FROM connection_secrets WHERE connection_id = $1 AND sealed = $2")
                .bind(secret.connection_id)
                .bind(&secret.sealed)
                .execute(connection)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(deleted == 1)
    }
}
