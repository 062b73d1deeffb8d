//! API keys: stored as a hash and a display prefix, looked up by hash on every request.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use feather_domain::api_key::ApiKey;

use crate::write::{ROWS_PER_STATEMENT, Write, with_tx};
use crate::{NewApiKey, Store, StoreResult, with_pool};

/// The column list of every query of this module, as a literal for `concat!`.
macro_rules! api_key_columns {
    () => {
        "id, organization_id, name, key_prefix, scopes, created_at, last_used_at, \
                       expires_at, revoked_at"
    };
}

impl Store {
    /// Stores a new key; returns it as reads will.
    pub async fn insert_api_key(&self, key: &NewApiKey) -> StoreResult<ApiKey> {
        let mut write = self.begin_write().await?;
        write.insert_api_keys(std::slice::from_ref(key)).await?;
        write.commit().await?;
        Ok(ApiKey {
            id: key.id,
            organization_id: key.organization_id,
            name: key.name.clone(),
            key_prefix: key.key_prefix.clone(),
            scopes: key.scopes.clone(),
            created_at: key.created_at,
            last_used_at: None,
            expires_at: key.expires_at,
            revoked_at: None,
        })
    }

    /// The organization's keys, revoked ones included, oldest first.
    pub async fn list_api_keys(&self, organization_id: Uuid) -> StoreResult<Vec<ApiKey>> {
        let sql = concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE organization_id = $1 ORDER BY created_at, id"
        );
        let keys = with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .fetch_all(pool)
                .await
        })?;
        Ok(keys)
    }

    /// Marks the key revoked. False when the organization has no such key. Revoking twice
    /// keeps the first revocation time. The listing shows no keys: its version stays.
    pub async fn revoke_api_key(
        &self,
        organization_id: Uuid,
        key_id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let rows_affected = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) \
                 WHERE organization_id = $1 AND id = $2",
            )
            .bind(organization_id)
            .bind(key_id)
            .bind(at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(rows_affected > 0)
    }

    /// The key with this hash, whatever its state: the caller decides if it is usable.
    pub async fn find_api_key_by_hash(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let sql = concat!(
            "SELECT ",
            api_key_columns!(),
            " FROM api_keys WHERE key_hash = $1"
        );
        let key = with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(key_hash)
                .fetch_optional(pool)
                .await
        })?;
        Ok(key)
    }

    pub async fn touch_api_key(&self, key_id: Uuid, at: DateTime<Utc>) -> StoreResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
                .bind(key_id)
                .bind(at)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(())
    }
}

impl Write {
    /// Inserts the keys exactly as given, many rows per statement.
    pub async fn insert_api_keys(&mut self, keys: &[NewApiKey]) -> StoreResult<()> {
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            with_tx!(self, |connection| {
                let mut insert = QueryBuilder::new(
                    "INSERT INTO api_keys (id, organization_id, name, key_prefix, key_hash, \
                     scopes, created_at, expires_at) ",
                );
                insert.push_values(chunk, |mut row, key| {
                    row.push_bind(key.id)
                        .push_bind(key.organization_id)
                        .push_bind(&key.name)
                        .push_bind(&key.key_prefix)
                        .push_bind(&key.key_hash)
                        .push_bind(Json(&key.scopes))
                        .push_bind(key.created_at)
                        .push_bind(key.expires_at);
                });
                insert.build().execute(connection).await.map(drop)
            })?;
        }
        Ok(())
    }
}
