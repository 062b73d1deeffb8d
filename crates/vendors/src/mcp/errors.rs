//! [`McpError`] and the translation of rmcp, reqwest and SSE failures into it.
//!
//! Every message is one sentence built here from the error's *kind*: upstream bodies,
//! URLs (which may carry API keys in the query) and header values never reach it.

use std::error::Error as StdError;
use std::sync::{Arc, Mutex, PoisonError};

use feather_domain::catalog::CatalogError;
use rmcp::service::{ClientInitializeError, ServiceError};
use rmcp::transport::DynamicTransportError;
use rmcp::transport::streamable_http_client::StreamableHttpError;

use super::McpTransport;
use crate::guard::GuardError;

/// Statuses with which a server refuses the handshake of a transport it does not speak
/// (the MCP backwards-compatibility guidance names them for Streamable HTTP; legacy-only
/// servers answer a Streamable POST with them, and Streamable-only servers a legacy GET).
pub(super) const WRONG_TRANSPORT_STATUSES: [u16; 3] = [400, 404, 405];

/// Why talking to an MCP server failed. Display is one human sentence that never contains
/// a credential, a header value or the server URL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum McpError {
    /// The server's address is not allowed by the upstream policy (SSRF guard).
    #[error("{0}")]
    Refused(GuardError),
    /// The server answered 401 or 403: the credentials are missing, wrong or insufficient.
    #[error(
        "The MCP server rejected the credentials (HTTP {status}); update the connection's \
         authentication."
    )]
    Unauthorized {
        /// The HTTP status, 401 or 403.
        status: u16,
    },
    /// The server refused the token for its scopes (a 403 whose challenge names the
    /// scopes it wants).
    #[error("{}", insufficient_scope_message(.required))]
    InsufficientScope { required: Vec<String> },
    /// The server did not answer within the configured time.
    #[error("The MCP server did not answer in time while {during}.")]
    Timeout {
        /// What the client was doing, e.g. "listing tools".
        during: &'static str,
    },
    /// The server could not be reached, or failed before giving an MCP answer
    /// (connection refused or broken, HTTP 5xx, 429).
    #[error("The MCP server is unavailable: {0}.")]
    Unreachable(String),
    /// The server answered, but not as MCP requires (invalid JSON-RPC, wrong content
    /// type, unexpected status, stream closed mid-answer, endless pagination, …).
    #[error("The MCP server's answer could not be used: {0}.")]
    Protocol(String),
    /// The server answered the request with a JSON-RPC error: its own refusal (an
    /// unknown tool, invalid arguments, a failure inside the tool), with its code and
    /// message (control characters removed, at most 200 characters).
    #[error("The MCP server answered with JSON-RPC error {code} while {during}: {message}.")]
    Rpc {
        during: &'static str,
        code: i32,
        message: String,
    },
    /// One answer of the server exceeded the configured size limit.
    #[error("The MCP server sent an answer larger than the allowed size.")]
    TooLarge,
    /// The server lists more tools than the configured limit.
    #[error("The MCP server lists more than {limit} tools, the most a connection may have.")]
    TooManyTools {
        /// The configured maximum.
        limit: usize,
    },
    /// The server's catalog breaks a limit that is checked while it is being listed
    /// (its total size), so that listing stops there.
    #[error("{0}")]
    Catalog(CatalogError),
    /// The server refused the handshake with 400, 404 or 405, as servers answer a
    /// transport they do not speak (or a URL that is no MCP endpoint).
    #[error("{}", wrong_transport_sentence(*.status, *.tried))]
    WrongTransport {
        /// The HTTP status of the refusal.
        status: u16,
        /// The transport the connection is configured with.
        tried: McpTransport,
    },
    /// A header configured for the server cannot be sent; holds the reason (names only).
    #[error("A header configured for the MCP server cannot be used: {0}.")]
    InvalidHeader(String),
}

impl McpError {
    /// Whether the server refused the credentials (HTTP 401/403): the caller marks the
    /// connection `error` rather than retrying.
    pub fn is_unauthorized(&self) -> bool {
        matches!(
            self,
            McpError::Unauthorized { .. } | McpError::InsufficientScope { .. }
        )
    }
}

