//! Assembling the service from configuration, the same way for every subcommand.

use anyhow::{Context, bail};
use feather_service::{KeyId, SealingKeyCheck, SecretBox, Service, Upstreams};
use feather_store::{Backend, SealedByKey, Store};
use feather_vendors::McpLimits;
use feather_vendors::guard::UpstreamPolicy;

use crate::cli::{StoreArgs, UpstreamArgs};

/// The service over the configured store, sealing keys and upstream policy, for `serve`
/// and `demo`. It refuses, saying what to do, when the store holds credentials that the
/// configured keys do not open: a service that started anyway would look ready and fail
/// every such connection on first use.
pub async fn service(store: &StoreArgs, upstream: &UpstreamArgs) -> anyhow::Result<Service> {
    let opened = store.open().await?;
    let secrets = sealing_keys(&opened, store, upstream, KeyFile::CreateIfNoCredentials).await?;
    let service = Service::new(opened, secrets.clone(), upstreams(upstream)?);
    let check = service
        .check_sealing_keys()
        .await
        .context("could not check the stored credentials against the sealing keys")?;
    if check.unopenable() > 0 {
        bail!("{}", refusal(&check, &secrets, store, upstream));
    }
    report(&check, &secrets);
    Ok(service)
}

/// The service for `secrets rotate`: the configured keys (or the existing key file, never
/// a new one), and no refusal: the rotation itself reports what does not open.
pub async fn rotation_service(
    store: &StoreArgs,
    upstream: &UpstreamArgs,
) -> anyhow::Result<Service> {
    let opened = store.open().await?;
    let secrets = sealing_keys(&opened, store, upstream, KeyFile::Existing).await?;
    Ok(Service::new(opened, secrets, upstreams(upstream)?))
}

/// The service for the administrative commands (organizations, API keys), which neither
/// seal nor open a credential nor reach an upstream: they need no sealing key, so they
/// never read or create one (an `orgs create` must not drop a key file where it runs).
/// The box's key is a throwaway that nothing is sealed with.
pub async fn admin_service(store: &StoreArgs) -> anyhow::Result<Service> {
    let upstreams =
        feather_vendors::upstreams(&UpstreamPolicy::public_only(), McpLimits::default())
            .context("could not set up the MCP client")?;
    Ok(Service::new(
        store.open().await?,
        SecretBox::new(SecretBox::generate_key()),
        upstreams,
    ))
}

fn upstreams(upstream: &UpstreamArgs) -> anyhow::Result<Upstreams> {
    // The error names the option and the entry.
    let policy = UpstreamPolicy::with_allow_list(upstream.allow_upstream.as_deref().unwrap_or(""))?;
    feather_vendors::upstreams(&policy, McpLimits::default())
        .context("could not set up the MCP client")
}

/// Whether a missing key file may be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyFile {
    /// Yes, unless the store holds sealed credentials (a new key would open none of them).
    CreateIfNoCredentials,
    /// No: only an existing one is read.
    Existing,
}

