//! One MCP session: opened over the endpoint's transport, used for one operation at a
//! time, closed when its owner (an operation or the session pool) is done with it.

use feather_domain::custom_mcp::RESERVED_HEADERS;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use feather_service::vendors::CallEvents;
use http::header::HeaderName;
use http::{HeaderMap, HeaderValue};
use rmcp::ClientHandler;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CancelledNotification, CancelledNotificationParam,
    ClientCapabilities, ClientConfig, ClientNotification, ClientRequest, Implementation,
    ListToolsRequest, PaginatedRequestParams, ProtocolVersion, RequestId, ServerResult,
};
use rmcp::service::{PeerRequestOptions, RoleClient, RunningService, ServiceExt};
use serde_json::Value;

use super::errors::{
    FailureSlot, WRONG_TRANSPORT_STATUSES, from_initialize, from_service, rejected_status,
};
use super::events::{Listener, Reporting};
use super::legacy_sse::LegacySse;
use super::{McpEndpoint, McpError, McpLimits, McpTransport, streamable};

/// Phase names for [`McpError::Timeout`] and error sentences.
pub(super) const OPENING: &str = "opening the session";
pub(super) const LISTING: &str = "listing tools";
pub(super) const CALLING: &str = "calling the tool";

/// An initialized session, where its transport records failures rmcp swallows, who
/// listens to its events, and the tool call it is waiting for.
pub(super) struct Session {
    service: RunningService<RoleClient, FeatherClient>,
    failure: FailureSlot,
    listener: Listener,
    /// Set while a call waits for its answer; still set when the wait was abandoned (a
    /// timeout, the caller cancelling), so that closing the session cancels it first.
    call_in_flight: Mutex<Option<RequestId>>,
}

impl Session {
    fn new(
        service: RunningService<RoleClient, FeatherClient>,
        failure: FailureSlot,
        listener: Listener,
    ) -> Session {
        Session {
            service,
            failure,
            listener,
            call_in_flight: Mutex::default(),
        }
    }

    /// Connects and performs the MCP handshake. Not bounded in time: the caller puts a
    /// timeout around it (each HTTP exchange is bounded by the client's own timeouts).
    pub(super) async fn open(
        http: &reqwest::Client,
        endpoint: &McpEndpoint,
        limits: &McpLimits,
    ) -> Result<Session, McpError> {
        check_headers(&endpoint.headers)?;
        match endpoint.transport {
            McpTransport::StreamableHttp => {
                open_streamable(http, endpoint, limits)
                    .await
                    .map_err(|failed| match failed.wrong_transport {
                        Some(status) => McpError::WrongTransport {
                            status,
                            tried: McpTransport::StreamableHttp,
                        },
                        None => failed.error,
                    })
            }
            McpTransport::Sse => open_legacy(http, endpoint, limits).await,
            McpTransport::Auto => match open_streamable(http, endpoint, limits).await {
                Ok(session) => Ok(session),
                Err(failed) if failed.wrong_transport.is_some() => {
                    tracing::debug!("Streamable HTTP refused; trying the legacy SSE transport");
                    open_legacy(http, endpoint, limits)
                        .await
                        .map_err(|error| match error {
                            McpError::WrongTransport { status, .. } => McpError::WrongTransport {
                                status,
                                tried: McpTransport::Auto,
                            },
                            other => other,
                        })
                }
                Err(failed) => Err(failed.error),
            },
        }
    }

    /// Whether the server declared the `tools` capability in its handshake: one without
    /// it has no tools to list (and may answer `tools/list` with "method not found").
    pub(super) fn offers_tools(&self) -> bool {
        self.service
            .peer()
            .peer_info()
            .is_some_and(|info| info.capabilities.tools.is_some())
    }

    /// The raw `result` of one `tools/list` request. Sent without rmcp's typed helper,
    /// which rejects a whole page for one tool it cannot type (see `tools`).
    pub(super) async fn list_tools_page(&self, cursor: Option<String>) -> Result<Value, McpError> {
        let params =
            cursor.map(|cursor| PaginatedRequestParams::default().with_cursor(Some(cursor)));
        let request = ListToolsRequest {
            params,
            ..ListToolsRequest::default()
        };
        let result = self
            .service
            .peer()
            .send_request(ClientRequest::ListToolsRequest(request))
            .await
            .map_err(|error| from_service(error, &self.failure, LISTING))?;
        result_json(result)
    }

    /// Whether the session can serve another operation: its transport is open and has
    /// seen no failure.
    pub(super) fn is_usable(&self) -> bool {
        !self.service.peer().is_transport_closed() && !self.failure.is_set()
    }

    /// Calls a tool; its result as MCP JSON. What the server tells while the call runs
    /// goes to `events`. If the future is dropped before the answer (a timeout, the caller
    /// cancelling), the call stays in flight until [`Session::close`] cancels it.
    pub(super) async fn call_tool(
        &self,
        name: &str,
        arguments: serde_json::Map<String, Value>,
        events: &CallEvents,
    ) -> Result<Value, McpError> {
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        self.listener.listen(events);
        let answered = self.send_and_wait(request).await;
        self.listener.stop();
        match answered? {
            ServerResult::CallToolResult(result) => serde_json::to_value(result)
                .map_err(|_| McpError::Protocol("its tool result cannot be represented".into())),
            // Passed on as sent: the caller reads a tool result's shape itself.
            other => result_json(other),
        }
    }

