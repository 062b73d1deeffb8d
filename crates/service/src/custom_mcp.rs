//! Connecting a custom MCP server with static credentials.

use feather_domain::connection::Connection;
use feather_domain::custom_mcp::{CustomMcpRequest, validate_custom_mcp};
use feather_domain::input_config::FieldError;
use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use uuid::Uuid;

use crate::{NewConnection, Service, ServiceError, ServiceResult};

impl Service {
    /// Creates an `active` custom MCP connection (credentials sealed, a first tool sync
    /// queued with it), after checking the request and that the server URL may be reached.
    pub async fn connect_custom_mcp(
        &self,
        organization_id: Uuid,
        request: CustomMcpRequest,
    ) -> ServiceResult<Connection> {
        let config = validate_custom_mcp(&request).map_err(ServiceError::Invalid)?;
        self.url_guard
            .check_url(&config.server_url)
            .await
            .map_err(|refused| {
                ServiceError::Invalid(vec![FieldError::new(
                    &["server_url"],
                    refused.message,
                    "url_refused",
                )])
            })?;
        let credentials = serde_json::to_vec(&config.credentials)
            .map_err(|error| ServiceError::Conflict(error.to_string()))?;
        self.create_connection(
            organization_id,
            NewConnection {
                integration_key: IntegrationKey::CustomMcp,
                nickname: config.nickname.as_str().to_owned(),
                vendor: Vendor::Mcp,
                vendor_connection_id: None,
                status: ConnectionStatus::Active,
                metadata: config.public_metadata(),
                credentials: Some(credentials),
                sync_tools: true,
            },
        )
        .await
    }
}
