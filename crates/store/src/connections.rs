//! Connections.

use chrono::{DateTime, Utc};
use sqlx::QueryBuilder;
use sqlx::types::Json;
use uuid::Uuid;

use feather_domain::connection::Connection;
use feather_domain::integration::{ConnectionStatus, ToolsStatus};

use crate::write::{ROWS_PER_STATEMENT, Write, with_tx};
use crate::{Pool, Store, StoreResult, SyncFailure, listing_write, with_pool};

/// The column list of every query of this module, as a literal for `concat!`.
macro_rules! connection_columns {
    () => {
        "id, organization_id, integration_key, nickname, nickname_slug, vendor, \
                       vendor_connection_id, status, status_reason, tools_status, \
                       tools_synced_at, connected_at, last_refreshed_at, last_used_at, metadata, \
                       created_at, updated_at"
    };
}

/// The listing's first query: an index scan of `connections_by_organization`.
pub(crate) const LIST_CONNECTIONS: &str = concat!(
    "SELECT ",
    connection_columns!(),
    " FROM connections WHERE organization_id = $1 ORDER BY created_at, id"
);

impl Write {
    /// How many connections the organization has.
    pub async fn count_connections(&mut self, organization_id: Uuid) -> StoreResult<i64> {
        let (count,): (i64,) = with_tx!(self, |connection| {
            sqlx::query_as("SELECT COUNT(*) FROM connections WHERE organization_id = $1")
                .bind(organization_id)
                .fetch_one(connection)
                .await
        })?;
        Ok(count)
    }

    /// The organization's nickname slugs that start with `prefix`: the candidates for a
    /// collision with a new slug made from it.
    pub async fn nickname_slugs_starting_with(
        &mut self,
        organization_id: Uuid,
        prefix: &str,
    ) -> StoreResult<Vec<String>> {
        self.slugs_starting_with(
            "SELECT nickname_slug FROM connections \
             WHERE organization_id = $1 AND substr(nickname_slug, 1, length($2)) = $2",
            organization_id,
            prefix,
        )
        .await
    }

    /// Inserts the connection exactly as given. A taken `nickname_slug` fails with
    /// [`StoreError::UniqueViolation`](crate::StoreError::UniqueViolation).
    pub async fn insert_connection(&mut self, connection: &Connection) -> StoreResult<()> {
        self.insert_connections(std::slice::from_ref(connection))
            .await
    }

    /// Inserts the connections exactly as given, many rows per statement (a bulk load).
    pub async fn insert_connections(&mut self, connections: &[Connection]) -> StoreResult<()> {
        for chunk in connections.chunks(ROWS_PER_STATEMENT) {
            with_tx!(self, |tx| {
                let mut insert = QueryBuilder::new(concat!(
                    "INSERT INTO connections (",
                    connection_columns!(),
                    ") "
                ));
                insert.push_values(chunk, |mut row, connection| {
                    row.push_bind(connection.id)
                        .push_bind(connection.organization_id)
                        .push_bind(connection.integration_key.as_str())
                        .push_bind(&connection.nickname)
                        .push_bind(&connection.nickname_slug)
                        .push_bind(connection.vendor.as_str())
                        .push_bind(&connection.vendor_connection_id)
                        .push_bind(connection.status.as_str())
                        .push_bind(&connection.status_reason)
                        .push_bind(connection.tools_status.as_str())
                        .push_bind(connection.tools_synced_at)
                        .push_bind(connection.connected_at)
                        .push_bind(connection.last_refreshed_at)
                        .push_bind(connection.last_used_at)
                        .push_bind(Json(&connection.metadata))
                        .push_bind(connection.created_at)
                        .push_bind(connection.updated_at);
                });
                insert.build().execute(tx).await.map(drop)
            })?;
        }
        Ok(())
    }

