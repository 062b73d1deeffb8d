//! The HTTP API of feather-integrations: axum routers per resource, authentication,
//! request extraction, the error format, and the OpenAPI document generated from the
//! handlers. No SQL and no business rules live here.

mod auth;
mod error;
mod extract;
mod middleware;
mod openapi;
mod routes;
mod schemas;

use std::sync::Arc;

use axum::Router;
use feather_service::Service;

pub use openapi::openapi;

/// Largest request body accepted; larger ones answer 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared state of every handler: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<AppInner>);

#[derive(Debug)]
pub struct AppInner {
    pub service: Service,
}

impl std::ops::Deref for AppState {
    type Target = AppInner;

    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// The complete HTTP application over `service`.
pub fn app(service: Service) -> Router {
    let state = AppState(Arc::new(AppInner { service }));
    middleware::wrap(routes::router(state))
}
