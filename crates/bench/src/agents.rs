//! The MCP endpoint for agents under load (issue 11): `tools/call` through the gateway
//! against the same upstream called directly on a persistent session, in the same run,
//! and `tools/list` of the W1 organization against nginx serving the same bytes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use hyper::Method;
use hyper::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ClientConfig, Implementation, ProtocolVersion,
};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Map, Value, json};

use crate::calls::{Api, CalledTool};
use crate::load::{LoadResult, Target};
use crate::procs;
use crate::runner::{
    LISTING, Row, RunSettings, TargetCheck, WARM_CALLS, WARM_IDLE, against_nginx, api_key_header,
    measure, serve_spec,
};

/// The path of the agents' endpoint.
pub const MCP_PATH: &str = "/mcp";

/// The arguments every benchmarked call sends (the demo's `search_customers`).
pub fn call_arguments() -> Map<String, Value> {
    Map::from_iter([("query".to_owned(), json!("ada"))])
}

/// An MCP client with one persistent session (2025-11-25), as an agent runtime keeps.
pub struct McpAgent {
    service: RunningService<RoleClient, BenchClient>,
}

#[derive(Debug, Clone, Copy)]
struct BenchClient;

impl rmcp::ClientHandler for BenchClient {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("feather-bench", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
    }
}

impl std::fmt::Debug for McpAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpAgent").finish_non_exhaustive()
    }
}

impl McpAgent {
    /// Opens a session with `url`, sending `bearer` as its token when given.
    pub async fn connect(url: &str, bearer: Option<&str>) -> anyhow::Result<McpAgent> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(url);
        if let Some(token) = bearer {
            config = config.auth_header(token);
        }
        let transport = StreamableHttpClientTransport::from_config(config);
        let service = BenchClient
            .serve(transport)
            .await
            .with_context(|| format!("no MCP session with {url}"))?;
        Ok(McpAgent { service })
    }

    /// Calls `tool`; whether it answered with a result that is not an error.
    pub async fn call(&self, tool: &str, arguments: Map<String, Value>) -> bool {
        let params = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        matches!(
            self.service.peer().call_tool(params).await,
            Ok(result) if result.is_error != Some(true)
        )
    }

    pub async fn close(self) {
        let _ = self.service.cancel().await;
    }
}

/// Calls `tool` on `agent`'s one session for `duration`, `in_flight` calls at a time,
/// each sent as soon as the one before it was answered (closed loop).
pub async fn call_load(
    agent: &Arc<McpAgent>,
    tool: &str,
    in_flight: usize,
    duration: Duration,
) -> LoadResult {
    let started = Instant::now();
    let deadline = started + duration;
    let callers: Vec<_> = (0..in_flight.max(1))
        .map(|_| {
            let agent = Arc::clone(agent);
            let tool = tool.to_owned();
            tokio::spawn(async move {
                let mut result = LoadResult::default();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    if agent.call(&tool, call_arguments()).await {
                        let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                        result.latencies_us.push(micros);
                        result.requests += 1;
                        *result.statuses.entry(200).or_default() += 1;
                    } else {
                        result.errors += 1;
                    }
                }
                result
            })
        })
        .collect();
    let mut total = LoadResult::default();
    for caller in callers {
        match caller.await {
            Ok(result) => total.merge(result),
            Err(_) => total.errors += 1,
        }
    }
    total.elapsed_secs = started.elapsed().as_secs_f64();
    total
}

/// A stateless 2026-07-28 `tools/list` request to the endpoint, as raw HTTP: what an
/// agent runtime sends for the first page.
pub fn tools_list_target(
    address: std::net::SocketAddr,
    api_key: (HeaderName, HeaderValue),
) -> Target {
    let body = json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/list",
        "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "feather-bench", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}
        }}
    });
    Target {
        address,
        method: Method::POST,
        path: MCP_PATH.to_owned(),
        headers: vec![
            api_key,
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (
                ACCEPT,
                HeaderValue::from_static("application/json, text/event-stream"),
            ),
            (
                HeaderName::from_static("mcp-protocol-version"),
                HeaderValue::from_static("2026-07-28"),
            ),
            (
                HeaderName::from_static("mcp-method"),
                HeaderValue::from_static("tools/list"),
            ),
        ],
        body: Bytes::from(body.to_string()),
    }
}

/// How many tools a `tools/list` answer holds, checking it is one page and no error
/// (the body may be JSON or one server-sent event).
pub fn listed_tools(body: &[u8]) -> anyhow::Result<usize> {
    let text = std::str::from_utf8(body).context("the tools/list answer is not text")?;
    let json = text
        .lines()
        .find_map(|line| line.strip_prefix("data:"))
        .unwrap_or(text)
        .trim();
    let answer: Value = serde_json::from_str(json).context("the tools/list answer is not JSON")?;
    if answer["result"]["nextCursor"].is_string() {
        bail!("tools/list answered more than one page");
    }
    answer["result"]["tools"]
        .as_array()
        .map(Vec::len)
        .with_context(|| format!("tools/list did not answer a list: {answer}"))
}

