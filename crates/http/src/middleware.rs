//! Cross-cutting layers: request ids, tracing, panics, and one error format for every
//! response, including those the framework writes itself (unknown route, wrong method,
//! body too large).

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{CONTENT_TYPE, HeaderName};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use feather_domain::custom_mcp::redacted_url;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::{HiddenErrorDetail, error_body};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the routes in the service's layers (outermost last). `uniform_errors` sits
/// outside the panic catcher so that a panic's 500 is logged and formatted like any other.
pub(crate) fn wrap(router: Router) -> Router {
    router
        // Innermost: compresses what the handlers answer (gzip, br or zstd, as the client
        // accepts), before the error and tracing layers see the response.
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(|_panic| {
            // The panic message may hold anything; it is logged by the panic hook, not sent.
            let mut response = error_body(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "");
            response
                .extensions_mut()
                .insert(HiddenErrorDetail("handler panicked".to_owned()));
            response
        }))
        .layer(from_fn(uniform_errors))
        .layer(from_fn(crate::metrics::record_requests))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let request_id = request
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or_default();
                // `organization_id` is recorded once the key is known (`auth::Caller`).
                // Query values are never logged: the OAuth callback's carry a code and
                // a state.
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    uri = %LoggedUri(request.uri()),
                    request_id,
                    organization_id = tracing::field::Empty,
                )
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// A request's URI as logged: its query values (and fragment) as `…`.
struct LoggedUri<'a>(&'a axum::http::Uri);

impl std::fmt::Display for LoggedUri<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.query() {
            None => write!(f, "{}", self.0),
            Some(_) => f.write_str(&redacted_url(&self.0.to_string())),
        }
    }
}

/// Marks a response whose body its handler wrote for another audience (the MCP
/// transport's JSON-RPC errors, the OAuth callback's page): the API's error format is not
/// imposed on it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeepsItsBody;

/// Gives every error response the `ErrorResponse` body, and logs what 5xx responses hide
/// from the client, with the request id the client is told to quote.
async fn uniform_errors(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("unknown")
        .to_owned();
    let mut response = next.run(request).await;
    if response.extensions().get::<KeepsItsBody>().is_some() {
        return response;
    }
    let status = response.status();
    if let Some(HiddenErrorDetail(detail)) = response.extensions_mut().remove::<HiddenErrorDetail>()
    {
        let (code, sentence) = if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::warn!(%request_id, %detail, "store unavailable");
            (
                "service_unavailable",
                "The service is temporarily unavailable; retry shortly.",
            )
        } else {
            tracing::error!(%request_id, %detail, "internal error");
            ("internal_error", "An internal error occurred.")
        };
        return error_body(
            status,
            code,
            format!("{sentence} Quote request id {request_id} when reporting it."),
        );
    }
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    // Written by the framework: same status and headers (Allow on a 405), our body.
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "No such route."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "This method is not allowed here; the Allow header lists the ones that are.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "The request body must be JSON.")
        }
        _ if status.is_server_error() => ("internal_error", "An internal error occurred."),
        _ => ("bad_request", "The request could not be processed."),
    };
    let (mut parts, _) = response.into_parts();
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = error_body(status, code, message).into_body();
    Response::from_parts(parts, Body::new(body)).into_response()
}
