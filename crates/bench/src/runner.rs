//! The load run: the service under each workload, alternated with an nginx baseline, and
//! the table of results.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use hyper::header::{ETAG, HeaderName, HeaderValue, IF_NONE_MATCH};
use serde::Serialize;

use crate::agents;
use crate::fixtures::Manifest;
use crate::load::{self, LoadResult, Target};
use crate::procs::{self, ServeSpec};

/// The listing every phase requests.
pub const LISTING: &str = "/v1/integrations/connections";
/// The switch the service will honour to bypass its listing cache (every request a miss).
pub const CACHE_SWITCH: (&str, &str) = ("FEATHER_LISTING_CACHE", "off");

/// Settings of a run.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub service_binary: PathBuf,
    pub w1: Manifest,
    /// W1 on W2's PostgreSQL server: what W2 is compared with, backend for backend.
    pub w1_postgres: Option<Manifest>,
    pub w2: Option<Manifest>,
    /// Measured time per phase (split over `rounds` when alternating with nginx).
    pub duration: Duration,
    /// Unmeasured load before each measurement.
    pub warmup: Duration,
    pub concurrency: usize,
    /// W1 warm and nginx alternate this many times.
    pub rounds: usize,
    /// nginx binary; `None` skips the static baseline.
    pub nginx: Option<PathBuf>,
    /// Scratch directory: service logs, nginx prefix.
    pub work_dir: PathBuf,
    /// Only the phases of the MCP endpoint for agents.
    pub only_agents: bool,
}

/// One line of the result table.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub workload: String,
    /// Connections the load generator kept busy.
    pub concurrency: usize,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// VmHWM of the serving process(es), KiB.
    pub peak_rss_kib: Option<u64>,
    /// This row's req/s over nginx's (the static file); `None` without a baseline.
    pub ratio_vs_nginx: Option<f64>,
    pub requests: u64,
    pub errors: u64,
    pub statuses: std::collections::BTreeMap<u16, u64>,
    pub bytes_per_response: u64,
    /// Listings the service rendered during the phase (its cache misses), where counted.
    pub listing_renders: Option<u64>,
    /// Tool calls made alongside the load, where any were.
    pub tool_calls: Option<u64>,
    pub note: String,
}

impl Row {
    pub(crate) fn measured(
        workload: &str,
        concurrency: usize,
        result: &LoadResult,
        peak_rss_kib: Option<u64>,
    ) -> Row {
        Row {
            workload: workload.to_owned(),
            concurrency,
            requests_per_sec: result.requests_per_sec(),
            p50_ms: result.quantile_ms(0.50),
            p99_ms: result.quantile_ms(0.99),
            max_ms: result.quantile_ms(1.0),
            peak_rss_kib,
            ratio_vs_nginx: None,
            requests: result.requests,
            errors: result.errors,
            statuses: result.statuses.clone(),
            bytes_per_response: result.body_bytes.checked_div(result.requests).unwrap_or(0),
            listing_renders: None,
            tool_calls: None,
            note: String::new(),
        }
    }

    pub(crate) fn skipped(workload: &str, note: String) -> Row {
        Row {
            workload: workload.to_owned(),
            concurrency: 0,
            requests_per_sec: f64::NAN,
            p50_ms: f64::NAN,
            p99_ms: f64::NAN,
            max_ms: f64::NAN,
            peak_rss_kib: None,
            ratio_vs_nginx: None,
            requests: 0,
            errors: 0,
            statuses: Default::default(),
            bytes_per_response: 0,
            listing_renders: None,
            tool_calls: None,
            note,
        }
    }
}

/// Everything a run reports.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub concurrency: usize,
    pub duration_secs: f64,
    pub warmup_secs: f64,
    pub rounds: usize,
    pub w1_body_bytes: usize,
    pub rows: Vec<Row>,
    pub targets: Vec<TargetCheck>,
}

/// One of issue 4's targets, with the figure this run reached.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub target: &'static str,
    pub figure: String,
    /// `None` when a phase it needs did not run.
    pub met: Option<bool>,
}

/// Row names the targets refer to.
const WARM: &str = "W1 warm";
const CACHE_OFF: &str = "W1 cache off";
const CACHE_OFF_LATENCY: &str = "W1 cache off, 1 client";
const CONDITIONAL: &str = "W1 conditional";
const W1_POSTGRES: &str = "W1 warm, PostgreSQL";
const W2: &str = "W2";
const NGINX: &str = "nginx static (same body)";
pub(crate) const WARM_IDLE: &str = "W1+1 warm, no calls";
pub(crate) const WARM_CALLS: &str = "W1+1 warm, agent calls";

