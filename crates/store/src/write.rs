//! Write transactions. A use case of the service opens one [`Write`], composes the store's
//! write operations in it (each a method of `Write`, in the module of its table), and
//! commits; dropped uncommitted, it rolls back. The store offers the operations; which
//! ones a use case runs, and on what condition, is the service's to decide.

use sqlx::{Postgres, Sqlite, Transaction};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::{Backend, Pool, Store, StoreResult};

/// Rows per multi-row `INSERT` of a bulk write: at 21 binds a row (a tool's), well under
/// both engines' limits (65,535 on PostgreSQL, 32,766 on SQLite).
pub(crate) const ROWS_PER_STATEMENT: usize = 1_000;

/// One open write transaction, on either backend.
#[derive(Debug)]
pub struct Write {
    pub(crate) tx: Tx,
    /// Where to announce, once committed, the organization whose listing this write
    /// changes.
    announce: Option<(broadcast::Sender<Uuid>, Uuid)>,
}

#[derive(Debug)]
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$connection` bound to the transaction's connection, of whichever
/// backend is in use: the body is written once and compiled for each engine.
macro_rules! with_tx {
    ($write:expr, |$connection:ident| $body:expr) => {
        match &mut $write.tx {
            $crate::write::Tx::Sqlite(tx) => {
                let $connection = &mut **tx;
                $body
            }
            $crate::write::Tx::Postgres(tx) => {
                let $connection = &mut **tx;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

impl Store {
    /// Opens a write that changes what the organization's listing shows. Its first
    /// statement moves the organization's listing version, so every such writer locks the
    /// organization's row before any connection or tool row: one lock order, no deadlock
    /// between a sync and an operator's change on PostgreSQL, and the organization's
    /// listing writes are serialized (what a choice of a free slug relies on).
    pub async fn begin_listing_write(&self, organization_id: Uuid) -> StoreResult<Write> {
        let mut write = self.begin_write().await?;
        with_tx!(write, |connection| {
            sqlx::query(
                "UPDATE organizations SET listing_version = listing_version + 1 WHERE id = $1",
            )
            .bind(organization_id)
            .execute(connection)
            .await
            .map(drop)
        })?;
        write.announce = Some((self.listing_changes.clone(), organization_id));
        Ok(write)
    }

    /// Opens a write that changes no organization's listing (the job queue's).
    pub async fn begin_write(&self) -> StoreResult<Write> {
        Ok(Write {
            tx: match &self.pool {
                Pool::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
                Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            },
            announce: None,
        })
    }
}

impl Write {
    /// Makes every operation of this write durable, together.
    pub async fn commit(self) -> StoreResult<()> {
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        if let Some((listing_changes, organization_id)) = self.announce {
            // No receiver is no one waiting: nothing to do.
            let _ = listing_changes.send(organization_id);
        }
        Ok(())
    }

    /// The first column of the rows `sql` selects for an organization (`$1`) and a prefix
    /// (`$2`): the slugs a new one made from the prefix could collide with.
    pub(crate) async fn slugs_starting_with(
        &mut self,
        sql: &'static str,
        organization_id: Uuid,
        prefix: &str,
    ) -> StoreResult<Vec<String>> {
        let slugs: Vec<(String,)> = with_tx!(self, |connection| {
            sqlx::query_as(sql)
                .bind(organization_id)
                .bind(prefix)
                .fetch_all(connection)
                .await
        })?;
        Ok(slugs.into_iter().map(|(slug,)| slug).collect())
    }

    pub(crate) fn backend(&self) -> Backend {
        match self.tx {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }
}
