//! The records the store reads and writes.

use chrono::{DateTime, Utc};
use feather_domain::api_key::KeyState;
use feather_domain::input_config::InputDefaults;
use feather_domain::integration::{ConnectionStatus, IntegrationKey, ToolsStatus, Vendor};
use feather_domain::patch::Patch;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

/// A tenant: owns API keys and connections.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// An API key as stored: the key itself is never kept, only its hash and display prefix.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    #[sqlx(json)]
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn state(&self, now: DateTime<Utc>) -> KeyState {
        KeyState::at(self.revoked_at, self.expires_at, now)
    }
}

/// A key to store: `key_hash` is the hex SHA-256 of the whole key.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    pub key_hash: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A connection of an organization to one integration.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Connection {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[sqlx(try_from = "String")]
    pub integration_key: IntegrationKey,
    pub nickname: String,
    pub nickname_slug: String,
    #[sqlx(try_from = "String")]
    pub vendor: Vendor,
    pub vendor_connection_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    #[sqlx(try_from = "String")]
    pub tools_status: ToolsStatus,
    pub tools_synced_at: Option<DateTime<Utc>>,
    pub connected_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    #[sqlx(json)]
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A tool of a connection. Sync-owned fields mirror the upstream catalog; operator-owned
/// fields (`is_enabled`, `input_defaults`, `response_field_map`) are only ever written by an
/// operator.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    pub id: Uuid,
    pub connection_id: Uuid,
    pub organization_id: Uuid,
    pub tool_path: String,
    pub slug: String,
    pub display_name: String,
    pub description: Option<String>,
    pub input_schema: Value,
    pub response_schema: Option<Value>,
    pub is_enabled: bool,
    pub input_defaults: Option<InputDefaults>,
    pub response_field_map: Option<Value>,
    pub last_seen_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
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

/// One tool as the upstream catalog describes it: the sync-owned fields.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogTool {
    pub tool_path: String,
    /// Used only when the tool is new to the connection; an existing tool keeps its slug.
    pub slug: String,
    pub display_name: String,
    pub description: Option<String>,
    pub input_schema: Value,
    pub response_schema: Option<Value>,
}

/// A failed sync attempt, as the connection records it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncFailure<'a> {
    /// What went wrong (`metadata.tools_sync_error.message`).
    pub message: &'a str,
    /// The connection's `status_reason`: the sentence a person reads first.
    pub reason: String,
    /// The upstream rejected the credentials: the connection's `status` becomes `error`.
    pub credentials_rejected: bool,
    /// When the next attempt runs; None when this failure is final (`tools_status` `failed`).
    pub retry_at: Option<DateTime<Utc>>,
    pub at: DateTime<Utc>,
}

/// An operator's change to one tool's configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolConfigPatch {
    pub is_enabled: Option<bool>,
    pub input_defaults: Patch<InputDefaults>,
    pub response_field_map: Patch<Value>,
}

impl ToolConfigPatch {
    pub fn is_empty(&self) -> bool {
        self.is_enabled.is_none()
            && self.input_defaults == Patch::Unchanged
            && self.response_field_map == Patch::Unchanged
    }
}
