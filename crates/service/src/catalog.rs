//! Recording an upstream tool catalog on a connection (the write half of a tool sync).

use std::collections::{HashMap, HashSet};

use feather_domain::catalog::{UpstreamTool, check_catalog};

use crate::blocking::off_runtime;
use feather_domain::slug::{first_free_slug, humanize, tool_slug};
use feather_domain::tool::Tool;
use feather_domain::tool_view::derive_tool_view;
use feather_store::CatalogTool;
use uuid::Uuid;

use crate::{Service, ServiceError, ServiceResult, UpstreamError, UpstreamErrorKind};

impl Service {
    /// Records `upstream` as the connection's current catalog (DESIGN.md §3 Tool sync),
    /// after checking it whole: a catalog that fails a check changes no tool. In one
    /// transaction, every tool is upserted by `tool_path` with its view derived from the
    /// operator's configuration, tools absent from `upstream` are kept as they are, and the
    /// connection is marked synced. New tools get slugs unique within the organization
    /// (the first free suffix when another connection's tool has it), assigned in
    /// `tool_path` order so the result does not depend on the upstream's listing order.
    pub async fn record_catalog(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        upstream: Vec<UpstreamTool>,
    ) -> ServiceResult<()> {
        // Compiling every schema of a large catalog is CPU work: off the async runtime.
        let mut upstream = off_runtime(move || check_catalog(&upstream).map(|()| upstream))
            .await
            .map_err(|error| UpstreamError::new(UpstreamErrorKind::InvalidCatalog, error.0))?;
        let connection = self
            .store
            .get_connection(organization_id, connection_id)
            .await?
            .ok_or(ServiceError::NotFound("connection"))?;
        upstream.sort_by(|a, b| a.name.cmp(&b.name));
        let at = self.now();
        let mut write = self.store.begin_listing_write(organization_id).await?;
        // Read in the write: the slugs taken and the operator configuration each view is
        // derived from are the ones it commits with.
        let existing = write
            .connection_tools(organization_id, connection_id)
            .await?;
        let existing: HashMap<&str, &Tool> = existing
            .iter()
            .map(|tool| (tool.tool_path.as_str(), tool))
            .collect();
        // Slugs are unique in the organization, and every slug made for this connection
        // starts with its nickname slug and `_`.
        let mut taken: HashSet<String> = write
            .tool_slugs_starting_with(organization_id, &format!("{}_", connection.nickname_slug))
            .await?
            .into_iter()
            .collect();
        for tool in upstream {
            let known = existing.get(tool.name.as_str());
            let slug = match known {
                Some(known) => known.slug.clone(),
                None => {
                    let base = tool_slug(&connection.nickname_slug, &tool.name);
                    let slug = first_free_slug(&base, |candidate| taken.contains(candidate));
                    taken.insert(slug.clone());
                    slug
                }
            };
            let tool = CatalogTool {
                display_name: tool.title.unwrap_or_else(|| humanize(&tool.name)),
                tool_path: tool.name,
                slug,
                description: tool.description,
                input_schema: tool.input_schema,
                response_schema: tool.output_schema,
                annotations: tool.annotations,
            };
            let view = derive_tool_view(
                &tool.input_schema,
                known.and_then(|known| known.input_defaults.as_ref()),
                tool.response_schema.as_ref(),
                known.and_then(|known| known.response_field_map.as_ref()),
            );
            write
                .upsert_catalog_tool(organization_id, connection_id, &tool, view, at)
                .await?;
        }
        write
            .mark_tools_synced(organization_id, connection_id, at)
            .await?;
        write.commit().await?;
        Ok(())
    }
}