/// The first failure a transport saw that rmcp itself does not report.
///
/// rmcp turns a broken response stream (an oversized event, a connection reset, an
/// unparsable message on the legacy stream) into a bare "transport closed"; the transports
/// record the real reason here so the caller gets it instead.
#[derive(Debug, Clone, Default)]
pub(super) struct FailureSlot(Arc<Mutex<Option<McpError>>>);

impl FailureSlot {
    /// Keeps `error` unless an earlier failure is already recorded (the first one is the
    /// cause; later ones are consequences).
    pub(super) fn record(&self, error: McpError) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(error);
        }
    }

    /// Whether a failure is recorded: the transport is broken.
    pub(super) fn is_set(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// The recorded failure, if any, as a failure of the operation `during`.
    pub(super) fn recorded(&self, during: &'static str) -> Option<McpError> {
        let recorded = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        recorded.map(|error| in_phase(error, during))
    }
}

/// The HTTP status a failed `initialize` POST was answered with, when the failure is a
/// plain HTTP rejection (used to decide the fallback to the legacy SSE transport).
pub(super) fn rejected_status(error: &ClientInitializeError) -> Option<u16> {
    let ClientInitializeError::TransportError { error, .. } = error else {
        return None;
    };
    match error
        .error
        .downcast_ref::<StreamableHttpError<reqwest::Error>>()?
    {
        StreamableHttpError::UnexpectedServerResponse(message) => status_in_message(message),
        _ => None,
    }
}

/// Translates a failed MCP handshake.
pub(super) fn from_initialize(
    error: ClientInitializeError,
    failure: &FailureSlot,
    during: &'static str,
) -> McpError {
    match error {
        ClientInitializeError::TransportError { error, .. } => {
            from_transport(&error, failure, during)
        }
        ClientInitializeError::ConnectionClosed(_) => {
            failure.recorded(during).unwrap_or_else(|| {
                McpError::Protocol("it closed the connection during the handshake".into())
            })
        }
        ClientInitializeError::JsonRpcError(data) => McpError::Rpc {
            during,
            code: data.code.0,
            message: printable(&data.message),
        },
        ClientInitializeError::NoCompatibleProtocolVersion { .. } => {
            McpError::Protocol("it supports no MCP protocol version this service speaks".into())
        }
        _ => McpError::Protocol("its answer to the handshake is not a valid MCP answer".into()),
    }
}

/// Translates a failed request on an open session.
pub(super) fn from_service(
    error: ServiceError,
    failure: &FailureSlot,
    during: &'static str,
) -> McpError {
    match error {
        ServiceError::TransportSend(error) => from_transport(&error, failure, during),
        ServiceError::TransportClosed => failure.recorded(during).unwrap_or_else(|| {
            McpError::Protocol(format!("it closed the connection while {during}"))
        }),
        ServiceError::McpError(data) => McpError::Rpc {
            during,
            code: data.code.0,
            message: printable(&data.message),
        },
        ServiceError::Timeout { .. } => McpError::Timeout { during },
        ServiceError::UnexpectedResponse => McpError::Protocol(format!(
            "its answer while {during} is not the expected result"
        )),
        _ => McpError::Protocol(format!("the session failed while {during}")),
    }
}

/// Translates a transport error: ours (the legacy SSE transport fails with [`McpError`])
/// or rmcp's Streamable HTTP one.
fn from_transport(
    error: &DynamicTransportError,
    failure: &FailureSlot,
    during: &'static str,
) -> McpError {
    if let Some(ours) = error.error.downcast_ref::<McpError>() {
        return in_phase(ours.clone(), during);
    }
    if let Some(streamable) = error
        .error
        .downcast_ref::<StreamableHttpError<reqwest::Error>>()
    {
        return from_streamable(streamable, during);
    }
    failure
        .recorded(during)
        .unwrap_or_else(|| McpError::Protocol(format!("the transport failed while {during}")))
}

/// A transport's timeout (an HTTP read or connect timeout) happened while the operation
/// `during` waited on it: say so, as the operation's own deadline would have.
fn in_phase(error: McpError, during: &'static str) -> McpError {
    match error {
        McpError::Timeout { .. } => McpError::Timeout { during },
        other => other,
    }
}

