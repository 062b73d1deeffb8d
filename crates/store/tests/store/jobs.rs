use chrono::{DateTime, Duration, Utc};
use feather_store::{Job, JobKind, Store, StoreError};
use uuid::Uuid;

use crate::fixtures;

async fn queued_connection(store: &Store) -> (Uuid, Uuid) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "conn").await;
    (organization.id, connection.id)
}

/// Queues the connection's sync, due at `at`.
async fn enqueue_sync(store: &Store, organization: Uuid, connection: Uuid, at: DateTime<Utc>) {
    store
        .enqueue_job(JobKind::SyncTools, organization, connection, at, at)
        .await
        .expect("enqueue");
}

/// Claims the next job due at `at` as `worker`, for a five-minute lease.
async fn claim(store: &Store, worker: &str, at: DateTime<Utc>) -> Option<Job> {
    store
        .claim_job(worker, at, at + Duration::minutes(5))
        .await
        .expect("claim")
}

async fn a_queued_job_is_claimed_once_and_completed(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    enqueue_sync(store, organization, connection, at).await;

    let job = claim(store, "w1", at).await.expect("a due job");
    assert_eq!(
        (
            job.kind,
            job.organization_id,
            job.connection_id,
            job.attempts
        ),
        (JobKind::SyncTools, organization, connection, 1)
    );
    // Claimed and within its lease: nobody else gets it.
    assert_eq!(claim(store, "w2", at).await, None);

    store.complete_job(job.id, "w1").await.expect("complete");
    assert!(
        store
            .pending_jobs(connection)
            .await
            .expect("pending")
            .is_empty()
    );
}

async fn one_job_waits_per_connection_and_asking_again_moves_it_earlier(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    let later = at + Duration::minutes(10);
    store
        .enqueue_job(JobKind::SyncTools, organization, connection, later, at)
        .await
        .expect("enqueue");
    store
        .enqueue_job(
            JobKind::SyncTools,
            organization,
            connection,
            later + Duration::minutes(5),
            at,
        )
        .await
        .expect("enqueue again");
    let waiting = store.pending_jobs(connection).await.expect("pending");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].run_at, later);

    store
        .enqueue_job(JobKind::SyncTools, organization, connection, at, at)
        .await
        .expect("enqueue sooner");
    let waiting = store.pending_jobs(connection).await.expect("pending");
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].run_at, at);
}

async fn a_job_is_not_claimed_before_it_is_due(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    store
        .enqueue_job(
            JobKind::SyncTools,
            organization,
            connection,
            at + Duration::seconds(30),
            at,
        )
        .await
        .expect("enqueue");
    assert_eq!(claim(store, "w", at).await, None);
    let due = at + Duration::seconds(31);
    assert!(claim(store, "w", due).await.is_some());
}

async fn a_crashed_workers_job_is_taken_over_after_its_lease(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    enqueue_sync(store, organization, connection, at).await;
    let lease_end = at + Duration::minutes(5);
    let first = store
        .claim_job("dead", at, lease_end)
        .await
        .expect("claim")
        .expect("job");

    let after_lease = lease_end + Duration::seconds(1);
    let taken_over = claim(store, "alive", after_lease)
        .await
        .expect("the expired claim");
    assert_eq!(taken_over.id, first.id);
    assert_eq!(taken_over.attempts, 2);
    // The dead worker's late completion does not remove the job it no longer holds.
    store
        .complete_job(first.id, "dead")
        .await
        .expect("complete");
    assert_eq!(
        store.pending_jobs(connection).await.expect("pending").len(),
        1
    );
    store
        .complete_job(first.id, "alive")
        .await
        .expect("complete");
    assert!(
        store
            .pending_jobs(connection)
            .await
            .expect("pending")
            .is_empty()
    );
}

async fn a_renewed_lease_keeps_the_job_and_a_lost_one_cannot_be_renewed(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    enqueue_sync(store, organization, connection, at).await;
    let job = store
        .claim_job("w1", at, at + Duration::seconds(30))
        .await
        .expect("claim")
        .expect("job");
    assert!(
        store
            .renew_job_lease(job.id, "w1", at + Duration::seconds(60))
            .await
            .expect("renew")
    );
    let past_first_lease = at + Duration::seconds(45);
    assert_eq!(
        store
            .claim_job(
                "w2",
                past_first_lease,
                past_first_lease + Duration::seconds(30)
            )
            .await
            .expect("claim"),
        None
    );
    let past_renewal = at + Duration::seconds(61);
    let taken = store
        .claim_job("w2", past_renewal, past_renewal + Duration::seconds(30))
        .await
        .expect("claim")
        .expect("job");
    assert_eq!(taken.id, job.id);
    assert!(
        !store
            .renew_job_lease(job.id, "w1", past_renewal + Duration::seconds(30))
            .await
            .expect("renew")
    );
}

async fn a_retry_waits_for_its_time_and_keeps_the_error(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    enqueue_sync(store, organization, connection, at).await;
    let job = claim(store, "w", at).await.expect("job");
    let retry_at = at + Duration::seconds(10);
    store
        .requeue_job(&job, "w", retry_at, Some("timed out"), false, at)
        .await
        .expect("requeue");

    assert_eq!(claim(store, "w", at).await, None);
    let again = claim(store, "w", retry_at).await.expect("job");
    assert_eq!((again.id, again.attempts), (job.id, 2));
}

