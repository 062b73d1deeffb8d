//! The job runner: workers inside `serve` that claim durable jobs from the store and run
//! them, at least once, with retries and exponential backoff.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use feather_store::{Job, JobKind, StoreError};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{Service, ServiceResult, SyncOutcome};

/// How the runner works.
#[derive(Debug, Clone)]
pub struct JobSettings {
    /// Concurrent workers in this process.
    pub workers: usize,
    /// How often an idle worker looks for due jobs (other replicas' work, retries).
    pub poll_interval: Duration,
    /// How long a claim holds unless renewed: a crashed worker's job is taken over this
    /// long after its last renewal. A running job renews it every third of this.
    pub lease: Duration,
    /// Attempts before a job is given up (its last error stays on the connection).
    pub max_attempts: i32,
    /// The first retry's delay; each further retry doubles it.
    pub first_retry_delay: Duration,
}

impl Default for JobSettings {
    fn default() -> Self {
        JobSettings {
            workers: 2,
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            max_attempts: 5,
            first_retry_delay: Duration::from_secs(5),
        }
    }
}

/// Runs jobs until cancelled.
#[derive(Debug, Clone)]
pub struct JobRunner {
    service: Service,
    settings: JobSettings,
    /// Names this process's claims, so that its own release at shutdown touches only them.
    worker_id: String,
}

