//! Where the keys that seal credentials come from, and what happens when they change:
//! never invented where it could be lost (a PostgreSQL store shared by replicas), never
//! created by commands that seal nothing, never generated over stored credentials. `serve`
//! refuses to start with keys that do not open what is stored, saying what to do; several
//! keys open (the first seals); `secrets rotate` moves everything to the first key while
//! replicas serve.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use feather_demo_mcp::DemoServer;
use feather_domain::connection::Connection;
use feather_service::{KeyId, SecretBox};
use feather_store::JobKind;
use feather_store::testing::TestDatabase;
use feather_store::testing::active_mcp_connection;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use support::{BINARY, Replica, create_organization};

/// The bearer token every test connection is created with.
const TOKEN: &str = "token-of-the-support-desk";

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_when_the_key_file_is_lost_over_stored_credentials() {
    let deployment = Deployment::new(TestDatabase::sqlite().await).await;
    let key_file = deployment.data_dir.path().join("secret.key");
    let replica = deployment.start(None);
    let desk = deployment.connect(&replica, "Desk").await;
    // Synced before the replica is killed, so that no job is left leased to it.
    deployment.wait_until_synced(&replica, &desk).await;
    drop(replica);
    let key = std::fs::read_to_string(&key_file).expect("serve generated the key file");
    std::fs::remove_file(&key_file).expect("lose the key file");

    let refusal = deployment.refused(None);
    assert!(
        refusal.contains(&format!(
            "the key file {} is missing, but the store holds 1 credential",
            key_file.display()
        )) && refusal.contains("restore")
            && refusal.contains("FEATHER_SECRET_KEY"),
        "{refusal}"
    );
    assert!(
        !key_file.exists(),
        "no new key is generated over credentials"
    );

    std::fs::write(&key_file, key).expect("restore the key file");
    let replica = deployment.start(None);
    deployment.assert_ready(&replica).await;
    deployment.wait_until_synced(&replica, &desk).await;
    assert_eq!(deployment.call(&replica, &desk).await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_to_start_with_a_key_that_does_not_open_the_stored_credentials() {
    let deployment = Deployment::new(TestDatabase::sqlite().await).await;
    let (sealed_with, wrong) = (Key::new(), Key::new());
    let replica = deployment.start(Some(&sealed_with.encoded));
    deployment.connect(&replica, "Desk").await;
    deployment.connect(&replica, "Desk B").await;
    drop(replica);

    let refusal = deployment.refused(Some(&wrong.encoded));
    assert!(
        refusal.contains(&format!(
            "2 of the 2 stored credentials cannot be opened with the configured key ({}): 2 \
             sealed with key {}",
            wrong.id(),
            sealed_with.id()
        )) && refusal.contains("add that key to FEATHER_SECRET_KEY")
            && refusal.contains("--forget-unopenable"),
        "{refusal}"
    );
    assert!(!refusal.contains(&sealed_with.encoded) && !refusal.contains(&wrong.encoded));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_keys_open_what_any_of_them_sealed_and_the_first_seals() {
    let deployment = Deployment::new(TestDatabase::sqlite().await).await;
    let (old, new) = (Key::new(), Key::new());
    let replica = deployment.start(Some(&old.encoded));
    let under_old = deployment.connect(&replica, "Desk").await;
    deployment.wait_until_synced(&replica, &under_old).await;
    drop(replica);

    let replica = deployment.start(Some(&list(&[&new, &old])));
    let under_new = deployment.connect(&replica, "Desk B").await;
    assert_eq!(deployment.sealed_with(&under_old).await, Some(old.key_id()));
    assert_eq!(deployment.sealed_with(&under_new).await, Some(new.key_id()));
    for connection in [&under_old, &under_new] {
        deployment.wait_until_synced(&replica, connection).await;
        assert_eq!(deployment.call(&replica, connection).await, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_reseals_every_credential_with_the_first_key_and_then_the_old_key_can_go() {
    let deployment = Deployment::new(TestDatabase::sqlite().await).await;
    let (old, new) = (Key::new(), Key::new());
    let replica = deployment.start(Some(&old.encoded));
    let first = deployment.connect(&replica, "Desk").await;
    let second = deployment.connect(&replica, "Desk B").await;
    deployment.wait_until_synced(&replica, &first).await;
    deployment.wait_until_synced(&replica, &second).await;
    drop(replica);
    let rotating = list(&[&new, &old]);
    let replica = deployment.start(Some(&rotating));
    let third = deployment.connect(&replica, "Desk C").await;

    // While the replica serves.
    let rotated = deployment.rotate(&rotating, &[]);
    assert!(rotated.success, "{}", rotated.stderr);
    assert_eq!(
        rotated.counts,
        json!({"key_id": new.id(), "resealed": 2, "already_current": 1, "unopenable": 0,
               "forgotten": 0, "changed_meanwhile": 0})
    );
    for connection in [&first, &second, &third] {
        assert_eq!(deployment.sealed_with(connection).await, Some(new.key_id()));
        let plaintext = deployment.open(&new, connection).await;
        assert!(plaintext.contains(TOKEN), "the same credentials, re-sealed");
        deployment.wait_until_synced(&replica, connection).await;
        assert_eq!(deployment.call(&replica, connection).await, StatusCode::OK);
    }
    let again = deployment.rotate_text(&rotating);
    assert_eq!(
        again,
        format!(
            "Re-sealed 0 credentials with key {}; 3 were sealed with it already.\n",
            new.id()
        ),
        "a second run has nothing left to do"
    );
    drop(replica);

    let replica = deployment.start(Some(&new.encoded));
    deployment.assert_ready(&replica).await;
    assert_eq!(deployment.call(&replica, &first).await, StatusCode::OK);
    drop(replica);
    let refusal = deployment.refused(Some(&old.encoded));
    assert!(
        refusal.contains(&format!("3 sealed with key {}", new.id())),
        "{refusal}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_reports_what_no_key_opens_fails_and_can_forget_it() {
    let deployment = Deployment::new(TestDatabase::sqlite().await).await;
    let (lost, replacement) = (Key::new(), Key::new());
    let replica = deployment.start(Some(&lost.encoded));
    let desk = deployment.connect(&replica, "Desk").await;
    drop(replica);

    let rotated = deployment.rotate(&replacement.encoded, &[]);
    assert!(!rotated.success, "a credential was not opened");
    assert_eq!(rotated.counts["unopenable"], json!(1));
    assert_eq!(rotated.counts["resealed"], json!(0));
    assert!(
        rotated
            .stderr
            .contains("1 credential could not be opened with any configured key")
            && rotated.stderr.contains("--forget-unopenable"),
        "{}",
        rotated.stderr
    );

    let forgotten = deployment.rotate(&replacement.encoded, &["--forget-unopenable"]);
    assert!(forgotten.success, "{}", forgotten.stderr);
    assert_eq!(forgotten.counts["forgotten"], json!(1));
    assert_eq!(deployment.sealed_with(&desk).await, None);

    let replica = deployment.start(Some(&replacement.encoded));
    let shown = deployment.connection(&replica, &desk).await;
    assert_eq!(shown["status"], json!("error"), "{shown}");
    assert!(
        shown["status_reason"]
            .as_str()
            .is_some_and(|reason| reason.contains("connect it again")),
        "{shown}"
    );
}

/// A credential sealed before key ids existed (format 1): the key that opens it is
/// recorded at the first start, and a key that does not open it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_sealed_before_key_ids_gets_its_key_recorded_at_start() {
    // Sealed by the format-1 code with the key [7; 32] for this connection (see the
    // fixture test in crates/service/src/secrets.rs).
    const SEALED: &str = "01030303030303030303030303030303030303030303030303ff24297e1453a38228642c9022bfec7308ee1f0c667b1b7acc724865450952cfbc7ceeb76c7101e8cfb69f0c388e764140c65f3bf7890b75f3a058c8";
    let connection_id: Uuid = "01900000-0000-7000-8000-000000000001"
        .parse()
        .expect("uuid");
    let deployment = Deployment::new(TestDatabase::sqlite().await).await;
    let sealed: Vec<u8> = (0..SEALED.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&SEALED[at..at + 2], 16).expect("hex"))
        .collect();
    deployment.insert_connection(connection_id, &sealed).await;
    let desk = Desk {
        id: connection_id,
        slug: "desk".to_owned(),
    };
    let key = Key::from_bytes([7; 32]);

    let refusal = deployment.refused(Some(&Key::new().encoded));
    assert!(
        refusal.contains("1 sealed before keys were recorded, which no configured key opens"),
        "{refusal}"
    );
    assert_eq!(deployment.sealed_with(&desk).await, None);

    let replica = deployment.start(Some(&list(&[&Key::new(), &key])));
    assert_eq!(deployment.sealed_with(&desk).await, Some(key.key_id()));
    assert!(deployment.open(&key, &desk).await.contains(TOKEN));
    deployment.wait_until_synced(&replica, &desk).await;
    assert_eq!(deployment.call(&replica, &desk).await, StatusCode::OK);
}

/// Two replicas on one database during a rotation: one still sealing with the old key
/// (its list `old,new`), one already with the new (`new,old`). Each serves what the other
/// sealed, before and after `secrets rotate` runs beside them; then the old key can go.
#[feather_test_gates::postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_with_the_old_and_the_new_key_list_serve_side_by_side_during_a_rotation() {
    let deployment = Deployment::new(TestDatabase::postgres().await).await;
    let (old, new) = (Key::new(), Key::new());
    let not_yet_switched = deployment.start(Some(&list(&[&old, &new])));
    let switched = deployment.start(Some(&list(&[&new, &old])));
    let under_old = deployment.connect(&not_yet_switched, "Desk").await;
    let under_new = deployment.connect(&switched, "Desk B").await;
    assert_eq!(deployment.sealed_with(&under_old).await, Some(old.key_id()));
    assert_eq!(deployment.sealed_with(&under_new).await, Some(new.key_id()));
    let replicas = [&not_yet_switched, &switched];
    for connection in [&under_old, &under_new] {
        deployment.wait_until_synced(&switched, connection).await;
        for replica in replicas {
            assert_eq!(deployment.call(replica, connection).await, StatusCode::OK);
        }
    }

    let rotated = deployment.rotate(&list(&[&new, &old]), &[]);
    assert!(rotated.success, "{}", rotated.stderr);
    assert_eq!(rotated.counts["resealed"], json!(1));
    assert_eq!(rotated.counts["already_current"], json!(1));
    for connection in [&under_old, &under_new] {
        assert_eq!(deployment.sealed_with(connection).await, Some(new.key_id()));
        for replica in replicas {
            assert_eq!(deployment.call(replica, connection).await, StatusCode::OK);
        }
    }

    let new_only = deployment.start(Some(&new.encoded));
    assert_eq!(deployment.call(&new_only, &under_old).await, StatusCode::OK);
    let refusal = deployment.refused(Some(&old.encoded));
    assert!(
        refusal.contains(&format!(
            "2 of the 2 stored credentials cannot be opened with the configured key ({}): 2 \
             sealed with key {}",
            old.id(),
            new.id()
        )),
        "{refusal}"
    );
}

/// A sealing key, as `FEATHER_SECRET_KEY` takes it.
struct Key {
    bytes: [u8; 32],
    encoded: String,
}

impl Key {
    fn new() -> Key {
        Key::from_bytes(SecretBox::generate_key())
    }

    fn from_bytes(bytes: [u8; 32]) -> Key {
        Key {
            bytes,
            encoded: STANDARD.encode(bytes),
        }
    }

    fn key_id(&self) -> KeyId {
        KeyId::of(&self.bytes)
    }

    fn id(&self) -> String {
        self.key_id().to_string()
    }
}

/// `FEATHER_SECRET_KEY` with several keys, the first sealing.
fn list(keys: &[&Key]) -> String {
    keys.iter()
        .map(|key| key.encoded.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A connection made by a test: its id and nickname slug.
struct Desk {
    id: Uuid,
    slug: String,
}

/// What `secrets rotate --json` did.
struct Rotated {
    success: bool,
    counts: Value,
    stderr: String,
}

/// A store, an organization in it, a data directory for the key file, and the demo MCP
/// server to connect to.
struct Deployment {
    database: TestDatabase,
    url: String,
    data_dir: tempfile::TempDir,
    api_key: String,
    demo: DemoServer,
    http: reqwest::Client,
}

impl Deployment {
    async fn new(database: TestDatabase) -> Deployment {
        let data_dir = tempfile::tempdir().expect("data dir");
        let url = database.url();
        let (_, api_key) = create_organization(&url, data_dir.path());
        let demo = DemoServer::start(([127, 0, 0, 1], 0).into())
            .await
            .expect("start the demo MCP server");
        Deployment {
            database,
            url,
            data_dir,
            api_key,
            demo,
            http: reqwest::Client::new(),
        }
    }

    /// `serve` with `keys` as `--secret-key`, or with none configured at all.
    fn serve(&self, keys: Option<&str>) -> Command {
        let mut command = match keys {
            Some(_) => Command::new(BINARY),
            None => {
                // Through `env`, which drops the key `Replica::spawn` sets.
                let mut command = Command::new("env");
                command.args(["-u", "FEATHER_SECRET_KEY", BINARY]);
                command
            }
        };
        command
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .args(["serve", "--bind", "127.0.0.1:0", "--job-workers", "1"])
            .args(["--allow-upstream", "127.0.0.1/32"])
            .env("FEATHER_DATABASE_URL", &self.url);
        if let Some(keys) = keys {
            // The option wins over the environment variable `Replica::spawn` sets.
            command.args(["--secret-key", keys]);
        }
        command
    }

    fn start(&self, keys: Option<&str>) -> Replica {
        Replica::spawn(self.serve(keys))
    }

    /// What `serve` says when it refuses to start (it must, within a minute).
    fn refused(&self, keys: Option<&str>) -> String {
        let mut child = self
            .serve(keys)
            .env("FEATHER_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run serve");
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().expect("wait for serve").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("serve started, or hung, with keys that do not open the credentials");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let output = child.wait_with_output().expect("serve's output");
        assert!(!output.status.success(), "serve succeeded: {output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    fn rotate_command(&self, keys: &str) -> Command {
        let mut command = Command::new(BINARY);
        command
            .arg("--data-dir")
            .arg(self.data_dir.path())
            .args(["secrets", "rotate"])
            .env("FEATHER_DATABASE_URL", &self.url)
            .env("FEATHER_SECRET_KEY", keys)
            .env("FEATHER_LOG", "warn");
        command
    }

    fn rotate(&self, keys: &str, options: &[&str]) -> Rotated {
        let output = self
            .rotate_command(keys)
            .arg("--json")
            .args(options)
            .output()
            .expect("run secrets rotate");
        let stdout = String::from_utf8_lossy(&output.stdout);
        Rotated {
            success: output.status.success(),
            counts: serde_json::from_str(&stdout)
                .unwrap_or_else(|_| panic!("one JSON line: {output:?}")),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The text `secrets rotate` prints, when it succeeds.
    fn rotate_text(&self, keys: &str) -> String {
        let output = self
            .rotate_command(keys)
            .output()
            .expect("run secrets rotate");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Connects the demo server, as `nickname`, with a bearer token.
    async fn connect(&self, replica: &Replica, nickname: &str) -> Desk {
        let response = self
            .http
            .post(replica.url("/v1/integrations/connections/custom-mcp"))
            .header("x-api-key", &self.api_key)
            .json(&json!({
                "nickname": nickname,
                "server_url": self.demo.streamable_url(),
                "transport": "streamable_http",
                "auth_type": "bearer",
                "token": TOKEN,
            }))
            .send()
            .await
            .expect("connect");
        assert_eq!(response.status(), StatusCode::CREATED);
        let created: Value = response.json().await.expect("created");
        let id = created["connection_id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("connection id");
        Desk {
            id,
            slug: nickname.to_lowercase().replace(' ', "_"),
        }
    }

    async fn connection(&self, replica: &Replica, desk: &Desk) -> Value {
        let response = self
            .http
            .get(replica.url(&format!("/v1/integrations/connections/{}", desk.id)))
            .header("x-api-key", &self.api_key)
            .send()
            .await
            .expect("GET connection");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("connection")
    }

    /// Waits for the first sync (run by whichever replica claimed it) to succeed, which
    /// needs the credentials opened.
    async fn wait_until_synced(&self, replica: &Replica, desk: &Desk) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let shown = self.connection(replica, desk).await;
            if shown["tools_status"] == json!("synced") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the connection did not sync within 30 s: {shown}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Calls one of the connection's tools through `replica`, which must open its
    /// credentials to reach the server.
    async fn call(&self, replica: &Replica, desk: &Desk) -> StatusCode {
        let response = self
            .http
            .post(replica.url(&format!(
                "/v1/integrations/connections/{}/test-mcp-call",
                desk.id
            )))
            .header("x-api-key", &self.api_key)
            .json(&json!({
                "slug": format!("{}_search_customers", desk.slug),
                "input": {"query": "", "limit": 1},
            }))
            .send()
            .await
            .expect("test-mcp-call");
        let status = response.status();
        if status != StatusCode::OK {
            eprintln!(
                "test-mcp-call: {status} {}",
                response.text().await.unwrap_or_default()
            );
        }
        status
    }

    async fn assert_ready(&self, replica: &Replica) {
        let ready = self
            .http
            .get(replica.url("/readyz"))
            .send()
            .await
            .expect("GET /readyz");
        assert_eq!(ready.status(), StatusCode::OK);
    }

    /// The key id the connection's stored credentials name.
    async fn sealed_with(&self, desk: &Desk) -> Option<KeyId> {
        let sealed = self
            .database
            .store
            .connection_secret(desk.id)
            .await
            .expect("read the sealed credentials")?;
        SecretBox::sealed_with(&sealed)
    }

    /// The connection's stored credentials opened with `key` alone.
    async fn open(&self, key: &Key, desk: &Desk) -> String {
        let sealed = self
            .database
            .store
            .connection_secret(desk.id)
            .await
            .expect("read the sealed credentials")
            .expect("sealed credentials");
        let plaintext = SecretBox::new(key.bytes)
            .open(desk.id, &sealed)
            .expect("the key opens them");
        String::from_utf8(plaintext).expect("JSON")
    }

    /// A connection to the demo server with the given sealed credentials, written straight
    /// to the store as an older version of the service left it, with its first sync due.
    async fn insert_connection(&self, id: Uuid, sealed: &[u8]) {
        let organization_id = self
            .database
            .store
            .list_organizations()
            .await
            .expect("organizations")[0]
            .id;
        let at = feather_store::now();
        let mut metadata = serde_json::Map::new();
        metadata.insert("server_url".to_owned(), json!(self.demo.streamable_url()));
        metadata.insert("transport".to_owned(), json!("streamable_http"));
        metadata.insert("auth_type".to_owned(), json!("bearer"));
        let connection = Connection {
            id,
            nickname: "Desk".to_owned(),
            metadata,
            ..active_mcp_connection(organization_id, "desk", at)
        };
        let store = &self.database.store;
        store
            .seed_connection(&connection, Some(sealed))
            .await
            .expect("insert the connection");
        store
            .enqueue_job(JobKind::SyncTools, organization_id, id, at, at)
            .await
            .expect("queue its first sync");
    }
}
