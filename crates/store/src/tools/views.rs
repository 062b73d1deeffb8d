//! Tools as the API shows them: their documents as stored, checked but not parsed, with the
//! fields derived from them (DESIGN.md §3 "Computed on every read").
//!
//! The derived fields are kept in the tool's row, written by the transaction of every write
//! that changes the documents they come from (a sync, an operator PATCH: the service derives
//! them in the transaction and records them with [`Write::record_tool_view`] or
//! [`Write::upsert_catalog_tool`]). Those transactions hold the organization's listing lock
//! ([`Store::begin_listing_write`]), so the documents they derive from are the ones they
//! commit with. A row derived by other rules (or by none, before the
//! migration that added them) is derived again when read; `Store::migrate` marks the rows
//! of older rules underived once when the rules change (`tool_view_rules` records how far
//! the store is), then derives and stores those with none.

use feather_domain::input_config::InputDefaults;
use feather_domain::tool_view::{DERIVATION_REVISION, DerivedToolView, derive_tool_view};
use serde_json::Value;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::document::Document;
use feather_domain::tool::ToolView;

#[cfg(doc)]
use crate::Write;
use crate::{Store, StoreError, StoreResult, with_pool};

/// The columns of a `ToolView`, as a literal for `concat!`.
macro_rules! tool_view_columns {
    () => {
        concat!(
            tool_columns!(),
            ", view_revision, default_count, pinned_count, stale_input_fields, \
             stale_field_paths, merged_input_preview"
        )
    };
}
pub(super) use tool_view_columns;

/// The derived columns of a tool, as its writes bind them.
pub(super) struct DerivedColumns {
    pub revision: i32,
    pub default_count: i32,
    pub pinned_count: i32,
    pub stale_input_fields: Document<Vec<String>>,
    pub stale_field_paths: Document<Vec<String>>,
    /// NULL when it is the input schema itself.
    pub merged_input_preview: Option<Document>,
}

/// Binds the derived columns of `$columns` (a `DerivedColumns`) to `$query`'s next six
/// parameters, in the order `tool_view_columns!` lists them.
macro_rules! bind_derived_columns {
    ($query:expr, $columns:expr) => {
        $query
            .bind($columns.revision)
            .bind($columns.default_count)
            .bind($columns.pinned_count)
            .bind(&$columns.stale_input_fields)
            .bind(&$columns.stale_field_paths)
            .bind(&$columns.merged_input_preview)
    };
}
pub(super) use bind_derived_columns;

impl From<DerivedToolView> for DerivedColumns {
    fn from(view: DerivedToolView) -> DerivedColumns {
        DerivedColumns {
            revision: DERIVATION_REVISION,
            // Catalogs are capped far below i32::MAX entries.
            default_count: i32::try_from(view.default_count).unwrap_or(i32::MAX),
            pinned_count: i32::try_from(view.pinned_count).unwrap_or(i32::MAX),
            stale_input_fields: Document(view.stale_input_fields),
            stale_field_paths: Document(view.stale_field_paths),
            merged_input_preview: view.merged_input_preview.map(Document),
        }
    }
}

/// A tool row with its documents as text and its derived columns as stored.
#[derive(sqlx::FromRow)]
pub(super) struct ToolViewRow {
    id: Uuid,
    connection_id: Uuid,
    organization_id: Uuid,
    tool_path: String,
    slug: String,
    display_name: String,
    description: Option<String>,
    input_schema: Document<Box<RawValue>>,
    response_schema: Option<Document<Box<RawValue>>>,
    is_enabled: bool,
    input_defaults: Option<Document<Box<RawValue>>>,
    response_field_map: Option<Document<Box<RawValue>>>,
    last_seen_at: chrono::DateTime<chrono::Utc>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    view_revision: Option<i32>,
    default_count: Option<i32>,
    pinned_count: Option<i32>,
    stale_input_fields: Option<Document<Vec<String>>>,
    stale_field_paths: Option<Document<Vec<String>>>,
    merged_input_preview: Option<Document<Box<RawValue>>>,
}

/// The derived fields as a `ToolView` carries them.
struct DerivedFields {
    default_count: usize,
    pinned_count: usize,
    stale_input_fields: Vec<String>,
    stale_field_paths: Vec<String>,
    /// None: the input schema itself.
    merged_input_preview: Option<Box<RawValue>>,
}

