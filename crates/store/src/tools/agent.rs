//! The reads of the MCP endpoint agents connect to: the tools an agent may be shown, and
//! one tool by its organization-wide slug.

use chrono::{DateTime, Utc};
use feather_domain::integration::ConnectionStatus;
use feather_domain::tool::Tool;
use uuid::Uuid;

use crate::{Store, StoreResult, with_pool};

/// An enabled tool of an active connection, with what the agent endpoint needs of the
/// connection: its last successful sync (whether the tool is still in its catalog is the
/// domain's rule to decide) and its nickname slug (`/mcp/{nickname_slug}`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EnabledTool {
    #[sqlx(flatten)]
    pub tool: Tool,
    pub tools_synced_at: Option<DateTime<Utc>>,
    pub nickname_slug: String,
}

impl Store {
    /// The organization's enabled tools on active connections, in no particular order.
    pub async fn enabled_tools(&self, organization_id: Uuid) -> StoreResult<Vec<EnabledTool>> {
        let sql = concat!(
            "SELECT ",
            tool_columns!(),
            ", tools_synced_at, nickname_slug FROM connection_tools \
             JOIN (SELECT id AS active_id, tools_synced_at, nickname_slug FROM connections \
                   WHERE organization_id = $1 AND status = $2) AS active \
               ON active.active_id = connection_tools.connection_id \
             WHERE organization_id = $1 AND is_enabled"
        );
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(ConnectionStatus::Active.as_str())
                .fetch_all(pool)
                .await
        })?)
    }
    /// The organization's tool with this slug, on whichever connection (slugs are unique
    /// across an organization).
    pub async fn find_organization_tool(
        &self,
        organization_id: Uuid,
        slug: &str,
    ) -> StoreResult<Option<Tool>> {
        let sql = concat!(
            "SELECT ",
            tool_columns!(),
            " FROM connection_tools WHERE organization_id = $1 AND slug = $2"
        );
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(slug)
                .fetch_optional(pool)
                .await
        })?)
    }
}