/// Row names of the phases here.
const TOOLS_LIST: &str = "MCP tools/list (W1)";
const NGINX_TOOLS_LIST: &str = "nginx static (tools/list body)";
const CALL_DIRECT_ONE: &str = "tools/call direct, 1 client";
const CALL_GATEWAY_ONE: &str = "tools/call via /mcp, 1 client";
const CALL_DIRECT_MANY: &str = "tools/call direct, 16 in flight";
const CALL_GATEWAY_MANY: &str = "tools/call via /mcp, 16 in flight";

/// Calls in flight on one agent session in the throughput rows: as many as rmcp's client
/// sends at once, and as many upstream sessions as the gateway keeps per connection.
const IN_FLIGHT: usize = 16;

/// Agent calls a second while the listing is loaded.
const CALLS_PER_SECOND: u32 = 20;

/// W1's tools as `tools/list` answers them on `/mcp`, alternated with nginx serving the
/// byte-identical answer. Returns the service's row, then nginx's.
pub(crate) async fn tools_list_with_baseline(settings: &RunSettings) -> anyhow::Result<Vec<Row>> {
    let api_key = api_key_header(&settings.w1.api_key)?;
    let listed = against_nginx(
        settings,
        |address| Ok(tools_list_target(address, api_key)),
        MCP_PATH,
        (TOOLS_LIST, NGINX_TOOLS_LIST),
    )
    .await?;
    let mut row = listed.service;
    row.note = format!(
        "{} tools, {} B answer, stateless 2026-07-28",
        listed_tools(&listed.body)?,
        listed.body.len()
    );
    Ok(std::iter::once(row).chain(listed.nginx).collect())
}

/// W1 plus one demo connection: the warm listing alone, then while an agent calls the
/// demo tool through `/mcp` `CALLS_PER_SECOND` times a second; then `tools/call` on the
/// demo server directly and through `/mcp`, alternated, with one client and with
/// `IN_FLIGHT` calls at a time. It adds a connection to W1's store, so it runs after
/// every other W1 phase.
pub(crate) async fn with_agents(settings: &RunSettings) -> anyhow::Result<Vec<Row>> {
    let manifest = &settings.w1;
    let env = vec![(
        "FEATHER_ALLOW_UPSTREAM".to_owned(),
        "127.0.0.1/32".to_owned(),
    )];
    let (mut service, address) = procs::start_service(&serve_spec(settings, manifest, env)).await?;
    let api = Api {
        address,
        api_key: api_key_header(&manifest.api_key)?,
    };
    let called = CalledTool::connect(&api).await?;
    let gateway_url = format!("http://{address}{MCP_PATH}");
    let gateway = Arc::new(McpAgent::connect(&gateway_url, Some(&manifest.api_key)).await?);
    let direct = Arc::new(McpAgent::connect(&called.upstream_url(), None).await?);
    let listing = Target::get(address, LISTING, vec![api_key_header(&manifest.api_key)?]);

    let renders_before_idle = api.listing_renders().await?;
    let idle = measure(&listing, settings, settings.concurrency).await;
    let renders_before_calls = api.listing_renders().await?;
    let stop = Arc::new(AtomicBool::new(false));
    let caller = call_steadily(&gateway, called.slug(), CALLS_PER_SECOND, Arc::clone(&stop));
    let (with_calls, (calls_ok, calls_failed)) = tokio::join!(
        async {
            let result = measure(&listing, settings, settings.concurrency).await;
            stop.store(true, Ordering::Relaxed);
            result
        },
        caller
    );
    let renders_after_calls = api.listing_renders().await?;

    let mut calls = Vec::new();
    for (in_flight, direct_row, gateway_row) in [
        (1, CALL_DIRECT_ONE, CALL_GATEWAY_ONE),
        (IN_FLIGHT, CALL_DIRECT_MANY, CALL_GATEWAY_MANY),
    ] {
        let (direct_total, gateway_total) =
            alternate_calls(settings, &direct, &gateway, &called, in_flight).await;
        calls.push(Row::measured(direct_row, in_flight, &direct_total, None));
        calls.push(Row::measured(gateway_row, in_flight, &gateway_total, None));
    }
    for row in &mut calls {
        row.note = format!("demo {} on one persistent session", called.tool_path());
    }

    Arc::into_inner(gateway).map(McpAgent::close);
    Arc::into_inner(direct).map(McpAgent::close);
    called.stop().await;
    service.check_alive()?;
    let peak = procs::status_kib(service.pid(), "VmHWM");
    service.stop();
    let body_bytes = with_calls
        .body_bytes
        .checked_div(with_calls.requests)
        .unwrap_or(0);
    let mut idle_row = Row::measured(WARM_IDLE, settings.concurrency, &idle, peak);
    let idle_renders = renders_before_calls.saturating_sub(renders_before_idle);
    idle_row.listing_renders = Some(idle_renders);
    idle_row.note = format!("{body_bytes} B body; {idle_renders} listing renders");
    let mut calls_row = Row::measured(WARM_CALLS, settings.concurrency, &with_calls, peak);
    let renders = renders_after_calls.saturating_sub(renders_before_calls);
    calls_row.listing_renders = Some(renders);
    calls_row.tool_calls = Some(calls_ok + calls_failed);
    calls_row.note = format!(
        "{CALLS_PER_SECOND} agent calls/s over /mcp wanted: {calls_ok} answered, \
         {calls_failed} not; {renders} listing renders"
    );
    let mut rows = vec![idle_row, calls_row];
    rows.extend(calls);
    Ok(rows)
}

