//! Running the real binary in tests: `serve` processes on a chosen database, the CLI's
//! admin commands, and seed data written straight to the store.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::Utc;
use feather_domain::connection::Connection;
use feather_store::testing::active_mcp_connection;
use feather_store::{CatalogTool, Store};
use serde_json::{Value, json};
use uuid::Uuid;

pub const BINARY: &str = env!("CARGO_BIN_EXE_feather-integrations");
/// A fixed secret key, so that every replica could open the same sealed credentials.
const SECRET_KEY: &str = "c2VjcmV0LWtleS1vZi10aGUtcmVwbGljYS10ZXN0cyE=";

/// One `serve` process; killed when dropped.
pub struct Replica {
    child: Child,
    base: String,
}

impl Replica {
    pub fn start(database_url: &str, data_dir: &std::path::Path) -> Replica {
        let mut command = Command::new(BINARY);
        command
            .args(["--data-dir"])
            .arg(data_dir)
            .args(["serve", "--bind", "127.0.0.1:0", "--job-workers", "1"])
            .env("FEATHER_DATABASE_URL", database_url);
        Replica::spawn(command)
    }

    /// Runs `command`, which must end in `serve` (directly or through a shell's `exec`),
    /// until its "serving" log line names the address it listens on.
    pub fn spawn(mut command: Command) -> Replica {
        let mut child = command
            .env("FEATHER_SECRET_KEY", SECRET_KEY)
            .env("FEATHER_LOG", "info")
            .env("FEATHER_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let (found, address) = mpsc::channel();
        // Reads the log until the "serving" line names the bound address, and on, so that
        // the process never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Shown with a failing test's output.
                eprintln!("serve: {line}");
                let Ok(event) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if event["fields"]["message"] == "serving"
                    && let (Some(sender), Some(address)) =
                        (found.take(), event["fields"]["address"].as_str())
                {
                    let _ = sender.send(address.to_owned());
                }
            }
        });
        let address = address
            .recv_timeout(Duration::from_secs(60))
            .expect("serve logs the address it listens on");
        Replica {
            child,
            base: format!("http://{address}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An organization's first key, made by the CLI as an operator would.
pub fn create_organization(database_url: &str, data_dir: &std::path::Path) -> (Uuid, String) {
    let output = Command::new(BINARY)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["orgs", "create", "--name", "Replicated", "--json"])
        .env("FEATHER_DATABASE_URL", database_url)
        .env("FEATHER_LOG", "warn")
        .output()
        .expect("run orgs create");
    assert!(output.status.success(), "orgs create failed: {output:?}");
    let created: Value = serde_json::from_slice(&output.stdout).expect("orgs create --json");
    let organization = created["organization_id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("organization id");
    let key = created["api_key"].as_str().expect("api key").to_owned();
    (organization, key)
}

/// A synced connection with two tools, written straight to the store.
pub async fn seed_connection(store: &Store, organization_id: Uuid) -> Uuid {
    let at = feather_store::now();
    let connection = Connection {
        nickname: "Support desk".to_owned(),
        ..active_mcp_connection(organization_id, "support_desk", at)
    };
    store
        .seed_connection(&connection, None)
        .await
        .expect("insert connection");
    let tool = |path: &str| CatalogTool {
        tool_path: path.to_owned(),
        slug: format!("support_desk_{path}"),
        display_name: path.to_owned(),
        description: None,
        input_schema: json!({"type": "object", "properties": {"limit": {"type": "integer"}}}),
        response_schema: None,
        annotations: None,
    };
    store
        .seed_catalog(
            organization_id,
            connection.id,
            &[tool("find"), tool("send")],
            Utc::now(),
        )
        .await
        .expect("sync");
    connection.id
}
