//! API keys: whether a key may be used at a given moment, and what it may do.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An API key as stored: the key itself is never kept, only its hash and display prefix.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ApiKey {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub name: String,
    pub key_prefix: String,
    #[cfg_attr(feature = "sqlx", sqlx(json))]
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn state(&self, now: DateTime<Utc>) -> KeyState {
        KeyState::at(self.revoked_at, self.expires_at, now)
    }
}

/// Where a key stands. A revoked key is reported as revoked even after its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    Revoked,
    Expired,
}

impl KeyState {
    /// The state at `now` of a key with these revocation and expiry times. A key expires at
    /// its `expires_at` instant: from then on it is no longer accepted.
    pub fn at(
        revoked_at: Option<DateTime<Utc>>,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> KeyState {
        if revoked_at.is_some() {
            KeyState::Revoked
        } else if expires_at.is_some_and(|expires_at| expires_at <= now) {
            KeyState::Expired
        } else {
            KeyState::Active
        }
    }

    pub fn is_active(self) -> bool {
        self == KeyState::Active
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Revoked => "revoked",
            KeyState::Expired => "expired",
        }
    }
}

/// One thing a key may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read the organization's integrations, connections and tools.
    Read,
    /// Create, change and delete connections and tool configuration; refresh catalogs.
    Write,
    /// Call tools through a connection (`test-mcp-call`, `test-invoke`).
    Invoke,
    /// List, create and revoke API keys.
    Keys,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Invoke, Scope::Keys];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Invoke => "invoke",
            Scope::Keys => "keys",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// What a key may do. A key with no scopes may do everything (as every key could before
/// scopes were enforced); so may one whose scopes are all outside the vocabulary, which
/// only keys made before it can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grants(u8);

impl Grants {
    pub const EVERYTHING: Grants = Grants(0b1111);

    pub fn of(scopes: &[String]) -> Grants {
        let bits = scopes
            .iter()
            .filter_map(|scope| Scope::parse(scope))
            .fold(0, |bits, scope| bits | scope.bit());
        if bits == 0 {
            Grants::EVERYTHING
        } else {
            Grants(bits)
        }
    }

    pub fn allows(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// The scopes granted, in vocabulary order.
    pub fn scopes(self) -> Vec<Scope> {
        Scope::ALL
            .into_iter()
            .filter(|scope| self.allows(*scope))
            .collect()
    }

    /// Whether everything `other` may do, this may do too: a key mints only keys that can
    /// do no more than itself.
    pub fn covers(self, other: Grants) -> bool {
        other.0 & !self.0 == 0
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    #[test]
    fn a_key_is_active_until_the_instant_it_expires() {
        let now = Utc::now();
        assert_eq!(KeyState::at(None, None, now), KeyState::Active);
        let later = now + Duration::seconds(1);
        assert_eq!(KeyState::at(None, Some(later), now), KeyState::Active);
        assert_eq!(KeyState::at(None, Some(now), now), KeyState::Expired);
        let earlier = now - Duration::seconds(1);
        assert_eq!(KeyState::at(None, Some(earlier), now), KeyState::Expired);
    }

    #[test]
    fn revocation_wins_over_expiry() {
        let now = Utc::now();
        let earlier = now - Duration::seconds(1);
        assert_eq!(
            KeyState::at(Some(earlier), Some(earlier), now),
            KeyState::Revoked
        );
        assert!(!KeyState::at(Some(now), None, now).is_active());
    }

    fn scopes(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn a_key_without_scopes_may_do_everything() {
        for scope in Scope::ALL {
            assert!(Grants::of(&[]).allows(scope));
            assert!(Grants::of(&scopes(&["legacy:custom"])).allows(scope));
        }
    }

    #[test]
    fn a_scoped_key_may_do_what_its_scopes_name_only() {
        let read_only = Grants::of(&scopes(&["read"]));
        assert!(read_only.allows(Scope::Read));
        assert!(!read_only.allows(Scope::Write));
        assert!(!read_only.allows(Scope::Keys));
        let both = Grants::of(&scopes(&["read", "invoke", "unknown"]));
        assert!(both.allows(Scope::Invoke) && !both.allows(Scope::Write));
    }

    #[test]
    fn a_key_covers_only_keys_that_can_do_no_more() {
        let keys_and_read = Grants::of(&scopes(&["keys", "read"]));
        assert!(keys_and_read.covers(Grants::of(&scopes(&["read"]))));
        assert!(!keys_and_read.covers(Grants::of(&scopes(&["write"]))));
        assert!(!keys_and_read.covers(Grants::EVERYTHING));
        assert!(Grants::EVERYTHING.covers(keys_and_read));
        assert_eq!(Scope::parse("invoke"), Some(Scope::Invoke));
        assert_eq!(Scope::parse("admin"), None);
    }
}
