//! Planning an authorization: from what discovery found and what the operator gave, the
//! endpoints, resource, scopes and client to authorize with (registering one if need be).

use feather_domain::custom_mcp::{OAuthEndpoints, OAuthOptions};
use feather_domain::oauth::{
    ClientRegistration, MetadataSource, OAuthClient, OAuthSettings, ServerAuthorization,
    TokenEndpointAuth, is_web_url, resource_of,
};
use url::Url;

use super::config::CLIENT_NAME;
use super::{ClientMetadata, OAuthFailure};
use crate::{Service, ServiceError, ServiceResult};

/// What an authorization will be made with.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizationPlan {
    pub(crate) settings: OAuthSettings,
    /// The issuer a redirect's `iss` is compared with, when its metadata was read.
    pub(crate) expected_issuer: Option<String>,
}

/// The authorization server as the plan needs it, before a client is chosen.
struct Target {
    /// What the client is kept under: the issuer, or the token endpoint when no
    /// metadata named one.
    issuer: String,
    expected_issuer: Option<String>,
    authorization_endpoint: String,
    token_endpoint: String,
    registration_endpoint: Option<String>,
    auth_methods: Option<Vec<String>>,
    metadata_documents: bool,
    iss_parameter_supported: bool,
    resource: String,
    scopes: Vec<String>,
}

impl Service {
    /// Discovers how the server at `server_url` is authorized and plans an authorization
    /// with the operator's `options`; `previous` is the client an earlier authorization
    /// used, kept when the issuer is the same. May register a client.
    pub(crate) async fn plan_authorization(
        &self,
        server_url: &Url,
        options: &OAuthOptions,
        previous: Option<&OAuthClient>,
    ) -> ServiceResult<AuthorizationPlan> {
        let found = self.oauth.discover(server_url).await?;
        let target = self.target(found, server_url, options).await?;
        let client = match (&options.client, previous) {
            (Some(operator), _) => OAuthClient {
                issuer: target.issuer.clone(),
                client_id: operator.client_id.clone(),
                client_secret: operator.client_secret.clone(),
                auth_method: TokenEndpointAuth::choose(
                    target.auth_methods.as_deref(),
                    operator.client_secret.is_some(),
                ),
                registration: ClientRegistration::Operator,
            },
            (None, Some(previous)) if previous.issuer == target.issuer => previous.clone(),
            (None, _) => self.new_client(&target).await?,
        };
        Ok(AuthorizationPlan {
            settings: OAuthSettings {
                client,
                authorization_endpoint: target.authorization_endpoint,
                token_endpoint: target.token_endpoint,
                resource: target.resource,
                scopes: target.scopes,
                iss_parameter_supported: target.iss_parameter_supported,
            },
            expected_issuer: target.expected_issuer,
        })
    }

    async fn target(
        &self,
        found: ServerAuthorization,
        server_url: &Url,
        options: &OAuthOptions,
    ) -> ServiceResult<Target> {
        if let Some(endpoints) = &options.endpoints {
            return self
                .operator_target(endpoints, found, server_url, options)
                .await;
        }
        let server = match found {
            ServerAuthorization::OAuth(server) => server,
            ServerAuthorization::Open => {
                return Err(ServiceError::invalid(
                    &["auth_type"],
                    "The server answered without asking for credentials; connect it with \
                     auth_type none, or give oauth_authorize_url and oauth_token_url to \
                     authorize anyway.",
                    "oauth_not_required",
                ));
            }
            ServerAuthorization::Unusable(why) => {
                return Err(ServiceError::invalid(
                    &["server_url"],
                    format!(
                        "{why} Give oauth_authorize_url and oauth_token_url to authorize \
                         without the server's metadata."
                    ),
                    "oauth_unavailable",
                ));
            }
        };
        let scopes = server.scopes(&options.scopes);
        let metadata = server.authorization_server;
        let authorization_endpoint = metadata.authorization_endpoint.unwrap_or_default();
        let token_endpoint = metadata.token_endpoint.unwrap_or_default();
        Ok(Target {
            expected_issuer: (server.source != MetadataSource::DefaultEndpoints)
                .then(|| metadata.issuer.clone()),
            issuer: metadata.issuer,
            authorization_endpoint,
            token_endpoint,
            registration_endpoint: metadata.registration_endpoint,
            auth_methods: metadata.token_endpoint_auth_methods_supported,
            metadata_documents: metadata.client_id_metadata_document_supported,
            iss_parameter_supported: metadata.authorization_response_iss_parameter_supported,
            resource: server.resource,
            scopes,
        })
    }

