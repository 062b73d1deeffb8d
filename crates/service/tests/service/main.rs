//! The service suite: use cases over a real store, every test written once and run on
//! SQLite always and on PostgreSQL when `FEATHER_TEST_DATABASE_URL` is set, each in a fresh
//! database. Upstreams are never reached (see `feather_service::testing`).

#[macro_use]
extern crate feather_store;

mod catalog;
mod connections;
mod tool_views;
