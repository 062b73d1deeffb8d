//! Connecting a custom MCP server.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use feather_domain::connection::Connection;
use feather_domain::custom_mcp::{CustomMcpRequest, OAuthFields};
use feather_domain::oauth::{MetadataSource, ServerAuthorization};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use feather_service::oauth::AuthorizationLink;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorResponse, HttpValidationError};
use crate::extract::JsonBody;

/// One shape for every auth type. `none`, `bearer` and `api_key` are static credentials:
/// the connection is born `active` and its tools sync at once. `oauth` creates it
/// `pending_oauth` and answers the `authorize_url` to send the user to; the callback makes
/// it `active` and syncs it. The `oauth_*` fields override discovery: explicit endpoints
/// for a server without metadata, the operator's own client, the scopes to ask for.
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
        CustomMcpRequest {
            nickname: body.nickname,
            server_url: body.server_url,
            transport: body.transport,
            auth_type: body.auth_type,
            token: body.token,
            api_key: body.api_key,
            api_key_header: body.api_key_header,
            headers: body.headers.into_iter().collect(),
            oauth: OAuthFields {
                authorize_url: body.oauth_authorize_url,
                token_url: body.oauth_token_url,
                client_id: body.oauth_client_id,
                client_secret: body.oauth_client_secret,
                scopes: body.oauth_scopes,
            },
        }
    }
}

/// The new connection. For `oauth`, `authorize_url` is where to send the user and `state`
/// the value the callback will carry (single use, valid 10 minutes); null otherwise.
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

impl CustomMcpConnectResponse {
    pub(super) fn new(
        connection: &Connection,
        authorization: Option<AuthorizationLink>,
    ) -> CustomMcpConnectResponse {
        let (authorize_url, state) = match authorization {
            Some(link) => (Some(link.url), Some(link.state)),
            None => (None, None),
        };
        CustomMcpConnectResponse {
            connection_id: connection.id,
            status: connection.status.as_str(),
            vendor: connection.vendor.as_str(),
            authorize_url,
            state,
        }
    }
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
    let connected = state
        .service
        .connect_custom_mcp(caller.organization_id(), body.into())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CustomMcpConnectResponse::new(
            &connected.connection,
            connected.authorization,
        )),
    ))
}

/// A server to ask how it wants to be authorized.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomMcpDiscoverRequest {
    server_url: String,
    /// Checked as on connect, but advisory: discovery probes the server and its
    /// well-known metadata locations over plain HTTP whatever the transport.
    #[serde(default)]
    transport: Option<String>,
}

/// What discovery found. `supports_dcr` is true when the authorization server advertises
/// dynamic client registration (RFC 7591), so no client id need be asked for;
/// `authorize_url`, `token_url` and `scopes` are what a connect with `auth_type: "oauth"`
/// would use. `oauth_required`, `supports_client_id_metadata_document` and `detail` extend
/// the contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomMcpDiscoverResponse {
    supports_dcr: bool,
    #[schema(required = false)]
    authorize_url: Option<String>,
    #[schema(required = false)]
    token_url: Option<String>,
    scopes: Vec<String>,
    /// Whether the server asked the unauthenticated probe for credentials.
    oauth_required: bool,
    /// Whether the authorization server takes a Client ID Metadata Document URL as the
    /// client id (the service serves one), so no client id need be asked for either.
    supports_client_id_metadata_document: bool,
    /// What was found, in one sentence: why OAuth cannot be used, when it cannot.
    detail: String,
}

impl From<ServerAuthorization> for CustomMcpDiscoverResponse {
    fn from(found: ServerAuthorization) -> Self {
        let nothing = |oauth_required, detail| CustomMcpDiscoverResponse {
            supports_dcr: false,
            authorize_url: None,
            token_url: None,
            scopes: Vec::new(),
            oauth_required,
            supports_client_id_metadata_document: false,
            detail,
        };
        match found {
            ServerAuthorization::Open => nothing(
                false,
                "The server answered without asking for credentials: connect it with \
                 auth_type none, or bearer or api_key if it expects a static credential."
                    .to_owned(),
            ),
            ServerAuthorization::Unusable(why) => nothing(true, why),
            ServerAuthorization::OAuth(server) => {
                let metadata = &server.authorization_server;
                let detail = match server.source {
                    MetadataSource::DefaultEndpoints => {
                        "The server asks for OAuth but publishes no metadata; connecting \
                         uses the 2025-03-26 default endpoints at its origin (registering \
                         at /register unless oauth_client_id is given), or the \
                         oauth_authorize_url and oauth_token_url given."
                            .to_owned()
                    }
                    _ => format!("The server takes OAuth tokens from {}.", metadata.issuer),
                };
                CustomMcpDiscoverResponse {
                    supports_dcr: server.supports_registration(),
                    authorize_url: metadata.authorization_endpoint.clone(),
                    token_url: metadata.token_endpoint.clone(),
                    scopes: server.scopes(&[]),
                    oauth_required: true,
                    supports_client_id_metadata_document: metadata
                        .client_id_metadata_document_supported,
                    detail,
                }
            }
        }
    }
}

/// Ask a custom MCP server how it wants to be authorized, before connecting it: an
/// unauthenticated probe, then its protected-resource metadata (RFC 9728) and its
/// authorization server's metadata (RFC 8414 or OpenID Connect discovery), every URL
/// checked by the upstream policy. Nothing is stored.
#[utoipa::path(
    post,
    path = "/v1/integrations/connections/custom-mcp/discover",
    tag = "integrations",
    operation_id = "discoverCustomMcp",
    request_body = CustomMcpDiscoverRequest,
    responses(
        (status = 200, description = "Successful Response", body = CustomMcpDiscoverResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 422, description = "Validation Error", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
        (status = 502, description = "The server could not be reached (`upstream_error`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn discover_custom_mcp(
    State(state): State<AppState>,
    _caller: Caller,
    JsonBody(body): JsonBody<CustomMcpDiscoverRequest>,
) -> Result<Json<CustomMcpDiscoverResponse>, ApiError> {
    let found = state
        .service
        .discover_custom_mcp(&body.server_url, body.transport.as_deref())
        .await?;
    Ok(Json(found.into()))
}
