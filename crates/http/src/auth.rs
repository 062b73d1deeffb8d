//! Authentication: the caller's organization, from `x-api-key` or `Authorization: Bearer`.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use feather_service::Principal;

use crate::AppState;
use crate::error::ApiError;

const API_KEY_HEADER: &str = "x-api-key";

/// The authenticated caller. Every handler that takes it is scoped to its organization.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Principal);

impl Caller {
    pub fn organization_id(&self) -> uuid::Uuid {
        self.0.organization_id
    }
}

/// The key the request presents, if any: `x-api-key` wins over a bearer token.
fn presented_key(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get(API_KEY_HEADER) {
        return value.to_str().ok().map(str::trim);
    }
    let authorization = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = authorization.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts).ok_or(ApiError::Unauthorized)?;
        state
            .service
            .authenticate(key)
            .await?
            .map(Caller)
            .ok_or(ApiError::Unauthorized)
    }
}
