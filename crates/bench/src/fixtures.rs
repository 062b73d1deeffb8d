//! Fixture generation.
//!
//! - **W1**: one organization with 5 connections × 20 tools, created through the service
//!   (`Service::create_organization`, `record_catalog`, `configure_tool`) on connection
//!   rows inserted as given, so that the API key's hash and every row are exactly what the
//!   service itself writes.
//! - **W2**: W1's organization among `orgs` other organizations (10 connections × 20 tools
//!   each by default: 10,000 orgs → 100,000 connections, 2,000,000 tools), bulk-loaded
//!   through the store's multi-row inserts (`Write::insert_organizations`, `…_api_keys`,
//!   `…_connections`, `…_tool_views`), one transaction per batch of organizations. The
//!   store's modules are the one place that lists the columns.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use feather_domain::connection::Connection;
use feather_domain::integration::{ConnectionStatus, IntegrationKey, ToolsStatus, Vendor};
use feather_domain::organization::Organization;
use feather_domain::patch::Patch;
use feather_domain::slug::{slugify, tool_slug};
use feather_domain::tool::ToolView;
use feather_domain::tool_view::{DerivedToolView, derive_tool_view};
use feather_service::{SecretBox, Service, ToolConfigInput, UpstreamTool};
use feather_store::{Backend, NewApiKey, Store};
use feather_vendors::McpLimits;
use feather_vendors::guard::UpstreamPolicy;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::schemas;

/// What a load run needs to know about generated fixtures; written as JSON by `fixtures`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// `w1` or `w2`.
    pub workload: String,
    /// The store: a PostgreSQL/SQLite URL, or `None` for `<data_dir>/feather.db`.
    pub database_url: Option<String>,
    /// The data directory `serve` must be given (SQLite file, generated secret key).
    pub data_dir: PathBuf,
    /// The W1 organization, whose listing is requested.
    pub organization_id: Uuid,
    /// Its API key in plain text (a throwaway fixture key).
    pub api_key: String,
    pub organizations: u64,
    pub connections: u64,
    pub tools: u64,
    /// Wall-clock time of the generation, seconds.
    pub generated_in_secs: f64,
}

/// Where to write.
#[derive(Debug, Clone)]
pub struct Target {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

impl Target {
    /// The SQLite file `serve --data-dir` uses when no database URL is given.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("feather.db")
    }

    /// Opens (and migrates) the store exactly as `serve` will.
    pub async fn open_store(&self) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("could not create {}", self.data_dir.display()))?;
        Ok(match &self.database_url {
            Some(url) => Store::connect(url)
                .await
                .context("could not open the store")?,
            None => Store::open_sqlite_file(&self.sqlite_path())
                .await
                .context("could not open the SQLite store")?,
        })
    }
}

/// The service over `store`. The fixtures never reach an upstream, so the vendor adapters
/// are the real ones with an empty allow-list.
pub fn service(store: Store) -> anyhow::Result<Service> {
    let policy = UpstreamPolicy::with_allow_list("").context("upstream policy")?;
    let upstreams =
        feather_vendors::upstreams(&policy, McpLimits::default()).context("MCP client")?;
    Ok(Service::new(
        store,
        SecretBox::new(SecretBox::generate_key()),
        upstreams,
    ))
}

fn vendor_of(key: IntegrationKey) -> Vendor {
    key.spec().vendor
}

fn metadata_of(key: IntegrationKey, index: usize) -> Map<String, Value> {
    let mut metadata = Map::new();
    if key == IntegrationKey::CustomMcp {
        metadata.insert(
            "server_url".into(),
            json!(format!("https://mcp{index}.example.com/mcp")),
        );
        metadata.insert("transport".into(), json!("streamable_http"));
        metadata.insert("auth_type".into(), json!("bearer"));
    }
    metadata
}

