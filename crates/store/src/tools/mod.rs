//! Connection tools: reads for the domain rules, operator configuration, and catalog
//! upserts. Reads for the API are in `views`.

use chrono::{DateTime, Utc};
use feather_domain::patch::Patch;
use feather_domain::tool_view::{DERIVATION_REVISION, DerivedToolView};
use sqlx::QueryBuilder;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::document::Document;
use feather_domain::tool::{Tool, ToolView};

use crate::write::{ROWS_PER_STATEMENT, Write, with_tx};
use crate::{Backend, CatalogTool, Store, StoreResult, ToolConfigPatch, listing_write, with_pool};

/// The column list of every query of this module, as a literal for `concat!`.
macro_rules! tool_columns {
    () => {
        "id, connection_id, organization_id, tool_path, slug, display_name, \
                       description, input_schema, response_schema, is_enabled, input_defaults, \
                       response_field_map, last_seen_at, created_at, updated_at, annotations"
    };
}

/// The rest of a query for one connection's tools, in `tool_path` order.
macro_rules! connection_tools_clause {
    () => {
        " FROM connection_tools WHERE organization_id = $1 AND connection_id = $2 \
         ORDER BY tool_path"
    };
}

/// The rest of a query for one tool of a connection.
macro_rules! one_tool_clause {
    () => {
        " FROM connection_tools WHERE organization_id = $1 AND connection_id = $2 AND id = $3"
    };
}

/// A row type the queries of this module decode, on either backend.
trait QueriedRow:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

impl<R> QueriedRow for R where
    R: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

// Declared after the macros above, which they use.
mod agent;
mod slugs;
mod views;

pub use agent::EnabledTool;
#[cfg(feature = "testing")]
pub(crate) use views::LIST_ORGANIZATION_TOOLS;
use views::{DerivedColumns, ToolViewRow, bind_derived_columns, tool_view_columns};

impl Store {
    /// The connection's tools in `tool_path` order.
    pub async fn list_connection_tools(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> StoreResult<Vec<Tool>> {
        let sql = concat!("SELECT ", tool_columns!(), connection_tools_clause!());
        self.fetch_connection_tools(sql, organization_id, connection_id)
            .await
    }

    pub async fn get_tool(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        tool_id: Uuid,
    ) -> StoreResult<Option<Tool>> {
        let sql = concat!("SELECT ", tool_columns!(), one_tool_clause!());
        self.fetch_one_tool(sql, organization_id, connection_id, tool_id)
            .await
    }

    /// The rows `sql` (ending in `connection_tools_clause!`) selects.
    async fn fetch_connection_tools<R: QueriedRow>(
        &self,
        sql: &'static str,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> StoreResult<Vec<R>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(connection_id)
                .fetch_all(pool)
                .await
        })?)
    }

    /// The row `sql` (ending in `one_tool_clause!`) selects.
    async fn fetch_one_tool<R: QueriedRow>(
        &self,
        sql: &'static str,
        organization_id: Uuid,
        connection_id: Uuid,
        tool_id: Uuid,
    ) -> StoreResult<Option<R>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(connection_id)
                .bind(tool_id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// The connection's tool with this slug.
    pub async fn find_tool_by_slug(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        slug: &str,
    ) -> StoreResult<Option<Tool>> {
        let sql = concat!(
            "SELECT ",
            tool_columns!(),
            " FROM connection_tools \
             WHERE organization_id = $1 AND connection_id = $2 AND slug = $3"
        );
        let tool = with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(connection_id)
                .bind(slug)
                .fetch_optional(pool)
                .await
        })?;
        Ok(tool)
    }

    /// Enables or disables every tool of the connection; tools already in that state keep
    /// their `updated_at`.
    pub async fn set_connection_tools_enabled(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        enabled: bool,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        listing_write!(self, organization_id, |tx| {
            sqlx::query(
                "UPDATE connection_tools SET is_enabled = $3, updated_at = $4 \
                 WHERE organization_id = $1 AND connection_id = $2 AND is_enabled <> $3",
            )
            .bind(organization_id)
            .bind(connection_id)
            .bind(enabled)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map(|done| done.rows_affected())?
        })?;
        Ok(())
    }
}

impl Write {
    /// The connection's tools in `tool_path` order, as this write sees them.
    pub async fn connection_tools(
        &mut self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> StoreResult<Vec<Tool>> {
        let sql = concat!("SELECT ", tool_columns!(), connection_tools_clause!());
        let tools = with_tx!(self, |connection| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(connection_id)
                .fetch_all(connection)
                .await
        })?;
        Ok(tools)
    }

