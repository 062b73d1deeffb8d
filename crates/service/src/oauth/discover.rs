//! Discovery as a use case: how a custom MCP server wants to be authorized, asked before
//! anything is stored (`POST …/custom-mcp/discover`).

use feather_domain::custom_mcp::{check_server_url, parse_transport};
use feather_domain::oauth::ServerAuthorization;
use url::Url;

use crate::{Service, ServiceError, ServiceResult};

impl Service {
    /// Probes the server at `server_url` without credentials and follows its metadata.
    /// `transport` is checked but changes nothing: discovery speaks plain HTTP to
    /// well-known locations. Nothing is stored.
    pub async fn discover_custom_mcp(
        &self,
        server_url: &str,
        transport: Option<&str>,
    ) -> ServiceResult<ServerAuthorization> {
        let server_url = server_url.trim();
        let problems: Vec<_> = [
            check_server_url(server_url).err(),
            parse_transport(transport).err(),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        let url = self.checked_server_url(server_url).await?;
        Ok(self.oauth.discover(&url).await?)
    }

    /// `server_url` parsed, once the upstream policy allows it (a 422 at `server_url`
    /// otherwise).
    pub(crate) async fn checked_server_url(&self, server_url: &str) -> ServiceResult<Url> {
        self.url_guard
            .check_url(server_url)
            .await
            .map_err(|refused| {
                ServiceError::invalid(&["server_url"], refused.message, "url_refused")
            })?;
        Url::parse(server_url).map_err(|error| {
            ServiceError::invalid(
                &["server_url"],
                format!("The server URL is not a valid URL ({error})."),
                "url_refused",
            )
        })
    }
}
