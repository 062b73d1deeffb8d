//! The rendered listing of each organization, kept while the organization's listing
//! version in the store is unchanged. Every replica checks that version (one primary-key
//! read, [`Service::fresh_listing_version`](crate::Service::fresh_listing_version)) before
//! serving from its cache, so none serves a listing older than the last acknowledged
//! write, whichever replica took it. Each transport keeps one for its own rendering (the
//! HTTP API's JSON body with its ETag, say).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

use crate::ServiceError;

/// A rendered listing, as a [`ListingCache`] weighs it against its budget.
pub trait RenderedListing: Send + Sync {
    /// The bytes it holds.
    fn size(&self) -> usize;
}

/// Organizations tracked at most (render locks); past it the table starts over.
const MAX_ORGANIZATIONS: usize = 10_000;

/// The bodies kept, in bytes, by default: past it the least recently used go first.
pub const DEFAULT_CACHE_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug)]
pub struct ListingCache<L> {
    kept: Mutex<Kept<L>>,
    /// One render at a time per organization: concurrent misses wait for it and share it.
    renders: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
}

#[derive(Debug)]
struct Kept<L> {
    entries: HashMap<Uuid, Entry<L>>,
    bytes: usize,
    budget: usize,
    /// Counts uses, to tell which entry was used least recently.
    clock: u64,
}

#[derive(Debug)]
struct Entry<L> {
    version: i64,
    listing: Arc<L>,
    last_used: u64,
}

impl<L: RenderedListing> ListingCache<L> {
    /// A cache keeping at most `budget` bytes of listings.
    pub fn new(budget: usize) -> ListingCache<L> {
        ListingCache {
            kept: Mutex::new(Kept {
                entries: HashMap::new(),
                bytes: 0,
                budget,
                clock: 0,
            }),
            renders: Mutex::default(),
        }
    }

    /// The listing at `version`: kept, or rendered by `render` (data at least as new as
    /// `version`). Misses of one organization render one at a time, and a request that
    /// waited finds the listing the one before it rendered, so a burst of misses after a
    /// write costs one render, and memory holds one render per organization.
    pub async fn get_or_render(
        &self,
        organization_id: Uuid,
        version: i64,
        render: impl Future<Output = Result<L, ServiceError>>,
    ) -> Result<Arc<L>, ServiceError> {
        if let Some(kept) = self.get(organization_id, version) {
            metrics::counter!("feather_listing_cache_total", "result" => "hit").increment(1);
            return Ok(kept);
        }
        let lock = self.render_lock(organization_id);
        let _rendering = lock.lock().await;
        if let Some(kept) = self.get(organization_id, version) {
            metrics::counter!("feather_listing_cache_total", "result" => "shared").increment(1);
            return Ok(kept);
        }
        metrics::counter!("feather_listing_cache_total", "result" => "miss").increment(1);
        let rendered = Arc::new(render.await?);
        self.put(organization_id, version, rendered.clone());
        Ok(rendered)
    }

    /// The kept listing if it was rendered at `version`.
    fn get(&self, organization_id: Uuid, version: i64) -> Option<Arc<L>> {
        let mut kept = self.kept();
        kept.clock += 1;
        let now = kept.clock;
        let entry = kept.entries.get_mut(&organization_id)?;
        (entry.version == version).then(|| {
            entry.last_used = now;
            entry.listing.clone()
        })
    }

    /// Keeps `listing`, rendered from data at least as new as `version`, unless a listing
    /// of a later version is already kept (a slow request must not replace it). A listing
    /// larger than a quarter of the budget is not kept: it would push out many others.
    fn put(&self, organization_id: Uuid, version: i64, listing: Arc<L>) {
        let mut kept = self.kept();
        let size = listing.size();
        if size > kept.budget / 4 {
            kept.remove(organization_id);
            return;
        }
        if kept
            .entries
            .get(&organization_id)
            .is_some_and(|entry| entry.version > version)
        {
            return;
        }
        kept.remove(organization_id);
        while kept.bytes + size > kept.budget && kept.remove_least_recently_used() {}
        kept.clock += 1;
        let last_used = kept.clock;
        kept.bytes += size;
        kept.entries.insert(
            organization_id,
            Entry {
                version,
                listing,
                last_used,
            },
        );
    }

