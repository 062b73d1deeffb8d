//! The MCP client's handler: the client's identity, and the progress and log
//! notifications an upstream sends during a call, passed on as the call's events.

use feather_service::vendors::{CallEvent, CallEvents};
#[allow(deprecated)]
use rmcp::model::LoggingMessageNotificationParam;
use rmcp::model::{
    ClientCapabilities, ClientConfig, Implementation, ProgressNotificationParam, ProtocolVersion,
};
use rmcp::service::NotificationContext;
use rmcp::{ClientHandler, RoleClient};

/// The client side of one upstream session.
#[derive(Debug, Clone)]
pub(super) struct EventForwarder {
    events: CallEvents,
}

impl EventForwarder {
    /// A session whose notifications go to `events`.
    pub(super) fn to(events: CallEvents) -> EventForwarder {
        EventForwarder { events }
    }
}

impl ClientHandler for EventForwarder {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("feather-integrations", env!("CARGO_PKG_VERSION")),
        )
        // The newest version every current server SDK speaks with the classic
        // initialize handshake; rmcp's own default would start with the newer discovery
        // lifecycle.
        .with_protocol_version(ProtocolVersion::V_2025_06_18)
    }

    async fn on_progress(
        &self,
        progress: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.events.tell(CallEvent::Progress {
            progress: progress.progress,
            total: progress.total,
            message: progress.message,
        });
    }

    // Logging is deprecated from 2026-07-28 (SEP-2577), but it is what the versions
    // upstreams speak with this client send.
    #[allow(deprecated)]
    async fn on_logging_message(
        &self,
        message: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let level = serde_json::to_value(message.level)
            .ok()
            .and_then(|level| level.as_str().map(str::to_owned))
            .unwrap_or_else(|| "info".to_owned());
        self.events.tell(CallEvent::Log {
            level,
            logger: message.logger,
            data: message.data,
        });
    }
}
