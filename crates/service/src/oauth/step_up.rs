//! Step-up: a server that refuses an OAuth connection's token for its scopes (403
//! `insufficient_scope`) gets them asked for by the connection's next authorization,
//! with those asked before (the MCP specification's union).

use feather_domain::integration::ConnectionStatus;
use feather_domain::oauth::union_scopes;
use feather_store::Write;
use uuid::Uuid;

use crate::{Service, ServiceError, ServiceResult, UpstreamError};

impl Service {
    /// Adds the scopes `refusal` names to those the connection's next authorization asks
    /// for (a sync's failure record says the rest). False when the connection has no OAuth
    /// settings: the refusal is then one of its static credentials.
    pub(crate) async fn widen_requested_scopes(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        refusal: &UpstreamError,
    ) -> ServiceResult<bool> {
        let mut write = self.store.begin_listing_write(organization_id).await?;
        let Some(sealed) = self
            .sealed_with_scopes(&mut write, connection_id, refusal)
            .await?
        else {
            return Ok(false);
        };
        write
            .put_connection_secret(connection_id, &sealed, self.now())
            .await?;
        write.commit().await?;
        Ok(true)
    }

    /// A call was refused for its token's scopes: the connection asks for them at its
    /// next authorization, and is `error` with the refusal as its reason until one lands.
    pub(crate) async fn ask_for_scopes(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
        refusal: &UpstreamError,
    ) -> ServiceResult<()> {
        let mut write = self.store.begin_listing_write(organization_id).await?;
        let Some(sealed) = self
            .sealed_with_scopes(&mut write, connection_id, refusal)
            .await?
        else {
            return Ok(());
        };
        let now = self.now();
        write
            .put_connection_secret(connection_id, &sealed, now)
            .await?;
        write
            .set_connection_status(
                organization_id,
                connection_id,
                ConnectionStatus::Error,
                &refusal.message,
                now,
            )
            .await?;
        write.commit().await?;
        Ok(())
    }

    /// The connection's credentials as `write` sees them, with the refused scopes added to
    /// those it asks for, sealed; `None` when it has no OAuth settings (nothing to widen).
    async fn sealed_with_scopes(
        &self,
        write: &mut Write,
        connection_id: Uuid,
        refusal: &UpstreamError,
    ) -> ServiceResult<Option<Vec<u8>>> {
        let sealed = write.connection_secret(connection_id).await?;
        let mut credentials = self.open_mcp_credentials(connection_id, sealed.as_deref())?;
        let Some(oauth) = credentials.oauth.as_mut() else {
            return Ok(None);
        };
        oauth.settings.scopes = union_scopes(&oauth.settings.scopes, &refusal.required_scopes);
        let plaintext = serde_json::to_vec(&credentials)
            .map_err(|error| ServiceError::Internal(error.to_string()))?;
        Ok(Some(self.secrets.seal(connection_id, &plaintext)))
    }
}