/// The keys that seal and open credentials: the configured ones (the first seals); else,
/// on SQLite, the data directory's key file, created on first use only, never over
/// credentials that exist. On PostgreSQL a key file is used only where `--data-dir` names
/// it: replicas must share one key, and a key invented in whatever `./data` the process
/// started in would leave every stored credential unopenable by the others (or by this
/// one, started elsewhere).
async fn sealing_keys(
    opened: &Store,
    store: &StoreArgs,
    upstream: &UpstreamArgs,
    key_file: KeyFile,
) -> anyhow::Result<SecretBox> {
    if let Some(configured) = &upstream.secret_key {
        let mut keys = crate::secret_key::decode_configured(configured)?.into_iter();
        let sealing = keys.next().context("FEATHER_SECRET_KEY names no key")?;
        return Ok(SecretBox::with_keys(sealing, keys));
    }
    if opened.backend() == Backend::Postgres {
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
    let data_dir = store.data_dir();
    if let Some(key) = crate::secret_key::read(&data_dir)? {
        return Ok(SecretBox::new(key));
    }
    let path = crate::secret_key::path(&data_dir);
    let sealed = opened
        .sealed_secrets_by_key()
        .await
        .context("could not count the stored credentials")?;
    let stored: u64 = sealed.iter().map(|group| group.count).sum();
    if stored > 0 {
        bail!(
            "the key file {path} is missing, but the store holds {credentials} sealed with {keys}. \
             A new key would open none of them, so none is generated: restore {path} from a \
             backup, or set FEATHER_SECRET_KEY to the key that sealed them. {lost}.",
            path = path.display(),
            credentials = credentials(stored),
            keys = sealed_with(&sealed),
            lost = IF_LOST,
        );
    }
    if key_file == KeyFile::Existing {
        bail!(
            "no sealing key is configured: set FEATHER_SECRET_KEY (several keys may be given, \
             comma-separated: the first seals, every one opens); the data directory has no key \
             file ({})",
            path.display()
        );
    }
    Ok(SecretBox::new(crate::secret_key::create(&data_dir)?))
}

/// What to do when the key that sealed credentials cannot be found again.
const IF_LOST: &str = "If that key is lost for good, `feather-integrations secrets rotate \
     --forget-unopenable`, run with the key to use from now on, deletes the credentials no \
     configured key opens and marks their connections to be connected again";

/// Why `serve` does not start, and what to do, in sentences an operator can act on.
fn refusal(
    check: &SealingKeyCheck,
    secrets: &SecretBox,
    store: &StoreArgs,
    upstream: &UpstreamArgs,
) -> String {
    let mut which: Vec<String> = check
        .missing_keys
        .iter()
        .map(|(key_id, count)| format!("{count} sealed with key {key_id}"))
        .collect();
    if check.unnamed_unopenable > 0 {
        which.push(format!(
            "{} sealed before keys were recorded, which no configured key opens",
            check.unnamed_unopenable
        ));
    }
    if check.damaged > 0 {
        which.push(format!("{} damaged", check.damaged));
    }
    let configured = secrets
        .key_ids()
        .iter()
        .map(KeyId::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let remedy = if upstream.secret_key.is_some() {
        "add that key to FEATHER_SECRET_KEY (comma-separated keys: the first seals, every one \
         opens)"
            .to_owned()
    } else {
        format!(
            "restore {} from a backup, or set FEATHER_SECRET_KEY to that key (comma-separated \
             keys: the first seals, every one opens)",
            crate::secret_key::path(&store.data_dir()).display()
        )
    };
    format!(
        "{unopenable} of the {stored} stored credentials cannot be opened with the configured \
         {noun} ({configured}): {which}. Start with the key that sealed them: {remedy}. {IF_LOST}.",
        unopenable = check.unopenable(),
        stored = check.stored,
        noun = if secrets.key_ids().len() == 1 {
            "key"
        } else {
            "keys"
        },
        which = which.join("; "),
    )
}

/// Logs which key seals, and what is left for a rotation.
fn report(check: &SealingKeyCheck, secrets: &SecretBox) {
    tracing::info!(
        key_id = %secrets.sealing_key_id(),
        credentials = check.stored,
        "credentials are sealed with this key; every stored one opens"
    );
    if check.named_now > 0 {
        tracing::info!(
            credentials = check.named_now,
            "recorded which key sealed the credentials stored before keys were recorded"
        );
    }
    if check.under_older_keys > 0 {
        tracing::info!(
            credentials = check.under_older_keys,
            "credentials are sealed with a key of FEATHER_SECRET_KEY other than the first: \
             `feather-integrations secrets rotate` re-seals them with the first"
        );
    }
}

/// "3 credentials" / "1 credential".
pub fn credentials(count: u64) -> String {
    if count == 1 {
        "1 credential".to_owned()
    } else {
        format!("{count} credentials")
    }
}

/// "key 1a2b…", or "key 1a2b… (2), key 99aa… (1)" for several, naming values that record
/// no key as such.
fn sealed_with(groups: &[SealedByKey]) -> String {
    let name = |group: &SealedByKey| match group.key_id.as_deref().and_then(KeyId::from_bytes) {
        Some(key_id) => format!("key {key_id}"),
        None => "a key that was not recorded".to_owned(),
    };
    match groups {
        [group] => name(group),
        _ => groups
            .iter()
            .map(|group| format!("{} ({})", name(group), group.count))
            .collect::<Vec<_>>()
            .join(", "),
    }
}
