//! The store suite: every test is written once and runs on SQLite always, and on
//! PostgreSQL when `FEATHER_TEST_DATABASE_URL` is set (ignored, and counted so, when it is
//! not), each in a fresh database.

/// Declares store tests: each `async fn name(store) { … }` becomes `sqlite::name` and
/// `postgres::name`, with `store: &Store` bound to a fresh database of that backend.
macro_rules! store_tests {
    ($(async fn $name:ident($store:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let database = feather_store::testing::TestDatabase::sqlite().await;
                    let $store: &feather_store::Store = &database.store;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[feather_test_gates::postgres]
                #[tokio::test]
                async fn $name() {
                    let database = feather_store::testing::TestDatabase::postgres().await;
                    let $store: &feather_store::Store = &database.store;
                    $body
                }
            )*
        }
    };
}

mod api_keys;
mod connections;
mod derived_views;
mod explain;
mod files;
mod fixtures;
mod invocations;
mod jobs;
mod listing_version;
mod organizations;
mod secrets;
mod tools;
