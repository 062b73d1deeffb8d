//! What can go wrong in a use case, in terms a caller can act on.

use feather_domain::input_config::FieldError;
use feather_store::StoreError;

use crate::UpstreamError;

/// Result of a use case.
pub type ServiceResult<T> = Result<T, ServiceError>;

/// Why a use case did not complete. Clone, so that one failed read can answer every
/// request that waited on it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    /// The resource does not exist for the calling organization (it may exist for another).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input breaks a rule; each problem is located relative to the request body.
    #[error("invalid input: {}", describe(.0))]
    Invalid(Vec<FieldError>),
    /// The request conflicts with the current state and retrying as-is will not help.
    #[error("{0}")]
    Conflict(String),
    /// The caller's key may not do this (its scopes).
    #[error("{0}")]
    Forbidden(String),
    /// The request would pass a limit of this server (e.g. connections per organization);
    /// the message names the limit and what to do.
    #[error("{0}")]
    LimitReached(String),
    /// The connection is not in a state that allows the operation.
    #[error("{0}")]
    ConnectionNotActive(String),
    /// The tool cannot be called: unknown slug, disabled, gone from the upstream catalog,
    /// or its connection is not active.
    #[error("{0}")]
    ToolUnavailable(String),
    /// The upstream server failed or refused.
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    /// The database cannot be reached or did not answer in time; trying again later can
    /// succeed.
    #[error("{0}")]
    Unavailable(String),
    /// The store failed in a way retrying will not fix (a bug, or a hand-edited row); the
    /// message is for the log, not for the caller.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(source) => ServiceError::Unavailable(source.to_string()),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl ServiceError {
    /// A single invalid-input problem at `loc` (relative to the request body).
    pub fn invalid(loc: &[&str], msg: impl Into<String>, kind: &'static str) -> ServiceError {
        ServiceError::Invalid(vec![FieldError::new(loc, msg, kind)])
    }
}

/// The problems as one line: `name: The key name must not be blank.; …`.
fn describe(problems: &[FieldError]) -> String {
    problems
        .iter()
        .map(|problem| format!("{}: {}", problem.loc.join("."), problem.msg))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Prefixes each problem's location with the body field it was found under.
pub(crate) fn located_under(
    field: &str,
    problems: Vec<FieldError>,
) -> impl Iterator<Item = FieldError> {
    problems.into_iter().map(move |mut problem| {
        problem.loc.insert(0, field.to_owned());
        problem
    })
}
