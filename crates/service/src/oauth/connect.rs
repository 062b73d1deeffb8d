//! Connecting a custom MCP server with OAuth: the connection is created `pending_oauth`
//! with an authorization in progress, and the user is sent to authorize it.

use std::fmt;

use feather_domain::connection::Connection;
use feather_domain::custom_mcp::{CustomMcpConfig, OAuthOptions};
use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use feather_domain::oauth::OAuthCredentials;
use feather_store::{PendingAuthorization, Write};
use url::Url;
use uuid::Uuid;

use super::pending::{AUTHORIZATION_LIFETIME, PendingFlow, state_hash};
use super::plan::AuthorizationPlan;
use crate::{NewConnection, Service, ServiceError, ServiceResult};

/// Where to send the user to authorize a connection, and the `state` that will come
/// back. `Debug` shows neither: the state alone completes the authorization.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthorizationLink {
    pub url: String,
    pub state: String,
}

impl fmt::Debug for AuthorizationLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationLink").finish_non_exhaustive()
    }
}

impl Service {
    /// Creates a `pending_oauth` custom MCP connection (its static headers sealed, no
    /// sync yet) and the authorization that will make it active.
    pub(crate) async fn connect_oauth_mcp(
        &self,
        organization_id: Uuid,
        config: CustomMcpConfig,
        options: &OAuthOptions,
        server_url: &Url,
    ) -> ServiceResult<(Connection, AuthorizationLink)> {
        let plan = self.plan_authorization(server_url, options, None).await?;
        let nickname = config.nickname.as_str().to_owned();
        let mut public = config.settings();
        public.oauth_issuer = Some(plan.settings.client.issuer.clone());
        public.oauth_scopes = plan.settings.scopes.clone();
        // The client is kept from now on: an authorization begun again (this one expired
        // or was refused) uses it instead of registering another.
        let mut credentials = config.credentials;
        credentials.oauth = Some(OAuthCredentials {
            settings: plan.settings.clone(),
            tokens: None,
        });
        let credentials = serde_json::to_vec(&credentials)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        let new = NewConnection {
            integration_key: IntegrationKey::CustomMcp,
            nickname,
            vendor: Vendor::Mcp,
            vendor_connection_id: None,
            status: ConnectionStatus::PendingOauth,
            metadata: public.into_metadata(),
            credentials: Some(credentials),
            sync_tools: false,
        };
        let mut write = self.store.begin_listing_write(organization_id).await?;
        let connection = self
            .insert_connection(&mut write, organization_id, new)
            .await?;
        let link = self
            .begin_authorization(&mut write, &connection, plan)
            .await?;
        write.commit().await?;
        Ok((connection, link))
    }

    /// Keeps an authorization of `connection` in progress (in place of any earlier one)
    /// within `write`, and returns where to send the user.
    pub(crate) async fn begin_authorization(
        &self,
        write: &mut Write,
        connection: &Connection,
        plan: AuthorizationPlan,
    ) -> ServiceResult<AuthorizationLink> {
        let redirect_uri = self.oauth_config.redirect_uri();
        let start = self
            .oauth
            .start_authorization(&plan.settings, &redirect_uri)
            .map_err(|why| ServiceError::invalid(&["server_url"], why, "oauth_unavailable"))?;
        let flow = PendingFlow {
            settings: plan.settings,
            code_verifier: start.code_verifier,
            redirect_uri,
            expected_issuer: plan.expected_issuer,
        };
        let plaintext =
            serde_json::to_vec(&flow).map_err(|error| ServiceError::Internal(error.to_string()))?;
        let now = self.now();
        let pending = PendingAuthorization {
            organization_id: connection.organization_id,
            connection_id: connection.id,
            sealed: self.secrets.seal(connection.id, &plaintext),
            created_at: now,
            expires_at: now + AUTHORIZATION_LIFETIME,
        };
        write
            .replace_oauth_authorization(&state_hash(&start.state), &pending, now)
            .await?;
        Ok(AuthorizationLink {
            url: start.url,
            state: start.state,
        })
    }
}
