//! Reaching a connection's upstream: its vendor's adapters from the registry, its secret
//! opened, and the credentials its requests carry now.

use std::sync::Arc;

use feather_domain::catalog::UpstreamTool;
use feather_domain::connection::Connection;
use serde_json::{Map, Value};

use crate::vendors::{CallEvents, ToolSource, UpstreamCredentials, VendorConnection};
use crate::{Service, ServiceError, ServiceResult, UpstreamError, UpstreamErrorKind};

/// A connection's upstream, ready for requests.
#[derive(Debug)]
pub(crate) struct Reached {
    tools: Arc<dyn ToolSource>,
    connection: VendorConnection,
    credentials: UpstreamCredentials,
}

impl Reached {
    pub(crate) async fn list_tools(&self) -> Result<Vec<UpstreamTool>, UpstreamError> {
        self.tools
            .list_tools(&self.connection, &self.credentials)
            .await
    }

    pub(crate) async fn call_tool(
        &self,
        name: &str,
        arguments: Map<String, Value>,
        events: &CallEvents,
    ) -> Result<Value, UpstreamError> {
        self.tools
            .call_tool(&self.connection, &self.credentials, name, arguments, events)
            .await
    }
}

impl Service {
    /// The connection's upstream, its credentials read from the store. Callers check first
    /// that its vendor has a tool source ([`crate::VendorRegistry::has_tools`]); a store
    /// that cannot open its secret, or a credential provider that cannot hand any out, is
    /// an [`UpstreamError`].
    pub(crate) async fn reach(&self, connection: &Connection) -> ServiceResult<Reached> {
        let sealed_secret = self.store.connection_secret(connection.id).await?;
        self.reach_sealed(connection, sealed_secret.as_deref())
            .await
    }

    /// [`Service::reach`] with the connection's sealed credentials already read.
    pub(crate) async fn reach_sealed(
        &self,
        connection: &Connection,
        sealed_secret: Option<&[u8]>,
    ) -> ServiceResult<Reached> {
        let adapters = self
            .vendors
            .adapters(connection.vendor)
            .ok_or_else(|| misconfigured("belongs to a vendor this service cannot reach"))?;
        let secret = match sealed_secret {
            Some(sealed) => Some(self.secrets.open(connection.id, sealed).map_err(|_| {
                misconfigured(
                    "has credentials that the configured FEATHER_SECRET_KEY does not open; the key was changed, or its key file lost",
                )
            })?),
            None => None,
        };
        let vendor_connection = VendorConnection {
            id: connection.id,
            organization_id: connection.organization_id,
            metadata: connection.metadata.clone(),
            secret,
        };
        let credentials = adapters.credentials.credentials(&vendor_connection).await?;
        Ok(Reached {
            tools: Arc::clone(&adapters.tools),
            connection: vendor_connection,
            credentials,
        })
    }
}

fn misconfigured(what: &str) -> ServiceError {
    UpstreamError::new(
        UpstreamErrorKind::Misconfigured,
        format!("The connection's stored configuration {what}."),
    )
    .into()
}