    /// Sends `request` and waits for its answer, keeping its id while it is in flight.
    async fn send_and_wait(&self, request: ClientRequest) -> Result<ServerResult, McpError> {
        let sent = self
            .service
            .peer()
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
            .map_err(|error| from_service(error, &self.failure, CALLING))?;
        *self.in_flight() = Some(sent.id.clone());
        let answered = sent.await_response().await;
        *self.in_flight() = None;
        answered.map_err(|error| from_service(error, &self.failure, CALLING))
    }

    /// Ends the session (Streamable HTTP deletes it on the server), first cancelling a
    /// call whose answer nobody waits for any more, waiting at most `budget` for each:
    /// the operation's outcome is known, so a slow goodbye must not delay anything.
    pub(super) async fn close(mut self, budget: Duration) {
        self.listener.stop();
        let abandoned = self.in_flight().take();
        if let Some(request_id) = abandoned {
            let cancelled = CancelledNotification::new(CancelledNotificationParam::new(
                Some(request_id),
                Some("The caller stopped waiting for the result.".into()),
            ));
            let notification = ClientNotification::CancelledNotification(cancelled);
            let sent = self.service.peer().send_notification(notification);
            if tokio::time::timeout(budget, sent).await.is_err() {
                tracing::debug!("the MCP server did not take the cancellation in time");
            }
        }
        match self.service.close_with_timeout(budget).await {
            Ok(Some(_)) => {}
            Ok(None) => tracing::debug!("the MCP session did not close in time"),
            Err(error) => tracing::warn!(%error, "closing the MCP session failed"),
        }
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, Option<RequestId>> {
        self.call_in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// This service as an MCP client: its identity, and no capabilities (it answers no
/// server requests); notifications are read off the transport (see `events`).
#[derive(Debug, Clone, Copy, Default)]
struct FeatherClient;

impl ClientHandler for FeatherClient {
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
}

/// A failed Streamable HTTP handshake, and the status of the refusal when it is one that
/// suggests the server speaks the other transport.
struct StreamableFailure {
    error: McpError,
    wrong_transport: Option<u16>,
}

async fn open_streamable(
    http: &reqwest::Client,
    endpoint: &McpEndpoint,
    limits: &McpLimits,
) -> Result<Session, StreamableFailure> {
    let failure = FailureSlot::default();
    let listener = Listener::default();
    let headers = header_map(&endpoint.headers);
    let transport = streamable::transport(
        http.clone(),
        &endpoint.url,
        headers,
        limits,
        failure.clone(),
    );
    match FeatherClient
        .serve(Reporting::new(transport, listener.clone()))
        .await
    {
        Ok(service) => Ok(Session::new(service, failure, listener)),
        Err(error) => {
            let wrong_transport =
                rejected_status(&error).filter(|status| WRONG_TRANSPORT_STATUSES.contains(status));
            Err(StreamableFailure {
                error: from_initialize(error, &failure, OPENING),
                wrong_transport,
            })
        }
    }
}

/// Opens the legacy transport on the endpoint's URL (the event stream's).
async fn open_legacy(
    http: &reqwest::Client,
    endpoint: &McpEndpoint,
    limits: &McpLimits,
) -> Result<Session, McpError> {
    let failure = FailureSlot::default();
    let listener = Listener::default();
    let transport = LegacySse::connect(
        http.clone(),
        &endpoint.url,
        endpoint.headers.clone(),
        limits,
        failure.clone(),
    )
    .await?;
    let service = FeatherClient
        .serve(Reporting::new(transport, listener.clone()))
        .await
        .map_err(|error| from_initialize(error, &failure, OPENING))?;
    Ok(Session::new(service, failure, listener))
}

fn check_headers(headers: &HeaderMap) -> Result<(), McpError> {
    for name in headers.keys() {
        // Header names are lowercase in an `http::HeaderMap`, as in the domain's list.
        if RESERVED_HEADERS.contains(&name.as_str()) {
            return Err(McpError::InvalidHeader(format!(
                "`{name}` is set by the MCP transport itself"
            )));
        }
        if headers.get_all(name).iter().nth(1).is_some() {
            return Err(McpError::InvalidHeader(format!(
                "`{name}` is given more than once"
            )));
        }
    }
    Ok(())
}

fn header_map(headers: &HeaderMap) -> HashMap<HeaderName, HeaderValue> {
    headers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// A result as the JSON the server sent. rmcp has already typed it (or kept it as
/// `CustomResult`); serializing gives back the wire form either way.
fn result_json(result: ServerResult) -> Result<Value, McpError> {
    serde_json::to_value(result)
        .map_err(|_| McpError::Protocol("its answer cannot be represented as JSON".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn credentials_and_custom_headers_pass() {
        let ok = headers(&[("authorization", "Bearer s3cret"), ("x-api-key", "k")]);
        assert_eq!(check_headers(&ok), Ok(()));
    }

    #[test]
    fn transport_headers_and_repeats_are_refused_by_name_only() {
        for name in [
            "accept",
            "content-type",
            "mcp-session-id",
            "mcp-protocol-version",
            "host",
        ] {
            let error = check_headers(&headers(&[(name, "s3cret")])).expect_err(name);
            assert!(error.to_string().contains(name), "{error}");
            assert!(!error.to_string().contains("s3cret"), "{error}");
        }
        let repeated = headers(&[("x-api-key", "s3cret"), ("x-api-key", "other")]);
        let error = check_headers(&repeated).expect_err("repeated header");
        assert!(error.to_string().contains("more than once"), "{error}");
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }
}
