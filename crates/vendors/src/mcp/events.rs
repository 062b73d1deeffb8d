//! What an upstream tells during a call (progress and log notifications), passed on as
//! the call's [`CallEvents`].
//!
//! The events are taken off the transport, where messages arrive in the order the server
//! sent them, not in rmcp's handler, which runs each notification in a task of its own:
//! a notification sent before the result is then always passed on before the caller sees
//! the result, and a pooled session can hand the next call's events to the next caller.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use feather_service::vendors::{CallEvent, CallEvents};
use rmcp::RoleClient;
#[allow(deprecated)]
use rmcp::model::LoggingMessageNotificationParam;
use rmcp::model::{ProgressNotificationParam, ServerJsonRpcMessage, ServerNotification};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;

/// Who listens to a session's events now: the caller of the call in flight, or nobody.
#[derive(Debug, Clone, Default)]
pub(super) struct Listener(Arc<Mutex<CallEvents>>);

impl Listener {
    /// Events go to `events` until [`Listener::stop`].
    pub(super) fn listen(&self, events: &CallEvents) {
        *self.lock() = events.clone();
    }

    /// Nobody listens any more (the call is over): events are dropped.
    pub(super) fn stop(&self) {
        *self.lock() = CallEvents::none();
    }

    fn tell(&self, event: CallEvent) {
        self.lock().tell(event);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CallEvents> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A client transport that tells its [`Listener`] of the progress and log notifications
/// it receives, and hands every message on to rmcp unchanged.
pub(super) struct Reporting<T> {
    inner: T,
    listener: Listener,
}

impl<T> Reporting<T> {
    pub(super) fn new(inner: T, listener: Listener) -> Reporting<T> {
        Reporting { inner, listener }
    }
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for Reporting<T> {
    type Error = T::Error;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleClient>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleClient>> {
        let message = self.inner.receive().await;
        if let Some(ServerJsonRpcMessage::Notification(notification)) = &message
            && let Some(event) = call_event(&notification.notification)
        {
            self.listener.tell(event);
        }
        message
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

/// The event a server notification is, if it is one a caller is told of.
// Logging is deprecated from 2026-07-28 (SEP-2577), but it is what the versions
// upstreams speak with this client send.
#[allow(deprecated)]
fn call_event(notification: &ServerNotification) -> Option<CallEvent> {
    match notification {
        ServerNotification::ProgressNotification(progress) => {
            Some(progress_event(&progress.params))
        }
        ServerNotification::LoggingMessageNotification(message) => Some(log_event(&message.params)),
        _ => None,
    }
}

fn progress_event(progress: &ProgressNotificationParam) -> CallEvent {
    CallEvent::Progress {
        progress: progress.progress,
        total: progress.total,
        message: progress.message.clone(),
    }
}

#[allow(deprecated)]
fn log_event(message: &LoggingMessageNotificationParam) -> CallEvent {
    let level = serde_json::to_value(message.level)
        .ok()
        .and_then(|level| level.as_str().map(str::to_owned))
        .unwrap_or_else(|| "info".to_owned());
    CallEvent::Log {
        level,
        logger: message.logger.clone(),
        data: message.data.clone(),
    }
}
