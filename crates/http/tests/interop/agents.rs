//! Agents nobody here wrote, on the service's MCP endpoint: the official Python SDK's
//! client (`interop/agent_client.py`, `mcp` 2.x) in its `auto` mode, which settles on
//! 2026-07-28 through `server/discover`, and in `legacy` mode (the initialize
//! handshake); the official TypeScript SDK's client (`interop/agent_client.mjs`); and
//! `@modelcontextprotocol/inspector-cli`. Upstream is `interop/drift_server.py`, whose tools echo the arguments they
//! received: what an agent sends is not what the operator pinned, and the echo shows
//! which one the upstream got.

use serde_json::{Value, json};

use crate::app::{InteropApp, tool};
use feather_test_support::ServedApp;

use crate::servers::{Interop, ServerProcess};

/// What an agent is told and sends; what the upstream must get instead.
const CALL: &str = "accounts_mcp_lookup_account";
const ARGUMENTS: &str = r#"{"account_id": "acct-9", "region": "us-east"}"#;

/// The drift server's v1 connected as "Accounts MCP", `lookup_account`'s `region` pinned
/// to "eu-west" and `include_closed` defaulted to false, and the app served.
async fn pinned_app(interop: &Interop) -> (InteropApp, ServerProcess, ServedApp) {
    let app = InteropApp::new().await;
    let upstream = interop.drift("v1", "streamable-http", 2, None).await;
    let id = app
        .connect("Accounts MCP", &upstream.url("/mcp"), "streamable_http")
        .await;
    let connection = app.synced(id, &Value::Null).await;
    app.configure(
        id,
        tool(&connection, "lookup_account"),
        json!({"input_defaults": {
            "region": {"value": "eu-west", "type": "pinned"},
            "include_closed": {"value": false},
        }}),
    )
    .await;
    let served = app.serve().await;
    (app, upstream, served)
}

/// Asserts the tools an agent listed: every tool by its slug, the pinned field absent
/// from `lookup_account`'s schema and the default shown.
#[track_caller]
fn assert_agent_facing(tools: &Value, who: &str) {
    let tools = tools.as_array().expect("tools");
    let names: Vec<&str> = tools
        .iter()
        .filter_map(|tool| tool["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "accounts_mcp_legacy_export",
            "accounts_mcp_lookup_account",
            "accounts_mcp_post_note"
        ],
        "{who}"
    );
    let lookup = &tools[1]["inputSchema"];
    assert_eq!(
        lookup["properties"]
            .as_object()
            .map(|properties| properties.keys().map(String::as_str).collect::<Vec<_>>()),
        Some(vec!["account_id", "include_closed"]),
        "{who}: the pinned region is not the agent's to set: {lookup:#}"
    );
    assert_eq!(lookup["properties"]["include_closed"]["default"], false);
    assert_eq!(lookup["required"], json!(["account_id"]), "{who}");
}

/// Asserts the result of calling [`CALL`] with [`ARGUMENTS`]: the upstream echoed the
/// pinned region and the default, not what the agent sent.
#[track_caller]
fn assert_pin_enforced(call: &Value, who: &str) {
    assert_ne!(call["isError"], true, "{who}: {call:#}");
    assert_eq!(
        call["structuredContent"],
        json!({
            "account_id": "acct-9",
            "region": "eu-west",
            "include_closed": "false",
            "catalog": "v1"
        }),
        "{who}: the upstream got the pinned region and the default"
    );
}

#[feather_test_gates::interop]
#[tokio::test]
async fn the_python_sdk_agent_in_auto_and_legacy_mode() {
    let interop = Interop::find();
    let (app, _upstream, served) = pinned_app(&interop).await;
    let url = served.url("/mcp");
    for (mode, version) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let run = interop
            .python_agent(&[
                "--url",
                &url,
                "--key",
                app.key(),
                "--mode",
                mode,
                "--call",
                CALL,
                "--arguments",
                ARGUMENTS,
            ])
            .await;
        let who = format!("python {mode}");
        assert_eq!(run["protocol_version"], version, "{who}: {run:#}");
        assert_agent_facing(&run["tools"], &who);
        assert_pin_enforced(&run["call"], &who);
    }
}

#[feather_test_gates::interop]
#[tokio::test]
async fn the_typescript_sdk_agent() {
    let interop = Interop::find();
    let (app, _upstream, served) = pinned_app(&interop).await;
    let run = interop
        .typescript_agent(&[&served.url("/mcp"), app.key(), CALL, ARGUMENTS])
        .await;
    assert_eq!(run["protocol_version"], "2025-11-25", "{run:#}");
    assert_agent_facing(&run["tools"], "typescript");
    assert_pin_enforced(&run["call"], "typescript");
}

#[feather_test_gates::interop]
#[tokio::test]
async fn the_inspector_cli_lists_and_calls() {
    let interop = Interop::find();
    let (app, _upstream, served) = pinned_app(&interop).await;
    let url = served.url("/mcp");
    let authorization = format!("Authorization: Bearer {}", app.key());
    // The URL first: `--header` takes every value that follows it up to the next option.
    let connect = [
        url.as_str(),
        "--transport",
        "http",
        "--header",
        &authorization,
    ];
    let listed = interop
        .inspector(&[&connect[..], &["--method", "tools/list"]].concat())
        .await;
    assert_agent_facing(&listed["tools"], "inspector");
    let called = interop
        .inspector(
            &[
                &connect[..],
                &[
                    "--method",
                    "tools/call",
                    "--tool-name",
                    CALL,
                    "--tool-arg",
                    "account_id=acct-9",
                    "--tool-arg",
                    "region=us-east",
                ],
            ]
            .concat(),
        )
        .await;
    assert_pin_enforced(&called, "inspector");
}
