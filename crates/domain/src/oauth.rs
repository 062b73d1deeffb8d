//! OAuth for MCP servers (the MCP authorization specification, 2025-11-25 and the
//! 2026-07-28 additions): where a server's metadata is looked for and in which order,
//! what that metadata must say before the service uses it, and which scopes it asks for.
//! No I/O: the vendors crate fetches what these functions name.

mod challenge;
mod credentials;
mod metadata;
mod scopes;
mod server;
mod well_known;

pub use challenge::BearerChallenge;
pub use credentials::{
    ClientRegistration, OAuthClient, OAuthCredentials, OAuthSettings, OAuthTokens,
    TokenEndpointAuth,
};
pub use metadata::{
    AuthorizationServerMetadata, MetadataProblem, ProtectedResourceMetadata, is_web_url,
};
pub use scopes::{OFFLINE_ACCESS, ScopeSources, requested_scopes, union_scopes};
pub use server::{MetadataSource, OAuthServer, ServerAuthorization};
pub use well_known::{
    authorization_server_metadata_urls, default_endpoints,
    legacy_authorization_server_metadata_url, protected_resource_metadata_urls, resource_of,
};
