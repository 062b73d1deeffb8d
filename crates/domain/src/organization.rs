//! Organizations: the tenants that own API keys and connections.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A tenant: owns API keys and connections.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
}
