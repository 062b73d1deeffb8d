//! Where the service reads the time. Every rule with a time in it (key expiry, the key
//! cache's trust window, `last_used_at` throttling, job due times) asks the service's
//! clock, so tests move a [`ManualClock`] forward instead of sleeping.

use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// A source of the current time.
pub trait Clock: Debug + Send + Sync {
    /// Now, at the precision both stores keep (microseconds), so a time written and read
    /// back is equal on either backend.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        feather_store::now()
    }
}

/// A clock that stands still until told to move: for tests of rules about time.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock reading the system's time now, and standing still from then on.
    pub fn starting_now() -> ManualClock {
        ManualClock {
            now: Arc::new(Mutex::new(feather_store::now())),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: TimeDelta) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_every_copy_sees_it() {
        let clock = ManualClock::starting_now();
        let copy = clock.clone();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        copy.advance(TimeDelta::seconds(61));
        assert_eq!(clock.now(), start + TimeDelta::seconds(61));
    }
}
