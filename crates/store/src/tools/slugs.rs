//! Settling the tool slugs that collide within an organization, once, before the migration
//! that makes them unique there (0008). Rows written before that rule may share a slug
//! across two connections; the domain decides which keeps it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use feather_domain::organization_slugs::{HeldSlug, settle_slug_collisions};
use sqlx::migrate::Migrate;
use uuid::Uuid;

use crate::write::with_tx;
use crate::{Store, StoreResult, with_pool};

/// The migration that makes tool slugs unique within an organization.
const SLUGS_UNIQUE_IN_ORGANIZATION: i64 = 8;

/// Every tool of the organizations where two tools share a slug.
const TOOLS_OF_ORGANIZATIONS_WITH_COLLISIONS: &str = "SELECT organization_id, id, slug, created_at \
     FROM connection_tools WHERE organization_id IN (SELECT organization_id \
       FROM connection_tools GROUP BY organization_id, slug HAVING COUNT(*) > 1)";

impl Store {
    /// Renames the later of every two tools of an organization that share a slug, if the
    /// store has tools and has not yet run the migration that forbids it. Returns how many
    /// tools were renamed.
    pub(crate) async fn settle_slugs_before_they_must_be_unique(&self) -> StoreResult<u64> {
        if !self.migration_pending(SLUGS_UNIQUE_IN_ORGANIZATION).await? {
            return Ok(0);
        }
        let rows: Vec<(Uuid, Uuid, String, DateTime<Utc>)> = with_pool!(self, |pool| {
            sqlx::query_as(TOOLS_OF_ORGANIZATIONS_WITH_COLLISIONS)
                .fetch_all(pool)
                .await
        })?;
        let mut by_organization: HashMap<Uuid, Vec<HeldSlug>> = HashMap::new();
        for (organization_id, tool_id, slug, created_at) in rows {
            by_organization
                .entry(organization_id)
                .or_default()
                .push(HeldSlug {
                    tool_id,
                    slug,
                    created_at,
                });
        }
        let mut renamed = 0;
        for (organization_id, held) in by_organization {
            let mut write = self.begin_listing_write(organization_id).await?;
            for (tool_id, slug) in settle_slug_collisions(&held) {
                with_tx!(write, |connection| {
                    sqlx::query("UPDATE connection_tools SET slug = $2 WHERE id = $1")
                        .bind(tool_id)
                        .bind(&slug)
                        .execute(connection)
                        .await
                        .map(drop)
                })?;
                renamed += 1;
            }
            write.commit().await?;
        }
        Ok(renamed)
    }

    /// Whether the store's schema exists but `version` has not been applied to it.
    async fn migration_pending(&self, version: i64) -> StoreResult<bool> {
        let applied = with_pool!(self, |pool| {
            async {
                let mut connection = pool.acquire().await?;
                connection
                    .ensure_migrations_table("_sqlx_migrations")
                    .await?;
                connection.list_applied_migrations("_sqlx_migrations").await
            }
            .await
        })?;
        let has = |wanted: i64| applied.iter().any(|migration| migration.version == wanted);
        Ok(has(1) && !has(version))
    }
}