    /// The slugs of the organization's tools that start with `prefix`: the candidates for
    /// a collision with a new slug made from it.
    pub async fn tool_slugs_starting_with(
        &mut self,
        organization_id: Uuid,
        prefix: &str,
    ) -> StoreResult<Vec<String>> {
        self.slugs_starting_with(
            "SELECT slug FROM connection_tools \
             WHERE organization_id = $1 AND substr(slug, 1, length($2)) = $2",
            organization_id,
            prefix,
        )
        .await
    }

    /// Writes the operator-owned fields the patch sets, and only those; returns the tool
    /// as it now is (its view not yet derived again: [`Write::record_tool_view`]). None when
    /// the connection has no such tool.
    pub async fn configure_tool(
        &mut self,
        organization_id: Uuid,
        connection_id: Uuid,
        tool_id: Uuid,
        patch: &ToolConfigPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Tool>> {
        let (set_defaults, defaults) = match &patch.input_defaults {
            Patch::Unchanged => (false, None),
            Patch::Clear => (true, None),
            Patch::Set(defaults) => (true, Some(Document(defaults))),
        };
        let (set_field_map, field_map) = match &patch.response_field_map {
            Patch::Unchanged => (false, None),
            Patch::Clear => (true, None),
            Patch::Set(map) => (true, Some(Document(map))),
        };
        // One static statement for every combination: each CASE keeps the column unless the
        // patch names it.
        let sql = concat!(
            "UPDATE connection_tools SET \
               is_enabled = COALESCE($4, is_enabled), \
               input_defaults = CASE WHEN $5 THEN $6 ELSE input_defaults END, \
               response_field_map = CASE WHEN $7 THEN $8 ELSE response_field_map END, \
               updated_at = $9 \
             WHERE organization_id = $1 AND connection_id = $2 AND id = $3 \
             RETURNING ",
            tool_columns!()
        );
        let tool = with_tx!(self, |connection| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(connection_id)
                .bind(tool_id)
                .bind(patch.is_enabled)
                .bind(set_defaults)
                .bind(&defaults)
                .bind(set_field_map)
                .bind(&field_map)
                .bind(at)
                .fetch_optional(connection)
                .await
        })?;
        Ok(tool)
    }

    /// Stores the tool's view as derived from its documents; returns the tool as the API
    /// shows it. None when the connection has no such tool.
    pub async fn record_tool_view(
        &mut self,
        organization_id: Uuid,
        connection_id: Uuid,
        tool_id: Uuid,
        view: DerivedToolView,
    ) -> StoreResult<Option<ToolView>> {
        let sql = concat!(
            "UPDATE connection_tools SET view_revision = $4, default_count = $5, \
               pinned_count = $6, stale_input_fields = $7, stale_field_paths = $8, \
               merged_input_preview = $9 \
             WHERE organization_id = $1 AND connection_id = $2 AND id = $3 \
             RETURNING ",
            tool_view_columns!()
        );
        let columns = DerivedColumns::from(view);
        let row: Option<ToolViewRow> = with_tx!(self, |connection| {
            bind_derived_columns!(
                sqlx::query_as(sql)
                    .bind(organization_id)
                    .bind(connection_id)
                    .bind(tool_id),
                columns
            )
            .fetch_optional(connection)
            .await
        })?;
        row.map(ToolView::try_from).transpose()
    }

    /// Upserts one tool of a synced catalog by `tool_path`, with its view: sync-owned
    /// fields overwritten, operator-owned ones untouched, `updated_at` moved only when
    /// something changed, `last_seen_at` always.
    pub async fn upsert_catalog_tool(
        &mut self,
        organization_id: Uuid,
        connection_id: Uuid,
        tool: &CatalogTool,
        view: DerivedToolView,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO connection_tools (",
            tool_view_columns!(),
            ") \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, TRUE, NULL, NULL, $10, $10, $10, \
               $11, $12, $13, $14, $15, $16, $17) \
             ON CONFLICT (connection_id, tool_path) DO UPDATE SET \
               view_revision = excluded.view_revision, \
               default_count = excluded.default_count, \
               pinned_count = excluded.pinned_count, \
               stale_input_fields = excluded.stale_input_fields, \
               stale_field_paths = excluded.stale_field_paths, \
               merged_input_preview = excluded.merged_input_preview, \
               display_name = excluded.display_name, \
               description = excluded.description, \
               input_schema = excluded.input_schema, \
               response_schema = excluded.response_schema, \
               annotations = excluded.annotations, \
               last_seen_at = excluded.last_seen_at, \
               updated_at = CASE WHEN \
                 connection_tools.display_name IS DISTINCT FROM excluded.display_name \
                 OR connection_tools.description IS DISTINCT FROM excluded.description \
                 OR CAST(connection_tools.input_schema AS TEXT) \
                    IS DISTINCT FROM CAST(excluded.input_schema AS TEXT) \
                 OR CAST(connection_tools.response_schema AS TEXT) \
                    IS DISTINCT FROM CAST(excluded.response_schema AS TEXT) \
                 OR CAST(connection_tools.annotations AS TEXT) \
                    IS DISTINCT FROM CAST(excluded.annotations AS TEXT) \
               THEN excluded.updated_at ELSE connection_tools.updated_at END"
        );
        let columns = DerivedColumns::from(view);
        with_tx!(self, |connection| {
            let query = sqlx::query(sql)
                .bind(Uuid::now_v7())
                .bind(connection_id)
                .bind(organization_id)
                .bind(&tool.tool_path)
                .bind(&tool.slug)
                .bind(&tool.display_name)
                .bind(&tool.description)
                .bind(Document(&tool.input_schema))
                .bind(tool.response_schema.as_ref().map(Document))
                .bind(at)
                .bind(tool.annotations.as_ref().map(Document));
            bind_derived_columns!(query, columns)
                .execute(connection)
                .await
                .map(drop)
        })?;
        Ok(())
    }

