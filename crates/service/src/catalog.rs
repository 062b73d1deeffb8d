//! Recording an upstream tool catalog on a connection (the write half of a tool sync).

use std::collections::{HashMap, HashSet};

use feather_domain::catalog::{UpstreamTool, check_catalog};

use crate::blocking::off_runtime;
use feather_domain::slug::{first_free_slug, humanize, tool_slug};
use feather_store::CatalogTool;
use uuid::Uuid;

use crate::{Service, ServiceError, ServiceResult, UpstreamError, UpstreamErrorKind};

impl Service {
    /// Records `upstream` as the connection's current catalog (DESIGN.md §3 Tool sync),
    /// after checking it whole: a catalog that fails a check changes no tool. New tools
    /// get slugs unique within the connection, assigned in `tool_path` order so the result
    /// does not depend on the upstream's listing order.
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
        let existing = self
            .store
            .list_connection_tools(organization_id, connection_id)
            .await?;
        let known_slugs: HashMap<&str, &str> = existing
            .iter()
            .map(|tool| (tool.tool_path.as_str(), tool.slug.as_str()))
            .collect();
        let mut taken: HashSet<String> = existing.iter().map(|tool| tool.slug.clone()).collect();
        let catalog = upstream
            .into_iter()
            .map(|tool| {
                let slug = match known_slugs.get(tool.name.as_str()) {
                    Some(known) => (*known).to_owned(),
                    None => {
                        let base = tool_slug(&connection.nickname_slug, &tool.name);
                        let slug = first_free_slug(&base, |candidate| taken.contains(candidate));
                        taken.insert(slug.clone());
                        slug
                    }
                };
                CatalogTool {
                    display_name: tool.title.unwrap_or_else(|| humanize(&tool.name)),
                    tool_path: tool.name,
                    slug,
                    description: tool.description,
                    input_schema: tool.input_schema,
                    response_schema: tool.output_schema,
                }
            })
            .collect::<Vec<_>>();
        self.store
            .apply_catalog(organization_id, connection_id, &catalog, self.now())
            .await?;
        Ok(())
    }
}
