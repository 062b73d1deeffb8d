//! Discovery (the MCP authorization specification's "Authorization Server Discovery"):
//! an unauthenticated request to the server, its protected-resource metadata, then its
//! authorization server's metadata, each at the locations and in the order the
//! specification gives, each checked before it is believed.

use feather_domain::oauth::{
    AuthorizationServerMetadata, BearerChallenge, MetadataSource, OAuthServer,
    ProtectedResourceMetadata, ServerAuthorization, authorization_server_metadata_urls,
    default_endpoints, legacy_authorization_server_metadata_url, protected_resource_metadata_urls,
    resource_of,
};
use feather_service::UpstreamError;
use http::header::{ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::json;
use url::Url;

use super::fetch::{Answer, GuardedHttp};

/// The protocol version the probe speaks: the newest with an `initialize` handshake.
const PROBE_PROTOCOL_VERSION: &str = "2025-11-25";

/// What the server said to a request without credentials.
enum Probe {
    Open,
    Challenged(Option<BearerChallenge>),
    /// Neither: an HTTP status that says nothing about authorization.
    Other(StatusCode),
}

/// What a metadata location held.
enum Document<T> {
    Found(T),
    /// Nothing there (a 4xx): the next location is tried.
    Missing,
    /// Something there that cannot be used; why.
    Unusable(String),
}

/// Finds out how the server at `server_url` wants to be authorized.
pub(crate) async fn discover(
    http: &GuardedHttp,
    server_url: &Url,
) -> Result<ServerAuthorization, UpstreamError> {
    let challenge = match probe(http, server_url).await? {
        Probe::Open => return Ok(ServerAuthorization::Open),
        Probe::Challenged(challenge) => challenge,
        Probe::Other(status) => {
            return Ok(ServerAuthorization::Unusable(format!(
                "The server answered HTTP {} to an unauthenticated request instead of asking \
                 for authorization; check the server URL.",
                status.as_u16()
            )));
        }
    };
    let resource = match protected_resource(http, server_url, challenge.as_ref()).await? {
        Document::Found(resource) => resource,
        Document::Missing => return without_resource_metadata(http, server_url, challenge).await,
        Document::Unusable(why) => return Ok(ServerAuthorization::Unusable(why)),
    };
    let checked = match resource.checked_resource(server_url) {
        Ok(checked) => checked.to_owned(),
        Err(problem) => return Ok(ServerAuthorization::Unusable(problem.to_string())),
    };
    // The first server listed; the others are alternatives the resource also trusts.
    let issuer = &resource.authorization_servers[0];
    let authorization_server = match authorization_server(http, issuer).await? {
        Document::Found(metadata) => metadata,
        Document::Missing => {
            return Ok(ServerAuthorization::Unusable(format!(
                "The authorization server {issuer} publishes no metadata at any of the \
                 locations the MCP specification names."
            )));
        }
        Document::Unusable(why) => return Ok(ServerAuthorization::Unusable(why)),
    };
    if let Err(problem) = authorization_server.check(issuer) {
        return Ok(ServerAuthorization::Unusable(problem.to_string()));
    }
    Ok(ServerAuthorization::OAuth(Box::new(OAuthServer {
        resource: checked,
        challenge,
        resource_scopes: resource.scopes_supported,
        authorization_server,
        source: MetadataSource::Discovered,
    })))
}

/// An MCP `initialize` without credentials, as a client's first request; a server that
/// answers it (some let the handshake through and guard everything after it) is asked
/// for its tools next, in the session it opened. A server of the legacy SSE transport
/// refuses the POST, so its event stream is asked for instead.
async fn probe(http: &GuardedHttp, server_url: &Url) -> Result<Probe, UpstreamError> {
    const WHAT: &str = "the MCP server";
    let initialize = mcp_request(http, server_url, WHAT).await?.json(&json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": PROBE_PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "feather-integrations", "version": env!("CARGO_PKG_VERSION")},
        },
    }));
    let (status, headers) = head_of(http, initialize, WHAT).await?;
    match judged(status, &headers) {
        Some(Probe::Open) => {
            let mut list = mcp_request(http, server_url, WHAT)
                .await?
                .header("mcp-protocol-version", PROBE_PROTOCOL_VERSION)
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
            if let Some(session) = headers.get("mcp-session-id") {
                list = list.header("mcp-session-id", session.clone());
            }
            let (status, headers) = head_of(http, list, WHAT).await?;
            return Ok(match judged(status, &headers) {
                Some(Probe::Challenged(challenge)) => Probe::Challenged(challenge),
                _ => Probe::Open,
            });
        }
        Some(probe) => return Ok(probe),
        None => {}
    }
    let stream = http
        .request(Method::GET, server_url, WHAT)
        .await?
        .header(ACCEPT, "text/event-stream");
    let (status, headers) = head_of(http, stream, WHAT).await?;
    Ok(judged(status, &headers).unwrap_or(Probe::Other(status)))
}

