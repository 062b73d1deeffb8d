//! Assembling the service from configuration, the same way for every subcommand.

use std::sync::Arc;

use anyhow::{Context, bail};
use feather_service::{SecretBox, Service};
use feather_store::{Backend, Store};
use feather_vendors::guard::UpstreamPolicy;
use feather_vendors::{McpConnector, McpLimits};

use crate::cli::{StoreArgs, UpstreamArgs};

/// The service over the configured store, credentials key and upstream policy.
pub async fn service(store: &StoreArgs, upstream: &UpstreamArgs) -> anyhow::Result<Service> {
    service_over(store.open().await?, store, upstream)
}

/// The service over an already opened `store`.
pub fn service_over(
    opened: Store,
    store: &StoreArgs,
    upstream: &UpstreamArgs,
) -> anyhow::Result<Service> {
    let key = sealing_key(opened.backend(), store, upstream)?;
    // The error names the option and the entry.
    let policy = UpstreamPolicy::with_allow_list(upstream.allow_upstream.as_deref().unwrap_or(""))?;
    let connector = McpConnector::new(&policy, McpLimits::default())
        .context("could not set up the MCP client")?;
    Ok(Service::new(
        opened,
        SecretBox::new(key),
        Arc::new(connector),
    ))
}

/// The service for the administrative commands (organizations, API keys), which neither
/// seal nor open a credential nor reach an upstream: they need no sealing key, so they
/// never read or create one (an `orgs create` must not drop a key file where it runs).
/// The box's key is a throwaway that nothing is sealed with.
pub async fn admin_service(store: &StoreArgs) -> anyhow::Result<Service> {
    let connector = McpConnector::new(&UpstreamPolicy::public_only(), McpLimits::default())
        .context("could not set up the MCP client")?;
    Ok(Service::new(
        store.open().await?,
        SecretBox::new(SecretBox::generate_key()),
        Arc::new(connector),
    ))
}

/// The key that seals credentials: the configured one; else, on SQLite, the data
/// directory's key file (created on first use). On PostgreSQL a key file is used only
/// where `--data-dir` names it: replicas must share one key, and a key invented in
/// whatever `./data` the process started in would leave every stored credential
/// unopenable by the others (or by this one, started elsewhere).
fn sealing_key(
    backend: Backend,
    store: &StoreArgs,
    upstream: &UpstreamArgs,
) -> anyhow::Result<[u8; 32]> {
    if let Some(configured) = &upstream.secret_key {
        return crate::secret_key::decode_configured(configured);
    }
    if backend == Backend::Postgres {
        let Some(data_dir) = &store.data_dir else {
            bail!(
                "FEATHER_SECRET_KEY is not set. On PostgreSQL every replica must seal credentials \
                 with the same key, so none is generated into ./data: make one with \
                 `feather-integrations secrets generate-key` and set FEATHER_SECRET_KEY (or \
                 --secret-key) to it on every replica, or name the directory that keeps this \
                 process's key file with --data-dir"
            );
        };
        tracing::warn!(
            data_dir = %data_dir.display(),
            "FEATHER_SECRET_KEY is not set: credentials are sealed with the key file in the \
             data directory, which other replicas do not have"
        );
    }
    crate::secret_key::load_or_create(&store.data_dir())
}
