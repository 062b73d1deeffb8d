//! Operational endpoints: the index at `/`, liveness, readiness, and the OpenAPI document.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

use crate::AppState;
use crate::error::ApiError;

pub(super) fn router(document: OpenApi) -> Router<AppState> {
    // Serialized once: the document does not change while the process runs.
    let document: Arc<str> = document
        .to_pretty_json()
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
        .into();
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::scrape))
        .route(
            "/openapi.json",
            get(
                move || async move { ([(CONTENT_TYPE, "application/json")], document.to_string()) },
            ),
        )
}

/// What a person who opens the service's address in a browser or with curl finds: where
/// the API and its reference are (until the dashboard is served here).
async fn index() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        concat!(
            "feather-integrations ",
            env!("CARGO_PKG_VERSION"),
            ": the integrations API of the Feather platform.\n\n",
            "API reference (OpenAPI 3.1): /openapi.json\n",
            "Every /v1 endpoint needs an API key: x-api-key: <key>, or Authorization: Bearer <key>.\n",
            "Health: /healthz (alive), /readyz (store reachable).\n",
            "The project's README walks through a first session.\n",
        ),
    )
}

/// The process is up.
async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The process can serve: its store answers.
async fn readyz(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    state.service.check_ready().await?;
    Ok(Json(json!({"status": "ready"})))
}
