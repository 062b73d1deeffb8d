//! The platform's catalog of integrations.

use axum::Json;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use feather_domain::integration::IntegrationKey;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{ApiError, ErrorResponse};
use crate::schemas::IntegrationKeySchema;

/// Platform catalog row: one per supported integration.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationSummary {
    #[schema(value_type = IntegrationKeySchema)]
    key: IntegrationKey,
    display_name: &'static str,
    description: String,
    category: &'static str,
    /// Served by this service (`/static/integrations/{key}.svg`), relative to its origin.
    logo_url: String,
}

/// List the integrations this platform supports.
#[utoipa::path(
    get,
    path = "/v1/integrations",
    tag = "integrations",
    operation_id = "listIntegrations",
    responses(
        (status = 200, description = "Successful Response", body = Vec<IntegrationSummary>),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn list_integrations(_caller: Caller) -> Json<Vec<IntegrationSummary>> {
    Json(
        IntegrationKey::ALL
            .into_iter()
            .map(|key| {
                let spec = key.spec();
                IntegrationSummary {
                    key,
                    display_name: spec.display_name,
                    description: spec.catalog_description(),
                    category: spec.category,
                    logo_url: format!("/static/integrations/{}.svg", key.as_str()),
                }
            })
            .collect(),
    )
}

/// A plain badge for each integration (its initial on its brand colour), so the catalog's
/// `logo_url` resolves on a self-hosted service with no outside assets.
pub(super) async fn logo(Path(file): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let key = file
        .strip_suffix(".svg")
        .and_then(IntegrationKey::parse)
        .ok_or(ApiError::NotFound("logo"))?;
    let colour = match key {
        IntegrationKey::Slack => "#4A154B",
        IntegrationKey::CustomMcp => "#1F2937",
        IntegrationKey::Notion => "#111111",
        IntegrationKey::GoogleDrive => "#1A73E8",
        IntegrationKey::Calcom => "#292929",
        IntegrationKey::Twilio => "#F22F46",
        IntegrationKey::Email => "#0F766E",
    };
    let initial = key.spec().display_name.chars().next().unwrap_or('?');
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\" viewBox=\"0 0 64 64\">\
         <rect width=\"64\" height=\"64\" rx=\"14\" fill=\"{colour}\"/>\
         <text x=\"32\" y=\"43\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"30\" \
         font-weight=\"700\" fill=\"#FFFFFF\" text-anchor=\"middle\">{initial}</text></svg>"
    );
    Ok((
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    ))
}
