//! Connections: an organization's link to one integration, as stored.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::integration::{ConnectionStatus, IntegrationKey, ToolsStatus, Vendor};

/// A connection of an organization to one integration. `metadata` is the public part of
/// the vendor's configuration (its credentials are sealed elsewhere).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Connection {
    pub id: Uuid,
    pub organization_id: Uuid,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub integration_key: IntegrationKey,
    pub nickname: String,
    pub nickname_slug: String,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub vendor: Vendor,
    pub vendor_connection_id: Option<String>,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub tools_status: ToolsStatus,
    pub tools_synced_at: Option<DateTime<Utc>>,
    pub connected_at: Option<DateTime<Utc>>,
    pub last_refreshed_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "sqlx", sqlx(json))]
    pub metadata: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}
