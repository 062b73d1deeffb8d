//! Where the key that seals credentials comes from: never invented where it could be lost
//! (a PostgreSQL store shared by replicas), never created by commands that seal nothing.

use std::path::Path;
use std::process::{Command, Output};

use feather_store::testing::TestDatabase;

const BINARY: &str = env!("CARGO_BIN_EXE_feather-integrations");

/// The binary run in `cwd` with `args`, without any key or data directory configured.
fn run_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .current_dir(cwd)
        .args(args)
        .env_remove("FEATHER_SECRET_KEY")
        .env_remove("FEATHER_DATA_DIR")
        .env_remove("FEATHER_DATABASE_URL")
        .env("FEATHER_LOG", "warn")
        .output()
        .expect("run the binary")
}

#[feather_test_gates::postgres]
#[tokio::test]
async fn serve_on_postgres_without_a_key_refuses_to_start_and_says_how_to_make_one() {
    let database = TestDatabase::postgres().await;
    let cwd = tempfile::tempdir().expect("a working directory");
    let url = database.url();
    let output = run_in(
        cwd.path(),
        &["serve", "--database-url", &url, "--bind", "127.0.0.1:0"],
    );
    assert!(!output.status.success(), "serve started: {output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("FEATHER_SECRET_KEY is not set")
            && stderr.contains("feather-integrations secrets generate-key"),
        "{stderr}"
    );
    assert!(
        !cwd.path().join("data").exists(),
        "no key was generated into ./data"
    );
}

#[test]
fn organization_commands_create_no_key_file() {
    let cwd = tempfile::tempdir().expect("a working directory");
    let created = run_in(cwd.path(), &["orgs", "create", "--name", "Acme", "--json"]);
    assert!(created.status.success(), "{created:?}");
    let listed = run_in(cwd.path(), &["orgs", "list", "--json"]);
    assert!(listed.status.success(), "{listed:?}");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.lines().count(), 1, "{listed}");
    assert!(listed.contains("\"name\":\"Acme\""), "{listed}");
    assert!(cwd.path().join("data/feather.db").exists());
    assert!(
        !cwd.path().join("data/secret.key").exists(),
        "orgs commands seal nothing, so they need no key"
    );
}

#[test]
fn a_generated_key_is_printed_alone_and_fresh_each_time() {
    let cwd = tempfile::tempdir().expect("a working directory");
    let first = run_in(cwd.path(), &["secrets", "generate-key"]);
    let second = run_in(cwd.path(), &["secrets", "generate-key"]);
    assert!(first.status.success() && second.status.success());
    let first = String::from_utf8_lossy(&first.stdout);
    assert_eq!(first.trim().len(), 44, "base64 of 32 bytes: {first}");
    assert_ne!(first, String::from_utf8_lossy(&second.stdout));
    assert!(
        std::fs::read_dir(cwd.path())
            .expect("read")
            .next()
            .is_none()
    );
}
