//! One MCP session: opened over the endpoint's transport, used for one operation, closed.

use feather_domain::custom_mcp::RESERVED_HEADERS;
use std::collections::HashMap;
use std::time::Duration;

use feather_service::vendors::CallEvents;
use http::header::HeaderName;
use http::{HeaderMap, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, ClientRequest, ListToolsRequest, NumberOrString, PaginatedRequestParams,
    ProgressToken, RequestMetaObject, ServerResult,
};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use serde_json::Value;

use super::errors::{
    FailureSlot, WRONG_TRANSPORT_STATUSES, from_initialize, from_service, rejected_status,
};
use super::events::EventForwarder;
use super::legacy_sse::LegacySse;
use super::{McpEndpoint, McpError, McpLimits, McpTransport, streamable};

/// Phase names for [`McpError::Timeout`] and error sentences.
pub(super) const OPENING: &str = "opening the session";
pub(super) const LISTING: &str = "listing tools";
pub(super) const CALLING: &str = "calling the tool";

/// An initialized session and where its transport records failures rmcp swallows.
pub(super) struct Session {
    service: RunningService<RoleClient, EventForwarder>,
    failure: FailureSlot,
}

impl Session {
    /// Connects and performs the MCP handshake. Not bounded in time: the caller puts a
    /// timeout around it (each HTTP exchange is bounded by the client's own timeouts).
    pub(super) async fn open(
        http: &reqwest::Client,
        endpoint: &McpEndpoint,
        limits: &McpLimits,
        events: &CallEvents,
    ) -> Result<Session, McpError> {
        check_headers(&endpoint.headers)?;
        match endpoint.transport {
            McpTransport::StreamableHttp => open_streamable(http, endpoint, limits, events)
                .await
                .map_err(|failed| match failed.wrong_transport {
                    Some(status) => McpError::WrongTransport {
                        status,
                        tried: McpTransport::StreamableHttp,
                    },
                    None => failed.error,
                }),
            McpTransport::Sse => open_legacy(http, endpoint, limits, events).await,
            McpTransport::Auto => match open_streamable(http, endpoint, limits, events).await {
                Ok(session) => Ok(session),
                Err(failed) if failed.wrong_transport.is_some() => {
                    tracing::debug!("Streamable HTTP refused; trying the legacy SSE transport");
                    open_legacy(http, endpoint, limits, events)
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

    /// Calls a tool; its result as MCP JSON. Dropping the future (a timeout) sends the
    /// server `notifications/cancelled`.
    /// Calls the tool; with `progress`, asks the upstream for progress notifications
    /// (which the session's handler passes on).
    pub(super) async fn call_tool(
        &self,
        name: &str,
        arguments: serde_json::Map<String, Value>,
        progress: bool,
    ) -> Result<Value, McpError> {
        let mut params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        if progress {
            // One call per session: any token is this call's.
            let token = ProgressToken(NumberOrString::String("feather-call".into()));
            params.meta = Some(RequestMetaObject::with_progress_token(token));
        }
        let result = self
            .service
            .peer()
            .call_tool(params)
            .await
            .map_err(|error| from_service(error, &self.failure, CALLING))?;
        serde_json::to_value(result)
            .map_err(|_| McpError::Protocol("its tool result cannot be represented".into()))
    }

    /// Ends the session (Streamable HTTP deletes it on the server), waiting at most
    /// `budget`: the operation's outcome is known, so a slow goodbye must not delay it.
    pub(super) async fn close(mut self, budget: Duration) {
        match self.service.close_with_timeout(budget).await {
            Ok(Some(_)) => {}
            Ok(None) => tracing::debug!("the MCP session did not close in time"),
            Err(error) => tracing::warn!(%error, "closing the MCP session failed"),
        }
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
    events: &CallEvents,
) -> Result<Session, StreamableFailure> {
    let failure = FailureSlot::default();
    let headers = header_map(&endpoint.headers);
    let transport = streamable::transport(
        http.clone(),
        &endpoint.url,
        headers,
        limits,
        failure.clone(),
    );
    match EventForwarder::to(events.clone()).serve(transport).await {
        Ok(service) => Ok(Session { service, failure }),
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
    events: &CallEvents,
) -> Result<Session, McpError> {
    let failure = FailureSlot::default();
    let transport = LegacySse::connect(
        http.clone(),
        &endpoint.url,
        endpoint.headers.clone(),
        limits,
        failure.clone(),
    )
    .await?;
    let service = EventForwarder::to(events.clone())
        .serve(transport)
        .await
        .map_err(|error| from_initialize(error, &failure, OPENING))?;
    Ok(Session { service, failure })
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