impl ToolViewRow {
    /// The derived fields as stored, when the current rules derived them.
    fn take_stored_fields(&mut self) -> Option<DerivedFields> {
        if self.view_revision != Some(DERIVATION_REVISION) {
            return None;
        }
        Some(DerivedFields {
            default_count: usize::try_from(self.default_count?).ok()?,
            pinned_count: usize::try_from(self.pinned_count?).ok()?,
            stale_input_fields: self.stale_input_fields.take()?.0,
            stale_field_paths: self.stale_field_paths.take()?.0,
            merged_input_preview: self.merged_input_preview.take().map(|document| document.0),
        })
    }

    /// Derives the fields from the documents, for a row the current rules did not derive.
    fn derive_view(&self) -> Result<DerivedToolView, StoreError> {
        let corrupt = |what: &str, error: serde_json::Error| {
            StoreError::Corrupt(format!("{what} of tool {}: {error}", self.id))
        };
        let parse = |what: &str, text: Option<&Document<Box<RawValue>>>| {
            text.map(|Document(raw)| serde_json::from_str::<Value>(raw.get()))
                .transpose()
                .map_err(|error| corrupt(what, error))
        };
        let input_schema = serde_json::from_str::<Value>(self.input_schema.0.get())
            .map_err(|error| corrupt("input_schema", error))?;
        let input_defaults = self
            .input_defaults
            .as_ref()
            .map(|Document(raw)| serde_json::from_str::<InputDefaults>(raw.get()))
            .transpose()
            .map_err(|error| corrupt("input_defaults", error))?;
        Ok(derive_tool_view(
            &input_schema,
            input_defaults.as_ref(),
            parse("response_schema", self.response_schema.as_ref())?.as_ref(),
            parse("response_field_map", self.response_field_map.as_ref())?.as_ref(),
        ))
    }

    fn derive_fields(&self) -> Result<DerivedFields, StoreError> {
        let view = self.derive_view()?;
        let merged_input_preview = view
            .merged_input_preview
            .map(|preview| serde_json::value::to_raw_value(&preview))
            .transpose()
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        Ok(DerivedFields {
            default_count: view.default_count,
            pinned_count: view.pinned_count,
            stale_input_fields: view.stale_input_fields,
            stale_field_paths: view.stale_field_paths,
            merged_input_preview,
        })
    }
}

impl TryFrom<ToolViewRow> for ToolView {
    type Error = StoreError;

    fn try_from(mut row: ToolViewRow) -> Result<ToolView, StoreError> {
        let derived = match row.take_stored_fields() {
            Some(stored) => stored,
            None => row.derive_fields()?,
        };
        let input_schema = row.input_schema.0;
        Ok(ToolView {
            id: row.id,
            connection_id: row.connection_id,
            organization_id: row.organization_id,
            tool_path: row.tool_path,
            slug: row.slug,
            display_name: row.display_name,
            description: row.description,
            merged_input_preview: derived
                .merged_input_preview
                .unwrap_or_else(|| input_schema.clone()),
            input_schema,
            response_schema: row.response_schema.map(|document| document.0),
            is_enabled: row.is_enabled,
            input_defaults: row.input_defaults.map(|document| document.0),
            response_field_map: row.response_field_map.map(|document| document.0),
            last_seen_at: row.last_seen_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
            default_count: derived.default_count,
            pinned_count: derived.pinned_count,
            stale_input_fields: derived.stale_input_fields,
            stale_field_paths: derived.stale_field_paths,
        })
    }
}

pub(super) fn into_views(rows: Vec<ToolViewRow>) -> StoreResult<Vec<ToolView>> {
    rows.into_iter().map(ToolView::try_from).collect()
}

/// The listing's second query: an index scan of `connection_tools_by_organization`, in
/// its order.
pub(crate) const LIST_ORGANIZATION_TOOLS: &str = concat!(
    "SELECT ",
    tool_view_columns!(),
    " FROM connection_tools WHERE organization_id = $1 \
     ORDER BY organization_id, connection_id, tool_path"
);

/// Rows derived again per statement by `derive_outdated_views`.
const REDERIVE_BATCH: i64 = 500;

