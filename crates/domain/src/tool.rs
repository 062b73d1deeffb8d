//! A connection's tools as stored: for the rules (documents parsed) and as the API shows
//! them (documents as stored, with the fields derived from them).

use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::input_config::InputDefaults;
use crate::tool_view::{DerivedToolView, derive_tool_view};

/// A tool of a connection. Sync-owned fields mirror the upstream catalog; operator-owned
/// fields (`is_enabled`, `input_defaults`, `response_field_map`) are only ever written by an
/// operator.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Tool {
    pub id: Uuid,
    pub connection_id: Uuid,
    pub organization_id: Uuid,
    pub tool_path: String,
    pub slug: String,
    pub display_name: String,
    pub description: Option<String>,
    #[cfg_attr(feature = "sqlx", sqlx(json))]
    pub input_schema: Value,
    #[cfg_attr(feature = "sqlx", sqlx(json(nullable)))]
    pub response_schema: Option<Value>,
    pub is_enabled: bool,
    #[cfg_attr(feature = "sqlx", sqlx(json(nullable)))]
    pub input_defaults: Option<InputDefaults>,
    #[cfg_attr(feature = "sqlx", sqlx(json(nullable)))]
    pub response_field_map: Option<Value>,
    pub last_seen_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The MCP annotations the server lists the tool with (sync-owned).
    #[cfg_attr(feature = "sqlx", sqlx(json(nullable)))]
    pub annotations: Option<Value>,
}

impl Tool {
    /// The fields of the tool's view derived from its documents (DESIGN.md §3).
    pub fn derive_view(&self) -> DerivedToolView {
        derive_tool_view(
            &self.input_schema,
            self.input_defaults.as_ref(),
            self.response_schema.as_ref(),
            self.response_field_map.as_ref(),
        )
    }
}

/// A tool as the API shows it: its documents as stored (JSON text, checked but not parsed:
/// they are passed on as they are) and the fields derived from them (DESIGN.md §3).
#[derive(Debug, Clone)]
pub struct ToolView {
    pub id: Uuid,
    pub connection_id: Uuid,
    pub organization_id: Uuid,
    pub tool_path: String,
    pub slug: String,
    pub display_name: String,
    pub description: Option<String>,
    pub input_schema: Box<RawValue>,
    pub response_schema: Option<Box<RawValue>>,
    pub is_enabled: bool,
    pub input_defaults: Option<Box<RawValue>>,
    pub response_field_map: Option<Box<RawValue>>,
    pub last_seen_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub default_count: usize,
    pub pinned_count: usize,
    pub stale_input_fields: Vec<String>,
    pub stale_field_paths: Vec<String>,
    /// The input schema itself when no configured value is injected.
    pub merged_input_preview: Box<RawValue>,
}
