//! Connections: the listing (the seed contract's endpoint), one connection, rename, delete.

use axum::Json;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use feather_domain::integration::IntegrationKey;
use feather_service::{ConnectionView, ServiceError, ServiceResult};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::tools::ConnectionToolResponse;
use crate::AppState;
use crate::auth::Caller;
use crate::conditional::Tagged;
use crate::error::{ApiError, ErrorResponse, HttpValidationError};
use crate::extract::{JsonBody, PathParams};
use crate::schemas::IntegrationKeySchema;

/// A connection with all its tools.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionResponse {
    id: Uuid,
    organization_id: Uuid,
    #[schema(value_type = IntegrationKeySchema)]
    integration_key: IntegrationKey,
    nickname_slug: String,
    nickname: String,
    vendor: &'static str,
    #[schema(required = true)]
    vendor_connection_id: Option<String>,
    status: &'static str,
    tools_status: &'static str,
    #[schema(required = true)]
    tools_synced_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    status_reason: Option<String>,
    #[schema(required = true)]
    connected_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    last_refreshed_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    last_used_at: Option<DateTime<Utc>>,
    #[schema(value_type = Object)]
    metadata: Map<String, Value>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Always present (the seed lists it as optional).
    #[schema(required = false)]
    tools: Vec<ConnectionToolResponse>,
}

impl From<ConnectionView> for ConnectionResponse {
    fn from(view: ConnectionView) -> Self {
        let connection = view.connection;
        ConnectionResponse {
            id: connection.id,
            organization_id: connection.organization_id,
            integration_key: connection.integration_key,
            nickname_slug: connection.nickname_slug,
            nickname: connection.nickname,
            vendor: connection.vendor.as_str(),
            vendor_connection_id: connection.vendor_connection_id,
            status: connection.status.as_str(),
            tools_status: connection.tools_status.as_str(),
            tools_synced_at: connection.tools_synced_at,
            status_reason: connection.status_reason,
            connected_at: connection.connected_at,
            last_refreshed_at: connection.last_refreshed_at,
            last_used_at: connection.last_used_at,
            metadata: connection.metadata,
            created_at: connection.created_at,
            updated_at: connection.updated_at,
            tools: view.tools.into_iter().map(Into::into).collect(),
        }
    }
}

/// The `connection_id` path parameter.
#[derive(Debug, Deserialize)]
pub(super) struct ConnectionPath {
    pub connection_id: Uuid,
}

/// Rename a connection. Its `nickname_slug` never changes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionPatchRequest {
    /// The new display name; `null` or omitted leaves it unchanged.
    #[serde(default)]
    nickname: Option<String>,
}

/// List the calling org's connections.
#[utoipa::path(
    get,
    path = "/v1/integrations/connections",
    tag = "integrations",
    operation_id = "listConnections",
    responses(
        (status = 200, description = "Successful Response", body = Vec<ConnectionResponse>),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("APIKeyHeader" = [])),
)]
pub(super) async fn list_connections(
    State(state): State<AppState>,
    caller: Caller,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let organization_id = caller.organization_id();
    let Some(cache) = &state.listing_cache else {
        return Ok(render_listing(&state, organization_id)
            .await?
            .respond(&request));
    };
    // Read before the data: a listing rendered after this read is at least this new.
    let version = state.service.fresh_listing_version(organization_id).await?;
    let listing = cache
        .get_or_render(
            organization_id,
            version,
            render_listing(&state, organization_id),
        )
        .await?;
    Ok(listing.respond(&request))
}

async fn render_listing(state: &AppState, organization_id: Uuid) -> ServiceResult<Tagged> {
    let connections: Vec<ConnectionResponse> = state
        .service
        .list_connections(organization_id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    serialized(&connections)
}

fn serialized(value: &impl Serialize) -> ServiceResult<Tagged> {
    // Listings run to hundreds of KiB: start big enough to skip the first few doublings.
    let mut body = Vec::with_capacity(64 * 1024);
    serde_json::to_writer(&mut body, value)
        .map(|()| Tagged::new(body))
        .map_err(|error| ServiceError::Internal(error.to_string()))
}

/// Get a connection.
#[utoipa::path(
    get,
    path = "/v1/integrations/connections/{connection_id}",
    tag = "integrations",
    operation_id = "getConnection",
    params(("connection_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Successful Response", body = ConnectionResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn get_connection(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let view = state
        .service
        .get_connection(caller.organization_id(), path.connection_id)
        .await?;
    Ok(serialized(&ConnectionResponse::from(view))?.respond(&request))
}

/// Rename a connection (slug stays immutable).
#[utoipa::path(
    patch,
    path = "/v1/integrations/connections/{connection_id}",
    tag = "integrations",
    operation_id = "updateConnection",
    params(("connection_id" = Uuid, Path)),
    request_body = ConnectionPatchRequest,
    responses(
        (status = 200, description = "Successful Response", body = ConnectionResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn update_connection(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
    JsonBody(body): JsonBody<ConnectionPatchRequest>,
) -> Result<Json<ConnectionResponse>, ApiError> {
    let view = state
        .service
        .rename_connection(
            caller.organization_id(),
            path.connection_id,
            body.nickname.as_deref(),
        )
        .await?;
    Ok(Json(view.into()))
}

/// Disconnect: delete the connection and its tools.
#[utoipa::path(
    delete,
    path = "/v1/integrations/connections/{connection_id}",
    tag = "integrations",
    operation_id = "disconnectConnection",
    params(("connection_id" = Uuid, Path)),
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
pub(super) async fn delete_connection(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
) -> Result<StatusCode, ApiError> {
    state
        .service
        .delete_connection(caller.organization_id(), path.connection_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Queue a tool sync of an active connection; answers at once with its current state
/// (watch `tools_status`).
#[utoipa::path(
    post,
    path = "/v1/integrations/connections/{connection_id}/refresh-tools",
    tag = "integrations",
    operation_id = "refreshConnectionTools",
    params(("connection_id" = Uuid, Path)),
    responses(
        (status = 202, description = "Successful Response", body = ConnectionResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn refresh_tools(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
) -> Result<(StatusCode, Json<ConnectionResponse>), ApiError> {
    let view = state
        .service
        .refresh_tools(caller.organization_id(), path.connection_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(view.into())))
}
