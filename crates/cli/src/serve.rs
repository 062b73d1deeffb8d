//! `serve`: the HTTP API and the job workers until SIGINT or SIGTERM, then a graceful
//! stop: in-flight requests finish, claimed jobs go back to the queue.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use feather_service::{JobRunner, JobSettings, Service, ServiceLimits};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use feather_http::{AppOptions, McpOptions, RateLimits, ServerLimits};

use crate::cli::{ServeArgs, StoreArgs, Switch, UpstreamArgs};

pub async fn run(
    store: &StoreArgs,
    upstream: &UpstreamArgs,
    args: ServeArgs,
) -> anyhow::Result<()> {
    let service = crate::app::service(store, upstream)
        .await?
        .with_limits(ServiceLimits {
            max_connections_per_organization: args.max_connections_per_org,
        });
    bootstrap_first_organization(&service).await?;
    let listener = bind(args.bind).await?;
    // The address bound, not the one asked for: `--bind 127.0.0.1:0` gets a real port.
    let service = service.with_oauth_client(args.oauth.client_config(listener.local_addr()?)?);
    let http = HttpSettings::from_args(&args);
    serve_until_signal(service, http, listener, args.job_workers).await
}

/// How the HTTP side holds its clients.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub app: AppOptions,
    pub server: ServerLimits,
}

impl HttpSettings {
    fn from_args(args: &ServeArgs) -> HttpSettings {
        let app = AppOptions {
            listing_cache: args.listing_cache == Switch::On,
            max_in_flight: args.max_in_flight,
            rate_limits: RateLimits {
                per_key: args.rate_limit_per_key,
                per_organization: args.rate_limit_per_org,
                upstream_per_key: args.upstream_rate_limit_per_key,
                upstream_per_organization: args.upstream_rate_limit_per_org,
            },
            mcp: mcp_options(args),
            ..AppOptions::default()
        };
        HttpSettings::new(app, args.max_connections, args.header_read_timeout)
    }

    /// The defaults, for `demo`.
    pub fn defaults() -> HttpSettings {
        HttpSettings::new(
            AppOptions::default(),
            None,
            ServerLimits::DEFAULT_HEADER_READ_TIMEOUT_SECS,
        )
    }

    /// Without `max_connections`, the cap is what the open-files limit (raised first)
    /// leaves for clients.
    fn new(app: AppOptions, max_connections: Option<usize>, header_read_timeout: u64) -> Self {
        let max_connections = max_connections.unwrap_or_else(|| {
            ServerLimits::default_max_connections(raise_open_files_limit(), app.max_in_flight)
        });
        HttpSettings {
            server: ServerLimits {
                max_connections,
                header_read_timeout: Duration::from_secs(header_read_timeout),
            },
            app,
        }
    }
}

/// The MCP endpoint's settings: the defaults, with the hosts and origins given.
fn mcp_options(args: &ServeArgs) -> McpOptions {
    let defaults = McpOptions::default();
    let allowed_hosts = match &args.mcp_allowed_hosts {
        // An empty list is how the transport is told to accept any host.
        Some(hosts) if hosts.iter().any(|host| host == "*") => Vec::new(),
        Some(hosts) => hosts.clone(),
        None => defaults.allowed_hosts.clone(),
    };
    McpOptions {
        allowed_hosts,
        allowed_origins: args
            .mcp_allowed_origins
            .clone()
            .unwrap_or_else(|| defaults.allowed_origins.clone()),
        ..defaults
    }
}

/// Raises the soft open-files limit to the hard limit (many systems start processes at
/// 1,024 with a far higher hard limit) and returns the limit now in force.
fn raise_open_files_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            let (soft, _) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap_or((1024, 1024));
            tracing::warn!(%error, soft, "could not raise the open-files limit");
            soft
        }
    }
}

pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("could not listen on {address}"))
}

/// Serves the API and runs the job workers until a shutdown signal.
pub async fn serve_until_signal(
    service: Service,
    http: HttpSettings,
    listener: TcpListener,
    job_workers: usize,
) -> anyhow::Result<()> {
    let store = service.store().clone();
    let address = listener.local_addr()?;
    let stopping = CancellationToken::new();
    let jobs = tokio::spawn(
        JobRunner::new(
            service.clone(),
            JobSettings {
                workers: job_workers,
                ..JobSettings::default()
            },
        )
        .run(stopping.child_token()),
    );
    tracing::info!(
        %address,
        backend = ?store.backend(),
        max_connections = http.server.max_connections,
        max_in_flight = http.app.max_in_flight,
        "serving"
    );
    let end_streams = http.app.mcp.end_streams.clone();
    let app = feather_http::app_with(service, http.app);
    let shutdown = async move {
        shutdown_signal().await;
        // Open MCP streams would keep their requests in progress: end them first.
        end_streams.cancel();
    };
    let served = feather_http::serve(listener, app, http.server, shutdown)
        .await
        .context("the server failed");
    stopping.cancel();
    if let Err(error) = jobs.await {
        tracing::error!(%error, "the job runner ended abnormally");
    }
    // In-flight requests have finished and jobs are released: close pooled connections.
    store.close().await;
    tracing::info!("stopped");
    served
}

/// On the first start of an empty store, creates the "Default" organization and prints
/// its key once, so that a newcomer can call the API straight away.
pub async fn bootstrap_first_organization(service: &Service) -> anyhow::Result<Option<String>> {
    if service.store().has_organizations().await? {
        return Ok(None);
    }
    let (organization, key) = service.create_organization("Default").await?;
    println!();
    println!(
        "  First start: created the organization \"Default\" ({}).",
        organization.id
    );
    println!("  Its API key, shown only this once (store it now):");
    println!();
    println!("    {}", key.plain_text_key);
    println!();
    Ok(Some(key.plain_text_key))
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests, releasing jobs");
}
