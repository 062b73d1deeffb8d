//! The HTTP API, end to end: the real router over a fresh store per test, called in
//! process. One module per resource; the shared `TestApp` and fixtures are in
//! `feather_test_support`.

mod agents;
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
mod oauth;
mod openapi;
mod overload;
mod rate_limits;
mod sync;
mod tools;
mod unstorable;
mod vendor_seam;

use feather_test_support as support;
