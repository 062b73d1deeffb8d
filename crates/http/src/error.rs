//! The one error type of the HTTP layer and the two wire formats of errors: the contract's
//! `ErrorResponse` (400/401/404/405/409/413/5xx) and `HTTPValidationError` (422).

use axum::Json;
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use feather_domain::input_config::FieldError;
use feather_service::ServiceError;
use serde::Serialize;
use utoipa::ToSchema;

/// Standard error response returned by all API error handlers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorResponse {
    pub error: String,
    pub message: String,
}

/// The 422 body: every problem found in the request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = HTTPValidationError)]
pub struct HttpValidationError {
    pub detail: Vec<ValidationError>,
}

/// One problem, located by the path to the offending input (`["body", "nickname"]`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationError {
    pub loc: Vec<String>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl ValidationError {
    pub fn new(loc: Vec<String>, msg: impl Into<String>, kind: impl Into<String>) -> Self {
        ValidationError {
            loc,
            msg: msg.into(),
            kind: kind.into(),
        }
    }
}

/// Why a request failed, as the client will see it (cloneable: one failed store read can
/// answer every request that waited on it).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("authentication required")]
    Unauthorized(Unauthenticated),
    /// The key is valid but its scopes do not allow the request (403 `forbidden`).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// A limit of this server (409 `limit_reached`): the message names it.
    #[error("{0}")]
    LimitReached(String),
    #[error("request body too large")]
    PayloadTooLarge,
    /// The body did not arrive within the configured time (408 `request_timeout`).
    #[error("request body timed out")]
    BodyTimeout,
    #[error("invalid request")]
    Validation(Vec<ValidationError>),
    #[error("{0}")]
    ToolUnavailable(String),
    #[error("{0}")]
    Upstream(String),
    #[error("service unavailable")]
    Unavailable(String),
    /// A rate limit of the caller's key or organization (429 `rate_limited`, with
    /// `Retry-After`).
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The in-flight request cap is reached: 503 `overloaded` with `Retry-After`.
    #[error("overloaded")]
    Overloaded,
    /// Unexpected: the details are logged with the request id and never sent.
    #[error("internal error")]
    Internal(String),
}

/// Why a request has no authenticated caller; each answer says what to send instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// Neither `x-api-key` nor an `Authorization` header.
    NoKey,
    /// An `Authorization` header whose scheme is not `Bearer`.
    NotBearer,
    /// A key that is unknown, revoked or expired.
    Rejected,
}

impl Unauthenticated {
    /// The `WWW-Authenticate` challenge a 401 carries (RFC 9110 §11.6.1): the API key is
    /// a bearer token (RFC 6750), and a rejected one is an invalid token.
    fn challenge(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Unauthenticated::Rejected => {
                "Bearer realm=\"feather-integrations\", error=\"invalid_token\""
            }
            Unauthenticated::NoKey | Unauthenticated::NotBearer => {
                "Bearer realm=\"feather-integrations\""
            }
        })
    }

    fn sentence(self) -> &'static str {
        match self {
            Unauthenticated::NoKey => {
                "A valid API key is required: send it as `x-api-key: <key>` or \
                 `Authorization: Bearer <key>`."
            }
            Unauthenticated::NotBearer => {
                "The Authorization header must read `Bearer <key>`; or send the key as \
                 `x-api-key: <key>`."
            }
            Unauthenticated::Rejected => "The API key is not valid: unknown, revoked or expired.",
        }
    }
}

/// At most this many problems are listed in one 422; a last entry counts the rest.
pub const MAX_PROBLEMS_LISTED: usize = 100;

/// The first [`MAX_PROBLEMS_LISTED`] problems, then one saying how many more were found.
fn listed_problems(mut detail: Vec<ValidationError>) -> Vec<ValidationError> {
    if detail.len() <= MAX_PROBLEMS_LISTED {
        return detail;
    }
    let rest = detail.len() - MAX_PROBLEMS_LISTED;
    detail.truncate(MAX_PROBLEMS_LISTED);
    detail.push(ValidationError::new(
        vec!["body".to_owned()],
        format!(
            "{rest} more problem{} not listed: fix these and send the request again.",
            if rest == 1 { " was" } else { "s were" }
        ),
        "too_many_problems",
    ));
    detail
}

/// Attached to a 5xx response so the error middleware can log what the client is not shown.
#[derive(Debug, Clone)]
pub struct HiddenErrorDetail(pub String);

