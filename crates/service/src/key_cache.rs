//! Recently checked API keys, so that authenticating a request is usually no database
//! round trip. An entry is trusted for one second: a key revoked on another replica stops
//! working there within that time; one revoked here is evicted at once.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};
use uuid::Uuid;

use crate::Principal;

/// How long a checked key is trusted without asking the store again.
const TRUST_FOR: TimeDelta = TimeDelta::seconds(1);
/// Entries kept at most: past this the cache starts over, so a flood of distinct keys
/// cannot grow it without bound.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug, Default)]
pub(crate) struct KeyCache {
    /// Key hash → the principal it proved, and when the store said so.
    entries: Mutex<HashMap<String, (Principal, DateTime<Utc>)>>,
}

impl KeyCache {
    /// The principal of a key checked less than [`TRUST_FOR`] before `now`.
    pub(crate) fn get(&self, key_hash: &str, now: DateTime<Utc>) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        let (principal, checked_at) = entries.get(key_hash)?;
        (now - *checked_at < TRUST_FOR).then_some(*principal)
    }

    /// Records that the store proved `principal` for the key at `now`.
    pub(crate) fn insert(&self, key_hash: String, principal: Principal, now: DateTime<Utc>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key_hash, (principal, now));
        }
    }

    /// Forgets the key at once (it was revoked here).
    pub(crate) fn evict(&self, key_id: Uuid) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.retain(|_, (principal, _)| principal.key_id != key_id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            grants: feather_domain::api_key::Grants::EVERYTHING,
            organization_id: Uuid::now_v7(),
            key_id: Uuid::now_v7(),
        }
    }

    #[test]
    fn a_checked_key_is_trusted_then_evicted_on_revocation() {
        let (cache, now) = (KeyCache::default(), Utc::now());
        let key = principal();
        assert_eq!(cache.get("hash", now), None);
        cache.insert("hash".to_owned(), key, now);
        assert_eq!(cache.get("hash", now), Some(key));
        cache.evict(key.key_id);
        assert_eq!(cache.get("hash", now), None);
    }

    #[test]
    fn trust_ends_a_second_after_the_check() {
        let (cache, checked_at) = (KeyCache::default(), Utc::now());
        let key = principal();
        cache.insert("hash".to_owned(), key, checked_at);
        let almost = checked_at + TRUST_FOR - TimeDelta::microseconds(1);
        assert_eq!(cache.get("hash", almost), Some(key));
        assert_eq!(cache.get("hash", checked_at + TRUST_FOR), None);
    }
}