/// A synced, active connection row (the `index`-th of its organization).
fn connection_row(
    organization_id: Uuid,
    index: usize,
    at: DateTime<Utc>,
) -> (Connection, IntegrationKey) {
    let key = schemas::integration(index);
    let nickname = format!("{} {}", key.spec().display_name, index + 1);
    let id = Uuid::now_v7();
    let vendor = vendor_of(key);
    let connection = Connection {
        id,
        organization_id,
        integration_key: key,
        nickname_slug: slugify(&nickname),
        nickname,
        vendor,
        vendor_connection_id: (vendor == Vendor::Nango).then(|| format!("nango-{}", id.simple())),
        status: ConnectionStatus::Active,
        status_reason: None,
        tools_status: ToolsStatus::Synced,
        tools_synced_at: Some(at),
        connected_at: Some(at),
        last_refreshed_at: Some(at),
        last_used_at: None,
        metadata: metadata_of(key, index),
        created_at: at,
        updated_at: at,
    };
    (connection, key)
}

/// Creates the W1 organization through the service and store APIs. Returns its id and key.
pub async fn generate_w1(store: &Store) -> anyhow::Result<(Uuid, String)> {
    let service = service(store.clone())?;
    let (organization, key) = service
        .create_organization("Bench W1")
        .await
        .map_err(|error| anyhow::anyhow!("create_organization: {error:?}"))?;
    for index in 0..schemas::W1_CONNECTIONS {
        // Distinct microsecond timestamps keep the listing order (created_at, id) stable.
        let at = feather_store::now() + chrono::Duration::microseconds(index as i64);
        let (mut connection, _) = connection_row(organization.id, index, at);
        // The first sync marks it synced, as a real one would.
        connection.tools_status = ToolsStatus::Pending;
        connection.tools_synced_at = None;
        let mut write = store.begin_listing_write(organization.id).await?;
        write.insert_connection(&connection).await?;
        write.commit().await.context("insert the connection")?;
        let tools = schemas::connection_tools(schemas::TOOLS_PER_CONNECTION, index);
        let catalog: Vec<UpstreamTool> = tools
            .iter()
            .map(|tool| UpstreamTool {
                name: tool.tool_path.clone(),
                title: Some(tool.display_name.clone()),
                description: Some(tool.description.clone()),
                input_schema: tool.input_schema.clone(),
                output_schema: tool.response_schema.clone(),
                annotations: None,
            })
            .collect();
        service
            .record_catalog(organization.id, connection.id, catalog)
            .await
            .map_err(|error| anyhow::anyhow!("record_catalog: {error:?}"))?;
        let stored = store
            .list_connection_tools(organization.id, connection.id)
            .await
            .context("list_connection_tools")?;
        for tool in &tools {
            let (Some(defaults), Some(field_map)) =
                (&tool.input_defaults, &tool.response_field_map)
            else {
                continue;
            };
            let Some(row) = stored.iter().find(|row| row.tool_path == tool.tool_path) else {
                bail!("tool {} was not stored", tool.tool_path);
            };
            let input = ToolConfigInput {
                is_enabled: None,
                input_defaults: Patch::Set(serde_json::to_value(defaults)?),
                response_field_map: Patch::Set(field_map.clone()),
            };
            service
                .configure_tool(organization.id, connection.id, row.id, input)
                .await
                .map_err(|error| anyhow::anyhow!("configure_tool: {error:?}"))?;
        }
    }
    Ok((organization.id, key.plain_text_key))
}

/// The shape of the W2 background population.
#[derive(Debug, Clone, Copy)]
pub struct W2Shape {
    pub orgs: usize,
    pub connections_per_org: usize,
    pub tools_per_connection: usize,
    /// Organizations per transaction.
    pub batch_orgs: usize,
    /// Batches in flight at once (PostgreSQL only; SQLite has one writer).
    pub jobs: usize,
}

impl Default for W2Shape {
    fn default() -> Self {
        W2Shape {
            orgs: 10_000,
            connections_per_org: 10,
            tools_per_connection: 20,
            batch_orgs: 50,
            jobs: 2,
        }
    }
}

/// Documents many rows share, as stored.
#[derive(Debug)]
struct SharedDocs {
    response_schema: Box<RawValue>,
    input_defaults: Box<RawValue>,
    response_field_map: Box<RawValue>,
}