/// Checks the report's rows against the targets.
fn check_targets(rows: &[Row]) -> Vec<TargetCheck> {
    let row = |name: &str| {
        rows.iter()
            .find(|row| row.workload == name && row.requests > 0)
    };
    let mut checks = Vec::new();
    checks.push(match (row(WARM), row(NGINX)) {
        (Some(warm), Some(nginx)) => {
            let ratio = warm.requests_per_sec / nginx.requests_per_sec;
            TargetCheck {
                target: "W1 warm >= 0.8 x nginx req/s",
                figure: format!("{ratio:.2} x"),
                met: Some(ratio >= 0.8),
            }
        }
        _ => TargetCheck {
            target: "W1 warm >= 0.8 x nginx req/s",
            figure: "no nginx baseline".into(),
            met: None,
        },
    });
    checks.push(match row(CACHE_OFF_LATENCY) {
        Some(row) => TargetCheck {
            target: "W1 cache-bypassed p50 <= 2 ms (SQLite)",
            figure: format!("{:.2} ms", row.p50_ms),
            met: Some(row.p50_ms <= 2.0),
        },
        None => TargetCheck {
            target: "W1 cache-bypassed p50 <= 2 ms (SQLite)",
            figure: "not measured".into(),
            met: None,
        },
    });
    // Like for like when W1 also ran on W2's server; else against W1 on SQLite.
    let w1_baseline = row(W1_POSTGRES).or(row(WARM));
    checks.push(match (row(W2), w1_baseline) {
        (Some(w2), Some(w1)) => {
            let ratio = w2.p50_ms / w1.p50_ms;
            TargetCheck {
                target: "W2 p50 <= 1.2 x W1 warm p50",
                figure: format!(
                    "{ratio:.2} x ({:.2} vs {:.2} ms, {})",
                    w2.p50_ms, w1.p50_ms, w1.workload
                ),
                met: Some(ratio <= 1.2),
            }
        }
        _ => TargetCheck {
            target: "W2 p50 <= 1.2 x W1 warm p50",
            figure: "W2 not run".into(),
            met: None,
        },
    });
    checks.push(match (row(WARM_CALLS), row(WARM_IDLE)) {
        (Some(calls), Some(idle)) => {
            let ratio = calls.requests_per_sec / idle.requests_per_sec;
            TargetCheck {
                target: "warm with tool calls >= 0.8 x without",
                figure: format!("{ratio:.2} x"),
                met: Some(ratio >= 0.8),
            }
        }
        _ => TargetCheck {
            target: "warm with tool calls >= 0.8 x without",
            figure: "not measured".into(),
            met: None,
        },
    });
    // The ratio alone can hide invalidation on a small listing: count the renders too.
    // A call marks its connection used at most once a minute, so a short phase renders
    // once; a service that re-renders per call shows about one render per call.
    checks.push(
        match row(WARM_CALLS).and_then(|row| Some((row.listing_renders?, row.tool_calls?))) {
            Some((renders, calls)) if calls > 0 => TargetCheck {
                target: "listing renders per tool call <= 0.1",
                figure: format!("{renders} renders for {calls} calls"),
                met: Some(renders * 10 <= calls),
            },
            _ => TargetCheck {
                target: "listing renders per tool call <= 0.1",
                figure: "not measured".into(),
                met: None,
            },
        },
    );
    let w1_peak = [WARM, CACHE_OFF, CACHE_OFF_LATENCY, CONDITIONAL]
        .into_iter()
        .filter_map(|name| row(name)?.peak_rss_kib)
        .max();
    checks.push(TargetCheck {
        target: "peak RSS <= 100 MiB under W1 load",
        figure: w1_peak.map_or("not measured".into(), |kib| {
            format!("{:.1} MiB", kib as f64 / 1024.0)
        }),
        met: w1_peak.map(|kib| kib <= 100 * 1024),
    });
    checks
}

pub(crate) fn api_key_header(key: &str) -> anyhow::Result<(HeaderName, HeaderValue)> {
    Ok((
        HeaderName::from_static("x-api-key"),
        HeaderValue::from_str(key).context("the API key is not a header value")?,
    ))
}

pub(crate) fn serve_spec(
    settings: &RunSettings,
    manifest: &Manifest,
    env: Vec<(String, String)>,
) -> ServeSpec {
    ServeSpec {
        binary: settings.service_binary.clone(),
        data_dir: manifest.data_dir.clone(),
        database_url: manifest.database_url.clone(),
        env,
        log: settings.work_dir.join("service.log"),
    }
}

