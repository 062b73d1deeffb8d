//! Authorizing an existing OAuth connection again (`POST …/{id}/reauthorize`, an
//! extension of the contract): after its grant was refused, its authorization expired,
//! its server asked for more scopes or moved to another authorization server. The
//! connection keeps its tools and their configuration; only its tokens change.

use feather_domain::custom_mcp::McpMetadata;
use feather_domain::integration::IntegrationKey;
use feather_domain::oauth::union_scopes;
use uuid::Uuid;

use super::AuthorizationLink;
use crate::{Service, ServiceError, ServiceResult};

impl Service {
    /// A new authorization of the connection, with the options it was connected with.
    /// The client of the earlier authorization is kept while its issuer stays, and the
    /// scopes asked for include those asked before.
    pub async fn reauthorize_connection(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> ServiceResult<AuthorizationLink> {
        let connection = self.connection(organization_id, connection_id).await?;
        let not_oauth = || {
            ServiceError::ConnectionNotActive(
                "The connection does not use OAuth, so it has nothing to re-authorize.".to_owned(),
            )
        };
        if connection.integration_key != IntegrationKey::CustomMcp {
            return Err(not_oauth());
        }
        let credentials = self.mcp_credentials(connection_id).await?;
        let options = credentials.oauth_options.clone().ok_or_else(not_oauth)?;
        let settings = McpMetadata::from_metadata(&connection.metadata).ok_or_else(|| {
            ServiceError::Internal("a custom MCP connection without its settings".to_owned())
        })?;
        let server_url = credentials
            .server_url
            .clone()
            .unwrap_or(settings.server_url);
        let server_url = self.checked_server_url(&server_url).await?;
        let previous = credentials.oauth.as_ref().map(|oauth| &oauth.settings);
        let mut plan = self
            .plan_authorization(
                &server_url,
                &options,
                previous.map(|settings| &settings.client),
            )
            .await?;
        if let Some(previous) =
            previous.filter(|previous| previous.client.issuer == plan.settings.client.issuer)
        {
            plan.settings.scopes = union_scopes(&previous.scopes, &plan.settings.scopes);
        }
        let mut write = self.store.begin_write().await?;
        let link = self
            .begin_authorization(&mut write, &connection, plan)
            .await?;
        write.commit().await?;
        Ok(link)
    }
}