impl Store {
    /// Every tool of the organization as the API shows it, grouped by connection and in
    /// `tool_path` order within each: one index scan however many connections it has.
    pub async fn list_organization_tools(
        &self,
        organization_id: Uuid,
    ) -> StoreResult<Vec<ToolView>> {
        let rows = with_pool!(self, |pool| {
            sqlx::query_as(LIST_ORGANIZATION_TOOLS)
                .bind(organization_id)
                .fetch_all(pool)
                .await
        })?;
        into_views(rows)
    }

    /// The connection's tools as the API shows them, in `tool_path` order.
    pub async fn list_connection_tool_views(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> StoreResult<Vec<ToolView>> {
        let sql = concat!("SELECT ", tool_view_columns!(), connection_tools_clause!());
        let rows: Vec<ToolViewRow> = self
            .fetch_connection_tools(sql, organization_id, connection_id)
            .await?;
        into_views(rows)
    }

    /// One tool as the API shows it.
    pub async fn get_tool_view(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        tool_id: Uuid,
    ) -> StoreResult<Option<ToolView>> {
        let sql = concat!("SELECT ", tool_view_columns!(), one_tool_clause!());
        let row: Option<ToolViewRow> = self
            .fetch_one_tool(sql, organization_id, connection_id, tool_id)
            .await?;
        row.map(ToolView::try_from).transpose()
    }

    /// When the rules moved on since the views were last brought up to date (the revision
    /// `tool_view_rules` records is older than [`DERIVATION_REVISION`]), marks every view
    /// of an older revision underived and records the current revision, in one
    /// transaction; returns how many were marked. This full pass runs once per change of
    /// the rules; every other start reads one row. A binary older than the recorded
    /// revision changes nothing: it derives the newer views again on read.
    pub(crate) async fn mark_views_of_older_rules(&self) -> StoreResult<u64> {
        let recorded = "SELECT revision FROM tool_view_rules WHERE id = 1";
        let mark = "UPDATE connection_tools SET view_revision = NULL WHERE view_revision < $1";
        let record = "UPDATE tool_view_rules SET revision = $1 WHERE id = 1 AND revision < $1";
        let current: i32 = with_pool!(self, |pool| {
            sqlx::query_scalar(recorded).fetch_one(pool).await
        })?;
        if current >= DERIVATION_REVISION {
            return Ok(0);
        }
        Ok(with_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            let marked = sqlx::query(mark)
                .bind(DERIVATION_REVISION)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(record)
                .bind(DERIVATION_REVISION)
                .execute(&mut *tx)
                .await?;
            tx.commit().await.map(|()| marked)
        })?)
    }

    /// Derives, and stores, the view of every tool no rules have derived (the
    /// `connection_tools_underived` index); returns how many. A row a write changed meanwhile (its
    /// `updated_at` moved) is left to that write, which derived it itself; a row whose
    /// documents do not parse is left as it is (reading it reports the corruption).
    pub(crate) async fn derive_outdated_views(&self) -> StoreResult<u64> {
        let select = concat!(
            "SELECT ",
            tool_view_columns!(),
            " FROM connection_tools \
             WHERE view_revision IS NULL AND id > $1 ORDER BY id LIMIT $2"
        );
        let update = "UPDATE connection_tools SET view_revision = $3, default_count = $4, \
               pinned_count = $5, stale_input_fields = $6, stale_field_paths = $7, \
               merged_input_preview = $8 \
             WHERE id = $1 AND updated_at = $2";
        let mut derived = 0;
        let mut after = Uuid::nil();
        loop {
            let rows: Vec<ToolViewRow> = with_pool!(self, |pool| {
                sqlx::query_as(select)
                    .bind(after)
                    .bind(REDERIVE_BATCH)
                    .fetch_all(pool)
                    .await
            })?;
            let Some(last) = rows.last() else {
                return Ok(derived);
            };
            after = last.id;
            for row in rows {
                let view = match row.derive_view() {
                    Ok(view) => view,
                    Err(error) => {
                        tracing::warn!(%error, "tool view left underived");
                        continue;
                    }
                };
                let columns = DerivedColumns::from(view);
                derived += with_pool!(self, |pool| {
                    bind_derived_columns!(
                        sqlx::query(update).bind(row.id).bind(row.updated_at),
                        columns
                    )
                    .execute(pool)
                    .await
                    .map(|done| done.rows_affected())
                })?;
            }
        }
    }
}