/// Peak RSS of a process and its direct children (nginx: master + workers).
fn tree_peak_kib(pid: u32) -> Option<u64> {
    let own = procs::status_kib(pid, "VmHWM")?;
    let children: u64 = procs::children_of(pid)
        .into_iter()
        .filter_map(|child| procs::status_kib(child, "VmHWM"))
        .sum();
    Some(own + children)
}

/// Warms up, then measures, `target` with `concurrency` connections.
pub(crate) async fn measure(
    target: &Target,
    settings: &RunSettings,
    concurrency: usize,
) -> LoadResult {
    if !settings.warmup.is_zero() {
        let _ = load::run(target, concurrency, settings.warmup).await;
    }
    load::run(target, concurrency, settings.duration).await
}

/// One load phase against a fresh service process.
struct Phase<'a> {
    workload: &'static str,
    manifest: &'a Manifest,
    env: Vec<(String, String)>,
    /// Requests carry `If-None-Match` with the listing's ETag.
    conditional: bool,
    concurrency: usize,
}

/// Runs `phase`: start the service, probe, load, read VmHWM, stop.
async fn service_phase(settings: &RunSettings, phase: Phase<'_>) -> anyhow::Result<Row> {
    let Phase {
        workload,
        manifest,
        env,
        conditional,
        concurrency,
    } = phase;
    let (mut service, address) = procs::start_service(&serve_spec(settings, manifest, env)).await?;
    let mut target = Target::get(address, LISTING, vec![api_key_header(&manifest.api_key)?]);
    let (status, headers, body) = load::fetch_once(&target).await?;
    if status != 200 {
        bail!(
            "{workload}: the listing answered {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let mut note = format!("{} B body", body.len());
    if conditional {
        let Some(etag) = headers.get(ETAG).cloned() else {
            service.stop();
            return Ok(Row::skipped(
                workload,
                "skipped: the service sends no ETag yet".into(),
            ));
        };
        target.headers.push((IF_NONE_MATCH, etag));
        note = "If-None-Match: <etag>".into();
    }
    let result = measure(&target, settings, concurrency).await;
    service.check_alive()?;
    let peak = procs::status_kib(service.pid(), "VmHWM");
    service.stop();
    let mut row = Row::measured(workload, concurrency, &result, peak);
    if conditional {
        let not_modified = result.statuses.get(&304).copied().unwrap_or(0);
        note = format!(
            "{note}; {:.1}% 304",
            100.0 * not_modified as f64 / result.requests.max(1) as f64
        );
    }
    row.note = note;
    Ok(row)
}

/// nginx serving `body` at `path` (checked byte for byte), when the run has nginx: its
/// guard, the request for it, and its directory (removed when dropped).
async fn nginx_serving(
    settings: &RunSettings,
    path: &str,
    body: &[u8],
) -> anyhow::Result<Option<(procs::Guard, Target, tempfile::TempDir)>> {
    let Some(binary) = &settings.nginx else {
        return Ok(None);
    };
    // Its own world-readable directory: nginx's workers may run as an unprivileged user
    // that cannot enter the (private) scratch directory.
    let prefix = tempfile::Builder::new()
        .prefix("feather-bench-nginx-")
        .tempdir()?;
    std::fs::set_permissions(prefix.path(), std::fs::Permissions::from_mode(0o755))?;
    let (guard, nginx_address) = procs::start_nginx(binary, prefix.path(), path, body).await?;
    let target = Target::get(nginx_address, path, Vec::new());
    let (_, _, served) = load::fetch_once(&target).await?;
    if served != body {
        bail!("nginx does not serve the byte-identical body of {path}");
    }
    Ok(Some((guard, target, prefix)))
}

/// `target` and `baseline` loaded in turn, `settings.rounds` times each (after a warm-up
/// of each), so that both see the same machine; their totals.
async fn alternate(
    settings: &RunSettings,
    target: &Target,
    baseline: Option<&Target>,
) -> (LoadResult, LoadResult) {
    let rounds = settings.rounds.max(1);
    let slice = settings.duration / rounds as u32;
    let mut target_total = LoadResult::default();
    let mut baseline_total = LoadResult::default();
    if !settings.warmup.is_zero() {
        let _ = load::run(target, settings.concurrency, settings.warmup).await;
        if let Some(baseline) = baseline {
            let _ = load::run(baseline, settings.concurrency, settings.warmup).await;
        }
    }
    for _ in 0..rounds {
        target_total.merge(load::run(target, settings.concurrency, slice).await);
        if let Some(baseline) = baseline {
            baseline_total.merge(load::run(baseline, settings.concurrency, slice).await);
        }
    }
    (target_total, baseline_total)
}

/// The rows of a service phase measured against nginx serving the byte-identical answer.
pub(crate) struct AgainstNginx {
    pub(crate) service: Row,
    pub(crate) nginx: Option<Row>,
    /// The service's answer, which nginx served.
    pub(crate) body: bytes::Bytes,
}

/// The service on W1 answering `request` (made for its address; it must answer 200),
/// alternated with nginx serving that answer at `nginx_path`. The rows are named
/// `names` (service, nginx); the service's carries its ratio to nginx.
pub(crate) async fn against_nginx(
    settings: &RunSettings,
    request: impl FnOnce(std::net::SocketAddr) -> anyhow::Result<Target>,
    nginx_path: &str,
    names: (&str, &str),
) -> anyhow::Result<AgainstNginx> {
    let (mut service, address) =
        procs::start_service(&serve_spec(settings, &settings.w1, Vec::new())).await?;
    let target = request(address)?;
    let (status, _, body) = load::fetch_once(&target).await?;
    if status != 200 {
        bail!(
            "{}: the service answered {status}: {}",
            names.0,
            String::from_utf8_lossy(&body)
        );
    }
    let mut nginx = nginx_serving(settings, nginx_path, &body).await?;
    let (service_total, nginx_total) = alternate(
        settings,
        &target,
        nginx.as_ref().map(|(_, target, _)| target),
    )
    .await;
    service.check_alive()?;
    let service_peak = procs::status_kib(service.pid(), "VmHWM");
    service.stop();
    let mut service_row =
        Row::measured(names.0, settings.concurrency, &service_total, service_peak);
    let nginx_row = match nginx.as_mut() {
        Some((guard, _, _)) => {
            guard.check_alive()?;
            let peak = tree_peak_kib(guard.pid());
            guard.stop();
            let mut row = Row::measured(names.1, settings.concurrency, &nginx_total, peak);
            row.ratio_vs_nginx = Some(1.0);
            row.note = "master + 2 workers".into();
            if row.requests_per_sec > 0.0 {
                service_row.ratio_vs_nginx =
                    Some(service_row.requests_per_sec / row.requests_per_sec);
            }
            Some(row)
        }
        None => None,
    };
    Ok(AgainstNginx {
        service: service_row,
        nginx: nginx_row,
        body,
    })
}

/// Runs every phase (or only the agents' ones) and returns the report.
pub async fn run(settings: &RunSettings) -> anyhow::Result<Report> {
    std::fs::create_dir_all(&settings.work_dir)?;
    let (mut rows, body_bytes) = if settings.only_agents {
        (Vec::new(), 0)
    } else {
        listing_phases(settings).await?
    };
    // Before the phase that adds a connection to W1: its tools are W1's alone.
    eprintln!("phase: MCP tools/list, alternated with nginx");
    rows.extend(agents::tools_list_with_baseline(settings).await?);
    eprintln!("phase: {WARM_IDLE} / {WARM_CALLS}, then tools/call direct and via /mcp");
    rows.extend(agents::with_agents(settings).await?);
    Ok(Report {
        concurrency: settings.concurrency,
        duration_secs: settings.duration.as_secs_f64(),
        warmup_secs: settings.warmup.as_secs_f64(),
        rounds: settings.rounds,
        w1_body_bytes: body_bytes,
        targets: check_targets(&rows)
            .into_iter()
            .chain(agents::check_targets(&rows))
            .collect(),
        rows,
    })
}

/// The listing's phases (issue 4's), each row with its ratio to nginx serving the same
/// body, nginx's row last; and the size of W1's body.
async fn listing_phases(settings: &RunSettings) -> anyhow::Result<(Vec<Row>, usize)> {
    eprintln!("phase: W1 warm, alternated with nginx");
    let api_key = api_key_header(&settings.w1.api_key)?;
    let warm = against_nginx(
        settings,
        |address| Ok(Target::get(address, LISTING, vec![api_key])),
        LISTING,
        (WARM, NGINX),
    )
    .await?;
    let body_bytes = warm.body.len();
    let nginx = warm.nginx;
    let mut service_row = warm.service;
    service_row.note = format!("{body_bytes} B body");
    let mut rows = vec![service_row];
    let cache_off = || vec![(CACHE_SWITCH.0.to_owned(), CACHE_SWITCH.1.to_owned())];
    // The bypassed listing's latency is measured with one client: at concurrency 32 on two
    // cores, a request's latency is mostly the time it waits behind the other 31.
    for (workload, concurrency) in [(CACHE_OFF, settings.concurrency), (CACHE_OFF_LATENCY, 1)] {
        eprintln!("phase: {workload} ({}={})", CACHE_SWITCH.0, CACHE_SWITCH.1);
        let phase = Phase {
            workload,
            manifest: &settings.w1,
            env: cache_off(),
            conditional: false,
            concurrency,
        };
        let mut row = service_phase(settings, phase).await?;
        row.note = format!("{}; {}={}", row.note, CACHE_SWITCH.0, CACHE_SWITCH.1);
        rows.push(row);
    }
    eprintln!("phase: {CONDITIONAL} (If-None-Match)");
    let phase = Phase {
        workload: CONDITIONAL,
        manifest: &settings.w1,
        env: Vec::new(),
        conditional: true,
        concurrency: settings.concurrency,
    };
    rows.push(service_phase(settings, phase).await?);
    if let Some(w1_postgres) = &settings.w1_postgres {
        eprintln!("phase: {W1_POSTGRES}");
        let phase = Phase {
            workload: W1_POSTGRES,
            manifest: w1_postgres,
            env: Vec::new(),
            conditional: false,
            concurrency: settings.concurrency,
        };
        rows.push(service_phase(settings, phase).await?);
    }
    match &settings.w2 {
        Some(w2) => {
            eprintln!("phase: {W2}");
            let phase = Phase {
                workload: W2,
                manifest: w2,
                env: Vec::new(),
                conditional: false,
                concurrency: settings.concurrency,
            };
            let mut row = service_phase(settings, phase).await?;
            row.note = format!(
                "{}; {} orgs, {} tools",
                row.note, w2.organizations, w2.tools
            );
            rows.push(row);
        }
        None => rows.push(Row::skipped(
            W2,
            "skipped: no W2 fixtures (set FEATHER_BENCH_DATABASE_URL)".into(),
        )),
    }
    if let Some(nginx) = nginx {
        for row in &mut rows {
            if row.requests > 0 && nginx.requests_per_sec > 0.0 {
                row.ratio_vs_nginx = Some(row.requests_per_sec / nginx.requests_per_sec);
            }
        }
        rows.push(nginx);
    }
    Ok((rows, body_bytes))
}

fn cell(value: f64, decimals: usize) -> String {
    if value.is_finite() {
        format!("{value:.decimals$}")
    } else {
        "-".into()
    }
}

/// The table printed at the end of a run.
pub fn table(report: &Report) -> String {
    let mut out = format!(
        "\nfeather-bench: GET {LISTING}, concurrency {}, {} s measured per phase (+{} s warm-up), \
         W1 body {} B\n\n",
        report.concurrency, report.duration_secs, report.warmup_secs, report.w1_body_bytes
    );
    out.push_str(&format!(
        "{:<26} {:>5} {:>10} {:>9} {:>9} {:>11} {:>9}  {}\n",
        "workload", "conns", "req/s", "p50 ms", "p99 ms", "peak RSS", "vs nginx", "notes"
    ));
    out.push_str(&format!("{}\n", "-".repeat(106)));
    for row in &report.rows {
        let rss = row
            .peak_rss_kib
            .map(|kib| format!("{:.1} MiB", kib as f64 / 1024.0))
            .unwrap_or_else(|| "-".into());
        let ratio = row
            .ratio_vs_nginx
            .map(|r| format!("{r:.3}"))
            .unwrap_or_else(|| "-".into());
        let mut note = row.note.clone();
        if row.errors > 0 {
            note = format!("{note}; {} errors", row.errors);
        }
        let unexpected: u64 = row
            .statuses
            .iter()
            .filter(|(status, _)| !matches!(**status, 200 | 304))
            .map(|(_, count)| *count)
            .sum();
        if unexpected > 0 {
            note = format!("{note}; statuses {:?}", row.statuses);
        }
        out.push_str(&format!(
            "{:<26} {:>5} {:>10} {:>9} {:>9} {:>11} {:>9}  {}\n",
            row.workload,
            row.concurrency,
            cell(row.requests_per_sec, 0),
            cell(row.p50_ms, 2),
            cell(row.p99_ms, 2),
            rss,
            ratio,
            note
        ));
    }
    out.push_str("\ntargets (issues 4, 10 and 11):\n");
    for check in &report.targets {
        let verdict = match check.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not checked",
        };
        out.push_str(&format!(
            "  {:<42} {:<30} {verdict}\n",
            check.target, check.figure
        ));
    }
    out
}