/// Translates rmcp's Streamable HTTP client error.
fn from_streamable(error: &StreamableHttpError<reqwest::Error>, during: &'static str) -> McpError {
    match error {
        StreamableHttpError::AuthRequired(_) => McpError::Unauthorized { status: 401 },
        // rmcp reads any 403 with a challenge so; it is a step-up only when the challenge
        // names the scopes to ask for.
        StreamableHttpError::InsufficientScope(challenge) => match &challenge.required_scope {
            Some(scopes) => McpError::InsufficientScope {
                required: scopes.split_ascii_whitespace().map(str::to_owned).collect(),
            },
            None => McpError::Unauthorized { status: 403 },
        },
        // rmcp folds 401/403 without a challenge, other 4xx and 3xx into this variant,
        // keeping only "HTTP <status>: <body>" as text; the status is all we take from it.
        StreamableHttpError::UnexpectedServerResponse(message) => {
            match status_in_message(message) {
                Some(status) => from_status(status),
                None => McpError::Protocol(format!("its answer while {during} is not JSON-RPC")),
            }
        }
        StreamableHttpError::HttpStatus(status) => from_status(status.status),
        StreamableHttpError::UnexpectedContentType(content_type) => {
            McpError::Protocol(match content_type {
                Some(content_type) => format!(
                    "it answered with content type {:?} instead of JSON or an event stream",
                    truncate(content_type, 64)
                ),
                None => "it answered without a content type".to_owned(),
            })
        }
        StreamableHttpError::ResponseBodyTooLarge { .. } => McpError::TooLarge,
        StreamableHttpError::Client(error) => from_reqwest(error, during),
        StreamableHttpError::Sse(error) => from_sse(error, during),
        StreamableHttpError::Deserialize(_) => {
            McpError::Protocol(format!("its answer while {during} is not valid JSON-RPC"))
        }
        StreamableHttpError::SessionExpired => {
            McpError::Protocol(format!("it ended the session while {during}"))
        }
        StreamableHttpError::UnexpectedEndOfStream => {
            McpError::Protocol(format!("it closed the stream while {during}"))
        }
        StreamableHttpError::Io(_) => {
            McpError::Unreachable(format!("the connection failed while {during}"))
        }
        // The rest are rmcp-internal states whose Display carries no upstream data.
        other => McpError::Protocol(format!("the transport failed while {during} ({other})")),
    }
}

/// Translates a failed HTTP exchange.
pub(super) fn from_reqwest(error: &reqwest::Error, during: &'static str) -> McpError {
    // The policy's resolver and redirect check fail requests with a GuardError inside.
    if let Some(refusal) = GuardError::in_chain(error) {
        return McpError::Refused(refusal.clone());
    }
    if error.is_timeout() {
        return McpError::Timeout { during };
    }
    if error.is_redirect() {
        return McpError::Protocol("it redirected too many times".into());
    }
    // reqwest's own Display names the URL (which may hold a key in its query): describe
    // the failure by its innermost cause instead, e.g. "Connection refused (os error 111)".
    let cause = root_cause(error);
    if error.is_connect() {
        McpError::Unreachable(format!("could not connect ({cause})"))
    } else {
        McpError::Unreachable(format!("the connection failed while {during} ({cause})"))
    }
}

/// Translates a broken event stream.
pub(super) fn from_sse(error: &sse_stream::Error, during: &'static str) -> McpError {
    match error {
        sse_stream::Error::Body(body) => {
            if is_event_too_large(body.as_ref()) {
                return McpError::TooLarge;
            }
            if let Some(reqwest) = find_in_chain::<reqwest::Error>(body.as_ref()) {
                return from_reqwest(reqwest, during);
            }
            if find_in_chain::<std::io::Error>(body.as_ref())
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            {
                return McpError::Timeout { during };
            }
            McpError::Unreachable(format!("the connection broke while {during}"))
        }
        _ => McpError::Protocol(format!("its event stream is malformed ({error})")),
    }
}

