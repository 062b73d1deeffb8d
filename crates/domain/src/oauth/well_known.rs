//! The well-known URLs of RFC 9728 (protected-resource metadata) and RFC 8414 / OpenID
//! Connect Discovery (authorization-server metadata), in the order the MCP specification
//! has a client try them.

use url::Url;

use super::AuthorizationServerMetadata;

const PROTECTED_RESOURCE: &str = "/.well-known/oauth-protected-resource";
const AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";

/// The resource a server URL names (RFC 8707 §2, the MCP specification's "canonical
/// server URI"): the URL without its fragment. Scheme and host are already lowercase
/// once parsed; the path is kept as given, since a server may be one of several under a
/// host.
pub fn resource_of(server_url: &Url) -> String {
    let mut resource = server_url.clone();
    resource.set_fragment(None);
    resource.into()
}

/// Where to look for the protected-resource metadata of the server at `server_url` when
/// its 401 named none (RFC 9728 §3.1, and the MCP specification's fallback): the
/// well-known URI with the server's path inserted, then the one at the root. A server at
/// the root has only the latter.
pub fn protected_resource_metadata_urls(server_url: &Url) -> Vec<Url> {
    let path = trimmed_path(server_url);
    let mut urls = Vec::with_capacity(2);
    if !path.is_empty() {
        urls.push(at(server_url, &format!("{PROTECTED_RESOURCE}{path}")));
    }
    urls.push(at(server_url, PROTECTED_RESOURCE));
    urls
}

/// Where to look for the metadata of the authorization server `issuer`, in the
/// specification's order. For an issuer with a path (`https://auth.example/tenant`):
/// OAuth metadata with the path inserted, OpenID configuration with the path inserted,
/// then OpenID configuration with the path appended (OpenID Connect Discovery §4). For one
/// without: OAuth metadata, then OpenID configuration.
pub fn authorization_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = trimmed_path(issuer);
    let mut urls = vec![
        at(issuer, &format!("{AUTHORIZATION_SERVER}{path}")),
        at(issuer, &format!("{OPENID_CONFIGURATION}{path}")),
    ];
    if !path.is_empty() {
        urls.push(at(issuer, &format!("{path}{OPENID_CONFIGURATION}")));
    }
    urls
}

/// Where a server of the 2025-03-26 specification (no protected-resource metadata) has its
/// authorization server's metadata: at its own origin, whatever its path.
pub fn legacy_authorization_server_metadata_url(server_url: &Url) -> Url {
    at(server_url, AUTHORIZATION_SERVER)
}

/// What a 2025-03-26 server with no metadata at all is taken to have: `/authorize`,
/// `/token` and `/register` at its origin, and nothing said about PKCE (so it is sent
/// unchecked). Its issuer is the origin, written without a trailing `/`.
pub fn default_endpoints(server_url: &Url) -> AuthorizationServerMetadata {
    let endpoint = |path: &str| Some(at(server_url, path).into());
    AuthorizationServerMetadata {
        issuer: server_url.origin().ascii_serialization(),
        authorization_endpoint: endpoint("/authorize"),
        token_endpoint: endpoint("/token"),
        registration_endpoint: endpoint("/register"),
        scopes_supported: None,
        token_endpoint_auth_methods_supported: None,
        code_challenge_methods_supported: None,
        client_id_metadata_document_supported: false,
        authorization_response_iss_parameter_supported: false,
    }
}

/// The URL's path without its terminating `/`, which "MUST be removed before inserting"
/// (RFC 8414 §3.1); empty at the root.
fn trimmed_path(url: &Url) -> &str {
    url.path().trim_end_matches('/')
}

/// `path` at the origin of `url`.
fn at(url: &Url, path: &str) -> Url {
    let mut at = origin(url);
    at.set_path(path);
    at
}

/// Scheme, host and port of `url`, with no path, query or fragment.
fn origin(url: &Url) -> Url {
    let mut origin = url.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    origin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        Url::parse(raw).expect("test URL parses")
    }

    fn strings(urls: Vec<Url>) -> Vec<String> {
        urls.into_iter().map(String::from).collect()
    }

    #[test]
    fn protected_resource_metadata_is_looked_for_under_the_path_then_at_the_root() {
        assert_eq!(
            strings(protected_resource_metadata_urls(&url(
                "https://Example.com:8443/public/mcp/?session=1#top"
            ))),
            [
                "https://example.com:8443/.well-known/oauth-protected-resource/public/mcp",
                "https://example.com:8443/.well-known/oauth-protected-resource",
            ]
        );
    }

    #[test]
    fn a_server_at_the_root_has_one_protected_resource_location() {
        assert_eq!(
            strings(protected_resource_metadata_urls(&url(
                "http://127.0.0.1:9000"
            ))),
            ["http://127.0.0.1:9000/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn an_issuer_with_a_path_is_tried_three_ways_in_the_specifications_order() {
        assert_eq!(
            strings(authorization_server_metadata_urls(&url(
                "https://auth.example.com/tenant1/"
            ))),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn an_issuer_without_a_path_is_tried_as_oauth_then_openid() {
        assert_eq!(
            strings(authorization_server_metadata_urls(&url(
                "https://auth.example.com"
            ))),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn a_2025_03_26_server_has_its_metadata_at_its_origin() {
        assert_eq!(
            legacy_authorization_server_metadata_url(&url("https://mcp.example.com/v1/mcp?x=1"))
                .as_str(),
            "https://mcp.example.com/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn a_2025_03_26_server_without_metadata_has_the_default_endpoints_at_its_origin() {
        let defaults = default_endpoints(&url("http://127.0.0.1:9000/v1/mcp?x=1"));
        assert_eq!(defaults.issuer, "http://127.0.0.1:9000");
        assert_eq!(
            defaults.authorization_endpoint.as_deref(),
            Some("http://127.0.0.1:9000/authorize")
        );
        assert_eq!(
            defaults.token_endpoint.as_deref(),
            Some("http://127.0.0.1:9000/token")
        );
        assert_eq!(
            defaults.registration_endpoint.as_deref(),
            Some("http://127.0.0.1:9000/register")
        );
    }

    #[test]
    fn the_resource_is_the_server_url_without_its_fragment() {
        assert_eq!(
            resource_of(&url("HTTPS://MCP.Example.com/mcp?tenant=a#frag")),
            "https://mcp.example.com/mcp?tenant=a"
        );
    }
}
