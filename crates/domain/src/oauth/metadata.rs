//! The metadata documents of RFC 9728 (a protected resource) and RFC 8414 (an
//! authorization server), and what each must say before the service relies on it.

use serde::Deserialize;
use url::Url;

/// A protected resource's metadata (RFC 9728 §2); only the fields the service uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProtectedResourceMetadata {
    pub resource: String,
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
}

/// An authorization server's metadata (RFC 8414 §2, with the Client ID Metadata Document
/// flag of the MCP specification and RFC 9207's issuer flag); only the fields the service
/// uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AuthorizationServerMetadata {
    pub issuer: String,
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    #[serde(default)]
    pub token_endpoint: Option<String>,
    #[serde(default)]
    pub registration_endpoint: Option<String>,
    #[serde(default)]
    pub scopes_supported: Option<Vec<String>>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// Why a metadata document cannot be used. Each message is one sentence for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataProblem {
    #[error(
        "The server's protected-resource metadata is for {resource}, not for the server URL \
         given."
    )]
    ResourceMismatch { resource: String },
    #[error("The server's protected-resource metadata names no authorization server.")]
    NoAuthorizationServer,
    #[error(
        "The authorization server's metadata names the issuer {found}, not {expected} where \
         it was found."
    )]
    IssuerMismatch { expected: String, found: String },
    #[error("The authorization server's metadata has no {0}.")]
    MissingEndpoint(&'static str),
    #[error("The authorization server's {0} is not an http or https URL.")]
    InvalidEndpoint(&'static str),
    #[error(
        "The authorization server does not advertise PKCE with S256 \
         (code_challenge_methods_supported), which the MCP specification requires."
    )]
    NoPkce,
}

impl ProtectedResourceMetadata {
    /// Checks the document describes the server at `server_url` (RFC 9728 §3.3): its
    /// `resource` has the server's origin and its path is the server's path or one above
    /// it, so one document may cover several servers under a path. Returns the resource to
    /// name in the authorization and token requests (RFC 8707): the document's own string,
    /// byte for byte (a parsed URL would gain a `/` after a bare origin).
    pub fn checked_resource(&self, server_url: &Url) -> Result<&str, MetadataProblem> {
        let mismatch = || MetadataProblem::ResourceMismatch {
            resource: self.resource.clone(),
        };
        let resource = Url::parse(&self.resource).map_err(|_| mismatch())?;
        let covers = resource.origin() == server_url.origin()
            && path_covers(resource.path(), server_url.path());
        if !covers || resource.fragment().is_some() {
            return Err(mismatch());
        }
        if self.authorization_servers.is_empty() {
            return Err(MetadataProblem::NoAuthorizationServer);
        }
        Ok(&self.resource)
    }
}

impl AuthorizationServerMetadata {
    /// Checks the document is the one of `issuer` and can run the authorization code flow
    /// with PKCE: its `issuer` is identical to the one it was looked up for (RFC 8414
    /// §3.3), it has both endpoints, and it advertises S256 (a server that advertises no
    /// method is refused, as the MCP specification requires).
    pub fn check(&self, issuer: &str) -> Result<(), MetadataProblem> {
        if self.issuer != issuer {
            return Err(MetadataProblem::IssuerMismatch {
                expected: issuer.to_owned(),
                found: self.issuer.clone(),
            });
        }
        for (name, endpoint) in [
            ("authorization_endpoint", &self.authorization_endpoint),
            ("token_endpoint", &self.token_endpoint),
        ] {
            match endpoint {
                None => return Err(MetadataProblem::MissingEndpoint(name)),
                // The user's browser is sent to the first: never to a `javascript:` URL.
                Some(url) if !is_web_url(url) => {
                    return Err(MetadataProblem::InvalidEndpoint(name));
                }
                Some(_) => {}
            }
        }
        if !self.supports_pkce_s256() {
            return Err(MetadataProblem::NoPkce);
        }
        Ok(())
    }

    pub fn supports_pkce_s256(&self) -> bool {
        self.code_challenge_methods_supported
            .as_ref()
            .is_some_and(|methods| methods.iter().any(|method| method == "S256"))
    }

    /// Whether clients may register themselves (RFC 7591).
    pub fn supports_registration(&self) -> bool {
        self.registration_endpoint.is_some()
    }
}

/// Whether `url` is an absolute http or https URL.
pub fn is_web_url(url: &str) -> bool {
    Url::parse(url).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
}

