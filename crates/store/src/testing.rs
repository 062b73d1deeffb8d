//! Throwaway databases for tests: a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database created next to the one `FEATHER_TEST_DATABASE_URL` names. Each is
//! removed when dropped, so no test depends on what another left behind.

use chrono::{DateTime, Utc};
use feather_domain::integration::{ConnectionStatus, IntegrationKey, ToolsStatus, Vendor};
use tempfile::TempDir;
use uuid::Uuid;

use feather_domain::connection::Connection;
use feather_domain::organization::Organization;

use crate::Store;

/// An active custom MCP connection, created at `at`, not yet synced, with no metadata:
/// the base tests change with struct update syntax.
pub fn active_mcp_connection(
    organization_id: Uuid,
    nickname_slug: &str,
    at: DateTime<Utc>,
) -> Connection {
    Connection {
        id: Uuid::now_v7(),
        organization_id,
        integration_key: IntegrationKey::CustomMcp,
        nickname: nickname_slug.to_owned(),
        nickname_slug: nickname_slug.to_owned(),
        vendor: Vendor::Mcp,
        vendor_connection_id: None,
        status: ConnectionStatus::Active,
        status_reason: None,
        tools_status: ToolsStatus::Pending,
        tools_synced_at: None,
        connected_at: Some(at),
        last_refreshed_at: None,
        last_used_at: None,
        metadata: serde_json::Map::new(),
        created_at: at,
        updated_at: at,
    }
}

/// Runs each named test of the module (an `async fn name(store: &Store)`, written as any
/// function, so rustfmt and the compiler see it whole) on both backends: as
/// `sqlite::name` and as `postgres::name` (`#[feather_test_gates::postgres]`), each on a
/// fresh database. The calling crate needs `tokio` and `feather-test-gates`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let database = $crate::testing::TestDatabase::sqlite().await;
                    super::$name(&database.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[feather_test_gates::postgres]
                #[tokio::test]
                async fn $name() {
                    let database = $crate::testing::TestDatabase::postgres().await;
                    super::$name(&database.store).await;
                }
            )*
        }
    };
}

/// The environment variable naming a PostgreSQL server for tests (CI sets it).
pub const POSTGRES_URL_VAR: &str = "FEATHER_TEST_DATABASE_URL";

/// A migrated store that lives as long as this value.
#[derive(Debug)]
pub struct TestDatabase {
    pub store: Store,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Sqlite(TempDir),
    Postgres { admin_url: String, database: String },
}

impl TestDatabase {
    /// A fresh SQLite store in its own temporary directory.
    pub async fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let store = Store::open_sqlite_file(&dir.path().join("test.db"))
            .await
            .expect("open a SQLite test store");
        TestDatabase {
            store,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh PostgreSQL store next to the database `FEATHER_TEST_DATABASE_URL` names.
    /// Panics when it is not set: mark such tests `#[feather_test_gates::postgres]`, which
    /// ignores them then (unless `FEATHER_TEST_REQUIRE_ALL=1`, as in CI).
    pub async fn postgres() -> TestDatabase {
        let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
            panic!("{POSTGRES_URL_VAR} is not set: this test needs a PostgreSQL server")
        });
        let database = format!("feather_test_{}", uuid::Uuid::new_v4().simple());
        let admin = Store::connect_unmigrated(&admin_url)
            .await
            .expect("connect to FEATHER_TEST_DATABASE_URL");
        admin
            .execute_admin(&format!("CREATE DATABASE {database}"))
            .await
            .expect("create a test database");
        admin.close().await;
        let store = Store::connect(&with_database(&admin_url, &database))
            .await
            .expect("open the PostgreSQL test store");
        TestDatabase {
            store,
            cleanup: Cleanup::Postgres {
                admin_url,
                database,
            },
        }
    }

    /// The URL of this database, for another process to open it.
    pub fn url(&self) -> String {
        match &self.cleanup {
            Cleanup::Sqlite(dir) => format!("sqlite://{}", dir.path().join("test.db").display()),
            Cleanup::Postgres {
                admin_url,
                database,
            } => with_database(admin_url, database),
        }
    }

    /// Another store over the same database with a pool of its own, as a second replica
    /// of the service would have.
    pub async fn another_replica(&self) -> Store {
        let opened = match &self.cleanup {
            Cleanup::Sqlite(dir) => Store::open_sqlite_file(&dir.path().join("test.db")).await,
            Cleanup::Postgres {
                admin_url,
                database,
            } => Store::connect(&with_database(admin_url, database)).await,
        };
        opened.expect("open another pool on the test database")
    }
}

