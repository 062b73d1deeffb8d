//! The administration commands, run as the installed binary against a data directory.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{Duration, Utc};
use feather_store::{NewApiKey, Store};
use serde_json::Value;
use uuid::Uuid;

const BINARY: &str = env!("CARGO_BIN_EXE_feather-integrations");

fn run(data_dir: &Path, args: &[&str]) -> Output {
    let output = Command::new(BINARY)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("FEATHER_DATABASE_URL")
        .env("FEATHER_LOG", "warn")
        .output()
        .expect("run the binary");
    assert!(output.status.success(), "{args:?}: {output:?}");
    output
}

fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect()
}

#[tokio::test]
async fn api_keys_list_tells_active_expired_and_revoked_keys_apart() {
    let data = tempfile::tempdir().expect("a data directory");
    let created = run(data.path(), &["orgs", "create", "--name", "Acme", "--json"]);
    let org = json_lines(&created)[0]["organization_id"]
        .as_str()
        .expect("an organization id")
        .to_owned();
    let key = run(
        data.path(),
        &[
            "api-keys", "create", "--org", &org, "--name", "revoked", "--json",
        ],
    );
    let revoked = json_lines(&key)[0]["id"]
        .as_str()
        .expect("a key id")
        .to_owned();
    run(
        data.path(),
        &["api-keys", "revoke", "--org", &org, "--key-id", &revoked],
    );
    // The API refuses an expiry in the past, so the expired key is written to the store.
    let store = Store::open_sqlite_file(&data.path().join("feather.db"))
        .await
        .expect("open the store");
    let now = Utc::now();
    store
        .insert_api_key(&NewApiKey {
            id: Uuid::now_v7(),
            organization_id: org.parse().expect("a uuid"),
            name: "expired".into(),
            key_prefix: "fth_expired0".into(),
            key_hash: "0".repeat(64),
            scopes: Vec::new(),
            created_at: now - Duration::days(2),
            expires_at: Some(now - Duration::days(1)),
        })
        .await
        .expect("insert an expired key");
    store.close().await;

    let listed = json_lines(&run(
        data.path(),
        &["api-keys", "list", "--org", &org, "--json"],
    ));
    let state_of = |name: &str| {
        listed
            .iter()
            .find(|key| key["name"] == name)
            .map(|key| key["state"].clone())
    };
    assert_eq!(state_of("expired"), Some("expired".into()), "{listed:?}");
    assert_eq!(state_of("revoked"), Some("revoked".into()), "{listed:?}");
    // `orgs create` made the organization's first key, which is in force.
    assert!(
        listed.iter().any(|key| key["state"] == "active"),
        "{listed:?}"
    );
}
