//! Assembling the service from configuration, the same way for every subcommand.

use std::sync::Arc;

use anyhow::Context;
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
    if opened.backend() == Backend::Postgres && upstream.secret_key.is_none() {
        tracing::warn!(
            "FEATHER_SECRET_KEY is not set: credentials are sealed with a key in the local data \
             directory, which other replicas do not have"
        );
    }
    let key = crate::secret_key::load(upstream.secret_key.as_deref(), &store.data_dir)?;
    let policy = UpstreamPolicy::with_allow_list(&upstream.allow_upstream)
        .context("FEATHER_ALLOW_UPSTREAM is not valid")?;
    let connector = McpConnector::new(&policy, McpLimits::default())
        .context("could not set up the MCP client")?;
    Ok(Service::new(
        opened,
        SecretBox::new(key),
        Arc::new(connector),
    ))
}
