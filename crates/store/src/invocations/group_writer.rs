//! Invocation records written in groups: one writer takes every record waiting when it is
//! free and inserts them in one statement, then tells each caller. Concurrent calls then
//! share a commit instead of queueing for the database's write lock one by one (on
//! SQLite, each waiter would sleep in the busy handler). A caller still returns only once
//! its record is committed.

use tokio::sync::{mpsc, oneshot};

use super::Invocation;
use crate::{Pool, StoreError, StoreResult};

/// Records waiting for the writer at most; past it, callers wait for room.
const QUEUE_CAPACITY: usize = 1024;

/// Records in one statement at most (10 values each: well within every engine's limit on
/// bound parameters).
const GROUP_SIZE: usize = 256;

const INSERT: &str = "INSERT INTO tool_invocations (id, organization_id, connection_id, \
                      tool_id, tool_path, started_at, duration_ms, outcome, error, mode) ";

/// Hands records to the writer. The writer ends when every handle is dropped.
#[derive(Debug, Clone)]
pub(crate) struct GroupWriter {
    queue: mpsc::Sender<Pending>,
}

struct Pending {
    record: Invocation,
    written: oneshot::Sender<StoreResult<()>>,
}

impl GroupWriter {
    /// Starts the writer on `pool` (in the current Tokio runtime).
    pub(crate) fn start(pool: Pool) -> GroupWriter {
        let (queue, pending) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_groups(pool, pending));
        GroupWriter { queue }
    }

    /// Records `record`; returns once it is committed, or why it could not be.
    pub(crate) async fn record(&self, record: Invocation) -> StoreResult<()> {
        let (written, outcome) = oneshot::channel();
        self.queue
            .send(Pending { record, written })
            .await
            .map_err(|_| writer_gone())?;
        outcome.await.map_err(|_| writer_gone())?
    }
}

/// The writer's runtime stopped (the process is ending): nothing more is written.
fn writer_gone() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

async fn write_groups(pool: Pool, mut pending: mpsc::Receiver<Pending>) {
    while let Some(first) = pending.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_SIZE {
            match pending.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        write_group(&pool, group).await;
    }
}

/// Inserts the group in one statement; if that fails, each record on its own, so that
/// each caller learns its own record's fate (one record's connection deleted meanwhile
/// must not fail the others).
async fn write_group(pool: &Pool, group: Vec<Pending>) {
    if group.len() > 1 {
        let records: Vec<&Invocation> = group.iter().map(|pending| &pending.record).collect();
        if insert(pool, &records).await.is_ok() {
            for pending in group {
                let _ = pending.written.send(Ok(()));
            }
            return;
        }
    }
    for pending in group {
        let written = insert(pool, &[&pending.record]).await;
        let _ = pending.written.send(written);
    }
}

async fn insert(pool: &Pool, records: &[&Invocation]) -> StoreResult<()> {
    macro_rules! insert_into {
        ($pool:expr) => {{
            let mut statement = sqlx::QueryBuilder::new(INSERT);
            statement.push_values(records, |mut row, record| {
                row.push_bind(record.id)
                    .push_bind(record.organization_id)
                    .push_bind(record.connection_id)
                    .push_bind(record.tool_id)
                    .push_bind(&record.tool_path)
                    .push_bind(record.started_at)
                    .push_bind(record.duration_ms)
                    .push_bind(&record.outcome)
                    .push_bind(&record.error)
                    .push_bind(record.mode.as_str());
            });
            statement.build().execute($pool).await.map(|_| ())
        }};
    }
    match pool {
        Pool::Sqlite(pool) => insert_into!(pool)?,
        Pool::Postgres(pool) => insert_into!(pool)?,
    }
    Ok(())
}