impl ApiError {
    /// A 422 for one problem at `loc`.
    pub fn invalid(loc: &[&str], msg: impl Into<String>, kind: &str) -> ApiError {
        ApiError::Validation(vec![ValidationError::new(
            loc.iter().map(|segment| (*segment).to_owned()).collect(),
            msg,
            kind,
        )])
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::LimitReached(_) => (StatusCode::CONFLICT, "limit_reached"),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_error"),
            ApiError::ToolUnavailable(_) => (StatusCode::BAD_REQUEST, "tool_unavailable"),
            ApiError::Upstream(_) => (StatusCode::BAD_GATEWAY, "upstream_error"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
            ApiError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

/// The body of an error response with the standard format.
pub fn error_body(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorResponse {
            error: code.to_owned(),
            message: message.into(),
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match self {
            ApiError::Validation(detail) => (
                status,
                Json(HttpValidationError {
                    detail: listed_problems(detail),
                }),
            )
                .into_response(),
            ApiError::Unauthorized(why) => {
                let mut response = error_body(status, code, why.sentence());
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, why.challenge());
                response
            }
            ApiError::NotFound(what) => {
                let mut what = what.to_owned();
                if let Some(first) = what.get_mut(..1) {
                    first.make_ascii_uppercase();
                }
                error_body(status, code, format!("{what} not found."))
            }
            ApiError::PayloadTooLarge => error_body(
                status,
                code,
                format!(
                    "The request body is larger than the limit of {} bytes.",
                    crate::MAX_BODY_BYTES
                ),
            ),
            ApiError::BodyTimeout => error_body(
                status,
                code,
                "The request body did not arrive in time; send it without pausing.",
            ),
            ApiError::BadRequest(message)
            | ApiError::Conflict(message)
            | ApiError::LimitReached(message)
            | ApiError::Forbidden(message)
            | ApiError::ToolUnavailable(message)
            | ApiError::Upstream(message) => error_body(status, code, message),
            ApiError::RateLimited {
                message,
                retry_after_secs,
            } => {
                let mut response = error_body(
                    status,
                    code,
                    format!("{message} Retry in {retry_after_secs} s."),
                );
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
                response
            }
            ApiError::Overloaded => {
                let mut response = error_body(
                    status,
                    code,
                    "The server is answering as many requests as it takes at once; retry in a \
                     moment.",
                );
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("1"));
                response
            }
            ApiError::Unavailable(detail) | ApiError::Internal(detail) => {
                // The message with the request id is written by the error middleware,
                // which knows the request; here only the detail to log is attached.
                let mut response = error_body(status, code, "");
                response.extensions_mut().insert(HiddenErrorDetail(detail));
                response
            }
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::NotFound(what) => ApiError::NotFound(what),
            ServiceError::Invalid(problems) => {
                ApiError::Validation(problems.into_iter().map(body_validation_error).collect())
            }
            ServiceError::Conflict(message) => ApiError::Conflict(message),
            ServiceError::LimitReached(message) => ApiError::LimitReached(message),
            ServiceError::Forbidden(message) => ApiError::Forbidden(message),
            ServiceError::ConnectionNotActive(message) => {
                ApiError::invalid(&["path", "connection_id"], message, "connection_not_active")
            }
            ServiceError::ToolUnavailable(message) => ApiError::ToolUnavailable(message),
            ServiceError::Upstream(error) => ApiError::Upstream(error.message),
            ServiceError::Unavailable(message) => ApiError::Unavailable(message),
            ServiceError::Internal(message) => ApiError::Internal(message),
        }
    }
}

/// A problem found in the request body, located from the body's root.
fn body_validation_error(problem: FieldError) -> ValidationError {
    let mut loc = Vec::with_capacity(problem.loc.len() + 1);
    loc.push("body".to_owned());
    loc.extend(problem.loc);
    ValidationError::new(loc, problem.msg, problem.kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(count: usize) -> Vec<ValidationError> {
        (0..count)
            .map(|index| ValidationError::new(vec![index.to_string()], "bad", "value_error"))
            .collect()
    }

    #[test]
    fn a_422_lists_the_first_problems_and_counts_the_rest() {
        assert_eq!(
            listed_problems(problems(MAX_PROBLEMS_LISTED)).len(),
            MAX_PROBLEMS_LISTED
        );
        let listed = listed_problems(problems(MAX_PROBLEMS_LISTED + 41));
        assert_eq!(listed.len(), MAX_PROBLEMS_LISTED + 1);
        assert_eq!(listed[MAX_PROBLEMS_LISTED - 1].loc, vec!["99"]);
        let summary = &listed[MAX_PROBLEMS_LISTED];
        assert_eq!(summary.kind, "too_many_problems");
        assert!(
            summary.msg.starts_with("41 more problems were not listed"),
            "{}",
            summary.msg
        );
    }
}
