//! Upstream sessions kept open between tool calls, so that a call costs one round trip
//! instead of a handshake, the call and a goodbye.
//!
//! Sessions belong to one connection and are never shared between connections (a
//! server may keep state per session). Each connection has at most
//! [`PoolLimits::sessions_per_connection`]; a session serves one call at a time (its
//! events are that call's), so a call waits for a free one when all are busy. A session
//! idle for [`PoolLimits::idle_timeout`] is closed; one whose transport broke, whose call
//! was abandoned or timed out, or whose connection's endpoint changed (new credentials)
//! is closed instead of reused. A server that forgets a session (HTTP 404 on its id) is
//! handled by the Streamable HTTP transport, which initializes a new one and sends the
//! call again.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use uuid::Uuid;

use super::McpEndpoint;
use super::errors::McpError;
use super::session::Session;

/// How many sessions are kept, and for how long.
#[derive(Debug, Clone, Copy)]
pub(super) struct PoolLimits {
    pub(super) sessions_per_connection: usize,
    pub(super) idle_timeout: Duration,
    /// The most a session's goodbye (cancelling an abandoned call, `DELETE`) may take.
    pub(super) close_budget: Duration,
}

/// The sessions of every connection called recently. Cheap to clone.
#[derive(Clone)]
pub(super) struct SessionPool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPool")
            .field("limits", &self.shared.limits)
            .field("connections", &self.shared.lock_connections().len())
            .finish()
    }
}

struct Shared {
    limits: PoolLimits,
    connections: Mutex<HashMap<Uuid, Arc<ConnectionSessions>>>,
    /// Set once the task that closes idle sessions runs.
    reaper: OnceLock<()>,
}

/// One connection's sessions, for one endpoint (URL, transport and credentials).
struct ConnectionSessions {
    endpoint: McpEndpoint,
    /// One permit per session that may exist: leased sessions hold one.
    slots: Arc<Semaphore>,
    idle: Mutex<Vec<IdleSession>>,
}

struct IdleSession {
    session: Session,
    since: Instant,
}

/// A session in use by one call. [`Lease::give_back`] returns it to the pool; dropped
/// otherwise, the session is closed in the background.
pub(super) struct Lease {
    session: Option<Session>,
    owner: Arc<ConnectionSessions>,
    pool: Weak<Shared>,
    close_budget: Duration,
    _slot: OwnedSemaphorePermit,
}

impl SessionPool {
    pub(super) fn new(limits: PoolLimits) -> SessionPool {
        SessionPool {
            shared: Arc::new(Shared {
                limits,
                connections: Mutex::default(),
                reaper: OnceLock::new(),
            }),
        }
    }

    /// A session of `endpoint`'s connection: an idle one, or one `open` opens when none
    /// is idle and the connection has room for another; waits for a session to come back
    /// otherwise. Not bounded in time: the caller puts a timeout around it.
    pub(super) async fn lease<F, Opened>(
        &self,
        endpoint: &McpEndpoint,
        open: F,
    ) -> Result<Lease, McpError>
    where
        F: FnOnce() -> Opened,
        Opened: Future<Output = Result<Session, McpError>>,
    {
        let owner = self.sessions_of(endpoint);
        let slot = Arc::clone(&owner.slots)
            .acquire_owned()
            .await
            .map_err(|_| McpError::Protocol("the session pool is closed".into()))?;
        let limits = self.shared.limits;
        let session = match owner.take_idle(limits.idle_timeout, limits.close_budget) {
            Some(session) => session,
            None => open().await?,
        };
        Ok(Lease {
            session: Some(session),
            owner,
            pool: Arc::downgrade(&self.shared),
            close_budget: limits.close_budget,
            _slot: slot,
        })
    }

