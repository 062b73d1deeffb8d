//! `serve`: the HTTP API until SIGINT or SIGTERM, then a graceful stop.

use anyhow::Context;
use feather_service::Service;
use tokio::net::TcpListener;

use crate::cli::{ServeArgs, StoreArgs};

pub async fn run(store: &StoreArgs, args: ServeArgs) -> anyhow::Result<()> {
    let store = store.open().await?;
    let service = Service::new(store.clone());
    bootstrap_first_organization(&service).await?;

    let listener = TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("could not listen on {}", args.bind))?;
    tracing::info!(address = %args.bind, backend = ?store.backend(), "serving");
    axum::serve(listener, feather_http::app(service))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("the server failed")?;
    // In-flight requests have finished; let pooled connections close cleanly.
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// On the first start of an empty store, creates the "Default" organization and prints
/// its key once, so that a newcomer can call the API straight away.
async fn bootstrap_first_organization(service: &Service) -> anyhow::Result<()> {
    if service.store().has_organizations().await? {
        return Ok(());
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
    Ok(())
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
    tracing::info!("shutting down: finishing in-flight requests");
}
