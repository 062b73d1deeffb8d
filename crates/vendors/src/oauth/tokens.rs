//! The authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636), through the `oauth2` crate, every request sent by the guarded client.

use std::future::Future;
use std::pin::Pin;

use feather_domain::oauth::{OAuthSettings, TokenEndpointAuth};
use feather_service::oauth::{AuthorizationStart, IssuedTokens, OAuthFailure};
use feather_service::{UpstreamError, UpstreamErrorKind};
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use url::Url;

use super::fetch::GuardedHttp;
use super::rejected;

/// What the token endpoint is called in messages.
const TOKEN_ENDPOINT: &str = "the token endpoint";
/// Bytes of randomness in a `state` (base64url-encoded): 256 bits, beyond guessing.
const STATE_BYTES: u32 = 32;

type TokenClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// The authorize URL for `settings`, with a fresh state and PKCE S256 pair.
pub(crate) fn start_authorization(
    settings: &OAuthSettings,
    redirect_uri: &str,
) -> Result<AuthorizationStart, String> {
    let client = client(settings, redirect_uri)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let request = client
        .authorize_url(|| CsrfToken::new_random_len(STATE_BYTES))
        .set_pkce_challenge(challenge)
        .add_scopes(settings.scopes.iter().cloned().map(Scope::new))
        .add_extra_param("resource", settings.resource.clone());
    let (url, state) = request.url();
    Ok(AuthorizationStart {
        url: url.into(),
        state: state.into_secret(),
        code_verifier: verifier.into_secret(),
    })
}

pub(crate) async fn exchange_code(
    http: &GuardedHttp,
    settings: &OAuthSettings,
    redirect_uri: &str,
    code: &str,
    code_verifier: &str,
) -> Result<IssuedTokens, OAuthFailure> {
    let client = client(settings, redirect_uri).map_err(misconfigured)?;
    let answer = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(code_verifier.to_owned()))
        .add_extra_param("resource", settings.resource.clone())
        .request_async(&Guarded(http.clone()))
        .await;
    issued(answer)
}

fn client(settings: &OAuthSettings, redirect_uri: &str) -> Result<TokenClient, String> {
    let auth_url = AuthUrl::new(settings.authorization_endpoint.clone())
        .map_err(|error| format!("The authorization endpoint is not a URL ({error})."))?;
    let token_url = TokenUrl::new(settings.token_endpoint.clone())
        .map_err(|error| format!("The token endpoint is not a URL ({error})."))?;
    let oauth_client = &settings.client;
    let client = BasicClient::new(ClientId::new(oauth_client.client_id.clone()))
        .set_auth_uri(auth_url)
        .set_token_uri(token_url)
        .set_redirect_uri(redirect_url(redirect_uri)?);
    Ok(match oauth_client.auth_method {
        TokenEndpointAuth::ClientSecretBasic => client
            .set_auth_type(AuthType::BasicAuth)
            .set_client_secret(secret(settings)),
        TokenEndpointAuth::ClientSecretPost => client
            .set_auth_type(AuthType::RequestBody)
            .set_client_secret(secret(settings)),
        // A public client sends its id in the body and no secret.
        TokenEndpointAuth::None => client.set_auth_type(AuthType::RequestBody),
    })
}

fn secret(settings: &OAuthSettings) -> ClientSecret {
    ClientSecret::new(settings.client.client_secret.clone().unwrap_or_default())
}

fn redirect_url(redirect_uri: &str) -> Result<RedirectUrl, String> {
    RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|error| format!("The redirect URI is not a URL ({error})."))
}

/// The guarded client as the `oauth2` crate's HTTP client. A named type, not a closure:
/// a closure over a borrowed client makes the future `Send` only for one lifetime, which
/// `async_trait` methods cannot use.
struct Guarded(GuardedHttp);

impl<'c> AsyncHttpClient<'c> for Guarded {
    type Error = UpstreamError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, UpstreamError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

/// Sends a request the `oauth2` crate built, through the guard.
async fn send(http: &GuardedHttp, request: HttpRequest) -> Result<HttpResponse, UpstreamError> {
    let (parts, body) = request.into_parts();
    let url = Url::parse(&parts.uri.to_string()).map_err(|_| {
        UpstreamError::new(
            UpstreamErrorKind::Misconfigured,
            "The token endpoint is not a URL.",
        )
    })?;
    let request = http
        .request(parts.method, &url, TOKEN_ENDPOINT)
        .await?
        .headers(parts.headers)
        .body(body);
    let answer = http.send(request, TOKEN_ENDPOINT).await?;
    let mut response = HttpResponse::new(answer.body);
    *response.status_mut() = answer.status;
    *response.headers_mut() = answer.headers;
    Ok(response)
}

fn issued(
    answer: Result<BasicTokenResponse, RequestTokenError<UpstreamError, BasicErrorResponse>>,
) -> Result<IssuedTokens, OAuthFailure> {
    match answer {
        Ok(tokens) => Ok(IssuedTokens {
            access_token: tokens.access_token().secret().clone(),
            refresh_token: tokens.refresh_token().map(|token| token.secret().clone()),
            expires_in: tokens.expires_in(),
            scopes: tokens
                .scopes()
                .map(|scopes| scopes.iter().map(|scope| scope.to_string()).collect()),
        }),
        Err(RequestTokenError::ServerResponse(refusal)) => Err(rejected(
            refusal.error().as_ref(),
            refusal.error_description().map(String::as_str),
        )),
        Err(RequestTokenError::Request(unreachable)) => Err(OAuthFailure::Upstream(unreachable)),
        Err(RequestTokenError::Parse(..)) => {
            Err(rejected("its answer is not a token response", None))
        }
        Err(RequestTokenError::Other(reason)) => Err(rejected(&reason, None)),
    }
}

fn misconfigured(reason: String) -> OAuthFailure {
    OAuthFailure::Upstream(UpstreamError::new(UpstreamErrorKind::Misconfigured, reason))
}
