//! `serve`: the HTTP API and the job workers until SIGINT or SIGTERM, then a graceful
//! stop: in-flight requests finish, claimed jobs go back to the queue.

use std::net::SocketAddr;

use anyhow::Context;
use feather_service::{JobRunner, JobSettings, Service, ServiceLimits};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use feather_http::AppOptions;

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
    let options = AppOptions {
        listing_cache: args.listing_cache == Switch::On,
    };
    serve_until_signal(service, options, listener, args.job_workers).await
}

pub async fn bind(address: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(address)
        .await
        .with_context(|| format!("could not listen on {address}"))
}

/// Serves the API and runs the job workers until a shutdown signal.
pub async fn serve_until_signal(
    service: Service,
    options: AppOptions,
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
    tracing::info!(%address, backend = ?store.backend(), "serving");
    let served = axum::serve(listener, feather_http::app_with(service, options))
        .with_graceful_shutdown(shutdown_signal())
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
