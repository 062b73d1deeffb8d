//! An upstream's progress and log notifications during an agent's call, passed on to the
//! agent: progress when the agent's request carried a progress token (under that token),
//! log messages at or above the level the agent asked for.

// Logging is deprecated from 2026-07-28 (SEP-2577), and is what 2025-06-18 and 2025-11-25
// sessions use: its types are used here on purpose.
#![allow(deprecated)]

use feather_service::vendors::{CallEvent, CallEvents};
use rmcp::model::{
    LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken,
};
use rmcp::{Peer, RoleServer};
use tokio::sync::mpsc::Receiver;

/// Which of a call's events the agent gets.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Wanted {
    /// The agent's progress token; progress is passed on only with one.
    pub progress_token: Option<ProgressToken>,
    /// The least severe log level passed on; `None`: no log messages.
    pub log_level: Option<LoggingLevel>,
}

impl Wanted {
    fn anything(&self) -> bool {
        self.progress_token.is_some() || self.log_level.is_some()
    }
}

/// Where the call's events go, and what passes them on to `peer` when the agent wants
/// any of them.
pub(super) fn pass_on(peer: Peer<RoleServer>, wanted: Wanted) -> (CallEvents, Option<Forwarder>) {
    if !wanted.anything() {
        return (CallEvents::none(), None);
    }
    let (events, received) = CallEvents::channel();
    let forwarder = Forwarder {
        peer,
        wanted,
        received,
    };
    (events, Some(forwarder))
}

/// Passes a call's events on to its agent, in the call's own task (no task to start and
/// join for each call).
pub(super) struct Forwarder {
    peer: Peer<RoleServer>,
    wanted: Wanted,
    received: Receiver<CallEvent>,
}

impl Forwarder {
    /// Awaits `call`, passing on each event told meanwhile, and then those told before it
    /// ended: the agent has every notification before the call's result.
    pub(super) async fn alongside<T>(mut self, call: impl Future<Output = T>) -> T {
        let mut call = std::pin::pin!(call);
        let ended = loop {
            tokio::select! {
                biased;
                Some(event) = self.received.recv() => self.forward(event).await,
                ended = &mut call => break ended,
            }
        };
        while let Ok(event) = self.received.try_recv() {
            self.forward(event).await;
        }
        ended
    }

    async fn forward(&self, event: CallEvent) {
        // An agent that is gone just misses them.
        let _ = match notification(event, &self.wanted) {
            Some(Notification::Progress(progress)) => self.peer.notify_progress(progress).await,
            Some(Notification::Log(message)) => self.peer.notify_logging_message(message).await,
            None => Ok(()),
        };
    }
}

#[derive(Debug, PartialEq)]
enum Notification {
    Progress(ProgressNotificationParam),
    Log(LoggingMessageNotificationParam),
}

/// What the agent is sent for `event`, if anything.
fn notification(event: CallEvent, wanted: &Wanted) -> Option<Notification> {
    match event {
        CallEvent::Progress {
            progress,
            total,
            message,
        } => {
            let token = wanted.progress_token.clone()?;
            let mut notified = ProgressNotificationParam::new(token, progress);
            notified.total = total;
            notified.message = message;
            Some(Notification::Progress(notified))
        }
        CallEvent::Log {
            level,
            logger,
            data,
        } => {
            let threshold = wanted.log_level?;
            let level = serde_json::from_value(serde_json::Value::String(level))
                .unwrap_or(LoggingLevel::Info);
            if severity(level) < severity(threshold) {
                return None;
            }
            let mut notified = LoggingMessageNotificationParam::new(level, data);
            notified.logger = logger;
            Some(Notification::Log(notified))
        }
    }
}

/// The levels' order, least severe first (RFC 5424's, as MCP's logging uses).
fn severity(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

#[cfg(test)]
mod tests {
    use rmcp::model::NumberOrString;
    use serde_json::json;

    use super::*;

    fn token() -> ProgressToken {
        ProgressToken(NumberOrString::String("agent-7".into()))
    }

    fn log(level: &str) -> CallEvent {
        CallEvent::Log {
            level: level.to_owned(),
            logger: Some("upstream".to_owned()),
            data: json!("hello"),
        }
    }

    #[test]
    fn progress_goes_out_under_the_agents_token_and_only_with_one() {
        let event = CallEvent::Progress {
            progress: 50.0,
            total: Some(100.0),
            message: Some("half".to_owned()),
        };
        let wanted = Wanted {
            progress_token: Some(token()),
            log_level: None,
        };
        let mut expected = ProgressNotificationParam::new(token(), 50.0);
        expected.total = Some(100.0);
        expected.message = Some("half".to_owned());
        assert_eq!(
            notification(event.clone(), &wanted),
            Some(Notification::Progress(expected))
        );
        let without = Wanted {
            progress_token: None,
            ..wanted
        };
        assert_eq!(notification(event, &without), None);
    }

    #[test]
    fn log_messages_below_the_asked_level_or_unasked_for_are_not_sent() {
        let wanted = Wanted {
            progress_token: None,
            log_level: Some(LoggingLevel::Warning),
        };
        assert_eq!(notification(log("info"), &wanted), None);
        let mut expected =
            LoggingMessageNotificationParam::new(LoggingLevel::Error, json!("hello"));
        expected.logger = Some("upstream".to_owned());
        assert_eq!(
            notification(log("error"), &wanted),
            Some(Notification::Log(expected))
        );
        let unasked = Wanted {
            log_level: None,
            ..wanted
        };
        assert_eq!(notification(log("emergency"), &unasked), None);
    }
}
