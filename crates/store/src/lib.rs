//! Persistence for feather-integrations.
//!
//! One [`Store`] type serves both backends: SQLite (the embedded default) and PostgreSQL
//! (production, many replicas). The backend is picked once, from the database URL, and the
//! layers above never see which one it is. Queries are written once in the SQL both engines
//! accept; where the dialects differ, the statement is chosen per backend next to its twin.
//! No business rule lives here: the store offers reads and write operations, and the
//! service composes the operations of a use case in one [`Write`] transaction.

mod api_keys;
mod connections;
mod document;
mod error;
mod invocations;
mod jobs;
mod model;
mod oauth_authorizations;
mod organizations;
mod secrets;
mod tools;
mod write;

#[cfg(feature = "testing")]
pub mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::broadcast;
use uuid::Uuid;

pub use error::StoreError;
pub use invocations::Invocation;
pub use jobs::{Job, JobKind};
pub use model::*;
pub use oauth_authorizations::PendingAuthorization;
pub use secrets::{SealedByKey, SealedSecret, SealedWith};
pub use tools::EnabledTool;
pub use write::Write;

/// Result of a store operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// How long a request may wait for a pooled connection before the store counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Announcements of changed listings a slow receiver may fall behind by before it lags.
const LISTING_CHANGES_BUFFER: usize = 1024;

/// The service's database, on either backend.
#[derive(Debug, Clone)]
pub struct Store {
    pool: Pool,
    /// Announces each organization whose listing a write of this process changed.
    listing_changes: broadcast::Sender<Uuid>,
    /// Writes invocation records, those of concurrent calls in one statement.
    invocations: invocations::GroupWriter,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which engine a [`Store`] runs on, for logs and diagnostics only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend is in use.
/// The body is written once and compiled for each engine.
macro_rules! with_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Runs `$body` (an expression using the transaction's connection `$tx`, `?` allowed) in
/// a listing write of its own ([`Store::begin_listing_write`]): the form of a write that is
/// one statement, or one statement and its read-back.
macro_rules! listing_write {
    ($store:expr, $organization_id:expr, |$tx:ident| $body:expr) => {
        async {
            let mut write = $store.begin_listing_write($organization_id).await?;
            let value = $crate::write::with_tx!(write, |$tx| $body);
            write.commit().await?;
            Ok::<_, $crate::StoreError>(value)
        }
        .await
    };
}
pub(crate) use listing_write;

impl Store {
    /// Opens the store named by `url` (`sqlite://…` or `postgres://…`) and migrates it.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        let store = Self::connect_unmigrated(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    async fn connect_unmigrated(url: &str) -> StoreResult<Store> {
        Ok(
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                // Notices (`relation "_sqlx_migrations" already exists, skipping` on every
                // start) are for a console, not for the service's log.
                let options =
                    PgConnectOptions::from_str(url)?.options([("client_min_messages", "warning")]);
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await?;
                Store::over(Pool::Postgres(pool))
            } else if url.starts_with("sqlite:") {
                let options = SqliteConnectOptions::from_str(url)?;
                Self::open_sqlite(options).await?
            } else {
                return Err(StoreError::UnsupportedUrl);
            },
        )
    }

    /// Opens (creating it if needed) the SQLite database file at `path` and migrates it.
    pub async fn open_sqlite_file(path: &Path) -> StoreResult<Store> {
        let store = Self::open_sqlite(SqliteConnectOptions::new().filename(path)).await?;
        store.migrate().await?;
        Ok(store)
    }

    async fn open_sqlite(options: SqliteConnectOptions) -> StoreResult<Store> {
        create_private_file(options.get_filename())?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(ACQUIRE_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            // A SQLite connection is a handle to a local file, which nothing can close
            // under it: pinging it before each use (a round trip to its worker thread,
            // about as long as the query itself) finds nothing.
            .test_before_acquire(false)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        Ok(Store::over(Pool::Sqlite(pool)))
    }

    /// The store over `pool`; its invocation writer runs in the current Tokio runtime.
    fn over(pool: Pool) -> Store {
        Store {
            invocations: invocations::GroupWriter::start(pool.clone()),
            pool,
            listing_changes: broadcast::channel(LISTING_CHANGES_BUFFER).0,
        }
    }

    /// The organizations whose listing this process changes from now on, each announced
    /// once its write has committed. A receiver that falls behind misses announcements
    /// (`RecvError::Lagged`) and should treat every organization as changed. Writes of
    /// other processes are not announced: their listing version tells.
    pub fn listing_changes(&self) -> broadcast::Receiver<Uuid> {
        self.listing_changes.subscribe()
    }

    /// Applies every migration not yet applied. Migrations are append-only, one folder per
    /// backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        let settled = self.settle_slugs_before_they_must_be_unique().await?;
        if settled > 0 {
            tracing::info!(
                tools = settled,
                "tool slugs are now unique in each organization: renamed the later of each pair"
            );
        }
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        let marked = self.mark_views_of_older_rules().await?;
        if marked > 0 {
            tracing::info!(
                tools = marked,
                "the tool view rules changed: deriving views again"
            );
        }
        let derived = self.derive_outdated_views().await?;
        if derived > 0 {
            tracing::info!(tools = derived, "derived the views of tools again");
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Succeeds when the database answers a trivial query.
    pub async fn ping(&self) -> StoreResult<()> {
        with_pool!(self, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Runs a statement that takes no parameters and returns no rows (test set-up only).
    #[cfg(feature = "testing")]
    async fn execute_admin(&self, statement: &str) -> StoreResult<()> {
        let statement = sqlx::AssertSqlSafe(statement.to_owned());
        with_pool!(self, |pool| sqlx::query(statement)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Refreshes the query planner's statistics, as after a bulk load.
    pub async fn analyze(&self) -> StoreResult<()> {
        with_pool!(self, |pool| sqlx::query("ANALYZE")
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Closes every pooled connection; pending queries finish first.
    pub async fn close(&self) {
        with_pool!(self, |pool| pool.close().await)
    }
}

/// Creates the database file, if it does not exist yet, readable and writable by its
/// owner only: it holds API key hashes and sealed credentials. SQLite gives the `-wal` and
/// `-shm` files it creates beside it the database file's permissions.
fn create_private_file(path: &Path) -> StoreResult<()> {
    if path.as_os_str().is_empty() || path == Path::new(":memory:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .map(drop)
        .map_err(|error| StoreError::from(sqlx::Error::Io(error)))
}

/// The current time at the precision both backends store (microseconds), so a value read
/// back equals the value written on SQLite and PostgreSQL alike.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::{SubsecRound, Utc};
    Utc::now().trunc_subsecs(6)
}
