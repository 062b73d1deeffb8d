//! The Streamable HTTP transport: rmcp's client, configured so that every failure ends.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use http::{HeaderName, HeaderValue};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::common::client_side_sse::ExponentialBackoff;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse, StreamableHttpResponseLimits,
};
use sse_stream::Sse;

use super::McpLimits;
use super::errors::{FailureSlot, from_sse};

/// A Streamable HTTP transport to `url` sending `headers` with every request.
pub(super) fn transport(
    http: reqwest::Client,
    url: &url::Url,
    headers: HashMap<HeaderName, HeaderValue>,
    limits: &McpLimits,
    failure: FailureSlot,
) -> StreamableHttpClientTransport<ObservedHttp> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
        .custom_headers(headers)
        .max_json_response_size(limits.max_response_bytes)
        .max_sse_event_size(limits.max_response_bytes)
        // A pooled session may be forgotten by its server (a restart, its own idle
        // expiry): on a 404 for its id, rmcp initializes a new session and sends the
        // refused request again, which the server never processed.
        .reinit_on_expired_session(true);
    // rmcp's default reconnects a broken event stream forever with growing delays, so a
    // dead server would hang the call instead of failing it.
    let mut no_retry = ExponentialBackoff::default();
    no_retry.max_times = Some(0);
    config.retry_config = Arc::new(no_retry);
    StreamableHttpClientTransport::with_client(ObservedHttp { http, failure }, config)
}

/// rmcp's reqwest client, watching the event streams of POST answers.
///
/// When such a stream breaks (an event over the size cap, a reset connection), rmcp only
/// tells the caller "transport closed"; this wrapper records the real reason first.
#[derive(Clone)]
pub(super) struct ObservedHttp {
    http: reqwest::Client,
    failure: FailureSlot,
}

impl ObservedHttp {
    fn observe(&self, response: StreamableHttpPostResponse) -> StreamableHttpPostResponse {
        match response {
            StreamableHttpPostResponse::Sse(stream, session_id) => {
                StreamableHttpPostResponse::Sse(self.observe_stream(stream), session_id)
            }
            other => other,
        }
    }

    fn observe_stream(
        &self,
        stream: BoxStream<'static, Result<Sse, SseError>>,
    ) -> BoxStream<'static, Result<Sse, SseError>> {
        let failure = self.failure.clone();
        stream
            .inspect(move |event| {
                if let Err(error) = event {
                    failure.record(from_sse(error, "reading its answer"));
                }
            })
            .boxed()
    }
}

// Every method delegates to reqwest's implementation, which enforces the size limits;
// the `_with_` variants must be forwarded too, or rmcp's defaults would drop the limits.
impl StreamableHttpClient for ObservedHttp {
    type Error = reqwest::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        let response = self
            .http
            .post_message(uri, message, session_id, auth_header, custom_headers)
            .await
            .map_err(without_upstream_text)?;
        Ok(self.observe(response))
    }

    async fn post_message_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        let response = self
            .http
            .post_message_with_max_sse_event_size(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
            .map_err(without_upstream_text)?;
        Ok(self.observe(response))
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<reqwest::Error>> {
        let response = self
            .http
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                limits,
            )
            .await
            .map_err(without_upstream_text)?;
        Ok(self.observe(response))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<reqwest::Error>> {
        self.http
            .delete_session(uri, session_id, auth_header, custom_headers)
            .await
            .map_err(without_upstream_text)
    }

    // The standalone GET stream (server-initiated messages) is not observed: rmcp only
    // logs its failures and the session goes on, so they are no operation's cause.
    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<reqwest::Error>>
    {
        self.http
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
            .await
            .map_err(without_upstream_text)
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<reqwest::Error>>
    {
        self.http
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await
            .map_err(without_upstream_text)
    }
}

/// The error without what the upstream wrote into it. rmcp puts an error response's body
/// (and a `WWW-Authenticate` value) into its errors and logs them; a server that echoes
/// the request's headers in its error page would put our credentials into a log line. The
/// status line is kept: it is what the error classification reads.
fn without_upstream_text(
    error: StreamableHttpError<reqwest::Error>,
) -> StreamableHttpError<reqwest::Error> {
    match error {
        StreamableHttpError::UnexpectedServerResponse(message) => {
            // rmcp writes `HTTP <status>: <body>` or `<what went wrong>: <details>`.
            let head = message.split_once(": ").map_or(&*message, |(head, _)| head);
            StreamableHttpError::UnexpectedServerResponse(head.to_owned().into())
        }
        StreamableHttpError::AuthRequired(mut challenge) => {
            challenge.www_authenticate_header.clear();
            StreamableHttpError::AuthRequired(challenge)
        }
        StreamableHttpError::InsufficientScope(mut challenge) => {
            challenge.www_authenticate_header.clear();
            StreamableHttpError::InsufficientScope(challenge)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_keeps_its_status_line_and_loses_the_upstream_body() {
        let scrubbed = without_upstream_text(StreamableHttpError::UnexpectedServerResponse(
            "HTTP 401 Unauthorized: {\"authorization\": \"Bearer s3cret\"}".into(),
        ));
        let text = scrubbed.to_string();
        assert!(text.contains("HTTP 401 Unauthorized"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}