/// The derived fields of a view, which many tools of a connection share.
struct SharedView {
    derived: DerivedToolView,
    /// The merged input preview as stored.
    merged_input_preview: Box<RawValue>,
}

impl SharedView {
    fn derive(
        input_schema: &Value,
        input_schema_text: &RawValue,
        configured: bool,
        with_response_schema: bool,
    ) -> anyhow::Result<SharedView> {
        let defaults = configured.then(schemas::input_defaults);
        let field_map = configured.then(schemas::response_field_map);
        let response_schema = with_response_schema.then(schemas::response_schema);
        let derived = derive_tool_view(
            input_schema,
            defaults.as_ref(),
            response_schema.as_ref(),
            field_map.as_ref(),
        );
        let merged_input_preview = match &derived.merged_input_preview {
            Some(preview) => serde_json::value::to_raw_value(preview)?,
            None => input_schema_text.to_owned(),
        };
        Ok(SharedView {
            derived,
            merged_input_preview,
        })
    }
}

/// One transaction's worth of rows.
struct Batch {
    orgs: Vec<Organization>,
    keys: Vec<NewApiKey>,
    connections: Vec<Connection>,
    tools: Vec<ToolView>,
}

fn build_batch(
    first_org: usize,
    count: usize,
    shape: &W2Shape,
    docs: &SharedDocs,
) -> anyhow::Result<Batch> {
    let base = feather_store::now();
    let mut batch = Batch {
        orgs: Vec::with_capacity(count),
        keys: Vec::with_capacity(count),
        connections: Vec::with_capacity(count * shape.connections_per_org),
        tools: Vec::with_capacity(count * shape.connections_per_org * shape.tools_per_connection),
    };
    for org_index in first_org..first_org + count {
        let organization_id = Uuid::now_v7();
        batch.orgs.push(Organization {
            id: organization_id,
            name: format!("Background org {org_index}"),
            created_at: base,
        });
        // A key per org, so that the key lookup's index has a realistic size. The hash is
        // random: nobody can authenticate as these orgs.
        let key_id = Uuid::new_v4();
        batch.keys.push(NewApiKey {
            id: key_id,
            organization_id,
            name: "Background key".to_owned(),
            key_prefix: format!("fth_{}", &key_id.simple().to_string()[..8]),
            key_hash: format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple()),
            scopes: Vec::new(),
            created_at: base,
            expires_at: None,
        });
        for index in 0..shape.connections_per_org {
            let at = base + chrono::Duration::microseconds(index as i64);
            let (connection, _) = connection_row(organization_id, index, at);
            let salt = org_index * shape.connections_per_org + index;
            let schema = schemas::input_schema(salt);
            let input_schema = serde_json::value::to_raw_value(&schema)?;
            // The connection's tools share one input schema: one view per combination of
            // operator configuration and response schema.
            let mut views: HashMap<(bool, bool), SharedView> = HashMap::new();
            for tool_index in 0..shape.tools_per_connection {
                let tool = schemas::tool(tool_index, salt);
                let configured = schemas::has_operator_config(tool_index);
                let with_response_schema = schemas::has_response_schema(tool_index);
                let view = match views.entry((configured, with_response_schema)) {
                    Entry::Occupied(view) => view.into_mut(),
                    Entry::Vacant(entry) => entry.insert(SharedView::derive(
                        &schema,
                        &input_schema,
                        configured,
                        with_response_schema,
                    )?),
                };
                batch.tools.push(ToolView {
                    id: Uuid::now_v7(),
                    connection_id: connection.id,
                    organization_id,
                    slug: tool_slug(&connection.nickname_slug, &tool.tool_path),
                    tool_path: tool.tool_path,
                    display_name: tool.display_name,
                    description: Some(tool.description),
                    input_schema: input_schema.clone(),
                    response_schema: with_response_schema.then(|| docs.response_schema.clone()),
                    is_enabled: true,
                    input_defaults: configured.then(|| docs.input_defaults.clone()),
                    response_field_map: configured.then(|| docs.response_field_map.clone()),
                    last_seen_at: at,
                    created_at: at,
                    updated_at: at,
                    default_count: view.derived.default_count,
                    pinned_count: view.derived.pinned_count,
                    stale_input_fields: view.derived.stale_input_fields.clone(),
                    stale_field_paths: view.derived.stale_field_paths.clone(),
                    merged_input_preview: view.merged_input_preview.clone(),
                });
            }
            batch.connections.push(connection);
        }
    }
    Ok(batch)
}

