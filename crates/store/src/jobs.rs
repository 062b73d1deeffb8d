//! Durable background jobs: at-least-once, claimed under a lease so that a crashed
//! worker's job is taken over once the lease runs out, and on PostgreSQL claimed with
//! `FOR UPDATE SKIP LOCKED` so that many replicas share the queue without blocking.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::write::{Write, with_tx};
use crate::{Pool, Store, StoreError, StoreResult, with_pool};

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Fetch the connection's upstream tool catalog and record it.
    SyncTools,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::SyncTools => "sync_tools",
        }
    }
}

impl TryFrom<String> for JobKind {
    type Error = StoreError;

    fn try_from(kind: String) -> Result<Self, StoreError> {
        match kind.as_str() {
            "sync_tools" => Ok(JobKind::SyncTools),
            other => Err(StoreError::Corrupt(format!("unknown job kind {other:?}"))),
        }
    }
}

/// A job a worker has claimed.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Job {
    pub id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: JobKind,
    pub organization_id: Uuid,
    pub connection_id: Uuid,
    /// Claims so far, this one included.
    pub attempts: i32,
    pub run_at: DateTime<Utc>,
    pub lease_expires_at: Option<DateTime<Utc>>,
}

macro_rules! job_columns {
    () => {
        "id, kind, organization_id, connection_id, attempts, run_at, lease_expires_at"
    };
}

/// The claim statement, with the row-locking clause each backend needs after the
/// candidate query. Fair across organizations: the due job of the organization with the
/// fewest jobs running now (on every replica) goes first, then the one due first; so one
/// organization holds every worker only while no other has work, and another's job waits
/// at most until one worker is free. The running jobs are few (one per worker), and
/// `jobs_due` (state, run_at) finds them.
macro_rules! claim_statement {
    ($locking:literal) => {
        concat!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, worker = $1, \
             lease_expires_at = $3, updated_at = $2 WHERE id = (SELECT id FROM jobs AS due \
             WHERE (state = 'queued' AND run_at <= $2) \
                OR (state = 'running' AND lease_expires_at < $2) \
             ORDER BY (SELECT COUNT(*) FROM jobs AS running WHERE running.state = 'running' \
                 AND running.lease_expires_at >= $2 \
                 AND running.organization_id = due.organization_id), \
               run_at LIMIT 1",
            $locking,
            ") RETURNING ",
            job_columns!()
        )
    };
}

/// Inserts a queued job, or moves the waiting one earlier: one waiting job per connection
/// and kind (a partial unique index holds that on both backends).
const ENQUEUE: &str = "INSERT INTO jobs (id, kind, organization_id, connection_id, \
     state, attempts, run_at, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6) \
     ON CONFLICT (connection_id, kind) WHERE state = 'queued' DO UPDATE SET \
       run_at = CASE WHEN excluded.run_at < jobs.run_at THEN excluded.run_at ELSE jobs.run_at END, \
       updated_at = excluded.updated_at";

impl Write {
    /// Queues `kind` for the connection to run at `run_at` (sooner if one already waits).
    pub async fn enqueue_job(
        &mut self,
        kind: JobKind,
        organization_id: Uuid,
        connection_id: Uuid,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        with_tx!(self, |connection| {
            sqlx::query(ENQUEUE)
                .bind(Uuid::now_v7())
                .bind(kind.as_str())
                .bind(organization_id)
                .bind(connection_id)
                .bind(run_at)
                .bind(now)
                .execute(connection)
                .await
                .map(drop)
        })?;
        Ok(())
    }
}

impl Store {
    /// [`Write::enqueue_job`], on its own.
    pub async fn enqueue_job(
        &self,
        kind: JobKind,
        organization_id: Uuid,
        connection_id: Uuid,
        run_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut write = self.begin_write().await?;
        write
            .enqueue_job(kind, organization_id, connection_id, run_at, now)
            .await?;
        write.commit().await
    }

    /// Claims a due job, if any: queued and due, or running with an expired lease (its
    /// worker died); of the organization with the fewest jobs running, then due first.
    /// The claim holds until `lease_expires_at`.
    pub async fn claim_job(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease_expires_at: DateTime<Utc>,
    ) -> StoreResult<Option<Job>> {
        let claim = match self.pool {
            Pool::Sqlite(_) => claim_statement!(""),
            // SKIP LOCKED: replicas claiming at once each take a different row.
            Pool::Postgres(_) => claim_statement!(" FOR UPDATE SKIP LOCKED"),
        };
        let job = with_pool!(self, |pool| {
            sqlx::query_as(claim)
                .bind(worker)
                .bind(now)
                .bind(lease_expires_at)
                .fetch_optional(pool)
                .await
        })?;
        Ok(job)
    }

    /// Extends a claim that `worker` still holds; false when it no longer does (its lease
    /// ran out and another worker took the job over).
    pub async fn renew_job_lease(
        &self,
        job_id: Uuid,
        worker: &str,
        lease_expires_at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let renewed = with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET lease_expires_at = $3 \
                 WHERE id = $1 AND worker = $2 AND state = 'running'",
            )
            .bind(job_id)
            .bind(worker)
            .bind(lease_expires_at)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(renewed > 0)
    }

    /// The job is done: it leaves the queue.
    pub async fn complete_job(&self, job_id: Uuid, worker: &str) -> StoreResult<()> {
        with_pool!(self, |pool| {
            sqlx::query("DELETE FROM jobs WHERE id = $1 AND worker = $2")
                .bind(job_id)
                .bind(worker)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }

    /// Puts a claimed job back in the queue to run at `run_at` (a retry, or a release at
    /// shutdown when `refund_attempt`). Fails with
    /// [`StoreError::UniqueViolation`] when another job of its kind already waits for the
    /// connection (one waiting job per connection and kind), changing nothing.
    pub async fn requeue_job(
        &self,
        job: &Job,
        worker: &str,
        run_at: DateTime<Utc>,
        error: Option<&str>,
        refund_attempt: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET state = 'queued', run_at = $3, lease_expires_at = NULL, \
                 worker = NULL, last_error = COALESCE($4, last_error), \
                 attempts = attempts - $5, updated_at = $6 WHERE id = $1 AND worker = $2",
            )
            .bind(job.id)
            .bind(worker)
            .bind(run_at)
            .bind(error)
            .bind(i32::from(refund_attempt))
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Gives up on a job: it stays, `failed`, with its last error, for an operator to see.
    pub async fn fail_job(
        &self,
        job_id: Uuid,
        worker: &str,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        with_pool!(self, |pool| {
            sqlx::query(
                "UPDATE jobs SET state = 'failed', lease_expires_at = NULL, last_error = $3, \
                 updated_at = $4 WHERE id = $1 AND worker = $2",
            )
            .bind(job_id)
            .bind(worker)
            .bind(error)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// How many jobs are in each state (`queued`, `running`, `failed`), for the metrics.
    pub async fn count_jobs_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        let counts = with_pool!(self, |pool| {
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
                .fetch_all(pool)
                .await
        })?;
        Ok(counts)
    }

    /// The connection's jobs that are waiting or running (for tests and diagnostics).
    pub async fn pending_jobs(&self, connection_id: Uuid) -> StoreResult<Vec<Job>> {
        let jobs = with_pool!(self, |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs WHERE connection_id = $1 AND state IN ('queued', 'running') \
                 ORDER BY run_at"
            ))
            .bind(connection_id)
            .fetch_all(pool)
            .await
        })?;
        Ok(jobs)
    }
}
