//! The one place where vendors are registered: every vendor the service can reach, with
//! its adapters, and the URL guard, all within the operator's upstream policy.

use std::sync::Arc;

use async_trait::async_trait;
use feather_domain::integration::Vendor;
use feather_service::{UpstreamError, UpstreamErrorKind, Upstreams, UrlGuard, VendorRegistry};

use crate::custom_mcp::{McpToolSource, StaticMcpCredentials};
use crate::guard::UpstreamPolicy;
use crate::mcp::{McpError, McpLimits};
use crate::oauth::McpOAuthClient;

/// The service's way out: `policy` as its URL guard, and the adapters of every vendor,
/// reaching only what `policy` allows.
pub fn upstreams(policy: &UpstreamPolicy, mcp_limits: McpLimits) -> Result<Upstreams, McpError> {
    let vendors = VendorRegistry::new().register(
        Vendor::Mcp,
        Arc::new(McpToolSource::new(policy, mcp_limits)?),
        Arc::new(StaticMcpCredentials),
    );
    let oauth = McpOAuthClient::new(policy)
        .map_err(|_| McpError::Unreachable("the HTTP client could not be set up".into()))?;
    Ok(Upstreams {
        url_guard: Arc::new(policy.clone()),
        oauth: Arc::new(oauth),
        vendors,
    })
}

#[async_trait]
impl UrlGuard for UpstreamPolicy {
    async fn check_url(&self, url: &str) -> Result<(), UpstreamError> {
        UpstreamPolicy::check_url(self, url)
            .await
            .map(|_| ())
            .map_err(|refused| UpstreamError::new(UpstreamErrorKind::Refused, refused.to_string()))
    }
}
