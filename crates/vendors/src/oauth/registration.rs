//! Dynamic client registration (RFC 7591).

use feather_service::oauth::{ClientMetadata, OAuthFailure, RegisteredClient};
use http::header::ACCEPT;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use url::Url;

use super::fetch::GuardedHttp;
use super::rejected;

const WHAT: &str = "the registration endpoint";

/// The registration request (RFC 7591 §2). The service is a web application: its
/// redirect URI is on its own public URL (OpenID Connect Registration's
/// `application_type`), and it asks for refresh tokens so a connection outlives its
/// first access token.
#[derive(Debug, Serialize)]
struct RegistrationRequest<'a> {
    client_name: &'a str,
    redirect_uris: [&'a str; 1],
    token_endpoint_auth_method: &'static str,
    grant_types: [&'static str; 2],
    response_types: [&'static str; 1],
    application_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
}

/// The parts of the answer (RFC 7591 §3.2.1) the service keeps.
#[derive(Deserialize)]
struct RegistrationAnswer {
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    token_endpoint_auth_method: Option<String>,
}

/// An error answer (RFC 7591 §3.2.2).
#[derive(Deserialize)]
struct RegistrationError {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

pub(crate) async fn register(
    http: &GuardedHttp,
    registration_endpoint: &str,
    metadata: &ClientMetadata,
) -> Result<RegisteredClient, OAuthFailure> {
    let Ok(url) = Url::parse(registration_endpoint) else {
        return Err(rejected("its registration endpoint is not a URL", None));
    };
    let body = RegistrationRequest {
        client_name: &metadata.client_name,
        redirect_uris: [&metadata.redirect_uri],
        token_endpoint_auth_method: metadata.token_endpoint_auth_method.as_str(),
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        application_type: "web",
        scope: (!metadata.scopes.is_empty()).then(|| metadata.scopes.join(" ")),
    };
    let request = http
        .request(Method::POST, &url, WHAT)
        .await?
        .header(ACCEPT, "application/json")
        .json(&body);
    let answer = http.send(request, WHAT).await?;
    if answer.status.is_success() {
        let registered: RegistrationAnswer = answer.json().map_err(|_| {
            rejected(
                "its registration answer is not a client information response",
                None,
            )
        })?;
        return Ok(RegisteredClient {
            client_id: registered.client_id,
            client_secret: registered.client_secret.filter(|secret| !secret.is_empty()),
            token_endpoint_auth_method: registered.token_endpoint_auth_method,
        });
    }
    Err(match answer.json::<RegistrationError>() {
        Ok(refusal) => rejected(&refusal.error, refusal.error_description.as_deref()),
        Err(_) => rejected(
            &format!("registration answered HTTP {}", answer.status.as_u16()),
            None,
        ),
    })
}
