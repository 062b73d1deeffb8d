//! The store's error type: callers learn what kind of failure happened, never the SQL.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write; `constraint` names it where the engine says.
    #[error("unique constraint violated: {constraint}")]
    UniqueViolation { constraint: String },
    /// The database cannot be reached or did not answer in time.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// A stored value does not decode into the model (a bug or a hand-edited row).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database URL names an engine the service does not support.
    #[error("unsupported database URL: use sqlite://PATH or postgres://…")]
    UnsupportedUrl,
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Anything else the driver reported.
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::UniqueViolation {
                constraint: db.constraint().unwrap_or_default().to_owned(),
            },
            sqlx::Error::Database(db)
                if db.code().is_some_and(|code| server_unavailable(&code)) =>
            {
                StoreError::Unavailable(error)
            }
            // A connection the server (or the network) dropped mid-handshake or mid-answer
            // surfaces as a protocol error: nothing that the request did.
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(error),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Corrupt(error.to_string())
            }
            _ => StoreError::Database(error),
        }
    }
}

/// PostgreSQL SQLSTATEs of a server that is going away or not yet back: connection
/// exceptions (class 08) and operator intervention (57P01 admin shutdown, 57P02 crash
/// shutdown, 57P03 cannot connect now, as during a restart).
fn server_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03")
}
