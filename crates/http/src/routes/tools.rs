//! A connection's tools: the operator's switches and configuration.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use feather_domain::integration::IntegrationKey;
use feather_domain::patch::Patch;
use feather_service::{ConnectionToolView, ToolConfigInput};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use uuid::Uuid;

use super::connections::ConnectionPath;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorResponse, HttpValidationError};
use crate::extract::{JsonBody, PathParams};
use crate::schemas::{
    InputArgConfigSchema, IntegrationKeySchema, merged_input_preview_schema,
    stale_field_paths_schema, stale_input_fields_schema,
};

/// A tool of a connection with the computed view of its operator configuration.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionToolResponse {
    id: Uuid,
    connection_id: Uuid,
    organization_id: Uuid,
    #[schema(value_type = IntegrationKeySchema)]
    integration_key: IntegrationKey,
    nickname_slug: String,
    tool_path: String,
    slug: String,
    display_name: String,
    #[schema(required = true)]
    description: Option<String>,
    #[schema(value_type = Object)]
    input_schema: Box<RawValue>,
    #[schema(value_type = Option<Object>, required = false)]
    response_schema: Option<Box<RawValue>>,
    #[schema(value_type = Option<Object>, required = false)]
    response_field_map: Option<Box<RawValue>>,
    #[schema(value_type = Option<HashMap<String, InputArgConfigSchema>>, required = false)]
    input_defaults: Option<Box<RawValue>>,
    is_enabled: bool,
    last_seen_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    #[schema(schema_with = stale_field_paths_schema)]
    stale_field_paths: Vec<String>,
    /// How many input fields carry an operator default.
    #[schema(read_only)]
    default_count: usize,
    /// How many input fields are operator-pinned.
    #[schema(read_only)]
    pinned_count: usize,
    #[schema(schema_with = stale_input_fields_schema)]
    stale_input_fields: Vec<String>,
    #[schema(schema_with = merged_input_preview_schema)]
    merged_input_preview: Box<RawValue>,
}

impl From<ConnectionToolView> for ConnectionToolResponse {
    fn from(view: ConnectionToolView) -> Self {
        let tool = view.tool;
        ConnectionToolResponse {
            id: tool.id,
            connection_id: tool.connection_id,
            organization_id: tool.organization_id,
            integration_key: view.integration_key,
            nickname_slug: view.nickname_slug,
            tool_path: tool.tool_path,
            slug: tool.slug,
            display_name: tool.display_name,
            description: tool.description,
            input_schema: tool.input_schema,
            response_schema: tool.response_schema,
            response_field_map: tool.response_field_map,
            input_defaults: tool.input_defaults,
            is_enabled: tool.is_enabled,
            last_seen_at: tool.last_seen_at,
            created_at: tool.created_at,
            updated_at: tool.updated_at,
            stale_field_paths: tool.stale_field_paths,
            default_count: tool.default_count,
            pinned_count: tool.pinned_count,
            stale_input_fields: tool.stale_input_fields,
            merged_input_preview: tool.merged_input_preview,
        }
    }
}

/// Enable or disable every tool of a connection.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionToolsBulkToggleRequest {
    is_enabled: bool,
}

/// The operator-editable fields of one tool. Omitted: unchanged; `null`: cleared
/// (`is_enabled` cannot be cleared: `null` leaves it unchanged).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionToolPatchRequest {
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<Object>)]
    response_field_map: Patch<Value>,
    #[serde(default)]
    is_enabled: Option<bool>,
    #[serde(default, deserialize_with = "crate::extract::present")]
    #[schema(value_type = Option<HashMap<String, InputArgConfigSchema>>)]
    input_defaults: Patch<Value>,
}

/// The `connection_id` and `tool_id` path parameters.
#[derive(Debug, Deserialize)]
pub(super) struct ToolPath {
    connection_id: Uuid,
    tool_id: Uuid,
}

/// Enable or disable all tools on a connection; returns them ordered by `tool_path`.
#[utoipa::path(
    patch,
    path = "/v1/integrations/connections/{connection_id}/tools",
    tag = "integrations",
    operation_id = "bulkUpdateConnectionTools",
    params(("connection_id" = Uuid, Path)),
    request_body = ConnectionToolsBulkToggleRequest,
    responses(
        (status = 200, description = "Successful Response", body = Vec<ConnectionToolResponse>),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn set_all_tools_enabled(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
    JsonBody(body): JsonBody<ConnectionToolsBulkToggleRequest>,
) -> Result<Json<Vec<ConnectionToolResponse>>, ApiError> {
    let tools = state
        .service
        .set_all_tools_enabled(
            caller.organization_id(),
            path.connection_id,
            body.is_enabled,
        )
        .await?;
    Ok(Json(tools.into_iter().map(Into::into).collect()))
}

/// Edit the operator-editable fields of one tool: `is_enabled`, `input_defaults`
/// (validated against the tool's current `input_schema`) and `response_field_map`.
#[utoipa::path(
    patch,
    path = "/v1/integrations/connections/{connection_id}/tools/{tool_id}",
    tag = "integrations",
    operation_id = "updateConnectionTool",
    params(("connection_id" = Uuid, Path), ("tool_id" = Uuid, Path)),
    request_body = ConnectionToolPatchRequest,
    responses(
        (status = 200, description = "Successful Response", body = ConnectionToolResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn configure_tool(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ToolPath>,
    JsonBody(body): JsonBody<ConnectionToolPatchRequest>,
) -> Result<Json<ConnectionToolResponse>, ApiError> {
    let view = state
        .service
        .configure_tool(
            caller.organization_id(),
            path.connection_id,
            path.tool_id,
            ToolConfigInput {
                is_enabled: body.is_enabled,
                input_defaults: body.input_defaults,
                response_field_map: body.response_field_map,
            },
        )
        .await?;
    Ok(Json(view.into()))
}
