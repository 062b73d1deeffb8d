//! Authentication: the caller's organization, from `x-api-key` or `Authorization: Bearer`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use feather_service::Principal;

use crate::AppState;
use crate::error::{ApiError, Unauthenticated};

const API_KEY_HEADER: &str = "x-api-key";

/// The authenticated caller. Every handler that takes it is scoped to its organization.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Principal);

impl Caller {
    pub fn organization_id(&self) -> uuid::Uuid {
        self.0.organization_id
    }
}

/// The key the request presents: `x-api-key` wins over a bearer token. A header that is
/// not text counts as no key; an `Authorization` of another scheme is named as such.
fn presented_key(parts: &Parts) -> Result<&str, Unauthenticated> {
    if let Some(value) = parts.headers.get(API_KEY_HEADER) {
        return value
            .to_str()
            .map(str::trim)
            .map_err(|_| Unauthenticated::Rejected);
    }
    let Some(authorization) = parts.headers.get(AUTHORIZATION) else {
        return Err(Unauthenticated::NoKey);
    };
    let authorization = authorization
        .to_str()
        .map_err(|_| Unauthenticated::NotBearer)?;
    match authorization.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(Unauthenticated::NotBearer),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts).map_err(ApiError::Unauthorized)?;
        state
            .service
            .authenticate(key)
            .await?
            .map(Caller)
            .ok_or(ApiError::Unauthorized(Unauthenticated::Rejected))
    }
}
