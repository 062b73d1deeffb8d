//! How the service presents itself as an OAuth client: where authorization servers send
//! the user back, and the Client ID Metadata Document it publishes.

use serde_json::{Value, json};

/// The path of the callback, under the public URL.
pub const CALLBACK_PATH: &str = "/v1/integrations/oauth/callback";
/// The path of the Client ID Metadata Document, under the public URL.
pub const CLIENT_METADATA_PATH: &str = "/oauth/client-metadata.json";
/// The name the service registers under.
pub const CLIENT_NAME: &str = "feather-integrations";

/// The service's OAuth client settings. The redirect URI is made from the public URL,
/// never from a request, so a request cannot send a code anywhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClientConfig {
    /// The public base URL, without a trailing `/`.
    public_url: String,
    client_metadata_url: String,
    /// Where the callback sends the browser when it is done, instead of showing its page.
    return_url: Option<String>,
}

impl OAuthClientConfig {
    /// Settings for a service reachable at `public_url`, publishing its client metadata
    /// at `client_metadata_url` (by default under the public URL).
    pub fn new(
        public_url: &str,
        client_metadata_url: Option<String>,
        return_url: Option<String>,
    ) -> OAuthClientConfig {
        let public_url = public_url.trim_end_matches('/').to_owned();
        OAuthClientConfig {
            client_metadata_url: client_metadata_url
                .unwrap_or_else(|| format!("{public_url}{CLIENT_METADATA_PATH}")),
            public_url,
            return_url,
        }
    }

    /// Where authorization servers send the user back.
    pub fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.public_url)
    }

    /// The document's URL as a client id, when an authorization server may take it: an
    /// https URL with a path, as the Client ID Metadata Document draft requires (an
    /// http deployment registers instead).
    pub fn metadata_document_client_id(&self) -> Option<&str> {
        let url = url::Url::parse(&self.client_metadata_url).ok()?;
        (url.scheme() == "https" && url.path() != "/").then_some(self.client_metadata_url.as_str())
    }

    pub fn return_url(&self) -> Option<&str> {
        self.return_url.as_deref()
    }

    /// The Client ID Metadata Document: the service as a public web client whose only
    /// redirect URI is its callback.
    pub fn client_metadata_document(&self) -> Value {
        json!({
            "client_id": self.client_metadata_url,
            "client_name": CLIENT_NAME,
            "client_uri": self.public_url,
            "redirect_uris": [self.redirect_uri()],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "application_type": "web",
        })
    }
}

impl Default for OAuthClientConfig {
    /// A service on the default bind address.
    fn default() -> Self {
        OAuthClientConfig::new("http://127.0.0.1:8000", None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redirect_uri_and_the_document_are_under_the_public_url() {
        let config = OAuthClientConfig::new("https://feather.example.com/", None, None);
        assert_eq!(
            config.redirect_uri(),
            "https://feather.example.com/v1/integrations/oauth/callback"
        );
        assert_eq!(
            config.metadata_document_client_id(),
            Some("https://feather.example.com/oauth/client-metadata.json")
        );
        let document = config.client_metadata_document();
        assert_eq!(
            document["client_id"],
            "https://feather.example.com/oauth/client-metadata.json"
        );
        assert_eq!(
            document["redirect_uris"],
            json!(["https://feather.example.com/v1/integrations/oauth/callback"])
        );
    }

    #[test]
    fn an_http_deployment_has_no_usable_metadata_document() {
        let config = OAuthClientConfig::new("http://127.0.0.1:8080", None, None);
        assert_eq!(config.metadata_document_client_id(), None);
        let elsewhere = OAuthClientConfig::new(
            "http://127.0.0.1:8080",
            Some("https://clients.example.com/feather.json".to_owned()),
            None,
        );
        assert_eq!(
            elsewhere.metadata_document_client_id(),
            Some("https://clients.example.com/feather.json")
        );
    }
}
