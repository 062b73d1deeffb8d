//! Every route of the API, in one place.

mod api_keys;
mod connections;
mod custom_mcp;
mod health;
mod integrations;
mod invoke;
mod oauth;
mod tools;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::{AppOptions, AppState};

/// The documented API: each handler's path, method and schemas come from its
/// `#[utoipa::path]`, so the router and the OpenAPI document cannot disagree.
pub(crate) fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::base())
        .routes(routes!(api_keys::list_api_keys, api_keys::create_api_key))
        .routes(routes!(api_keys::revoke_api_key))
        .routes(routes!(integrations::list_integrations))
        .routes(routes!(connections::list_connections))
        .routes(routes!(custom_mcp::connect_custom_mcp))
        .routes(routes!(custom_mcp::discover_custom_mcp))
        .routes(routes!(oauth::oauth_callback))
        .routes(routes!(oauth::finalize_connection))
        .routes(routes!(oauth::reauthorize_connection))
        .routes(routes!(connections::refresh_tools))
        .routes(routes!(invoke::test_mcp_call))
        .routes(routes!(invoke::test_invoke))
        .routes(routes!(
            connections::get_connection,
            connections::update_connection,
            connections::delete_connection
        ))
        .routes(routes!(tools::set_all_tools_enabled))
        .routes(routes!(tools::configure_tool))
}

/// The application's routes over `state`, with the operational endpoints beside the API.
/// Only API requests count against the in-flight cap: a probe must see a busy process
/// alive and ready.
pub(crate) fn router(state: AppState, options: &AppOptions) -> Router {
    let (api, document) = api().split_for_parts();
    let api = api.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(|_: tower::BoxError| async move {
                ApiError::Overloaded
            }))
            .load_shed()
            // Global: `Router::layer` wraps each route, and the cap is for all of them.
            .layer(GlobalConcurrencyLimitLayer::new(options.max_in_flight)),
    );
    api.merge(health::router(document))
        .merge(crate::mcp::router(state.clone()))
        .route(
            "/static/integrations/{file}",
            axum::routing::get(integrations::logo),
        )
        // The callback's path in v1.90's description, beside the documented one.
        .route(
            "/integrations/oauth/callback",
            axum::routing::get(oauth::oauth_callback),
        )
        .route(
            oauth::CALLBACK_SCRIPT_PATH,
            axum::routing::get(oauth::callback_script),
        )
        .route(
            feather_service::oauth::CLIENT_METADATA_PATH,
            axum::routing::get(oauth::client_metadata),
        )
        .layer(DefaultBodyLimit::max(crate::MAX_BODY_BYTES))
        .layer(RequestBodyTimeoutLayer::new(options.request_body_timeout))
        .with_state(state)
}
