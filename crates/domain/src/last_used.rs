//! How precisely `last_used_at` is kept (API keys and connections): to the minute, so that
//! using a key or calling a tool is a write at most once a minute per key or connection,
//! not one per request, and a stream of tool calls does not keep moving the listing.

use chrono::{DateTime, TimeDelta, Utc};

/// `last_used_at` is written at most this often per key or connection.
pub const LAST_USED_RESOLUTION: TimeDelta = TimeDelta::seconds(60);

/// Whether a use at `at` must be written, given the `last_used_at` on record.
pub fn is_due(last_used_at: Option<DateTime<Utc>>, at: DateTime<Utc>) -> bool {
    last_used_at.is_none_or(|used| at - used >= LAST_USED_RESOLUTION)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_use_is_written_then_at_most_once_a_minute() {
        let at = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).expect("a time");
        assert!(is_due(None, at));
        assert!(!is_due(Some(at), at));
        assert!(!is_due(Some(at), at + TimeDelta::seconds(59)));
        assert!(is_due(Some(at), at + TimeDelta::seconds(60)));
        // A clock that went back never writes an older time over a newer one.
        assert!(!is_due(Some(at), at - TimeDelta::seconds(5)));
    }
}