/// The direct session and the gateway loaded in turn, `settings.rounds` times each.
async fn alternate_calls(
    settings: &RunSettings,
    direct: &Arc<McpAgent>,
    gateway: &Arc<McpAgent>,
    called: &CalledTool,
    in_flight: usize,
) -> (LoadResult, LoadResult) {
    let rounds = settings.rounds.max(1);
    let slice = settings.duration / rounds as u32;
    if !settings.warmup.is_zero() {
        call_load(direct, called.tool_path(), in_flight, settings.warmup).await;
        call_load(gateway, called.slug(), in_flight, settings.warmup).await;
    }
    let mut direct_total = LoadResult::default();
    let mut gateway_total = LoadResult::default();
    for _ in 0..rounds {
        direct_total.merge(call_load(direct, called.tool_path(), in_flight, slice).await);
        gateway_total.merge(call_load(gateway, called.slug(), in_flight, slice).await);
    }
    (direct_total, gateway_total)
}

/// Calls `tool` `per_second` times a second until `stop` is set; the calls answered
/// with a result and those that were not.
async fn call_steadily(
    agent: &McpAgent,
    tool: &str,
    per_second: u32,
    stop: Arc<AtomicBool>,
) -> (u64, u64) {
    let (mut ok, mut failed) = (0, 0);
    let mut tick = tokio::time::interval(Duration::from_secs(1) / per_second.max(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        if agent.call(tool, call_arguments()).await {
            ok += 1;
        } else {
            failed += 1;
        }
    }
    (ok, failed)
}

/// Issue 11's targets.
pub(crate) fn check_targets(rows: &[Row]) -> Vec<TargetCheck> {
    let row = |name: &str| {
        rows.iter()
            .find(|row| row.workload == name && row.requests > 0)
    };
    let mut checks = Vec::new();
    let target = "tools/call p50 added via /mcp <= 1 ms";
    checks.push(match (row(CALL_GATEWAY_ONE), row(CALL_DIRECT_ONE)) {
        (Some(gateway), Some(direct)) => {
            let added = gateway.p50_ms - direct.p50_ms;
            TargetCheck {
                target,
                figure: format!(
                    "{added:.2} ms ({:.2} vs {:.2} ms)",
                    gateway.p50_ms, direct.p50_ms
                ),
                met: Some(added <= 1.0),
            }
        }
        _ => TargetCheck {
            target,
            figure: "not measured".into(),
            met: None,
        },
    });
    checks.push(throughput_ratio(
        "tools/call via /mcp >= 0.8 x direct req/s",
        row(CALL_GATEWAY_MANY),
        row(CALL_DIRECT_MANY),
        "not measured",
    ));
    checks.push(throughput_ratio(
        "MCP tools/list >= 0.8 x nginx req/s",
        row(TOOLS_LIST),
        row(NGINX_TOOLS_LIST),
        "no nginx baseline",
    ));
    checks
}

/// `target` is met when `measured` serves at least 0.8 x the requests a second of
/// `baseline`; `missing` says why it was not checked when either did not run.
fn throughput_ratio(
    target: &'static str,
    measured: Option<&Row>,
    baseline: Option<&Row>,
    missing: &str,
) -> TargetCheck {
    match (measured, baseline) {
        (Some(measured), Some(baseline)) => {
            let ratio = measured.requests_per_sec / baseline.requests_per_sec;
            TargetCheck {
                target,
                figure: format!("{ratio:.2} x"),
                met: Some(ratio >= 0.8),
            }
        }
        _ => TargetCheck {
            target,
            figure: missing.into(),
            met: None,
        },
    }
}
