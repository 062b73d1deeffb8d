//! What the store is given to write. The records it reads are domain types
//! (`feather_domain::{organization, api_key, connection, tool}`).

use chrono::{DateTime, Utc};
use feather_domain::input_config::InputDefaults;
use feather_domain::patch::Patch;
use serde_json::Value;
use uuid::Uuid;

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
    /// The tool's MCP annotations as its server lists them.
    pub annotations: Option<Value>,
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