async fn a_released_job_runs_again_at_once_without_counting_the_attempt(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    enqueue_sync(store, organization, connection, at).await;
    let job = claim(store, "w", at).await.expect("job");
    store
        .requeue_job(&job, "w", at, None, true, at)
        .await
        .expect("release");
    let again = claim(store, "w2", at).await.expect("job");
    assert_eq!((again.id, again.attempts), (job.id, 1));
}

async fn a_requeue_beside_a_waiting_twin_is_refused_and_changes_nothing(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    enqueue_sync(store, organization, connection, at).await;
    let running = claim(store, "w", at).await.expect("job");
    // Asked for again while the first runs: a second job waits.
    enqueue_sync(store, organization, connection, at).await;
    let refused = store
        .requeue_job(
            &running,
            "w",
            at + Duration::seconds(5),
            Some("failed"),
            false,
            at,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::UniqueViolation { .. })),
        "{refused:?}"
    );
    let pending = store.pending_jobs(connection).await.expect("pending");
    assert_eq!(pending.len(), 2);
    assert!(pending.contains(&running), "still running as claimed");
}

async fn a_failed_job_leaves_the_queue_but_is_kept(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    enqueue_sync(store, organization, connection, at).await;
    let job = claim(store, "w", at).await.expect("job");
    store
        .fail_job(job.id, "w", "gave up", at)
        .await
        .expect("fail");
    assert!(
        store
            .pending_jobs(connection)
            .await
            .expect("pending")
            .is_empty()
    );
    let later = at + Duration::hours(1);
    assert_eq!(claim(store, "w", later).await, None);
    // And a new request queues afresh.
    enqueue_sync(store, organization, connection, at).await;
    assert_eq!(
        store.pending_jobs(connection).await.expect("pending").len(),
        1
    );
}

async fn a_claim_prefers_the_organization_with_the_fewest_jobs_running(store: &Store) {
    let busy = store.seed_organization().await;
    let other = store.seed_organization().await;
    let at = feather_store::now();
    let lease = at + Duration::minutes(5);
    // The busy organization's jobs are all due before the other's.
    for (index, slug) in ["a", "b", "c"].into_iter().enumerate() {
        let connection = fixtures::stored_connection(store, busy.id, slug).await;
        let run_at = at - Duration::seconds(30 - i64::try_from(index).expect("small"));
        store
            .enqueue_job(JobKind::SyncTools, busy.id, connection.id, run_at, at)
            .await
            .expect("enqueue");
    }
    let late = fixtures::stored_connection(store, other.id, "late").await;
    store
        .enqueue_job(JobKind::SyncTools, other.id, late.id, at, at)
        .await
        .expect("enqueue");

    let first = store
        .claim_job("w1", at, lease)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(
        first.organization_id, busy.id,
        "with nothing running, the job due first"
    );
    let second = store
        .claim_job("w2", at, lease)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(
        second.organization_id, other.id,
        "the organization with none running"
    );
    let third = store
        .claim_job("w3", at, lease)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(
        third.organization_id, busy.id,
        "one running each: due first again"
    );
}

async fn concurrent_claims_never_share_a_job(store: &Store) {
    let organization = store.seed_organization().await;
    let at = feather_store::now();
    let mut connections = Vec::new();
    for index in 0..12 {
        let connection =
            fixtures::stored_connection(store, organization.id, &format!("c{index}")).await;
        store
            .enqueue_job(JobKind::SyncTools, organization.id, connection.id, at, at)
            .await
            .expect("enqueue");
        connections.push(connection.id);
    }
    let claims = (0..24).map(|worker| {
        let store = store.clone();
        async move {
            store
                .claim_job(&format!("w{worker}"), at, at + Duration::minutes(5))
                .await
        }
    });
    let mut claimed: Vec<Uuid> = join_all_spawned(claims)
        .await
        .into_iter()
        .filter_map(|claim| claim.ok().flatten())
        .map(|job| job.connection_id)
        .collect();
    claimed.sort();
    let before = claimed.len();
    claimed.dedup();
    assert_eq!(claimed.len(), before, "a job was claimed twice");
    // SQLite serializes writers: some claims may have waited out the others, but none
    // may have failed to find work while jobs remained.
    assert_eq!(claimed.len(), 12);
}

async fn deleting_a_connection_removes_its_jobs(store: &Store) {
    let (organization, connection) = queued_connection(store).await;
    let at = feather_store::now();
    enqueue_sync(store, organization, connection, at).await;
    assert!(
        store
            .delete_connection(organization, connection)
            .await
            .expect("delete")
    );
    assert_eq!(claim(store, "w", at).await, None);
}

on_both_backends!(
    a_queued_job_is_claimed_once_and_completed,
    one_job_waits_per_connection_and_asking_again_moves_it_earlier,
    a_job_is_not_claimed_before_it_is_due,
    a_crashed_workers_job_is_taken_over_after_its_lease,
    a_renewed_lease_keeps_the_job_and_a_lost_one_cannot_be_renewed,
    a_retry_waits_for_its_time_and_keeps_the_error,
    a_released_job_runs_again_at_once_without_counting_the_attempt,
    a_requeue_beside_a_waiting_twin_is_refused_and_changes_nothing,
    a_failed_job_leaves_the_queue_but_is_kept,
    a_claim_prefers_the_organization_with_the_fewest_jobs_running,
    concurrent_claims_never_share_a_job,
    deleting_a_connection_removes_its_jobs,
);
/// Runs the futures concurrently on the test's runtime and collects their results.
async fn join_all_spawned<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.expect("claim task"));
    }
    results
}