    fn kept(&self) -> MutexGuard<'_, Kept<L>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn render_lock(&self, organization_id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut renders = self.renders.lock().unwrap_or_else(PoisonError::into_inner);
        if renders.len() >= MAX_ORGANIZATIONS && !renders.contains_key(&organization_id) {
            // Renders in progress keep their own lock: at worst one more render runs.
            renders.clear();
        }
        renders.entry(organization_id).or_default().clone()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.kept().bytes
    }
}

impl<L: RenderedListing> Kept<L> {
    fn remove(&mut self, organization_id: Uuid) {
        if let Some(entry) = self.entries.remove(&organization_id) {
            self.bytes -= entry.listing.size();
        }
    }

    /// False when nothing is left to remove.
    fn remove_least_recently_used(&mut self) -> bool {
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, entry)| entry.last_used)
            .map(|(id, _)| *id);
        match oldest {
            Some(id) => {
                self.remove(id);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A listing of so many bytes.
    #[derive(Debug)]
    struct Body(Vec<u8>);

    impl RenderedListing for Body {
        fn size(&self) -> usize {
            self.0.len()
        }
    }

    fn listing(bytes: usize) -> Body {
        Body(vec![b'x'; bytes])
    }

    async fn render(
        cache: &ListingCache<Body>,
        org: Uuid,
        version: i64,
        bytes: usize,
    ) -> Arc<Body> {
        cache
            .get_or_render(org, version, async move { Ok(listing(bytes)) })
            .await
            .expect("rendered")
    }

    #[tokio::test]
    async fn a_listing_is_served_for_its_version_only() {
        let cache = ListingCache::new(DEFAULT_CACHE_BYTES);
        let org = Uuid::now_v7();
        let first = render(&cache, org, 3, 10).await;
        assert!(Arc::ptr_eq(&first, &render(&cache, org, 3, 10).await));
        assert!(cache.get(org, 4).is_none());
        assert!(cache.get(Uuid::now_v7(), 3).is_none());
    }

    #[tokio::test]
    async fn an_older_render_does_not_replace_a_newer_one() {
        let cache = ListingCache::new(DEFAULT_CACHE_BYTES);
        let org = Uuid::now_v7();
        render(&cache, org, 5, 5).await;
        render(&cache, org, 4, 4).await;
        assert!(cache.get(org, 5).is_some());
        render(&cache, org, 6, 6).await;
        assert!(cache.get(org, 6).is_some());
        assert_eq!(cache.bytes(), 6);
    }

    #[tokio::test]
    async fn concurrent_misses_of_one_organization_share_one_render() {
        let cache = ListingCache::new(DEFAULT_CACHE_BYTES);
        let org = Uuid::now_v7();
        let renders = AtomicUsize::new(0);
        let misses = (0..6).map(|_| {
            cache.get_or_render(org, 1, async {
                renders.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                Ok(listing(100))
            })
        });
        let served = futures::future::join_all(misses).await;
        assert_eq!(renders.load(Ordering::SeqCst), 1);
        assert!(served.iter().all(Result::is_ok));
    }

    #[tokio::test]
    async fn the_kept_bytes_stay_within_the_budget_least_recently_used_going_first() {
        let cache = ListingCache::new(1000);
        let (a, b, c) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        render(&cache, a, 1, 200).await;
        render(&cache, b, 1, 200).await;
        render(&cache, a, 1, 200).await; // a is now used more recently than b
        render(&cache, c, 1, 200).await;
        assert_eq!(cache.bytes(), 600);
        for org in (0..4).map(|_| Uuid::now_v7()) {
            render(&cache, org, 1, 200).await;
            assert!(cache.bytes() <= 1000, "{}", cache.bytes());
        }
        assert!(
            cache.get(b, 1).is_none(),
            "the least recently used went first"
        );
        // Past a quarter of the budget a listing is served but not kept.
        let big = Uuid::now_v7();
        render(&cache, big, 1, 300).await;
        assert!(cache.get(big, 1).is_none());
        assert!(cache.bytes() <= 1000);
    }
}
