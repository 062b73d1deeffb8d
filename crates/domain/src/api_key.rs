//! API keys: whether a key may be used at a given moment.

use chrono::{DateTime, Utc};

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
}
