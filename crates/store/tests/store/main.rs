//! The store suite: every test is written once and runs on SQLite always, and on
//! PostgreSQL when `FEATHER_TEST_DATABASE_URL` is set (ignored, and counted so, when it is
//! not), each in a fresh database.

/// Runs each named test of the module (an `async fn name(store: &Store)`, written as any
/// function, so rustfmt and the compiler see it whole) on both backends: as
/// `sqlite::name` and as `postgres::name`, each on a fresh database.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let database = feather_store::testing::TestDatabase::sqlite().await;
                    super::$name(&database.store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[feather_test_gates::postgres]
                #[tokio::test]
                async fn $name() {
                    let database = feather_store::testing::TestDatabase::postgres().await;
                    super::$name(&database.store).await;
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