/// Whether the resource path `base` is `path` or an ancestor of it, segment-wise
/// (`/mcp` covers `/mcp` and `/mcp/v2`, not `/mcpx`); a trailing `/` does not count.
fn path_covers(base: &str, path: &str) -> bool {
    let base = base.trim_end_matches('/');
    let path = path.trim_end_matches('/');
    path == base
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resource(value: &str) -> ProtectedResourceMetadata {
        ProtectedResourceMetadata {
            resource: value.to_owned(),
            authorization_servers: vec!["https://auth.example.com".to_owned()],
            scopes_supported: None,
        }
    }

    fn server(raw: &str) -> Url {
        Url::parse(raw).expect("test URL parses")
    }

    fn authorization_server() -> AuthorizationServerMetadata {
        serde_json::from_value(json!({
            "issuer": "https://auth.example.com",
            "authorization_endpoint": "https://auth.example.com/authorize",
            "token_endpoint": "https://auth.example.com/token",
            "code_challenge_methods_supported": ["plain", "S256"],
            "unknown_field": {"ignored": true},
        }))
        .expect("metadata parses")
    }

    #[test]
    fn a_resource_covers_its_own_url_and_those_below_it() {
        let mcp = server("https://mcp.example.com/mcp");
        for covering in [
            "https://mcp.example.com/mcp",
            "https://mcp.example.com/mcp/",
            "https://MCP.example.com/",
            "https://mcp.example.com:443",
        ] {
            let metadata = resource(covering);
            assert_eq!(metadata.checked_resource(&mcp), Ok(covering), "{covering}");
        }
    }

    #[test]
    fn a_resource_of_another_origin_or_path_is_refused() {
        let mcp = server("https://mcp.example.com/mcp");
        for other in [
            "https://other.example.com/mcp",
            "http://mcp.example.com/mcp",
            "https://mcp.example.com:8443/mcp",
            "https://mcp.example.com/mcpx",
            "https://mcp.example.com/mcp/v2",
            "https://mcp.example.com/mcp#frag",
            "not a url",
        ] {
            assert_eq!(
                resource(other).checked_resource(&mcp),
                Err(MetadataProblem::ResourceMismatch {
                    resource: other.to_owned()
                }),
                "{other}"
            );
        }
    }

    #[test]
    fn a_resource_must_name_an_authorization_server() {
        let mut metadata = resource("https://mcp.example.com/mcp");
        metadata.authorization_servers.clear();
        assert_eq!(
            metadata.checked_resource(&server("https://mcp.example.com/mcp")),
            Err(MetadataProblem::NoAuthorizationServer)
        );
    }

    #[test]
    fn authorization_server_metadata_is_usable_when_it_is_its_issuers_and_has_pkce() {
        assert_eq!(
            authorization_server().check("https://auth.example.com"),
            Ok(())
        );
    }

    #[test]
    fn metadata_of_another_issuer_is_refused() {
        assert_eq!(
            authorization_server().check("https://auth.example.com/tenant"),
            Err(MetadataProblem::IssuerMismatch {
                expected: "https://auth.example.com/tenant".to_owned(),
                found: "https://auth.example.com".to_owned(),
            })
        );
    }

    #[test]
    fn metadata_without_s256_is_refused_whether_it_lists_others_or_none() {
        let mut plain_only = authorization_server();
        plain_only.code_challenge_methods_supported = Some(vec!["plain".to_owned()]);
        assert_eq!(
            plain_only.check("https://auth.example.com"),
            Err(MetadataProblem::NoPkce)
        );
        let mut silent = authorization_server();
        silent.code_challenge_methods_supported = None;
        assert_eq!(
            silent.check("https://auth.example.com"),
            Err(MetadataProblem::NoPkce)
        );
    }

    #[test]
    fn an_endpoint_that_is_not_a_web_url_is_refused() {
        let mut metadata = authorization_server();
        metadata.authorization_endpoint = Some("javascript:alert(1)".to_owned());
        assert_eq!(
            metadata.check("https://auth.example.com"),
            Err(MetadataProblem::InvalidEndpoint("authorization_endpoint"))
        );
    }

    #[test]
    fn metadata_without_an_endpoint_is_refused() {
        let mut metadata = authorization_server();
        metadata.token_endpoint = None;
        assert_eq!(
            metadata.check("https://auth.example.com"),
            Err(MetadataProblem::MissingEndpoint("token_endpoint"))
        );
    }
}