/// A JSON-RPC POST to the server, as the Streamable HTTP transport sends one.
async fn mcp_request(
    http: &GuardedHttp,
    server_url: &Url,
    what: &str,
) -> Result<reqwest::RequestBuilder, UpstreamError> {
    Ok(http
        .request(Method::POST, server_url, what)
        .await?
        .header(ACCEPT, "application/json, text/event-stream")
        .header(CONTENT_TYPE, "application/json"))
}

/// The status and headers of an answer; its body is not read (an event stream never
/// ends).
async fn head_of(
    http: &GuardedHttp,
    request: reqwest::RequestBuilder,
    what: &str,
) -> Result<(StatusCode, http::HeaderMap), UpstreamError> {
    let response = http.send_for_head(request, what).await?;
    Ok((response.status(), response.headers().clone()))
}

fn judged(status: StatusCode, headers: &http::HeaderMap) -> Option<Probe> {
    if status.is_success() {
        return Some(Probe::Open);
    }
    if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
        let values = headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok());
        return Some(Probe::Challenged(BearerChallenge::from_headers(values)));
    }
    None
}

/// The protected-resource metadata: where the challenge says, else at the well-known
/// locations in order.
async fn protected_resource(
    http: &GuardedHttp,
    server_url: &Url,
    challenge: Option<&BearerChallenge>,
) -> Result<Document<ProtectedResourceMetadata>, UpstreamError> {
    const WHAT: &str = "the server's protected-resource metadata";
    if let Some(named) = challenge.and_then(|challenge| challenge.resource_metadata.as_deref()) {
        let Ok(url) = server_url.join(named) else {
            return Ok(Document::Unusable(
                "The server's challenge names a resource_metadata that is not a URL.".to_owned(),
            ));
        };
        return Ok(match document(http, &url, WHAT).await? {
            Document::Missing => Document::Unusable(
                "The server's challenge names a resource_metadata URL that has no document."
                    .to_owned(),
            ),
            found => found,
        });
    }
    first_document(http, &protected_resource_metadata_urls(server_url), WHAT).await
}

/// The metadata of the authorization server `issuer`, at the first location that has it.
async fn authorization_server(
    http: &GuardedHttp,
    issuer: &str,
) -> Result<Document<AuthorizationServerMetadata>, UpstreamError> {
    let Ok(issuer_url) = Url::parse(issuer) else {
        return Ok(Document::Unusable(format!(
            "The server names an authorization server that is not a URL ({issuer})."
        )));
    };
    let locations = authorization_server_metadata_urls(&issuer_url);
    first_document(http, &locations, "the authorization server's metadata").await
}

/// A server of the 2025-03-26 specification: the authorization server's metadata at its
/// origin, else the default endpoints there.
async fn without_resource_metadata(
    http: &GuardedHttp,
    server_url: &Url,
    challenge: Option<BearerChallenge>,
) -> Result<ServerAuthorization, UpstreamError> {
    let location = legacy_authorization_server_metadata_url(server_url);
    let (authorization_server, source) = match document::<AuthorizationServerMetadata>(
        http,
        &location,
        "the authorization server's metadata",
    )
    .await?
    {
        Document::Found(metadata) => (metadata, MetadataSource::ServerOrigin),
        Document::Missing => (
            default_endpoints(server_url),
            MetadataSource::DefaultEndpoints,
        ),
        Document::Unusable(why) => return Ok(ServerAuthorization::Unusable(why)),
    };
    if source == MetadataSource::ServerOrigin {
        // The issuer the document was looked up for is the server's origin (RFC 8414
        // §3.3), written without a trailing `/` as issuers are.
        let origin = server_url.origin().ascii_serialization();
        if let Err(problem) = authorization_server.check(&origin) {
            return Ok(ServerAuthorization::Unusable(problem.to_string()));
        }
    }
    Ok(ServerAuthorization::OAuth(Box::new(OAuthServer {
        resource: resource_of(server_url),
        challenge,
        resource_scopes: None,
        authorization_server,
        source,
    })))
}

async fn first_document<T: DeserializeOwned>(
    http: &GuardedHttp,
    locations: &[Url],
    what: &str,
) -> Result<Document<T>, UpstreamError> {
    for location in locations {
        match document(http, location, what).await? {
            Document::Missing => continue,
            other => return Ok(other),
        }
    }
    Ok(Document::Missing)
}

/// The JSON document at `url`: a 4xx is no document; a 5xx or a body that is not the
/// document is one that cannot be used.
async fn document<T: DeserializeOwned>(
    http: &GuardedHttp,
    url: &Url,
    what: &str,
) -> Result<Document<T>, UpstreamError> {
    let answer: Answer = http.get(url, what).await?;
    if answer.status.is_client_error() {
        return Ok(Document::Missing);
    }
    if !answer.status.is_success() {
        return Ok(Document::Unusable(format!(
            "{} answered HTTP {}.",
            capitalized(what),
            answer.status.as_u16()
        )));
    }
    Ok(match answer.json::<T>() {
        Ok(document) => Document::Found(document),
        Err(reason) => Document::Unusable(format!("{} is not valid: {reason}.", capitalized(what))),
    })
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