    /// Sets the connection's `status` and `status_reason`.
    pub async fn set_connection_status(
        &mut self,
        organization_id: Uuid,
        connection_id: Uuid,
        status: ConnectionStatus,
        reason: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        with_tx!(self, |connection| {
            sqlx::query(
                "UPDATE connections SET status = $3, status_reason = $4, updated_at = $5 \
                 WHERE organization_id = $1 AND id = $2",
            )
            .bind(organization_id)
            .bind(connection_id)
            .bind(status.as_str())
            .bind(reason)
            .bind(at)
            .execute(connection)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// Makes the connection `active` with no `status_reason` and `metadata`, its
    /// credentials renewed at `at`; `connected_at` becomes `at` unless it was active
    /// already.
    pub async fn activate_connection(
        &mut self,
        organization_id: Uuid,
        connection_id: Uuid,
        metadata: &serde_json::Map<String, serde_json::Value>,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        with_tx!(self, |connection| {
            sqlx::query(
                "UPDATE connections SET \
                 connected_at = CASE WHEN status = 'active' THEN connected_at ELSE $3 END, \
                 status = 'active', status_reason = NULL, last_refreshed_at = $3, \
                 metadata = $4, updated_at = $3 \
                 WHERE organization_id = $1 AND id = $2",
            )
            .bind(organization_id)
            .bind(connection_id)
            .bind(at)
            .bind(Json(metadata))
            .execute(connection)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// The connection's sealed credentials as this write sees them: in a listing write,
    /// after every listing write of the organization committed before it, so a
    /// read-modify-write of them here loses no other's.
    pub async fn connection_secret(&mut self, connection_id: Uuid) -> StoreResult<Option<Vec<u8>>> {
        let sealed: Option<(Vec<u8>,)> = with_tx!(self, |connection| {
            sqlx::query_as("SELECT sealed FROM connection_secrets WHERE connection_id = $1")
                .bind(connection_id)
                .fetch_optional(connection)
                .await
        })?;
        Ok(sealed.map(|(sealed,)| sealed))
    }

    /// Keeps `sealed` as the connection's credentials, in place of any it had.
    pub async fn put_connection_secret(
        &mut self,
        connection_id: Uuid,
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        with_tx!(self, |connection| {
            sqlx::query(
                "INSERT INTO connection_secrets (connection_id, sealed, updated_at) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (connection_id) DO UPDATE SET sealed = $2, updated_at = $3",
            )
            .bind(connection_id)
            .bind(sealed)
            .bind(at)
            .execute(connection)
            .await
            .map(drop)
        })?;
        Ok(())
    }

    /// Keeps sealed credentials with the connection.
    pub async fn insert_connection_secret(
        &mut self,
        connection_id: Uuid,
        sealed: &[u8],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        with_tx!(self, |connection| {
            sqlx::query(
                "INSERT INTO connection_secrets (connection_id, sealed, updated_at) \
                 VALUES ($1, $2, $3)",
            )
            .bind(connection_id)
            .bind(sealed)
            .bind(at)
            .execute(connection)
            .await
            .map(drop)
        })?;
        Ok(())
    }
}

impl Store {
    /// The connection's sealed credentials, if it has any.
    pub async fn connection_secret(&self, connection_id: Uuid) -> StoreResult<Option<Vec<u8>>> {
        let sealed: Option<(Vec<u8>,)> = with_pool!(self, |pool| {
            sqlx::query_as("SELECT sealed FROM connection_secrets WHERE connection_id = $1")
                .bind(connection_id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(sealed.map(|(sealed,)| sealed))
    }

    /// A sync has started: `tools_status` is `syncing` until it ends.
    pub async fn mark_tools_syncing(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        listing_write!(self, organization_id, |tx| {
            sqlx::query(
                "UPDATE connections SET tools_status = 'syncing', updated_at = $3 \
                 WHERE organization_id = $1 AND id = $2",
            )
            .bind(organization_id)
            .bind(connection_id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map(|_| ())?
        })?;
        Ok(())
    }

    /// A sync failed: no tool changes; `tools_status` is `failed`, or still `syncing` when
    /// another attempt is planned; `status_reason` and `metadata.tools_sync_error` say why.
    /// Rejected credentials also make the connection's `status` `error`.
    pub async fn record_sync_failure(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        failure: &SyncFailure<'_>,
    ) -> StoreResult<()> {
        let update = match self.pool {
            Pool::Sqlite(_) => {
                "UPDATE connections SET tools_status = $6, updated_at = $3, \
                 metadata = json_set(metadata, '$.tools_sync_error', json($4)), \
                 status = CASE WHEN $5 THEN 'error' ELSE status END, \
                 status_reason = $7 \
                 WHERE organization_id = $1 AND id = $2"
            }
            Pool::Postgres(_) => {
                "UPDATE connections SET tools_status = $6, updated_at = $3, \
                 metadata = jsonb_set(metadata, '{tools_sync_error}', $4), \
                 status = CASE WHEN $5 THEN 'error' ELSE status END, \
                 status_reason = $7 \
                 WHERE organization_id = $1 AND id = $2"
            }
        };
        let mut error = serde_json::json!({"message": failure.message, "at": failure.at});
        if let Some(retry_at) = failure.retry_at {
            error["retry_at"] = serde_json::json!(retry_at);
        }
        let tools_status = match failure.retry_at {
            Some(_) => ToolsStatus::Syncing,
            None => ToolsStatus::Failed,
        };
        listing_write!(self, organization_id, |tx| {
            sqlx::query(update)
                .bind(organization_id)
                .bind(connection_id)
                .bind(failure.at)
                .bind(Json(&error))
                .bind(failure.credentials_rejected)
                .bind(tools_status.as_str())
                .bind(&failure.reason)
                .execute(&mut *tx)
                .await
                .map(|_| ())?
        })?;
        Ok(())
    }

    /// The organization's connections, in `(created_at, id)` order.
    pub async fn list_connections(&self, organization_id: Uuid) -> StoreResult<Vec<Connection>> {
        let connections = with_pool!(self, |pool| {
            sqlx::query_as(LIST_CONNECTIONS)
                .bind(organization_id)
                .fetch_all(pool)
                .await
        })?;
        Ok(connections)
    }

    pub async fn get_connection(
        &self,
        organization_id: Uuid,
        id: Uuid,
    ) -> StoreResult<Option<Connection>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE organization_id = $1 AND id = $2"
        );
        let connection = with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(connection)
    }

    /// The connection of the organization's tool with slug `tool_slug`: one read that can
    /// run beside the tool's own (`find_organization_tool`).
    pub async fn get_connection_of_tool(
        &self,
        organization_id: Uuid,
        tool_slug: &str,
    ) -> StoreResult<Option<Connection>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE organization_id = $1 AND id = (SELECT connection_id \
             FROM connection_tools WHERE organization_id = $1 AND slug = $2)"
        );
        let connection = with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(tool_slug)
                .fetch_optional(pool)
                .await
        })?;
        Ok(connection)
    }

    /// Whether the organization has a connection with this nickname slug.
    pub async fn has_nickname_slug(&self, organization_id: Uuid, slug: &str) -> StoreResult<bool> {
        let found: Option<(i32,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT 1 FROM connections WHERE organization_id = $1 AND nickname_slug = $2",
            )
            .bind(organization_id)
            .bind(slug)
            .fetch_optional(pool)
            .await
        })?;
        Ok(found.is_some())
    }

    /// Sets a new nickname; the slug is fixed at creation and stays. None when the
    /// organization has no such connection.
    pub async fn rename_connection(
        &self,
        organization_id: Uuid,
        id: Uuid,
        nickname: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Connection>> {
        let sql = concat!(
            "UPDATE connections SET nickname = $3, updated_at = $4 \
             WHERE organization_id = $1 AND id = $2 RETURNING ",
            connection_columns!()
        );
        let connection = listing_write!(self, organization_id, |tx| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(id)
                .bind(nickname)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?
        })?;
        Ok(connection)
    }

    /// Deletes the connection and, by cascade, its tools. False when there was none.
    pub async fn delete_connection(&self, organization_id: Uuid, id: Uuid) -> StoreResult<bool> {
        let rows_affected = listing_write!(self, organization_id, |tx| {
            sqlx::query("DELETE FROM connections WHERE organization_id = $1 AND id = $2")
                .bind(organization_id)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map(|done| done.rows_affected())?
        })?;
        Ok(rows_affected > 0)
    }
}
