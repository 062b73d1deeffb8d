//! The serialized listing of each organization, kept while the organization's listing
//! version in the store is unchanged. Every replica checks that version (one primary-key
//! read) before serving from its cache, so none serves a listing older than the last
//! acknowledged write, whichever replica took it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use crate::conditional::Tagged;
use crate::error::ApiError;
use crate::version_reads::VersionReads;

/// Organizations whose listing is kept at most; past it the cache starts over.
const MAX_ORGANIZATIONS: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct ListingCache {
    entries: Mutex<HashMap<Uuid, (i64, Arc<Tagged>)>>,
    versions: VersionReads,
}

impl ListingCache {
    /// The organization's listing version from a `read` of the store that started after
    /// this call began, shared with the requests that arrived alongside.
    pub async fn fresh_version(
        &self,
        organization_id: Uuid,
        read: impl Future<Output = Result<i64, ApiError>>,
    ) -> Result<i64, ApiError> {
        self.versions.read(organization_id, read).await
    }

    /// The cached listing if it was rendered at `version`.
    pub fn get(&self, organization_id: Uuid, version: i64) -> Option<Arc<Tagged>> {
        let entries = self.entries.lock().ok()?;
        let (cached_version, listing) = entries.get(&organization_id)?;
        (*cached_version == version).then(|| listing.clone())
    }

    /// Keeps `listing`, rendered from data at least as new as `version`, unless a listing
    /// of a later version is already kept (a slow request must not replace it).
    pub fn put(&self, organization_id: Uuid, version: i64, listing: Arc<Tagged>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries
            .get(&organization_id)
            .is_some_and(|(cached_version, _)| *cached_version > version)
        {
            return;
        }
        if entries.len() >= MAX_ORGANIZATIONS {
            entries.clear();
        }
        entries.insert(organization_id, (version, listing));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_served_for_its_version_only() {
        let cache = ListingCache::default();
        let org = Uuid::now_v7();
        cache.put(org, 3, Arc::new(Tagged::new(b"[3]".to_vec())));
        assert!(cache.get(org, 3).is_some());
        assert!(cache.get(org, 4).is_none());
        assert!(cache.get(Uuid::now_v7(), 3).is_none());
    }

    #[test]
    fn an_older_render_does_not_replace_a_newer_one() {
        let cache = ListingCache::default();
        let org = Uuid::now_v7();
        cache.put(org, 5, Arc::new(Tagged::new(b"[5]".to_vec())));
        cache.put(org, 4, Arc::new(Tagged::new(b"[4]".to_vec())));
        assert!(cache.get(org, 5).is_some());
        cache.put(org, 6, Arc::new(Tagged::new(b"[6]".to_vec())));
        assert!(cache.get(org, 6).is_some());
    }
}
