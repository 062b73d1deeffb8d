//! The HTTP API, end to end: the real router over a fresh store per test, called in
//! process. One module per resource; the shared `TestApp` and fixtures are in `support`.

mod api_keys;
mod auth;
mod caching;
mod catalog_limits;
mod computed;
mod connections;
mod contract;
mod custom_mcp;
mod errors;
mod health;
mod integrations;
mod invoke;
mod jobs;
mod openapi;
mod overload;
mod rate_limits;
mod support;
mod sync;
mod tools;
mod unstorable;
mod vendor_seam;
