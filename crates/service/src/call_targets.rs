//! What agents' calls go upstream with (a tool found by its slug, its connection, the
//! connection's sealed credentials), kept per organization while its listing version is
//! unchanged. Every write that changes a tool, a connection or its credentials moves that
//! version; re-sealing credentials under a new key does not, and need not, as they stay the
//! same. So a call at an unchanged version reads nothing but the version, which calls that
//! arrive together share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

use crate::invoke::CallTarget;

/// Organizations kept at most: past this the cache starts over, so that it stays bounded.
const MAX_ORGANIZATIONS: usize = 10_000;

#[derive(Debug)]
pub(crate) struct CallTargets<T = CallTarget> {
    organizations: Mutex<HashMap<Uuid, Kept<T>>>,
}

/// One organization's targets, all read at `version` or later.
#[derive(Debug)]
struct Kept<T> {
    version: i64,
    by_slug: HashMap<String, Arc<T>>,
}

impl<T> Default for CallTargets<T> {
    fn default() -> Self {
        CallTargets {
            organizations: Mutex::default(),
        }
    }
}

impl<T> CallTargets<T> {
    /// The target of `slug` kept at `version`.
    pub(crate) fn get(&self, organization_id: Uuid, version: i64, slug: &str) -> Option<Arc<T>> {
        let organizations = self.lock();
        let kept = organizations.get(&organization_id)?;
        (kept.version == version)
            .then(|| kept.by_slug.get(slug).cloned())
            .flatten()
    }

    /// Keeps `target`, read at `version` or later, as the target of `slug`: the
    /// organization's targets of older versions go, and `target` is not kept if a later
    /// version's already are (a slow call must not bring back what changed since).
    pub(crate) fn keep(&self, organization_id: Uuid, version: i64, slug: &str, target: Arc<T>) {
        let mut organizations = self.lock();
        if organizations.len() >= MAX_ORGANIZATIONS && !organizations.contains_key(&organization_id)
        {
            organizations.clear();
        }
        let kept = organizations
            .entry(organization_id)
            .or_insert_with(|| Kept {
                version,
                by_slug: HashMap::new(),
            });
        if kept.version > version {
            return;
        }
        if kept.version < version {
            *kept = Kept {
                version,
                by_slug: HashMap::new(),
            };
        }
        kept.by_slug.insert(slug.to_owned(), target);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Kept<T>>> {
        self.organizations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(slug: &str) -> Arc<String> {
        Arc::new(slug.to_owned())
    }

    #[test]
    fn a_target_is_kept_for_its_version_only() {
        let targets = CallTargets::default();
        let organization = Uuid::now_v7();
        targets.keep(organization, 3, "a_one", target("a_one"));
        assert_eq!(targets.get(organization, 3, "a_one"), Some(target("a_one")));
        assert_eq!(
            targets.get(organization, 4, "a_one"),
            None,
            "the version moved"
        );
        assert_eq!(targets.get(organization, 3, "a_two"), None, "never kept");
        assert_eq!(
            targets.get(Uuid::now_v7(), 3, "a_one"),
            None,
            "another organization"
        );
    }

    #[test]
    fn a_later_version_replaces_the_kept_targets_and_an_earlier_one_does_not() {
        let targets = CallTargets::default();
        let organization = Uuid::now_v7();
        targets.keep(organization, 3, "a_one", target("a_one"));
        targets.keep(organization, 4, "a_two", target("a_two"));
        assert_eq!(
            targets.get(organization, 4, "a_one"),
            None,
            "read before the change"
        );
        assert_eq!(targets.get(organization, 4, "a_two"), Some(target("a_two")));
        targets.keep(organization, 3, "a_one", target("a_one"));
        assert_eq!(
            targets.get(organization, 3, "a_one"),
            None,
            "a slow call's read"
        );
        assert_eq!(targets.get(organization, 4, "a_two"), Some(target("a_two")));
    }
}
