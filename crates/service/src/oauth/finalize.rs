//! `finalize`: what the connect UI asks once the authorization popup has closed.

use feather_domain::integration::ConnectionStatus;
use uuid::Uuid;

use crate::{ConnectionView, Service, ServiceError, ServiceResult};

impl Service {
    /// The connection as it is once its authorization has landed (`active`, or `error`
    /// with the reason); asking again answers the same. While it still waits, a
    /// [`ServiceError::ConnectionNotActive`] says what it waits for.
    pub async fn finalize_connection(
        &self,
        organization_id: Uuid,
        connection_id: Uuid,
    ) -> ServiceResult<ConnectionView> {
        let view = self.get_connection(organization_id, connection_id).await?;
        if view.connection.status != ConnectionStatus::PendingOauth {
            return Ok(view);
        }
        let waiting = self
            .store
            .has_oauth_authorization(connection_id, self.now())
            .await?;
        Err(ServiceError::ConnectionNotActive(if waiting {
            "The connection is waiting for its authorization: the user has not yet approved \
             it at the authorize_url, or the callback has not landed."
                .to_owned()
        } else {
            let reason = view
                .connection
                .status_reason
                .map(|reason| format!(" ({reason})"))
                .unwrap_or_default();
            format!(
                "The connection has no authorization in progress{reason}; start one with POST \
                 /v1/integrations/connections/{connection_id}/reauthorize."
            )
        }))
    }
}
