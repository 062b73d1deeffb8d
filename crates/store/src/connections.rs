//! Connections.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use crate::{Connection, Store, StoreResult, with_pool};

/// The column list of every query of this module, as a literal for `concat!`.
macro_rules! connection_columns {
    () => {
        "id, organization_id, integration_key, nickname, nickname_slug, vendor, \
                       vendor_connection_id, status, status_reason, tools_status, \
                       tools_synced_at, connected_at, last_refreshed_at, last_used_at, metadata, \
                       created_at, updated_at"
    };
}

impl Store {
    /// Inserts a new connection. A taken `nickname_slug` fails with
    /// [`StoreError::UniqueViolation`](crate::StoreError::UniqueViolation).
    pub async fn insert_connection(&self, connection: &Connection) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO connections (",
            connection_columns!(),
            ") VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        );
        with_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(connection.id)
                .bind(connection.organization_id)
                .bind(connection.integration_key.as_str())
                .bind(&connection.nickname)
                .bind(&connection.nickname_slug)
                .bind(connection.vendor.as_str())
                .bind(&connection.vendor_connection_id)
                .bind(connection.status.as_str())
                .bind(&connection.status_reason)
                .bind(connection.tools_status.as_str())
                .bind(connection.tools_synced_at)
                .bind(connection.connected_at)
                .bind(connection.last_refreshed_at)
                .bind(connection.last_used_at)
                .bind(Json(&connection.metadata))
                .bind(connection.created_at)
                .bind(connection.updated_at)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(())
    }

    /// The organization's nickname slugs that start with `base` (candidates for a collision).
    pub async fn nickname_slugs_starting_with(
        &self,
        organization_id: Uuid,
        base: &str,
    ) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = with_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT nickname_slug FROM connections \
                 WHERE organization_id = $1 AND substr(nickname_slug, 1, length($2)) = $2",
            )
            .bind(organization_id)
            .bind(base)
            .fetch_all(pool)
            .await
        })?;
        Ok(rows.into_iter().map(|(slug,)| slug).collect())
    }

    /// The organization's connections, in `(created_at, id)` order.
    pub async fn list_connections(&self, organization_id: Uuid) -> StoreResult<Vec<Connection>> {
        let sql = concat!(
            "SELECT ",
            connection_columns!(),
            " FROM connections WHERE organization_id = $1 \
             ORDER BY created_at, id"
        );
        let connections = with_pool!(self, |pool| {
            sqlx::query_as(sql)
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
        let connection = with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(id)
                .bind(nickname)
                .bind(at)
                .fetch_optional(pool)
                .await
        })?;
        Ok(connection)
    }

    /// Deletes the connection and, by cascade, its tools. False when there was none.
    pub async fn delete_connection(&self, organization_id: Uuid, id: Uuid) -> StoreResult<bool> {
        let rows_affected = with_pool!(self, |pool| {
            sqlx::query("DELETE FROM connections WHERE organization_id = $1 AND id = $2")
                .bind(organization_id)
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        })?;
        Ok(rows_affected > 0)
    }
}
