//! Reads of an organization's listing version, shared by the requests that arrive while one
//! is in flight.
//!
//! A request may serve a cached listing only at a version read after the request arrived:
//! that read sees every write acknowledged before it, on any replica. Under load, many
//! requests for one organization arrive while a read is in flight. Instead of each reading
//! the version again, the requests that arrived during one read share the next one, which
//! starts after all of them arrived. At most one read per organization is in flight, and a
//! request waits for at most the one in flight and its own. A failed read is shared too:
//! while the database is unreachable, a burst of requests waits out one failed read (the
//! pool's acquire timeout), not one each in turn.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::ServiceError;

/// Organizations tracked at most; past it the table starts over (in-flight reads finish
/// on the entries they hold).
const MAX_ORGANIZATIONS: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct VersionReads {
    organizations: Mutex<HashMap<Uuid, Arc<OrganizationReads>>>,
}

#[derive(Debug, Default)]
struct OrganizationReads {
    /// The sequence number the next read will take.
    next: AtomicU64,
    /// The last completed read: its sequence number and outcome (a version, or the
    /// failure as a shared error). Holding the lock is being the organization's one reader.
    last: tokio::sync::Mutex<Option<(u64, Result<i64, ServiceError>)>>,
}

impl VersionReads {
    /// The organization's version, from a read (`read`, or another request's) that started
    /// after this call began; or that read's failure.
    pub async fn read<F>(&self, organization_id: Uuid, read: F) -> Result<i64, ServiceError>
    where
        F: Future<Output = Result<i64, ServiceError>>,
    {
        let reads = self.organization(organization_id);
        // Every read numbered from here on starts after this point.
        let ticket = reads.next.load(Ordering::SeqCst);
        let mut last = reads.last.lock().await;
        if let Some((sequence, outcome)) = &*last
            && *sequence >= ticket
        {
            return outcome.clone();
        }
        let sequence = reads.next.fetch_add(1, Ordering::SeqCst);
        let outcome = read.await;
        *last = Some((sequence, outcome.clone()));
        outcome
    }

    fn organization(&self, organization_id: Uuid) -> Arc<OrganizationReads> {
        let mut organizations = self
            .organizations
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if organizations.len() >= MAX_ORGANIZATIONS && !organizations.contains_key(&organization_id)
        {
            organizations.clear();
        }
        organizations.entry(organization_id).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicI64;

    use tokio::sync::oneshot;

    use super::*;

    /// Lets every spawned task run until it blocks.
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn requests_that_arrive_during_a_read_share_the_next_one() {
        let reads = Arc::new(VersionReads::default());
        let organization = Uuid::now_v7();
        let store_reads = Arc::new(AtomicI64::new(0));
        let (release, released) = oneshot::channel::<()>();
        let first = tokio::spawn({
            let (reads, store_reads) = (reads.clone(), store_reads.clone());
            async move {
                reads
                    .read(organization, async {
                        let _ = released.await;
                        Ok::<_, ServiceError>(store_reads.fetch_add(1, Ordering::SeqCst) + 1)
                    })
                    .await
            }
        });
        settle().await;
        let waiting: Vec<_> = (0..10)
            .map(|_| {
                let (reads, store_reads) = (reads.clone(), store_reads.clone());
                tokio::spawn(async move {
                    reads
                        .read(organization, async {
                            Ok::<_, ServiceError>(store_reads.fetch_add(1, Ordering::SeqCst) + 1)
                        })
                        .await
                })
            })
            .collect();
        settle().await;
        let _ = release.send(());

        assert_eq!(first.await.expect("first").ok(), Some(1));
        for request in waiting {
            // Not the read in flight when they arrived: the one after it, shared.
            assert_eq!(request.await.expect("waiting").ok(), Some(2));
        }
        assert_eq!(store_reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_request_after_a_read_completed_reads_again() {
        let reads = VersionReads::default();
        let organization = Uuid::now_v7();
        assert_eq!(
            reads.read(organization, async { Ok(1) }).await.ok(),
            Some(1)
        );
        assert_eq!(
            reads.read(organization, async { Ok(2) }).await.ok(),
            Some(2)
        );
    }

    #[tokio::test]
    async fn a_failed_read_answers_the_requests_that_waited_on_it_and_no_later_one() {
        let reads = Arc::new(VersionReads::default());
        let organization = Uuid::now_v7();
        let (release, released) = oneshot::channel::<()>();
        let failing = tokio::spawn({
            let reads = reads.clone();
            async move {
                reads
                    .read(organization, async {
                        let _ = released.await;
                        Err(ServiceError::Unavailable("down".into()))
                    })
                    .await
            }
        });
        settle().await;
        // Arrives during the failing read: the next read is its own, and fails too.
        let (release_second, second_released) = oneshot::channel::<()>();
        let second = tokio::spawn({
            let reads = reads.clone();
            async move {
                reads
                    .read(organization, async {
                        let _ = second_released.await;
                        Err(ServiceError::Unavailable("still down".into()))
                    })
                    .await
            }
        });
        settle().await;
        // Arrives during the second read: shares its failure without reading.
        let sharing = tokio::spawn({
            let reads = reads.clone();
            async move {
                reads
                    .read(organization, async { panic!("shares the read in flight") })
                    .await
            }
        });
        settle().await;
        let _ = release.send(());
        settle().await;
        let _ = release_second.send(());

        assert!(matches!(
            failing.await.expect("first"),
            Err(ServiceError::Unavailable(_))
        ));
        assert!(matches!(
            second.await.expect("second"),
            Err(ServiceError::Unavailable(_))
        ));
        assert!(matches!(
            sharing.await.expect("sharing"),
            Err(ServiceError::Unavailable(_))
        ));
        // The database is back: a new request reads again.
        assert_eq!(
            reads.read(organization, async { Ok(9) }).await.ok(),
            Some(9)
        );
    }
}
