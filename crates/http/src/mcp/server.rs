//! The MCP server an agent talks to: one per session (protocol versions with sessions) or
//! per request (2026-07-28, stateless), bound to the caller it first served.

// Logging (`logging/setLevel`) is deprecated from 2026-07-28 (SEP-2577) but part of the
// 2025 versions served.
#![allow(deprecated)]

use std::borrow::Cow;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use axum::http::request::Parts;
use feather_service::{AgentCall, ServiceError};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Extensions,
    Implementation, ListToolsResult, LoggingLevel, PaginatedRequestParams, ProtocolVersion,
    ResultType, ServerCapabilities, ServerConfig, SetLevelRequestParams,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::{AgentCaller, catalog, events, watch};
use crate::AppState;
use crate::error::ApiError;

/// The protocol versions served: two with sessions, and the stateless one.
const PROTOCOL_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2026_07_28,
];

const INSTRUCTIONS: &str = "The tools of this organization's connected integrations, as its \
     operators configured them. Some inputs are set by the operator and are not yours to \
     send; a tool's schema shows only what you may set.";

#[derive(Debug, Clone)]
pub(crate) struct AgentServer {
    state: AppState,
    /// Who this session serves: set by its first request, and every later one must come
    /// from the same organization and endpoint.
    bound: Arc<OnceLock<AgentCaller>>,
    /// The least severe upstream log level a session's agent is sent (`logging/setLevel`;
    /// every level until it sets one).
    log_level: Arc<Mutex<LoggingLevel>>,
    /// Cancelled when the session ends (its server is dropped): stops its watcher.
    ended: CancellationToken,
    _end_on_drop: Arc<DropGuard>,
}

impl AgentServer {
    pub(crate) fn new(state: AppState) -> AgentServer {
        let ended = CancellationToken::new();
        AgentServer {
            state,
            bound: Arc::default(),
            log_level: Arc::new(Mutex::new(LoggingLevel::Debug)),
            _end_on_drop: Arc::new(ended.clone().drop_guard()),
            ended,
        }
    }

    /// The caller of this request (authenticated by the endpoint's middleware), which
    /// must be the one the session was opened by.
    fn caller(&self, extensions: &Extensions) -> Result<&AgentCaller, McpError> {
        let caller = extensions
            .get::<Parts>()
            .and_then(|parts| parts.extensions.get::<AgentCaller>())
            .ok_or_else(|| McpError::internal_error("The request was not authenticated.", None))?;
        let bound = self.bound.get_or_init(|| caller.clone());
        if bound.serves_as(caller) {
            Ok(bound)
        } else {
            Err(McpError::invalid_request(
                "This session was opened for another organization or endpoint; open a new one.",
                None,
            ))
        }
    }

    /// Which of the upstream's notifications this call's agent is sent: progress under
    /// its token, and log messages from the level its session set (2025 versions) or its
    /// request opted in to (2026-07-28, where a request without a level gets none).
    fn wanted(&self, context: &RequestContext<RoleServer>) -> events::Wanted {
        let log_level = if context.protocol_version() == Some(ProtocolVersion::V_2026_07_28) {
            context.meta.log_level()
        } else {
            Some(
                *self
                    .log_level
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            )
        };
        events::Wanted {
            progress_token: context.meta.get_progress_token(),
            log_level,
        }
    }
}

impl ServerHandler for AgentServer {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_logging()
            .enable_tools()
            .enable_tool_list_changed()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(
                Implementation::new("feather-integrations", env!("CARGO_PKG_VERSION"))
                    .with_title("Feather integrations"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        let caller = self.caller(&context.extensions)?;
        let catalog = catalog::current(&self.state, caller.principal.organization_id)
            .await
            .map_err(service_failure)?;
        let cursor = request.and_then(|request| request.cursor);
        let page = catalog
            .page(caller.connection_slug.as_deref(), cursor.as_deref())
            .map_err(|catalog::InvalidCursor| {
                McpError::invalid_params(
                    "The cursor was not handed out by this server; list from the start.",
                    None,
                )
            })?;
        Ok(
            if context.protocol_version() == Some(ProtocolVersion::V_2026_07_28) {
                catalog::stateless(page)
            } else {
                page
            },
        )
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let caller = self.caller(&context.extensions)?;
        if let Err(ApiError::RateLimited {
            message,
            retry_after_secs,
        }) = self.state.rate_limits.admit_upstream(&caller.principal)
        {
            return Ok(CallToolResult::error(vec![ContentBlock::text(format!(
                "{message} Call again in {retry_after_secs} s."
            ))])
            .into());
        }
        let (events, forwarder) = events::pass_on(context.peer.clone(), self.wanted(&context));
        let call = async {
            tokio::select! {
                called = self.state.service.call_agent_tool(
                    caller.principal.organization_id,
                    caller.connection_slug.as_deref(),
                    &request.name,
                    request.arguments.unwrap_or_default(),
                    &events,
                ) => Some(called),
                () = context.ct.cancelled() => None,
            }
        };
        let called = match forwarder {
            Some(forwarder) => forwarder.alongside(call).await,
            None => call.await,
        };
        let Some(called) = called else {
            return Err(McpError::invalid_request("The call was cancelled.", None));
        };
        match called.map_err(service_failure)? {
            AgentCall::Result(result) => Ok(passed_on(result).into()),
            AgentCall::UnknownTool => Err(McpError::invalid_params(
                format!(
                    "Unknown tool: {:?}. tools/list shows the tools you can call.",
                    request.name
                ),
                None,
            )),
        }
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), McpError> {
        self.caller(&context.extensions)?;
        *self
            .log_level
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = request.level;
        Ok(())
    }

    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        let Ok(caller) = self.caller(&context.extensions) else {
            return;
        };
        tokio::spawn(watch::tell_of_tool_list_changes(
            self.state.clone(),
            caller.clone(),
            context.peer,
            self.ended.clone(),
        ));
    }
}

/// An upstream's result as this server answers it. The upstream may speak an older
/// version, whose results have no `resultType`: this one is complete (rmcp drops the
/// field again for a client of an older version).
fn passed_on(result: serde_json::Value) -> CallToolResult {
    let mut result = serde_json::from_value::<CallToolResult>(result).unwrap_or_else(|error| {
        CallToolResult::error(vec![ContentBlock::text(format!(
            "The tool's server answered with a result that could not be passed on: {error}."
        ))])
    });
    result.result_type = Some(ResultType::COMPLETE);
    result
}

/// This service failing (its store): a protocol error, as no tool result can be given.
fn service_failure(error: ServiceError) -> McpError {
    match error {
        ServiceError::Unavailable(detail) => {
            tracing::warn!(%detail, "store unavailable");
            McpError::internal_error(
                "The service is temporarily unavailable; retry shortly.",
                None,
            )
        }
        other => {
            tracing::error!(error = %other, "internal error");
            McpError::internal_error("An internal error occurred.", None)
        }
    }
}
