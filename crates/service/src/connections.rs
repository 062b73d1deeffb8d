//! Connections and the operator's configuration of their tools.

use std::collections::HashMap;

use feather_domain::connection::Connection;
use feather_domain::field_map::parse_field_map;
use feather_domain::input_config::{FieldError, parse_input_defaults};
use feather_domain::integration::{ConnectionStatus, IntegrationKey, ToolsStatus, Vendor};
use feather_domain::patch::Patch;
use feather_domain::slug::{Nickname, NicknameError, first_free_slug};
use feather_domain::tool::ToolView;
use feather_store::{JobKind, ToolConfigPatch, Write};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::blocking::off_runtime;
use crate::error::located_under;
use crate::{ConnectionToolView, ConnectionView, Service, ServiceError, ServiceResult};

/// What a vendor adapter knows about a connection it is creating.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub integration_key: IntegrationKey,
    pub nickname: String,
    pub vendor: Vendor,
    pub vendor_connection_id: Option<String>,
    pub status: ConnectionStatus,
    pub metadata: Map<String, Value>,
    /// Credentials to seal and keep with the connection.
    pub credentials: Option<Vec<u8>>,
    /// Queue a first tool sync together with the connection.
    pub sync_tools: bool,
}

/// An operator's requested change to one tool, as received (documents not yet validated).
#[derive(Debug, Clone, Default)]
pub struct ToolConfigInput {
    pub is_enabled: Option<bool>,
    pub input_defaults: Patch<Value>,
    pub response_field_map: Patch<Value>,
}

fn nickname_problem(error: NicknameError) -> ServiceError {
    let kind = match error {
        NicknameError::TooLong { .. } => "string_too_long",
        NicknameError::Blank | NicknameError::EmptySlug | NicknameError::ControlCharacter => {
            "value_error"
        }
    };
    ServiceError::Invalid(vec![FieldError::new(
        &["nickname"],
        error.to_string(),
        kind,
    )])
}

impl Service {
    /// Creates a connection with its sealed credentials and its first sync, in one
    /// transaction: a connection never exists without what it was created with. Its
    /// nickname slug is the first free one of the organization (`crm`, `crm_2`, …). An
    /// organization at its connection limit gets [`ServiceError::LimitReached`].
    pub async fn create_connection(
        &self,
        organization_id: Uuid,
        new: NewConnection,
    ) -> ServiceResult<Connection> {
        let sync_tools = new.sync_tools;
        let mut write = self.store.begin_listing_write(organization_id).await?;
        let connection = self
            .insert_connection(&mut write, organization_id, new)
            .await?;
        write.commit().await?;
        if sync_tools {
            self.jobs_queued.notify_waiters();
        }
        Ok(connection)
    }

    /// [`Service::create_connection`] within `write`, a listing write of the organization
    /// the caller commits (and then wakes the job workers if a sync was queued).
    pub(crate) async fn insert_connection(
        &self,
        write: &mut Write,
        organization_id: Uuid,
        new: NewConnection,
    ) -> ServiceResult<Connection> {
        let nickname = Nickname::parse(&new.nickname).map_err(nickname_problem)?;
        let created_at = self.now();
        let connection = Connection {
            id: Uuid::now_v7(),
            organization_id,
            integration_key: new.integration_key,
            nickname: nickname.as_str().to_owned(),
            // The base, suffixed below when another connection has it.
            nickname_slug: nickname.slug(),
            vendor: new.vendor,
            vendor_connection_id: new.vendor_connection_id,
            status: new.status,
            status_reason: None,
            tools_status: ToolsStatus::Pending,
            tools_synced_at: None,
            connected_at: (new.status == ConnectionStatus::Active).then_some(created_at),
            last_refreshed_at: None,
            last_used_at: None,
            metadata: new.metadata,
            created_at,
            updated_at: created_at,
        };
        let limit = self.limits.max_connections_per_organization;
        if write.count_connections(organization_id).await? >= i64::from(limit) {
            return Err(ServiceError::LimitReached(format!(
                "The organization already has {limit} connections, the most allowed on this \
                 server; delete one first (the limit is the server's \
                 --max-connections-per-org setting)."
            )));
        }
        // The organization's listing writes wait for this one, so no other create can take
        // the slug chosen here before it commits.
        let taken = write
            .nickname_slugs_starting_with(organization_id, &connection.nickname_slug)
            .await?;
        let connection = Connection {
            nickname_slug: first_free_slug(&connection.nickname_slug, |slug| {
                taken.iter().any(|taken| taken == slug)
            }),
            ..connection
        };
        write.insert_connection(&connection).await?;
        if let Some(plaintext) = &new.credentials {
            let sealed = self.secrets.seal(connection.id, plaintext);
            write
                .insert_connection_secret(connection.id, &sealed, created_at)
                .await?;
        }
        if new.sync_tools {
            write
                .enqueue_job(
                    JobKind::SyncTools,
                    organization_id,
                    connection.id,
                    created_at,
                    created_at,
                )
                .await?;
        }
        Ok(connection)
    }