impl JobRunner {
    pub fn new(service: Service, settings: JobSettings) -> JobRunner {
        JobRunner {
            service,
            settings,
            worker_id: format!("worker-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// Runs the workers until `shutdown` is cancelled; a job in progress then is put back
    /// in the queue for another worker (or the next start) to run.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut workers = JoinSet::new();
        for index in 0..self.settings.workers.max(1) {
            let runner = self.clone();
            let shutdown = shutdown.clone();
            workers.spawn(async move { runner.work(index, shutdown).await });
        }
        while workers.join_next().await.is_some() {}
    }

    async fn work(&self, index: usize, shutdown: CancellationToken) {
        let worker = format!("{}-{index}", self.worker_id);
        while !shutdown.is_cancelled() {
            match self.claim(&worker).await {
                Ok(Some(job)) => {
                    tokio::select! {
                        () = self.run_job(&worker, &job) => {}
                        () = self.keep_lease(&worker, &job) => {
                            tracing::warn!(job_id = %job.id, "lost the job's lease; another worker has it");
                        }
                        () = shutdown.cancelled() => self.release(&worker, &job).await,
                    }
                }
                Ok(None) => {
                    let queued = self.service.jobs_queued.notified();
                    tokio::select! {
                        () = queued => {}
                        () = tokio::time::sleep(self.settings.poll_interval) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not claim a job; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(self.settings.poll_interval) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
            }
        }
    }

    async fn claim(&self, worker: &str) -> ServiceResult<Option<Job>> {
        let at = self.service.now();
        Ok(self
            .service
            .store
            .claim_job(worker, at, at + self.lease())
            .await?)
    }

    fn lease(&self) -> TimeDelta {
        TimeDelta::from_std(self.settings.lease).unwrap_or(TimeDelta::seconds(30))
    }

    /// Renews the job's lease while it runs; returns only if the lease was lost.
    async fn keep_lease(&self, worker: &str, job: &Job) {
        let every = self.settings.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            match self
                .service
                .store
                .renew_job_lease(job.id, worker, self.service.now() + self.lease())
                .await
            {
                Ok(true) => {}
                Ok(false) => return,
                // A passing store failure: the next renewal may succeed within the lease.
                Err(error) => tracing::warn!(%error, "could not renew the job's lease"),
            }
        }
    }

    #[tracing::instrument(skip_all, fields(job_id = %job.id, connection_id = %job.connection_id, attempt = job.attempts))]
    async fn run_job(&self, worker: &str, job: &Job) {
        let retry_in = self.retry_in(job);
        let started = std::time::Instant::now();
        let outcome = match job.kind {
            JobKind::SyncTools => {
                self.service
                    .sync_tools(job.organization_id, job.connection_id, retry_in)
                    .await
            }
        };
        let result = match &outcome {
            Ok(SyncOutcome::Synced) => "synced",
            Ok(SyncOutcome::Skipped) => "skipped",
            Ok(SyncOutcome::Retryable { .. }) => "retryable",
            Ok(SyncOutcome::Permanent(_)) => "failed",
            Err(_) => "store_error",
        };
        metrics::counter!("feather_syncs_total", "outcome" => result).increment(1);
        metrics::histogram!("feather_sync_duration_seconds", "outcome" => result)
            .record(started.elapsed().as_secs_f64());
        let store = &self.service.store;
        let settled = match outcome {
            Ok(SyncOutcome::Synced | SyncOutcome::Skipped) => {
                tracing::info!("job done");
                store.complete_job(job.id, worker).await
            }
            Ok(SyncOutcome::Permanent(reason)) => {
                tracing::warn!(%reason, "job failed; not retrying");
                store.complete_job(job.id, worker).await
            }
            // The connection already says when: the job runs again then.
            Ok(SyncOutcome::Retryable { reason, retry_at }) => {
                self.retry_or_give_up(worker, job, retry_at, &reason).await
            }
            // The store itself failed: the failure could not even be recorded.
            Err(error) => {
                let retry_at = retry_in.map(|delay| self.service.now() + to_time_delta(delay));
                self.retry_or_give_up(worker, job, retry_at, &error.to_string())
                    .await
            }
        };
        if let Err(error) = settled {
            // The lease runs out and another worker takes the job over.
            tracing::error!(%error, "could not settle the job");
        }
    }

    /// How long after a failure for a passing reason this attempt is tried again; None
    /// when it is the last one.
    fn retry_in(&self, job: &Job) -> Option<Duration> {
        (job.attempts < self.settings.max_attempts)
            .then(|| retry_delay(self.settings.first_retry_delay, job.attempts))
    }

    /// Requeues the job to run at `retry_at`, or gives it up (its last error kept) when
    /// there is none.
    async fn retry_or_give_up(
        &self,
        worker: &str,
        job: &Job,
        retry_at: Option<DateTime<Utc>>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let store = &self.service.store;
        match retry_at {
            Some(run_at) => {
                tracing::info!(%reason, %run_at, "job failed; retrying");
                self.requeue(worker, job, run_at, Some(reason), false).await
            }
            None => {
                tracing::warn!(%reason, "job failed; giving up");
                store
                    .fail_job(job.id, worker, reason, self.service.now())
                    .await
            }
        }
    }

    /// Puts the job back in the queue to run at `run_at`; if another job of its kind
    /// already waits for the connection, that one will do the work and this one is
    /// dropped.
    async fn requeue(
        &self,
        worker: &str,
        job: &Job,
        run_at: DateTime<Utc>,
        error: Option<&str>,
        refund_attempt: bool,
    ) -> Result<(), StoreError> {
        let store = &self.service.store;
        let now = self.service.now();
        match store
            .requeue_job(job, worker, run_at, error, refund_attempt, now)
            .await
        {
            Err(StoreError::UniqueViolation { .. }) => store.complete_job(job.id, worker).await,
            requeued => requeued,
        }
    }

    /// Shutdown: the job goes back to the queue, due at once, its attempt not counted.
    async fn release(&self, worker: &str, job: &Job) {
        let released = self
            .requeue(worker, job, self.service.now(), None, true)
            .await;
        match released {
            Ok(()) => tracing::info!(job_id = %job.id, "released the job at shutdown"),
            Err(error) => {
                tracing::warn!(%error, job_id = %job.id, "could not release the job; its lease will expire")
            }
        }
    }
}

/// A delay as a timestamp offset; beyond chrono's range (never, for delays capped at an
/// hour) an hour.
pub(crate) fn to_time_delta(delay: Duration) -> TimeDelta {
    TimeDelta::from_std(delay).unwrap_or(TimeDelta::hours(1))
}

/// `first * 2^(attempts - 1)`, capped at an hour.
fn retry_delay(first: Duration, attempts: i32) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    first
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(Duration::from_secs(3600))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::service_over;
    use feather_store::testing::{TestDatabase, active_mcp_connection};

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let first = Duration::from_secs(5);
        assert_eq!(retry_delay(first, 1), Duration::from_secs(5));
        assert_eq!(retry_delay(first, 2), Duration::from_secs(10));
        assert_eq!(retry_delay(first, 4), Duration::from_secs(40));
        assert_eq!(retry_delay(first, 30), Duration::from_secs(3600));
        assert_eq!(retry_delay(first, 0), Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_retry_is_dropped_when_another_job_already_waits() {
        let database = TestDatabase::sqlite().await;
        let store = &database.store;
        let service = service_over(store.clone());
        let (organization, _) = service.create_organization("Acme").await.expect("org");
        let at = service.now();
        let connection = active_mcp_connection(organization.id, "crm", at);
        store
            .seed_connection(&connection, None)
            .await
            .expect("seed");
        let enqueue =
            || store.enqueue_job(JobKind::SyncTools, organization.id, connection.id, at, at);
        enqueue().await.expect("enqueue");
        let runner = JobRunner::new(service, JobSettings::default());
        let running = store
            .claim_job("w", at, at + TimeDelta::seconds(30))
            .await
            .expect("claim")
            .expect("a job");
        // Asked for again while the first runs: a second job waits.
        enqueue().await.expect("enqueue again");

        runner
            .requeue(
                "w",
                &running,
                at + TimeDelta::seconds(5),
                Some("failed"),
                false,
            )
            .await
            .expect("requeue");
        let pending = store.pending_jobs(connection.id).await.expect("pending");
        assert_eq!(pending.len(), 1);
        assert_ne!(pending[0].id, running.id);
    }
}
