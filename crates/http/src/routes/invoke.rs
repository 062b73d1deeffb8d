//! Invoking a connection's tools from the dashboard's test surfaces.

use axum::Json;
use axum::extract::State;
use feather_domain::invocation::InvocationMode;
use feather_service::{Invocation, InvokeRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::connections::ConnectionPath;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorResponse, HttpValidationError};
use crate::extract::{JsonBody, PathParams};

/// Call a tool by slug: `input` is merged with the operator's defaults and pins.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionTestMcpCallRequest {
    slug: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    input: Map<String, Value>,
}

/// The raw MCP `tools/call` result.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTestMcpCallResponse {
    #[schema(value_type = Object)]
    result: Value,
}

/// Like a test MCP call, and previews the result narrowed by a field map (this one, else
/// the tool's saved one).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionTestInvokeRequest {
    slug: String,
    #[serde(default)]
    #[schema(value_type = Object)]
    input: Map<String, Value>,
    /// Narrow with this map instead of the tool's saved one; null or absent: the saved one.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    response_field_map: Option<Value>,
}

/// The raw result and, when a field map applies, the narrowed one (else null).
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionTestInvokeResponse {
    #[schema(value_type = Object)]
    result: Value,
    #[schema(value_type = Option<Value>, required = false)]
    narrowed: Option<Value>,
    /// The field map's paths that found no value in this result, so were left out of
    /// `narrowed` (an extension of the contract: a silent `{}` hides a wrong path).
    #[schema(required = false)]
    unresolved_field_paths: Vec<String>,
}

/// Fire a real MCP `tools/call` through the connection.
#[utoipa::path(
    post,
    path = "/v1/integrations/connections/{connection_id}/test-mcp-call",
    tag = "integrations",
    operation_id = "testMcpCallConnection",
    params(("connection_id" = uuid::Uuid, Path)),
    request_body = ConnectionTestMcpCallRequest,
    responses(
        (status = 200, description = "Successful Response", body = ConnectionTestMcpCallResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 502, description = "The upstream server failed", body = ErrorResponse),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn test_mcp_call(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
    JsonBody(body): JsonBody<ConnectionTestMcpCallRequest>,
) -> Result<Json<ConnectionTestMcpCallResponse>, ApiError> {
    let request = InvokeRequest {
        slug: body.slug,
        mode: InvocationMode::TestMcpCall,
        input: body.input,
        response_field_map: None,
    };
    let invocation = invoke(&state, caller, path, request).await?;
    Ok(Json(ConnectionTestMcpCallResponse {
        result: invocation.result,
    }))
}

/// Invoke a tool through the connection and preview the narrowed result.
#[utoipa::path(
    post,
    path = "/v1/integrations/connections/{connection_id}/test-invoke",
    tag = "integrations",
    operation_id = "testInvokeConnection",
    params(("connection_id" = uuid::Uuid, Path)),
    request_body = ConnectionTestInvokeRequest,
    responses(
        (status = 200, description = "Successful Response", body = ConnectionTestInvokeResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 502, description = "The upstream server failed", body = ErrorResponse),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn test_invoke(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
    JsonBody(body): JsonBody<ConnectionTestInvokeRequest>,
) -> Result<Json<ConnectionTestInvokeResponse>, ApiError> {
    let request = InvokeRequest {
        slug: body.slug,
        mode: InvocationMode::TestInvoke,
        input: body.input,
        response_field_map: body.response_field_map,
    };
    let invocation = invoke(&state, caller, path, request).await?;
    Ok(Json(ConnectionTestInvokeResponse {
        result: invocation.result,
        narrowed: invocation.narrowed,
        unresolved_field_paths: invocation.unresolved_field_paths,
    }))
}

/// Both test surfaces invoke the same way; they differ in what they show.
async fn invoke(
    state: &AppState,
    caller: Caller,
    path: ConnectionPath,
    request: InvokeRequest,
) -> Result<Invocation, ApiError> {
    Ok(state
        .service
        .invoke_tool(caller.organization_id(), path.connection_id, request)
        .await?)
}
