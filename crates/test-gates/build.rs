//! Decides, at build time, which test environments are present: the attributes of this
//! crate expand to `#[ignore = "…"]` for the others. Cargo rebuilds this crate (and so the
//! tests that use it, not the libraries) when one of the variables changes.

use std::path::Path;

fn main() {
    println!(
        "cargo::rustc-check-cfg=cfg(feather_postgres, feather_interop, feather_contract, \
         feather_require_all)"
    );
    for variable in [
        "FEATHER_TEST_DATABASE_URL",
        "FEATHER_INTEROP_DIR",
        "FEATHER_TEST_REQUIRE_ALL",
    ] {
        println!("cargo::rerun-if-env-changed={variable}");
    }
    let set = |variable: &str| std::env::var_os(variable).is_some_and(|value| !value.is_empty());
    if set("FEATHER_TEST_DATABASE_URL") {
        println!("cargo::rustc-cfg=feather_postgres");
    }
    if set("FEATHER_INTEROP_DIR") {
        println!("cargo::rustc-cfg=feather_interop");
    }
    if std::env::var("FEATHER_TEST_REQUIRE_ALL").is_ok_and(|value| value == "1") {
        println!("cargo::rustc-cfg=feather_require_all");
    }
    // `../shared` beside the repository: while it is absent the path is watched anyway,
    // which makes Cargo run this script on every build, so that it is noticed once it
    // appears (a rare set-up: CI and developers have it).
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let contract = Path::new(&manifest).join("../../../shared/contract");
    println!("cargo::rerun-if-changed={}", contract.display());
    if contract.is_dir() {
        println!("cargo::rustc-cfg=feather_contract");
    }
}
