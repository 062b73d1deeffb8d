//! `feather-bench`: `fixtures` fills a store, `run` loads the service and prints the table.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Parser, Subcommand};
use feather_bench::fixtures::{self, Manifest, Target, W2Shape};
use feather_bench::runner::{self, RunSettings};

#[derive(Debug, Parser)]
#[command(
    name = "feather-bench",
    about = "Benchmark harness of feather-integrations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Fill a fresh store with a workload and write its manifest (org id, API key, store).
    Fixtures(FixturesArgs),
    /// Load the service under every workload and print the table.
    Run(RunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    /// One org, 5 connections x 20 tools.
    W1,
    /// W1's org among `--orgs` other orgs of 10 connections x 20 tools.
    W2,
}

#[derive(Debug, clap::Args)]
struct FixturesArgs {
    #[arg(value_enum)]
    workload: Workload,
    /// Data directory for `serve` (holds the SQLite file when no URL is given).
    #[arg(long)]
    data_dir: PathBuf,
    /// `postgres://…` or `sqlite://…`; default: `<data-dir>/feather.db`.
    #[arg(long, env = "FEATHER_BENCH_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Where to write the manifest JSON.
    #[arg(long)]
    manifest: PathBuf,
    /// W2: background organizations.
    #[arg(long, default_value_t = 10_000)]
    orgs: usize,
    /// W2: connections per background organization.
    #[arg(long, default_value_t = 10)]
    connections_per_org: usize,
    /// W2: organizations per transaction.
    #[arg(long, default_value_t = 50)]
    batch_orgs: usize,
    /// W2: transactions in flight at once (PostgreSQL).
    #[arg(long, default_value_t = 2)]
    jobs: usize,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The release service binary.
    #[arg(long, default_value = "target/release/feather-integrations")]
    service_bin: PathBuf,
    /// W1 manifest written by `fixtures w1`.
    #[arg(long)]
    w1: PathBuf,
    /// W2 manifest written by `fixtures w2`; without it, W2 is skipped.
    #[arg(long)]
    w2: Option<PathBuf>,
    /// W1 manifest on PostgreSQL (the W2 server), W2's like-for-like baseline.
    #[arg(long)]
    w1_postgres: Option<PathBuf>,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Unmeasured warm-up seconds before each phase.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// W1 warm and nginx alternate this many times (the duration is split between rounds).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// The nginx binary for the static baseline.
    #[arg(long, default_value = "/usr/sbin/nginx")]
    nginx: PathBuf,
    /// Skip the nginx baseline.
    #[arg(long)]
    no_nginx: bool,
    /// Scratch directory (logs, nginx prefix); default: a temporary directory.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Also write the report as JSON here.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// Run only these phases; default: every phase.
    #[arg(long, value_enum)]
    only: Option<Phases>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phases {
    /// The MCP endpoint for agents: tools/list, tools/call, the listing while agents call.
    Agents,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Fixtures(args) => generate(args).await,
            Command::Run(args) => run(args).await,
        }
    })
}

async fn generate(args: FixturesArgs) -> anyhow::Result<()> {
    let target = Target {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
    };
    let started = Instant::now();
    let store = target.open_store().await?;
    fixtures::ensure_empty(&store).await?;
    let (organization_id, api_key) = fixtures::generate_w1(&store).await?;
    store.close().await;
    let w1_secs = started.elapsed().as_secs_f64();
    eprintln!("w1: 1 org, 5 connections, 100 tools in {w1_secs:.2} s");
    let (mut organizations, mut connections, mut tools) = (1, 5, 100);
    if args.workload == Workload::W2 {
        let shape = W2Shape {
            orgs: args.orgs,
            connections_per_org: args.connections_per_org,
            batch_orgs: args.batch_orgs,
            jobs: args.jobs,
            ..W2Shape::default()
        };
        let bulk_started = Instant::now();
        let (o, c, t) = fixtures::generate_w2_background(&target, shape).await?;
        eprintln!(
            "w2: {o} orgs, {c} connections, {t} tools in {:.1} s",
            bulk_started.elapsed().as_secs_f64()
        );
        organizations += o;
        connections += c;
        tools += t;
    }
    let manifest = Manifest {
        workload: match args.workload {
            Workload::W1 => "w1".into(),
            Workload::W2 => "w2".into(),
        },
        database_url: args.database_url,
        data_dir: args.data_dir,
        organization_id,
        api_key,
        organizations,
        connections,
        tools,
        generated_in_secs: started.elapsed().as_secs_f64(),
    };
    fixtures::write_manifest(&args.manifest, &manifest)?;
    // The key is printed for the load run (it is a throwaway fixture key).
    println!(
        "{}",
        serde_json::json!({
            "workload": manifest.workload,
            "organization_id": manifest.organization_id,
            "api_key": manifest.api_key,
            "tools": manifest.tools,
            "generated_in_secs": manifest.generated_in_secs,
            "manifest": args.manifest,
        })
    );
    Ok(())
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    let scratch;
    let work_dir = match args.work_dir {
        Some(dir) => dir,
        None => {
            scratch = tempfile::Builder::new()
                .prefix("feather-bench-")
                .tempdir()?;
            scratch.path().to_path_buf()
        }
    };
    let w2 = args
        .w2
        .as_deref()
        .map(fixtures::read_manifest)
        .transpose()?;
    let w1_postgres = args
        .w1_postgres
        .as_deref()
        .map(fixtures::read_manifest)
        .transpose()?;
    let settings = RunSettings {
        service_binary: args.service_bin,
        w1: fixtures::read_manifest(&args.w1)?,
        w1_postgres,
        w2,
        duration: Duration::from_secs_f64(args.duration),
        warmup: Duration::from_secs_f64(args.warmup),
        concurrency: args.concurrency,
        rounds: args.rounds,
        nginx: (!args.no_nginx).then_some(args.nginx),
        work_dir,
        only_agents: args.only == Some(Phases::Agents),
    };
    let report = runner::run(&settings).await?;
    println!("{}", runner::table(&report));
    if let Some(path) = args.json_out {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("could not write {}", path.display()))?;
        println!("JSON report: {}", path.display());
    }
    Ok(())
}