impl Store {
    /// A new organization named "Acme", created now.
    pub async fn seed_organization(&self) -> Organization {
        let organization = Organization {
            id: Uuid::now_v7(),
            name: "Acme".to_owned(),
            created_at: crate::now(),
        };
        self.insert_organization(&organization)
            .await
            .expect("insert an organization");
        organization
    }

    /// Inserts `connection` exactly as given, with `sealed` credentials when given: for
    /// rows the service does not make on demand (a chosen id or creation time).
    pub async fn seed_connection(
        &self,
        connection: &Connection,
        sealed: Option<&[u8]>,
    ) -> crate::StoreResult<()> {
        let mut write = self.begin_listing_write(connection.organization_id).await?;
        write.insert_connection(connection).await?;
        if let Some(sealed) = sealed {
            write
                .insert_connection_secret(connection.id, sealed, connection.created_at)
                .await?;
        }
        write.commit().await
    }

    /// Writes `catalog` as the connection's tools, each with the view it has while no
    /// operator configured it, and marks the connection synced: the write half of a sync
    /// without the checks and the configuration the service's `record_catalog` applies,
    /// for tests of the store's operations and of rows a sync would refuse.
    pub async fn seed_catalog(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        catalog: &[crate::CatalogTool],
        at: DateTime<Utc>,
    ) -> crate::StoreResult<()> {
        let mut write = self.begin_listing_write(organization_id).await?;
        for tool in catalog {
            let view = feather_domain::tool_view::derive_tool_view(
                &tool.input_schema,
                None,
                tool.response_schema.as_ref(),
                None,
            );
            write
                .upsert_catalog_tool(organization_id, connection_id, tool, view, at)
                .await?;
        }
        write
            .mark_tools_synced(organization_id, connection_id, at)
            .await?;
        write.commit().await
    }

    /// Writes the operator-owned fields `patch` sets, leaving the tool's view as it was
    /// (the service's `configure_tool` derives it again in the same write). None when the
    /// connection has no such tool.
    pub async fn seed_tool_config(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        tool_id: Uuid,
        patch: &crate::ToolConfigPatch,
        at: DateTime<Utc>,
    ) -> crate::StoreResult<Option<feather_domain::tool::Tool>> {
        let mut write = self.begin_listing_write(organization_id).await?;
        let tool = write
            .configure_tool(organization_id, connection_id, tool_id, patch, at)
            .await?;
        write.commit().await?;
        Ok(tool)
    }

    /// Makes the store look as if migration 0008 (tool slugs unique in an organization)
    /// had not run yet, so that rows may share a slug again, as they could before it.
    pub async fn pretend_tool_slugs_unique_per_connection_only(&self) -> crate::StoreResult<()> {
        self.execute_admin("DROP INDEX connection_tools_slug_in_organization")
            .await?;
        self.execute_admin("DELETE FROM _sqlx_migrations WHERE version = 8")
            .await
    }

    /// Marks every tool's derived view as derived by no rules, as rows written before the
    /// migration that added the views (or by older rules) are.
    pub async fn forget_derived_views(&self) -> crate::StoreResult<()> {
        self.execute_admin("UPDATE connection_tools SET view_revision = NULL")
            .await
    }

    /// Makes the store look as if older rules (`revision`) had derived every view and last
    /// brought the store up to date, as after an upgrade to new rules; each view's
    /// `default_count` is set to `stale_count`, so a test can see which were derived again.
    pub async fn pretend_views_derived_by(
        &self,
        revision: i32,
        stale_count: i32,
    ) -> crate::StoreResult<()> {
        let views = "UPDATE connection_tools SET view_revision = $1, default_count = $2";
        let rules = "UPDATE tool_view_rules SET revision = $1";
        crate::with_pool!(self, |pool| {
            sqlx::query(views)
                .bind(revision)
                .bind(stale_count)
                .execute(pool)
                .await?;
            sqlx::query(rules)
                .bind(revision)
                .execute(pool)
                .await
                .map(drop)
        })?;
        Ok(())
    }