    /// The sessions of `endpoint`'s connection, made anew when the connection's endpoint
    /// changed: the old idle ones are closed now, the old leased ones when given back.
    fn sessions_of(&self, endpoint: &McpEndpoint) -> Arc<ConnectionSessions> {
        let mut connections = self.shared.lock_connections();
        if let Some(sessions) = connections.get(&endpoint.connection_id)
            && sessions.endpoint == *endpoint
        {
            return Arc::clone(sessions);
        }
        let sessions = Arc::new(ConnectionSessions {
            endpoint: endpoint.clone(),
            slots: Arc::new(Semaphore::new(
                self.shared.limits.sessions_per_connection.max(1),
            )),
            idle: Mutex::default(),
        });
        if let Some(replaced) = connections.insert(endpoint.connection_id, Arc::clone(&sessions)) {
            replaced.close_idle(|_| true, self.shared.limits.close_budget);
        }
        sessions
    }
}

impl Lease {
    pub(super) fn session(&self) -> &Session {
        self.session
            .as_ref()
            .expect("a lease holds its session until it ends")
    }

    /// The call is over and its answer came: the session goes back to the pool if it is
    /// still usable and its connection's endpoint is still the current one.
    pub(super) fn give_back(mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let pool = self.pool.upgrade();
        let current = pool
            .as_ref()
            .is_some_and(|pool| pool.is_current(&self.owner));
        if current && session.is_usable() {
            self.owner.lock_idle().push(IdleSession {
                session,
                since: Instant::now(),
            });
            if let Some(pool) = pool {
                Shared::start_reaper(&pool);
            }
        } else {
            close_in_background(session, self.close_budget);
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            close_in_background(session, self.close_budget);
        }
    }
}

impl ConnectionSessions {
    /// The most recently used idle session that is still fresh and usable; stale ones met
    /// on the way are closed.
    fn take_idle(&self, idle_timeout: Duration, close_budget: Duration) -> Option<Session> {
        let mut idle = self.lock_idle();
        while let Some(candidate) = idle.pop() {
            if candidate.since.elapsed() < idle_timeout && candidate.session.is_usable() {
                return Some(candidate.session);
            }
            close_in_background(candidate.session, close_budget);
        }
        None
    }

    /// Closes the idle sessions `expired` picks.
    fn close_idle(&self, expired: impl Fn(&IdleSession) -> bool, budget: Duration) {
        let mut idle = self.lock_idle();
        let (closing, kept): (Vec<_>, Vec<_>) = idle.drain(..).partition(|idle| expired(idle));
        *idle = kept;
        drop(idle);
        for stale in closing {
            close_in_background(stale.session, budget);
        }
    }

    /// Whether the connection has no session at all, idle or leased.
    fn is_unused(&self, sessions_per_connection: usize) -> bool {
        self.lock_idle().is_empty()
            && self.slots.available_permits() == sessions_per_connection.max(1)
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<IdleSession>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Shared {
    fn lock_connections(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<ConnectionSessions>>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn is_current(&self, sessions: &Arc<ConnectionSessions>) -> bool {
        self.lock_connections()
            .get(&sessions.endpoint.connection_id)
            .is_some_and(|current| Arc::ptr_eq(current, sessions))
    }

    /// Starts, once, the task that closes sessions idle for too long and forgets
    /// connections without sessions. It ends when the pool is dropped.
    fn start_reaper(shared: &Arc<Shared>) {
        shared.reaper.get_or_init(|| {
            let pool = Arc::downgrade(shared);
            let every = (shared.limits.idle_timeout / 4).max(Duration::from_millis(50));
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    ticks.tick().await;
                    let Some(pool) = pool.upgrade() else {
                        return;
                    };
                    pool.reap();
                }
            });
        });
    }

    fn reap(&self) {
        let PoolLimits {
            sessions_per_connection,
            idle_timeout,
            close_budget,
        } = self.limits;
        let mut connections = self.lock_connections();
        for sessions in connections.values() {
            sessions.close_idle(
                |idle| idle.since.elapsed() >= idle_timeout || !idle.session.is_usable(),
                close_budget,
            );
        }
        connections.retain(|_, sessions| !sessions.is_unused(sessions_per_connection));
    }
}

/// Closes `session` without making anyone wait for it.
fn close_in_background(session: Session, budget: Duration) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(session.close(budget));
        }
        // No runtime (the process is ending): dropping the session ends its transport.
        Err(_) => drop(session),
    }
}
