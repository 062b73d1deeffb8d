//! API keys of the calling organization.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use feather_domain::api_key::ApiKey;
use feather_service::{CreatedApiKey, NewApiKeyInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorResponse, HttpValidationError};
use crate::extract::{JsonBody, PathParams};

/// An API key as listed: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    id: Uuid,
    name: String,
    key_prefix: String,
    scopes: Vec<String>,
    /// Neither revoked nor expired.
    is_active: bool,
    #[schema(required = true)]
    last_used_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

impl ApiKeyResponse {
    /// The key as shown at `now` (the service's time: whether it is still active).
    fn at(key: ApiKey, now: DateTime<Utc>) -> Self {
        let is_active = key.state(now).is_active();
        ApiKeyResponse {
            id: key.id,
            name: key.name,
            key_prefix: key.key_prefix,
            scopes: key.scopes,
            is_active,
            last_used_at: key.last_used_at,
            expires_at: key.expires_at,
            created_at: key.created_at,
        }
    }
}

/// Returned exactly once, on creation: `plain_text_key` is never stored and never
/// returned again.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyCreateResponse {
    #[serde(flatten)]
    key: ApiKeyResponse,
    plain_text_key: String,
}

/// A new key's name, optional scopes (recorded, not enforced) and optional expiry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreateRequest {
    #[schema(min_length = 1, max_length = 255)]
    name: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
}

/// The `key_id` path parameter.
#[derive(Debug, Deserialize)]
pub(super) struct KeyPath {
    key_id: Uuid,
}

/// List API keys for the current organization.
#[utoipa::path(
    get,
    path = "/v1/identity/api-keys",
    tag = "identity",
    operation_id = "listApiKeys",
    responses(
        (status = 200, description = "Successful Response", body = Vec<ApiKeyResponse>),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn list_api_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ApiKeyResponse>>, ApiError> {
    let keys = state
        .service
        .list_api_keys(caller.organization_id())
        .await?;
    let now = state.service.now();
    Ok(Json(
        keys.into_iter()
            .map(|key| ApiKeyResponse::at(key, now))
            .collect(),
    ))
}

/// Create an API key. The plain-text key is returned exactly once.
#[utoipa::path(
    post,
    path = "/v1/identity/api-keys",
    tag = "identity",
    operation_id = "createApiKey",
    request_body = ApiKeyCreateRequest,
    responses(
        (status = 201, description = "Successful Response", body = ApiKeyCreateResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<ApiKeyCreateRequest>,
) -> Result<(StatusCode, Json<ApiKeyCreateResponse>), ApiError> {
    let CreatedApiKey {
        key,
        plain_text_key,
    } = state
        .service
        .create_api_key(
            caller.organization_id(),
            caller.grants(),
            NewApiKeyInput {
                name: body.name,
                scopes: body.scopes,
                expires_at: body.expires_at,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreateResponse {
            key: ApiKeyResponse::at(key, state.service.now()),
            plain_text_key,
        }),
    ))
}

/// Revoke an API key. It stops working at once.
#[utoipa::path(
    delete,
    path = "/v1/identity/api-keys/{key_id}",
    tag = "identity",
    operation_id = "revokeApiKey",
    params(("key_id" = Uuid, Path)),
    responses(
        (status = 204, description = "Successful Response"),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<KeyPath>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .revoke_api_key(caller.organization_id(), path.key_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