    /// Marks the connection's catalog synced at `at`: `tools_status` `synced`, the last
    /// sync error gone, and a `status_reason` cleared on an active connection.
    pub async fn mark_tools_synced(
        &mut self,
        organization_id: Uuid,
        connection_id: Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "UPDATE connections SET tools_status = 'synced', tools_synced_at = $3, \
                 last_refreshed_at = $3, updated_at = $3, \
                 status_reason = CASE WHEN status = 'active' THEN NULL ELSE status_reason END, \
                 metadata = json_remove(metadata, '$.tools_sync_error') \
                 WHERE organization_id = $1 AND id = $2"
            }
            Backend::Postgres => {
                "UPDATE connections SET tools_status = 'synced', tools_synced_at = $3, \
                 last_refreshed_at = $3, updated_at = $3, \
                 status_reason = CASE WHEN status = 'active' THEN NULL ELSE status_reason END, \
                 metadata = metadata - 'tools_sync_error' \
                 WHERE organization_id = $1 AND id = $2"
            }
        };
        with_tx!(self, |connection| {
            sqlx::query(sql)
                .bind(organization_id)
                .bind(connection_id)
                .bind(at)
                .execute(connection)
                .await
                .map(drop)
        })?;
        Ok(())
    }
}

impl Write {
    /// Inserts the tools exactly as given, with their views (as the current rules derive
    /// them), many rows per statement: a bulk load of rows a sync and an operator would
    /// have written.
    pub async fn insert_tool_views(&mut self, tools: &[ToolView]) -> StoreResult<()> {
        let count = |count: usize| i32::try_from(count).unwrap_or(i32::MAX);
        for chunk in tools.chunks(ROWS_PER_STATEMENT) {
            with_tx!(self, |connection| {
                let mut insert = QueryBuilder::new(concat!(
                    "INSERT INTO connection_tools (",
                    tool_view_columns!(),
                    ") "
                ));
                insert.push_values(chunk, |mut row, tool| {
                    let preview = &tool.merged_input_preview;
                    row.push_bind(tool.id)
                        .push_bind(tool.connection_id)
                        .push_bind(tool.organization_id)
                        .push_bind(&tool.tool_path)
                        .push_bind(&tool.slug)
                        .push_bind(&tool.display_name)
                        .push_bind(&tool.description)
                        .push_bind(Document(&tool.input_schema))
                        .push_bind(tool.response_schema.as_ref().map(Document))
                        .push_bind(tool.is_enabled)
                        .push_bind(tool.input_defaults.as_ref().map(Document))
                        .push_bind(tool.response_field_map.as_ref().map(Document))
                        .push_bind(tool.last_seen_at)
                        .push_bind(tool.created_at)
                        .push_bind(tool.updated_at)
                        // A view does not carry them: the next sync writes them.
                        .push_bind(None::<Document<&serde_json::Value>>)
                        .push_bind(DERIVATION_REVISION)
                        .push_bind(count(tool.default_count))
                        .push_bind(count(tool.pinned_count))
                        .push_bind(Document(&tool.stale_input_fields))
                        .push_bind(Document(&tool.stale_field_paths))
                        // NULL: the preview is the input schema itself.
                        .push_bind(
                            (preview.get() != tool.input_schema.get()).then_some(Document(preview)),
                        );
                });
                insert.build().execute(connection).await.map(drop)
            })?;
        }
        Ok(())
    }
}