    /// The operator's endpoints, which replace whatever the server's metadata says about
    /// its authorization server (none of it describes theirs): no registration, no `iss`
    /// to expect. The resource and scopes still come from the server's metadata when it
    /// has some. The token endpoint is requested by the service, so the guard checks it;
    /// the authorization endpoint only by the user's browser, so it need only be a web URL.
    async fn operator_target(
        &self,
        endpoints: &OAuthEndpoints,
        found: ServerAuthorization,
        server_url: &Url,
        options: &OAuthOptions,
    ) -> ServiceResult<Target> {
        if !is_web_url(&endpoints.authorize_url) {
            return Err(ServiceError::invalid(
                &["oauth_authorize_url"],
                "The authorize URL must be an absolute http or https URL.",
                "url_refused",
            ));
        }
        self.url_guard
            .check_url(&endpoints.token_url)
            .await
            .map_err(|refused| {
                ServiceError::invalid(&["oauth_token_url"], refused.message, "url_refused")
            })?;
        let (resource, scopes) = match found {
            ServerAuthorization::OAuth(server) => {
                (server.resource.clone(), server.scopes(&options.scopes))
            }
            _ => (resource_of(server_url), options.scopes.clone()),
        };
        Ok(Target {
            issuer: endpoints.token_url.clone(),
            expected_issuer: None,
            authorization_endpoint: endpoints.authorize_url.clone(),
            token_endpoint: endpoints.token_url.clone(),
            registration_endpoint: None,
            auth_methods: None,
            metadata_documents: false,
            iss_parameter_supported: false,
            resource,
            scopes,
        })
    }

    /// A client at `target` without the operator's: the service's metadata document when
    /// the server takes one, else a registration, in the MCP specification's order.
    async fn new_client(&self, target: &Target) -> ServiceResult<OAuthClient> {
        if let Some(client_id) = self
            .oauth_config
            .metadata_document_client_id()
            .filter(|_| target.metadata_documents)
        {
            return Ok(OAuthClient {
                issuer: target.issuer.clone(),
                client_id: client_id.to_owned(),
                client_secret: None,
                auth_method: TokenEndpointAuth::None,
                registration: ClientRegistration::MetadataDocument,
            });
        }
        let redirect_uri = self.oauth_config.redirect_uri();
        let Some(endpoint) = &target.registration_endpoint else {
            return Err(ServiceError::invalid(
                &["oauth_client_id"],
                format!(
                    "The authorization server {} does not let clients register themselves; \
                     register one there with the redirect URI {redirect_uri} and give its \
                     oauth_client_id (and oauth_client_secret).",
                    target.issuer
                ),
                "missing",
            ));
        };
        let metadata = ClientMetadata {
            client_name: CLIENT_NAME.to_owned(),
            redirect_uri,
            token_endpoint_auth_method: TokenEndpointAuth::choose(
                target.auth_methods.as_deref(),
                true,
            ),
            scopes: target.scopes.clone(),
        };
        let registered = self
            .oauth
            .register(endpoint, &metadata)
            .await
            .map_err(|failure| match failure {
                OAuthFailure::Upstream(unreachable) => ServiceError::Upstream(unreachable),
                refused @ OAuthFailure::Rejected { .. } => ServiceError::invalid(
                    &["oauth_client_id"],
                    format!(
                        "Registering the service as a client failed: {refused} Give the \
                         oauth_client_id of a client registered there instead."
                    ),
                    "registration_refused",
                ),
            })?;
        let has_secret = registered.client_secret.is_some();
        let auth_method = registered
            .token_endpoint_auth_method
            .as_deref()
            .and_then(TokenEndpointAuth::parse)
            .filter(|method| has_secret || *method == TokenEndpointAuth::None)
            .unwrap_or_else(|| {
                TokenEndpointAuth::choose(target.auth_methods.as_deref(), has_secret)
            });
        Ok(OAuthClient {
            issuer: target.issuer.clone(),
            client_id: registered.client_id,
            client_secret: registered.client_secret,
            auth_method,
            registration: ClientRegistration::Dynamic,
        })
    }
}
