//! Connecting a custom MCP server: with static credentials it is born `active`; with
//! OAuth it waits for an authorization (`crate::oauth`).

use feather_domain::connection::Connection;
use feather_domain::custom_mcp::{CustomMcpRequest, McpCredentials, validate_custom_mcp};
use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use uuid::Uuid;

use crate::oauth::AuthorizationLink;
use crate::{NewConnection, Service, ServiceError, ServiceResult};

/// A custom MCP connection just made, and for OAuth where to authorize it.
#[derive(Debug, Clone)]
pub struct CustomMcpConnected {
    pub connection: Connection,
    pub authorization: Option<AuthorizationLink>,
}

impl Service {
    /// Checks the request and that the server URL may be reached, then creates the
    /// connection: `active` with its credentials sealed and a first tool sync queued, or,
    /// for OAuth, `pending_oauth` with an authorization to complete.
    pub async fn connect_custom_mcp(
        &self,
        organization_id: Uuid,
        request: CustomMcpRequest,
    ) -> ServiceResult<CustomMcpConnected> {
        let config = validate_custom_mcp(&request).map_err(ServiceError::Invalid)?;
        let server_url = self.checked_server_url(&config.server_url).await?;
        if let Some(options) = config.credentials.oauth_options.clone() {
            let (connection, link) = self
                .connect_oauth_mcp(organization_id, config, &options, &server_url)
                .await?;
            return Ok(CustomMcpConnected {
                connection,
                authorization: Some(link),
            });
        }
        let credentials = serde_json::to_vec(&config.credentials)
            .map_err(|error| ServiceError::Conflict(error.to_string()))?;
        let connection = self
            .create_connection(
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
            .await?;
        Ok(CustomMcpConnected {
            connection,
            authorization: None,
        })
    }

    /// The connection's sealed custom MCP credentials, opened.
    pub(crate) async fn mcp_credentials(
        &self,
        connection_id: Uuid,
    ) -> ServiceResult<McpCredentials> {
        let sealed = self.store.connection_secret(connection_id).await?;
        self.open_mcp_credentials(connection_id, sealed.as_deref())
    }

    /// `sealed`, the connection's custom MCP credentials, opened (none sealed: none).
    pub(crate) fn open_mcp_credentials(
        &self,
        connection_id: Uuid,
        sealed: Option<&[u8]>,
    ) -> ServiceResult<McpCredentials> {
        let Some(sealed) = sealed else {
            return Ok(McpCredentials::default());
        };
        let plaintext = self
            .secrets
            .open(connection_id, sealed)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        serde_json::from_slice(&plaintext)
            .map_err(|error| ServiceError::Internal(error.to_string()))
    }
}
