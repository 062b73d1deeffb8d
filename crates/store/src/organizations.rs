//! Organizations.

use sqlx::QueryBuilder;
use uuid::Uuid;

use feather_domain::organization::Organization;

use crate::write::{ROWS_PER_STATEMENT, Write, with_tx};
use crate::{Store, StoreResult, with_pool};

/// The listing's freshness check: a primary-key read.
pub(crate) const LISTING_VERSION: &str = "SELECT listing_version FROM organizations WHERE id = $1";

impl Store {
    pub async fn insert_organization(&self, organization: &Organization) -> StoreResult<()> {
        let mut write = self.begin_write().await?;
        write
            .insert_organizations(std::slice::from_ref(organization))
            .await?;
        write.commit().await
    }

    /// Every organization, oldest first (an operator's overview; there are few).
    pub async fn list_organizations(&self) -> StoreResult<Vec<Organization>> {
        let organizations = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, name, created_at FROM organizations ORDER BY created_at, id")
                .fetch_all(pool)
                .await
        })?;
        Ok(organizations)
    }

    pub async fn get_organization(&self, id: Uuid) -> StoreResult<Option<Organization>> {
        let organization = with_pool!(self, |pool| {
            sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(organization)
    }

    /// The organization's listing version: it moves with every write to the
    /// organization's connections, tools or keys. None for an unknown organization.
    pub async fn listing_version(&self, id: Uuid) -> StoreResult<Option<i64>> {
        let version: Option<(i64,)> = with_pool!(self, |pool| {
            sqlx::query_as(LISTING_VERSION)
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(version.map(|(version,)| version))
    }

    /// Whether any organization exists: the first start of an empty store creates one.
    pub async fn has_organizations(&self) -> StoreResult<bool> {
        let (exists,): (bool,) = with_pool!(self, |pool| {
            sqlx::query_as("SELECT EXISTS (SELECT 1 FROM organizations)")
                .fetch_one(pool)
                .await
        })?;
        Ok(exists)
    }
}

impl Write {
    /// Inserts the organizations exactly as given, many rows per statement.
    pub async fn insert_organizations(
        &mut self,
        organizations: &[Organization],
    ) -> StoreResult<()> {
        for chunk in organizations.chunks(ROWS_PER_STATEMENT) {
            with_tx!(self, |connection| {
                let mut insert =
                    QueryBuilder::new("INSERT INTO organizations (id, name, created_at) ");
                insert.push_values(chunk, |mut row, organization| {
                    row.push_bind(organization.id)
                        .push_bind(&organization.name)
                        .push_bind(organization.created_at);
                });
                insert.build().execute(connection).await.map(drop)
            })?;
        }
        Ok(())
    }
}