/// Writes the batch in one transaction, through the store's bulk inserts.
async fn write_batch(store: &Store, batch: Batch) -> anyhow::Result<()> {
    let mut write = store.begin_write().await?;
    write.insert_organizations(&batch.orgs).await?;
    write.insert_api_keys(&batch.keys).await?;
    write.insert_connections(&batch.connections).await?;
    write.insert_tool_views(&batch.tools).await?;
    write.commit().await?;
    Ok(())
}

/// Bulk-loads the W2 background organizations. Returns the rows written (orgs,
/// connections, tools). Prints progress to stderr every ~5 s.
pub async fn generate_w2_background(
    target: &Target,
    shape: W2Shape,
) -> anyhow::Result<(u64, u64, u64)> {
    let store = target.open_store().await?;
    let jobs = match store.backend() {
        Backend::Postgres => shape.jobs.max(1),
        // One writer at a time.
        Backend::Sqlite => 1,
    };
    let docs = Arc::new(SharedDocs {
        response_schema: serde_json::value::to_raw_value(&schemas::response_schema())?,
        input_defaults: serde_json::value::to_raw_value(&schemas::input_defaults())?,
        response_field_map: serde_json::value::to_raw_value(&schemas::response_field_map())?,
    });
    let batch_orgs = shape.batch_orgs.max(1);
    let batches: Vec<(usize, usize)> = (0..shape.orgs)
        .step_by(batch_orgs)
        .map(|first| (first, batch_orgs.min(shape.orgs - first)))
        .collect();
    let total = batches.len();
    let queue = Arc::new(std::sync::Mutex::new(batches.into_iter()));
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..jobs {
        let queue = Arc::clone(&queue);
        let docs = Arc::clone(&docs);
        let store = store.clone();
        let done = Arc::clone(&done);
        workers.push(tokio::spawn(async move {
            let mut last_report = Instant::now();
            loop {
                let next = queue
                    .lock()
                    .map_err(|_| anyhow::anyhow!("batch queue poisoned"))?
                    .next();
                let Some((first, count)) = next else { break };
                let docs = Arc::clone(&docs);
                let batch =
                    tokio::task::spawn_blocking(move || build_batch(first, count, &shape, &docs))
                        .await??;
                write_batch(&store, batch).await?;
                let finished = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if last_report.elapsed() > Duration::from_secs(5) {
                    last_report = Instant::now();
                    eprintln!(
                        "  w2: {finished}/{total} batches ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            anyhow::Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    eprintln!(
        "  w2: rows written in {:.1} s; analyzing",
        started.elapsed().as_secs_f64()
    );
    store.analyze().await?;
    store.close().await;
    let orgs = shape.orgs as u64;
    let connections = orgs * shape.connections_per_org as u64;
    Ok((
        orgs,
        connections,
        connections * shape.tools_per_connection as u64,
    ))
}

/// Fails when the target store already holds organizations: fixtures go into a fresh store.
pub async fn ensure_empty(store: &Store) -> anyhow::Result<()> {
    if store.has_organizations().await? {
        bail!(
            "the target store already has organizations: generate fixtures into a fresh data \
             directory or an empty database"
        );
    }
    Ok(())
}

/// Writes `manifest` as pretty JSON to `path`.
pub fn write_manifest(path: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, serde_json::to_vec_pretty(manifest)?)
        .with_context(|| format!("could not write {}", path.display()))
}

/// Reads a manifest written by [`write_manifest`].
pub fn read_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let bytes =
        std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a manifest", path.display()))
}