    /// The organization's connections, each with its tools: two queries however many
    /// connections there are, run side by side (each is a snapshot of its own, as two
    /// queries one after the other would be).
    pub async fn list_connections(
        &self,
        organization_id: Uuid,
    ) -> ServiceResult<Vec<ConnectionView>> {
        let (connections, tools) = tokio::try_join!(
            self.store.list_connections(organization_id),
            self.store.list_organization_tools(organization_id),
        )?;
        let mut tools_by_connection: HashMap<Uuid, Vec<ToolView>> = HashMap::new();
        for tool in tools {
            tools_by_connection
                .entry(tool.connection_id)
                .or_default()
                .push(tool);
        }
        Ok(connections
            .into_iter()
            .map(|connection| {
                let tools = tools_by_connection
                    .remove(&connection.id)
                    .unwrap_or_default();
                ConnectionView::new(connection, tools)
            })
            .collect())
    }

    pub async fn get_connection(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> ServiceResult<ConnectionView> {
        let connection = self.connection(organization_id, connection_id).await?;
        let tools = self
            .store
            .list_connection_tool_views(organization_id, connection_id)
            .await?;
        Ok(ConnectionView::new(connection, tools))
    }

    /// Renames the connection; its nickname slug stays what it was at creation.
    pub async fn rename_connection(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        nickname: Option<&str>,
    ) -> ServiceResult<ConnectionView> {
        if let Some(nickname) = nickname {
            let nickname = Nickname::parse(nickname).map_err(nickname_problem)?;
            self.store
                .rename_connection(
                    organization_id,
                    connection_id,
                    nickname.as_str(),
                    self.now(),
                )
                .await?
                .ok_or(ServiceError::NotFound("connection"))?;
        }
        self.get_connection(organization_id, connection_id).await
    }

    pub async fn delete_connection(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> ServiceResult<()> {
        if self
            .store
            .delete_connection(organization_id, connection_id)
            .await?
        {
            Ok(())
        } else {
            Err(ServiceError::NotFound("connection"))
        }
    }

    /// Enables or disables every tool of the connection; returns them in `tool_path` order.
    pub async fn set_all_tools_enabled(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        enabled: bool,
    ) -> ServiceResult<Vec<ConnectionToolView>> {
        let connection = self.connection(organization_id, connection_id).await?;
        self.store
            .set_connection_tools_enabled(organization_id, connection_id, enabled, self.now())
            .await?;
        let tools = self
            .store
            .list_connection_tool_views(organization_id, connection_id)
            .await?;
        Ok(ConnectionView::new(connection, tools).tools)
    }

    /// Applies an operator's change to one tool. `input_defaults` is validated against the
    /// tool's current `input_schema` and `response_field_map` against the field-map shape;
    /// every problem is reported at once and nothing is written unless all is valid.
    pub async fn configure_tool(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        tool_id: Uuid,
        input: ToolConfigInput,
    ) -> ServiceResult<ConnectionToolView> {
        let connection = self.connection(organization_id, connection_id).await?;
        let tool = self
            .store
            .get_tool(organization_id, connection_id, tool_id)
            .await?
            .ok_or(ServiceError::NotFound("tool"))?;

        let mut problems = Vec::new();
        let input_defaults = match input.input_defaults {
            Patch::Unchanged => Patch::Unchanged,
            Patch::Clear => Patch::Clear,
            Patch::Set(raw) => match validated_input_defaults(raw, tool.input_schema.clone()).await
            {
                Ok(defaults) => Patch::Set(defaults),
                Err(found) => {
                    problems.extend(located_under("input_defaults", found));
                    Patch::Unchanged
                }
            },
        };
        if let Patch::Set(raw) = &input.response_field_map
            && let Err(found) = parse_field_map(raw)
        {
            problems.extend(located_under("response_field_map", found));
        }
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }

        let patch = ToolConfigPatch {
            is_enabled: input.is_enabled,
            input_defaults,
            response_field_map: input.response_field_map,
        };
        let view = if patch.is_empty() {
            self.store
                .get_tool_view(organization_id, connection_id, tool_id)
                .await?
        } else {
            self.write_tool_config(organization_id, connection_id, tool_id, &patch)
                .await?
        };
        // None: deleted between the read and now.
        let view = view.ok_or(ServiceError::NotFound("tool"))?;
        Ok(ConnectionToolView::new(view, &connection))
    }

    /// Writes the patch and the tool's view derived again from what it changed, together.
    async fn write_tool_config(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        tool_id: Uuid,
        patch: &ToolConfigPatch,
    ) -> ServiceResult<Option<ToolView>> {
        let mut write = self.store.begin_listing_write(organization_id).await?;
        let Some(tool) = write
            .configure_tool(organization_id, connection_id, tool_id, patch, self.now())
            .await?
        else {
            return Ok(None);
        };
        let view = write
            .record_tool_view(organization_id, connection_id, tool_id, tool.derive_view())
            .await?;
        write.commit().await?;
        Ok(view)
    }

    pub(crate) async fn connection(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> ServiceResult<Connection> {
        self.store
            .get_connection(organization_id, connection_id)
            .await?
            .ok_or(ServiceError::NotFound("connection"))
    }
}

/// [`parse_input_defaults`], off the async runtime: a large schema makes it costly.
async fn validated_input_defaults(
    raw: Value,
    input_schema: Value,
) -> Result<feather_domain::input_config::InputDefaults, Vec<FieldError>> {
    off_runtime(move || parse_input_defaults(&raw, &input_schema)).await
}
