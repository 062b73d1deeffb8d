//! Attributes for tests that need something outside the repository. Each leaves the test
//! as it is when what it needs is configured, and otherwise marks it
//! `#[ignore = "<what to set>"]`, so that `cargo test` reports it as ignored, with the
//! reason, instead of a pass that ran nothing.
//!
//! `FEATHER_TEST_REQUIRE_ALL=1` (CI sets it) ignores nothing: a test whose environment is
//! missing then runs and fails, saying what is missing.
//!
//! ```text
//! #[feather_test_gates::postgres]
//! #[tokio::test]
//! async fn replicas_share_the_listing_on_postgres() { … }
//! ```

use proc_macro::TokenStream;

/// For tests that need a PostgreSQL server named by `FEATHER_TEST_DATABASE_URL`.
#[proc_macro_attribute]
pub fn postgres(_arguments: TokenStream, test: TokenStream) -> TokenStream {
    gate(
        cfg!(feather_postgres),
        "needs PostgreSQL: set FEATHER_TEST_DATABASE_URL=postgres://…",
        test,
    )
}

/// For tests that need the third-party MCP servers `interop/install.sh` installs.
#[proc_macro_attribute]
pub fn interop(_arguments: TokenStream, test: TokenStream) -> TokenStream {
    gate(
        cfg!(feather_interop),
        "needs the interop servers: run interop/install.sh, set FEATHER_INTEROP_DIR",
        test,
    )
}

/// For tests that read the published contract in `../shared/contract`.
#[proc_macro_attribute]
pub fn contract(_arguments: TokenStream, test: TokenStream) -> TokenStream {
    gate(
        cfg!(feather_contract),
        "needs ../shared/contract beside the repository",
        test,
    )
}

fn gate(present: bool, reason: &str, test: TokenStream) -> TokenStream {
    if present || cfg!(feather_require_all) {
        return test;
    }
    let mut gated: TokenStream = format!("#[ignore = {reason:?}]")
        .parse()
        .expect("an ignore attribute with a string literal parses");
    gated.extend(test);
    gated
}
