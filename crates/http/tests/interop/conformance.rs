//! The official MCP conformance suite's server scenarios
//! (`@modelcontextprotocol/conformance` 0.1.16, npm) against the agents' endpoint,
//! fronting `interop/conformance_upstream.py` (the suite's tools, on the official Python
//! SDK) connected as "Test": its `simple_text`, `image_content`, … are the `test_*`
//! tools the suite calls. The suite's `json_schema_2020_12_tool` is the tool `tool` of a
//! second fixture connected as "JSON Schema 2020 12". The suite's client sends no
//! credentials: a proxy adds the API key and passes everything else on unchanged.

use serde_json::Value;

use crate::app::InteropApp;
use crate::key_proxy::KeyProxy;
use crate::servers::Interop;

/// Scenarios that must pass.
const MUST_PASS: &[&str] = &[
    "server-initialize",
    "ping",
    "logging-set-level",
    "tools-list",
    "tools-call-simple-text",
    "tools-call-image",
    "tools-call-audio",
    "tools-call-embedded-resource",
    "tools-call-mixed-content",
    "tools-call-with-logging",
    "tools-call-error",
    "tools-call-with-progress",
    "json-schema-2020-12",
    "dns-rebinding-protection",
];

/// Not yet: the endpoint does not pass an upstream's requests to the agent (sampling,
/// elicitation), nor resume a stream from `Last-Event-ID` across an upstream call.
const NOT_YET: &[&str] = &[
    "tools-call-sampling",
    "tools-call-elicitation",
    "elicitation-sep1034-defaults",
    "elicitation-sep1330-enums",
    "server-sse-polling",
    "server-sse-multiple-streams",
];

/// Out of scope: the endpoint serves tools, not resources, prompts or completions.
const OUT_OF_SCOPE_PREFIXES: &[&str] = &["resources-", "prompts-", "completion-"];

#[feather_test_gates::interop]
#[tokio::test]
async fn every_tools_lifecycle_logging_progress_schema_and_rebinding_scenario_passes() {
    let interop = Interop::find();
    let listed = interop.conformance(&["list"]).await;
    assert!(listed.succeeded(), "{listed:?}");
    for scenario in server_scenarios(&listed.stdout) {
        assert!(
            MUST_PASS.contains(&scenario.as_str())
                || NOT_YET.contains(&scenario.as_str())
                || OUT_OF_SCOPE_PREFIXES
                    .iter()
                    .any(|prefix| scenario.starts_with(prefix)),
            "the suite has a scenario this test does not place: {scenario}"
        );
    }

    let app = InteropApp::new().await;
    let everything = interop.conformance_upstream("everything").await;
    let json_schema = interop.conformance_upstream("json-schema").await;
    for (nickname, upstream) in [("Test", &everything), ("JSON Schema 2020 12", &json_schema)] {
        let id = app
            .connect(nickname, &upstream.url("/mcp"), "streamable_http")
            .await;
        app.synced(id, &Value::Null).await;
    }
    let served = app.serve().await;
    let proxy = KeyProxy::start(served.addr, app.key()).await;
    let url = proxy.url("/mcp");

    let mut failed = Vec::new();
    for scenario in MUST_PASS {
        let run = interop
            .conformance(&["server", "--url", &url, "--scenario", scenario])
            .await;
        if !run.succeeded() {
            failed.push(format!("{scenario}:\n{}\n{}", run.stdout, run.stderr));
        }
    }
    assert!(
        failed.is_empty(),
        "{} scenario(s) failed:\n\n{}\nupstream log:\n{}",
        failed.len(),
        failed.join("\n\n"),
        everything.log_text()
    );
}

/// The server scenarios `conformance list` names (lines `  - <name> [<versions>]` after
/// `Server scenarios`, up to the next heading).
fn server_scenarios(listing: &str) -> Vec<String> {
    listing
        .lines()
        .skip_while(|line| !line.starts_with("Server scenarios"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.trim().strip_prefix("- "))
        .filter_map(|entry| entry.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}
