//! The server's open connections: how many there are, which are between requests, and
//! how to close the one that has waited longest when a new one needs its place.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Every open connection, at most `capacity` of them.
#[derive(Debug)]
pub(super) struct Connections {
    capacity: usize,
    open: Mutex<HashMap<u64, Arc<Slot>>>,
    next_id: AtomicU64,
    /// Signalled when a connection closes, for an accept waiting for a place.
    closed: Notify,
}

/// One connection, as the registry and its own task share it.
#[derive(Debug)]
pub(super) struct Slot {
    /// Requests being answered on it now.
    busy: AtomicUsize,
    /// When it last became idle: opened, or answered its last request.
    idle_since: Mutex<Instant>,
    /// Cancelled to ask the connection to close (it finishes a response in progress).
    close: CancellationToken,
}

/// A connection's place in the registry; dropping it frees the place.
#[derive(Debug)]
pub(super) struct Registered {
    id: u64,
    slot: Arc<Slot>,
    connections: Arc<Connections>,
}

impl Connections {
    pub(super) fn new(capacity: usize) -> Arc<Connections> {
        Arc::new(Connections {
            capacity: capacity.max(1),
            open: Mutex::default(),
            next_id: AtomicU64::new(0),
            closed: Notify::new(),
        })
    }

    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Makes room for one more connection: at capacity, the connection idle the longest
    /// is asked to close (its place is free at once); when every connection is answering
    /// a request, waits until one closes.
    pub(super) async fn make_room(&self) {
        loop {
            let closed = self.closed.notified();
            if self.len() < self.capacity || self.close_idlest() {
                return;
            }
            closed.await;
        }
    }

    /// Registers a new connection (after [`Connections::make_room`]).
    pub(super) fn register(self: &Arc<Self>) -> Registered {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            busy: AtomicUsize::new(0),
            idle_since: Mutex::new(Instant::now()),
            close: CancellationToken::new(),
        });
        self.lock().insert(id, slot.clone());
        Registered {
            id,
            slot,
            connections: self.clone(),
        }
    }

    /// Asks the connection idle the longest to close and frees its place; false when none
    /// is idle.
    fn close_idlest(&self) -> bool {
        let mut open = self.lock();
        let idlest = open
            .iter()
            .filter(|(_, slot)| slot.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, slot)| {
                *slot
                    .idle_since
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
            })
            .map(|(id, _)| *id);
        let Some(id) = idlest else {
            return false;
        };
        if let Some(slot) = open.remove(&id) {
            slot.close.cancel();
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Slot>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Registered {
    /// Cancelled when the registry wants this connection closed.
    pub(super) fn close_requested(&self) -> &CancellationToken {
        &self.slot.close
    }

    /// Whether no request is being answered on the connection.
    pub(super) fn is_idle(&self) -> bool {
        self.slot.busy.load(Ordering::Acquire) == 0
    }

    /// Marks a request as being answered until the returned guard is dropped.
    pub(super) fn begin_request(&self) -> RequestGuard {
        self.slot.busy.fetch_add(1, Ordering::AcqRel);
        RequestGuard {
            slot: self.slot.clone(),
        }
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        self.connections.lock().remove(&self.id);
        self.connections.closed.notify_waiters();
    }
}

/// A request in progress on a connection.
#[derive(Debug)]
pub(super) struct RequestGuard {
    slot: Arc<Slot>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        if self.slot.busy.fetch_sub(1, Ordering::AcqRel) == 1 {
            *self
                .slot
                .idle_since
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn at_capacity_the_connection_idle_longest_makes_room() {
        let connections = Connections::new(2);
        let first = connections.register();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let second = connections.register();
        connections.make_room().await;
        assert!(first.close_requested().is_cancelled());
        assert!(!second.close_requested().is_cancelled());
        assert_eq!(connections.len(), 1);
    }

    #[tokio::test]
    async fn a_connection_answering_a_request_is_never_the_one_closed() {
        let connections = Connections::new(2);
        let busy = connections.register();
        let _answering = busy.begin_request();
        let idle = connections.register();
        connections.make_room().await;
        assert!(!busy.close_requested().is_cancelled());
        assert!(idle.close_requested().is_cancelled());
    }

    #[tokio::test]
    async fn when_every_connection_is_busy_room_is_made_by_one_closing() {
        let connections = Connections::new(1);
        let only = connections.register();
        let answering = only.begin_request();
        let waiting = tokio::spawn({
            let connections = connections.clone();
            async move { connections.make_room().await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "no place is free yet");
        drop(answering);
        drop(only);
        waiting.await.expect("room was made");
        assert_eq!(connections.len(), 0);
    }
}