/// Whether a body error is an event-size limit: ours (legacy SSE) or rmcp's, whose error
/// type is private, so it is recognized by its message (pinned by a test).
fn is_event_too_large(error: &(dyn StdError + 'static)) -> bool {
    find_in_chain::<super::sse_limit::EventTooLarge>(error).is_some()
        || error
            .to_string()
            .starts_with("SSE event exceeded the maximum size")
}

/// "JSON-RPC error -32602 (Unknown tool: x)": the server's own words help the operator,
/// so they are kept, shortened and without control characters.
/// A server's message fit for a sentence: no control characters, at most 200 characters.
fn printable(message: &str) -> String {
    message
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// The refusal, and what to configure instead: the transport defaults to `sse`, so a
/// Streamable HTTP server connected without one lands here.
fn wrong_transport_sentence(status: u16, tried: McpTransport) -> String {
    let what = match tried {
        McpTransport::Sse => {
            "to the legacy HTTP+SSE transport (the default when none is given); a server \
             that speaks Streamable HTTP answers so: connect with transport \"streamable_http\", \
             or \"auto\" to try both"
        }
        McpTransport::StreamableHttp => {
            "to the Streamable HTTP transport; a server that only speaks the legacy HTTP+SSE \
             transport answers so: connect with transport \"sse\" (with the event stream's \
             URL), or \"auto\" to try both"
        }
        McpTransport::Auto => {
            "to both transports; check that the URL is the server's MCP endpoint (often \
             ending in /mcp, or /sse for the legacy transport)"
        }
    };
    format!("The MCP server refused the connection with HTTP {status} {what}.")
}

fn insufficient_scope_message(required: &[String]) -> String {
    format!(
        "The MCP server needs scopes the connection was not granted ({}); re-authorize the \
         connection to grant them.",
        required.join(" ")
    )
}

/// Translates an HTTP status that is not success.
pub(super) fn from_status(status: u16) -> McpError {
    match status {
        401 | 403 => McpError::Unauthorized { status },
        429 => McpError::Unreachable("it is rate limiting requests (HTTP 429)".into()),
        500..=599 => McpError::Unreachable(format!("it failed with HTTP {status}")),
        _ => McpError::Protocol(format!("it answered HTTP {status}")),
    }
}

/// The status in rmcp's "HTTP 404 Not Found: …" messages.
fn status_in_message(message: &str) -> Option<u16> {
    let rest = message.strip_prefix("HTTP ")?;
    let digits = rest.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn find_in_chain<'a, T: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(found) = error.downcast_ref::<T>() {
            return Some(found);
        }
        current = error.source();
    }
    None
}

fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    truncate(&current.to_string(), 200)
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_read_from_rmcp_messages() {
        assert_eq!(status_in_message("HTTP 404 Not Found: nope"), Some(404));
        assert_eq!(status_in_message("HTTP 401 Unauthorized: "), Some(401));
        assert_eq!(status_in_message("could not parse JSON response"), None);
        assert_eq!(status_in_message("HTTP 4"), None);
    }

    #[test]
    fn statuses_map_to_kinds() {
        assert_eq!(from_status(401), McpError::Unauthorized { status: 401 });
        assert_eq!(from_status(403), McpError::Unauthorized { status: 403 });
        assert!(matches!(from_status(503), McpError::Unreachable(_)));
        assert!(matches!(from_status(429), McpError::Unreachable(_)));
        assert!(matches!(from_status(404), McpError::Protocol(_)));
    }

    #[test]
    fn messages_are_sentences() {
        let errors = [
            McpError::Unauthorized { status: 401 },
            McpError::Timeout {
                during: "listing tools",
            },
            McpError::Unreachable("could not connect (Connection refused)".into()),
            McpError::Protocol("it answered HTTP 404".into()),
            McpError::TooLarge,
            McpError::TooManyTools { limit: 10 },
            McpError::InvalidHeader("`accept` is set by the transport".into()),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.starts_with("The MCP server") || message.starts_with("A header"));
            assert!(message.ends_with('.'), "{message}");
            assert!(!message.contains(".."), "{message}");
        }
        assert!(McpError::Unauthorized { status: 403 }.is_unauthorized());
        assert!(!McpError::TooLarge.is_unauthorized());
    }
}