    /// From now on every write of a tool fails, as a full disk or a broken database
    /// would make it fail; the rest of the store keeps working.
    pub async fn refuse_tool_writes(&self) -> crate::StoreResult<()> {
        match self.backend() {
            crate::Backend::Sqlite => {
                for event in ["INSERT", "UPDATE"] {
                    self.execute_admin(&format!(
                        "CREATE TRIGGER refuse_tool_{event} BEFORE {event} ON connection_tools \
                         BEGIN SELECT RAISE(ABORT, 'tool writes are refused by a test'); END"
                    ))
                    .await?;
                }
                Ok(())
            }
            crate::Backend::Postgres => {
                self.execute_admin(
                    "CREATE FUNCTION refuse_tool_writes() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'tool writes are refused by a test'; END $$",
                )
                .await?;
                self.execute_admin(
                    "CREATE TRIGGER refuse_tool_writes BEFORE INSERT OR UPDATE ON connection_tools \
                     FOR EACH ROW EXECUTE FUNCTION refuse_tool_writes()",
                )
                .await
            }
        }
    }

    /// Ends every other session on this PostgreSQL database, as a server shutting down
    /// does (each gets `57P01 terminating connection due to administrator command`).
    pub async fn terminate_other_sessions(&self) -> crate::StoreResult<()> {
        self.execute_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
    }

    /// How many tools have a view the current rules did not derive.
    pub async fn count_outdated_views(&self) -> crate::StoreResult<i64> {
        let sql = "SELECT COUNT(*) FROM connection_tools \
                   WHERE view_revision IS NULL OR view_revision <> $1";
        Ok(crate::with_pool!(self, |pool| {
            sqlx::query_scalar(sql)
                .bind(feather_domain::tool_view::DERIVATION_REVISION)
                .fetch_one(pool)
                .await
        })?)
    }

    /// The query plans of the listing's queries for `organization_id`, one text each, in
    /// the order the listing runs them. On PostgreSQL sequential scans are disabled for
    /// the explanation: a test's tiny tables would make the planner prefer them, and the
    /// question is which index a large table's plan would use.
    pub async fn explain_listing(
        &self,
        organization_id: uuid::Uuid,
    ) -> crate::StoreResult<Vec<String>> {
        use sqlx::Row;

        let queries = [
            crate::organizations::LISTING_VERSION,
            crate::connections::LIST_CONNECTIONS,
            crate::tools::LIST_ORGANIZATION_TOOLS,
        ];
        let mut plans = Vec::new();
        for query in queries {
            let plan = match &self.pool {
                crate::Pool::Sqlite(pool) => {
                    let rows =
                        sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {query}")))
                            .bind(organization_id)
                            .fetch_all(pool)
                            .await?;
                    rows.iter()
                        .map(|row| row.try_get::<String, _>("detail"))
                        .collect::<Result<Vec<_>, _>>()?
                }
                crate::Pool::Postgres(pool) => {
                    let mut tx = pool.begin().await?;
                    sqlx::query("SET LOCAL enable_seqscan = off")
                        .execute(&mut *tx)
                        .await?;
                    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("EXPLAIN {query}")))
                        .bind(organization_id)
                        .fetch_all(&mut *tx)
                        .await?;
                    tx.rollback().await?;
                    rows.iter()
                        .map(|row| row.try_get::<String, _>(0))
                        .collect::<Result<Vec<_>, _>>()?
                }
            };
            plans.push(plan.join("\n"));
        }
        Ok(plans)
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |index| index + 3);
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{database}?{query}"),
        None => format!("{server}/{database}"),
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Postgres {
            admin_url,
            database,
        } = &self.cleanup
        else {
            return;
        };
        // Drop runs outside async context (or inside a runtime that is shutting down), so
        // the database is dropped from a thread with a runtime of its own.
        let (admin_url, name) = (admin_url.clone(), database.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build a cleanup runtime");
            runtime.block_on(async {
                let admin = Store::connect_unmigrated(&admin_url).await?;
                admin
                    .execute_admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin.close().await;
                Ok::<_, crate::StoreError>(())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {database}: {dropped:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced_and_query_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
