//! Connecting a custom MCP server.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use feather_domain::custom_mcp::CustomMcpRequest;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorResponse, HttpValidationError};
use crate::extract::JsonBody;

/// One shape for every auth type. `none`, `bearer` and `api_key` are static credentials:
/// the connection is born `active` and its tools sync at once. `oauth` is not supported yet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomMcpConnectionCreate {
    nickname: String,
    server_url: String,
    /// `streamable_http`, `sse` (the legacy HTTP+SSE transport) or `auto`.
    #[serde(default)]
    #[schema(default = "sse")]
    transport: Option<String>,
    /// `none`, `bearer`, `api_key` or `oauth`.
    #[serde(default)]
    #[schema(default = "none")]
    auth_type: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    #[schema(default = "X-API-Key")]
    api_key_header: Option<String>,
    /// Extra headers sent on every request to the server (stored encrypted).
    #[serde(default)]
    #[schema(value_type = std::collections::HashMap<String, String>)]
    headers: IndexMap<String, String>,
    #[serde(default)]
    oauth_authorize_url: Option<String>,
    #[serde(default)]
    oauth_token_url: Option<String>,
    #[serde(default)]
    oauth_client_id: Option<String>,
    #[serde(default)]
    oauth_client_secret: Option<String>,
    #[serde(default)]
    oauth_scopes: Vec<String>,
}

impl From<CustomMcpConnectionCreate> for CustomMcpRequest {
    fn from(body: CustomMcpConnectionCreate) -> Self {
        let oauth_fields = [
            ("oauth_authorize_url", body.oauth_authorize_url.is_some()),
            ("oauth_token_url", body.oauth_token_url.is_some()),
            ("oauth_client_id", body.oauth_client_id.is_some()),
            ("oauth_client_secret", body.oauth_client_secret.is_some()),
            ("oauth_scopes", !body.oauth_scopes.is_empty()),
        ]
        .into_iter()
        .filter_map(|(field, set)| set.then_some(field))
        .collect();
        CustomMcpRequest {
            nickname: body.nickname,
            server_url: body.server_url,
            transport: body.transport,
            auth_type: body.auth_type,
            token: body.token,
            api_key: body.api_key,
            api_key_header: body.api_key_header,
            headers: body.headers.into_iter().collect(),
            oauth_fields,
        }
    }
}

/// The new connection. `authorize_url` and `state` are for the OAuth flow: null here.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomMcpConnectResponse {
    connection_id: Uuid,
    status: &'static str,
    vendor: &'static str,
    #[schema(required = false)]
    authorize_url: Option<String>,
    #[schema(required = false)]
    state: Option<String>,
}

/// Connect a custom MCP server. Its tools appear in the listing once the first sync,
/// queued now, has run.
#[utoipa::path(
    post,
    path = "/v1/integrations/connections/custom-mcp",
    tag = "integrations",
    operation_id = "connectCustomMcp",
    request_body = CustomMcpConnectionCreate,
    responses(
        (status = 201, description = "Successful Response", body = CustomMcpConnectResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 409, description = "The organization has the most connections allowed (`limit_reached`)", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn connect_custom_mcp(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(body): JsonBody<CustomMcpConnectionCreate>,
) -> Result<(StatusCode, Json<CustomMcpConnectResponse>), ApiError> {
    let connection = state
        .service
        .connect_custom_mcp(caller.organization_id(), body.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CustomMcpConnectResponse {
            connection_id: connection.id,
            status: connection.status.as_str(),
            vendor: connection.vendor.as_str(),
            authorize_url: None,
            state: None,
        }),
    ))
}
