//! The store suite: every test is written once and runs on SQLite always, and on
//! PostgreSQL when `FEATHER_TEST_DATABASE_URL` is set (ignored, and counted so, when it is
//! not), each in a fresh database.

#[macro_use]
extern crate feather_store;

mod agent_reads;
mod api_keys;
mod connections;
mod derived_views;
mod explain;
mod files;
mod fixtures;
mod invocations;
mod jobs;
mod listing_version;
mod oauth_authorizations;
mod organizations;
mod secrets;
mod slugs;
mod tools;
