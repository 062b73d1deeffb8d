//! Connecting a custom MCP server: the rules for the request, what is public about the
//! connection, and the credentials it keeps secret.

mod oauth;

pub use oauth::{OAuthEndpoints, OAuthFields, OAuthOptions, OperatorClient};

use http::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::input_config::FieldError;
use crate::oauth::OAuthCredentials;
use crate::slug::{Nickname, NicknameError};

/// Longest server URL accepted.
pub const SERVER_URL_MAX_CHARS: usize = 2048;
/// Most custom headers a connection may carry.
pub const MAX_CUSTOM_HEADERS: usize = 32;

/// Header names (lowercase) the MCP client sets itself; a connection may not override
/// them, and the client refuses them as configured headers.
pub const RESERVED_HEADERS: &[&str] = &[
    "accept",
    "connection",
    "content-length",
    "content-type",
    "host",
    "last-event-id",
    "mcp-protocol-version",
    "mcp-session-id",
    "transfer-encoding",
];

/// How the service reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum McpTransportKind {
    StreamableHttp,
    /// The legacy HTTP+SSE transport (the contract's default).
    Sse,
    /// Streamable HTTP, falling back to legacy SSE, as the MCP specification advises.
    Auto,
}

/// A `POST /v1/integrations/connections/custom-mcp` body as received.
#[derive(Debug, Clone, Default)]
pub struct CustomMcpRequest {
    pub nickname: String,
    pub server_url: String,
    pub transport: Option<String>,
    pub auth_type: Option<String>,
    pub token: Option<String>,
    pub api_key: Option<String>,
    pub api_key_header: Option<String>,
    pub headers: Vec<(String, String)>,
    pub oauth: OAuthFields,
}

/// A valid custom MCP connection: what to reach and how to authenticate.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomMcpConfig {
    pub nickname: Nickname,
    pub server_url: String,
    pub transport: McpTransportKind,
    pub credentials: McpCredentials,
}

/// The secret part of a connection, sealed at rest. `Debug` never shows a value.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct McpCredentials {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKeyCredential>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// The server URL as given, when it has a query or fragment: a query may carry a key
    /// (`?api_key=…`), so the listing shows [`redacted_url`] and the real one is sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// Set when `auth_type` is `oauth`: what the operator asked of every authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_options: Option<OAuthOptions>,
    /// The OAuth client and settings once an authorization has begun, and its tokens
    /// once one has completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<OAuthCredentials>,
}

/// `url` with every query value and the fragment replaced by `…` (`?key=…&flag=…`; a
/// query segment without `=` becomes `…` whole), fit for a response or a log line. The
/// rest (scheme, host, port, path) is kept: it says which server is meant.
pub fn redacted_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, _)) => (before, Some("…")),
        None => (url, None),
    };
    let mut redacted = match before_fragment.split_once('?') {
        Some((base, query)) => {
            let segments: Vec<String> = query
                .split('&')
                .map(|segment| match segment.split_once('=') {
                    Some((name, _)) => format!("{name}=…"),
                    None if segment.is_empty() => String::new(),
                    None => "…".to_owned(),
                })
                .collect();
            format!("{base}?{}", segments.join("&"))
        }
        None => before_fragment.to_owned(),
    };
    if let Some(fragment) = fragment {
        redacted.push('#');
        redacted.push_str(fragment);
    }
    redacted
}

/// An API key and the header it travels in.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyCredential {
    pub header: String,
    pub key: String,
}

impl std::fmt::Debug for ApiKeyCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyCredential")
            .field("header", &self.header)
            .field("key", &"…")
            .finish()
    }
}

impl std::fmt::Debug for McpCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpCredentials")
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "…"))
            .field(
                "api_key_header",
                &self.api_key.as_ref().map(|key| &key.header),
            )
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .field("server_url", &self.server_url.as_deref().map(redacted_url))
            .field("oauth_options", &self.oauth_options)
            .field("oauth", &self.oauth)
            .finish()
    }
}

impl McpCredentials {
    /// The headers every request to the server carries: custom headers first, then the
    /// credential, so that the credential wins.
    pub fn request_headers(&self) -> Vec<(String, String)> {
        let mut headers = self.headers.clone();
        if let Some(token) = &self.bearer_token {
            headers.push(("authorization".to_owned(), format!("Bearer {token}")));
        }
        if let Some(api_key) = &self.api_key {
            headers.push((api_key.header.clone(), api_key.key.clone()));
        }
        if let Some(tokens) = self.oauth.as_ref().and_then(|oauth| oauth.tokens.as_ref()) {
            headers.push((
                "authorization".to_owned(),
                format!("Bearer {}", tokens.access_token),
            ));
        }
        headers
    }

    fn auth_type(&self) -> &'static str {
        match (&self.bearer_token, &self.api_key, &self.oauth_options) {
            (Some(_), _, _) => "bearer",
            (None, Some(_), _) => "api_key",
            (None, None, Some(_)) => "oauth",
            (None, None, None) => "none",
        }
    }

    /// The name (lowercase) of the header the credential travels in, if it has one.
    fn credential_header(&self, auth_type: &str) -> Option<String> {
        match auth_type {
            "bearer" | "oauth" => Some("authorization".to_owned()),
            "api_key" => self
                .api_key
                .as_ref()
                .map(|key| key.header.to_ascii_lowercase()),
            _ => None,
        }
    }
}

/// What a custom MCP connection keeps in the open, as its listing `metadata`: never a
/// secret, only the names of the headers that carry them. The MCP adapter reads its
/// server and transport back from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpMetadata {
    /// The server URL, redacted ([`redacted_url`]); the real one, when it differs, is in
    /// the sealed [`McpCredentials::server_url`].
    pub server_url: String,
    pub transport: McpTransportKind,
    /// `bearer`, `api_key`, `oauth` or `none`.
    pub auth_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_header: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_header_names: Vec<String>,
    /// The authorization server an `oauth` connection's tokens come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_issuer: Option<String>,
    /// The scopes an `oauth` connection asks for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oauth_scopes: Vec<String>,
}

impl McpMetadata {
    /// Reads the settings back from a connection's metadata; `None` when they are not
    /// there (a connection of another integration, or a corrupted row).
    pub fn from_metadata(metadata: &Map<String, Value>) -> Option<McpMetadata> {
        serde_json::from_value(Value::Object(metadata.clone())).ok()
    }

    /// The settings as a connection's listing `metadata`.
    pub fn into_metadata(self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(map)) => map,
            _ => unreachable!("a struct of strings serializes to a JSON object"),
        }
    }
}

impl CustomMcpConfig {
    /// The connection's listing `metadata`.
    pub fn public_metadata(&self) -> Map<String, Value> {
        self.settings().into_metadata()
    }

    /// What the connection shows in the open, as settings.
    pub fn settings(&self) -> McpMetadata {
        McpMetadata {
            server_url: redacted_url(&self.server_url),
            transport: self.transport,
            auth_type: self.credentials.auth_type().to_owned(),
            api_key_header: self
                .credentials
                .api_key
                .as_ref()
                .map(|api_key| api_key.header.clone()),
            custom_header_names: self
                .credentials
                .headers
                .iter()
                .map(|(name, _)| name.clone())
                .collect(),
            oauth_issuer: None,
            oauth_scopes: Vec::new(),
        }
    }
}

/// Checks a request and builds the connection's configuration; every problem is
/// reported, located by body field. The server URL's reachability (SSRF guard) is checked
/// by the caller, which can resolve names.
pub fn validate_custom_mcp(request: &CustomMcpRequest) -> Result<CustomMcpConfig, Vec<FieldError>> {
    let mut problems = Vec::new();
    let nickname = Nickname::parse(&request.nickname)
        .map_err(|error| problems.push(nickname_problem(error)))
        .ok();
    let server_url = request.server_url.trim();
    if let Err(problem) = check_server_url(server_url) {
        problems.push(problem);
    }
    let transport = parse_transport(request.transport.as_deref())
        .map_err(|problem| problems.push(problem))
        .ok();
    let mut credentials = credentials(request, &mut problems);
    if redacted_url(server_url) != server_url {
        credentials.server_url = Some(server_url.to_owned());
    }
    match (nickname, transport, problems.is_empty()) {
        (Some(nickname), Some(transport), true) => Ok(CustomMcpConfig {
            nickname,
            server_url: server_url.to_owned(),
            transport,
            credentials,
        }),
        _ => Err(problems),
    }
}

/// The server URL's own rules (present, not too long), before the guard checks where it
/// leads.
pub fn check_server_url(server_url: &str) -> Result<(), FieldError> {
    if server_url.is_empty() {
        Err(FieldError::new(
            &["server_url"],
            "The server URL is required.",
            "missing",
        ))
    } else if server_url.chars().count() > SERVER_URL_MAX_CHARS {
        Err(FieldError::new(
            &["server_url"],
            format!("The server URL must be at most {SERVER_URL_MAX_CHARS} characters."),
            "string_too_long",
        ))
    } else {
        Ok(())
    }
}

/// The `transport` field; absent means the contract's default, legacy SSE.
pub fn parse_transport(transport: Option<&str>) -> Result<McpTransportKind, FieldError> {
    match transport.unwrap_or("sse") {
        "streamable_http" => Ok(McpTransportKind::StreamableHttp),
        "sse" => Ok(McpTransportKind::Sse),
        "auto" => Ok(McpTransportKind::Auto),
        _ => Err(FieldError::new(
            &["transport"],
            "The transport must be one of streamable_http, sse, auto.",
            "enum",
        )),
    }
}

fn nickname_problem(error: NicknameError) -> FieldError {
    let kind = match error {
        NicknameError::TooLong { .. } => "string_too_long",
        _ => "value_error",
    };
    FieldError::new(&["nickname"], error.to_string(), kind)
}

/// The credentials the request describes; problems are pushed onto `problems`.
fn credentials(request: &CustomMcpRequest, problems: &mut Vec<FieldError>) -> McpCredentials {
    let auth_type = request.auth_type.as_deref().unwrap_or("none");
    let given = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
    let mut credentials = McpCredentials::default();
    match auth_type {
        "none" => {}
        "bearer" => match &request.token {
            Some(token) if !token.is_empty() => {
                check_header_value("token", token, problems);
                credentials.bearer_token = Some(token.clone());
            }
            _ => problems.push(FieldError::new(
                &["token"],
                "A token is required when auth_type is bearer.",
                "missing",
            )),
        },
        "api_key" => {
            let header = request.api_key_header.as_deref().unwrap_or("X-API-Key");
            check_header_name("api_key_header", header, problems);
            match &request.api_key {
                Some(key) if !key.is_empty() => {
                    check_header_value("api_key", key, problems);
                    credentials.api_key = Some(ApiKeyCredential {
                        header: header.to_owned(),
                        key: key.clone(),
                    });
                }
                _ => problems.push(FieldError::new(
                    &["api_key"],
                    "An api_key is required when auth_type is api_key.",
                    "missing",
                )),
            }
        }
        // No credential yet: what to get one with, kept for every authorization.
        "oauth" => credentials.oauth_options = Some(request.oauth.check(problems)),
        _ => problems.push(FieldError::new(
            &["auth_type"],
            "The auth_type must be one of none, bearer, api_key, oauth.",
            "enum",
        )),
    }
    // A credential for another auth type is a mistake worth naming, not something to
    // store silently.
    if auth_type != "bearer" && given(&request.token) {
        problems.push(FieldError::new(
            &["token"],
            "A token is only used when auth_type is bearer.",
            "extra_forbidden",
        ));
    }
    if auth_type != "api_key" && (given(&request.api_key) || request.api_key_header.is_some()) {
        let field = if given(&request.api_key) {
            "api_key"
        } else {
            "api_key_header"
        };
        problems.push(FieldError::new(
            &[field],
            "The API key fields are only used when auth_type is api_key.",
            "extra_forbidden",
        ));
    }
    if auth_type != "oauth" {
        for field in request.oauth.names_set() {
            problems.push(FieldError::new(
                &[field],
                "The OAuth fields are only used when auth_type is oauth.",
                "extra_forbidden",
            ));
        }
    }
    credentials.headers =
        custom_headers(request, credentials.credential_header(auth_type), problems);
    credentials
}

fn custom_headers(
    request: &CustomMcpRequest,
    credential_header: Option<String>,
    problems: &mut Vec<FieldError>,
) -> Vec<(String, String)> {
    if request.headers.len() > MAX_CUSTOM_HEADERS {
        problems.push(FieldError::new(
            &["headers"],
            format!("At most {MAX_CUSTOM_HEADERS} custom headers are allowed."),
            "too_long",
        ));
        return Vec::new();
    }
    let mut headers = Vec::new();
    let mut names_seen = std::collections::HashSet::new();
    for (name, value) in &request.headers {
        let loc: &[&str] = &["headers", name];
        let lower = name.to_ascii_lowercase();
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            problems.push(FieldError::new(
                loc,
                "Not a valid HTTP header name.",
                "value_error",
            ));
        } else if !names_seen.insert(lower.clone()) {
            // A JSON object keeps `X-A` and `x-a` apart; HTTP does not, and the MCP client
            // refuses a repeated header, so every request would fail.
            problems.push(FieldError::new(
                loc,
                "Another header differs from this one only in case; HTTP header names ignore \
                 case, so give it once.",
                "value_error",
            ));
        } else if RESERVED_HEADERS.contains(&lower.as_str()) {
            problems.push(FieldError::new(
                loc,
                "This header is set by the MCP client itself and cannot be overridden.",
                "value_error",
            ));
        } else if credential_header.as_deref() == Some(lower.as_str()) {
            problems.push(FieldError::new(
                loc,
                "This header carries the connection's credential; set it through auth_type.",
                "value_error",
            ));
        } else if HeaderValue::from_str(value).is_err() {
            problems.push(FieldError::new(
                loc,
                "Not a valid HTTP header value (visible ASCII, no line breaks).",
                "value_error",
            ));
        } else {
            headers.push((name.clone(), value.clone()));
        }
    }
    headers
}

fn check_header_name(field: &str, name: &str, problems: &mut Vec<FieldError>) {
    let lower = name.to_ascii_lowercase();
    if HeaderName::from_bytes(name.as_bytes()).is_err()
        || RESERVED_HEADERS.contains(&lower.as_str())
        || lower == "authorization"
    {
        problems.push(FieldError::new(
            &[field],
            "Not a usable HTTP header name for an API key.",
            "value_error",
        ));
    }
}

fn check_header_value(field: &str, value: &str, problems: &mut Vec<FieldError>) {
    if HeaderValue::from_str(value).is_err() {
        problems.push(FieldError::new(
            &[field],
            "Must be sendable in an HTTP header (visible ASCII, no line breaks).",
            "value_error",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> CustomMcpRequest {
        CustomMcpRequest {
            nickname: "Support MCP".to_owned(),
            server_url: "https://mcp.example.com/mcp".to_owned(),
            ..CustomMcpRequest::default()
        }
    }

    fn problems(request: &CustomMcpRequest) -> Vec<(Vec<String>, &'static str)> {
        match validate_custom_mcp(request) {
            Err(problems) => problems.into_iter().map(|p| (p.loc, p.kind)).collect(),
            Ok(config) => panic!("expected problems, got {config:?}"),
        }
    }

    fn loc(segments: &[&str]) -> Vec<String> {
        segments.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn defaults_are_legacy_sse_and_no_auth() {
        let config = validate_custom_mcp(&request()).expect("valid");
        assert_eq!(config.transport, McpTransportKind::Sse);
        assert_eq!(config.credentials, McpCredentials::default());
        assert!(config.credentials.request_headers().is_empty());
        assert_eq!(config.nickname.slug(), "support_mcp");
        assert_eq!(config.public_metadata()["auth_type"], "none");
    }

    #[test]
    fn bearer_token_becomes_an_authorization_header_and_stays_out_of_metadata() {
        let mut bearer = request();
        bearer.auth_type = Some("bearer".to_owned());
        bearer.token = Some("s3cret".to_owned());
        bearer.headers = vec![("X-Tenant".to_owned(), "acme".to_owned())];
        let config = validate_custom_mcp(&bearer).expect("valid");
        assert_eq!(
            config.credentials.request_headers(),
            vec![
                ("X-Tenant".to_owned(), "acme".to_owned()),
                ("authorization".to_owned(), "Bearer s3cret".to_owned()),
            ]
        );
        let metadata = serde_json::to_string(&config.public_metadata()).expect("json");
        assert!(!metadata.contains("s3cret") && !metadata.contains("acme"));
        assert!(metadata.contains("X-Tenant"));
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn api_key_travels_in_its_header_defaulting_to_x_api_key() {
        let mut api_key = request();
        api_key.auth_type = Some("api_key".to_owned());
        api_key.api_key = Some("k-123".to_owned());
        let config = validate_custom_mcp(&api_key).expect("valid");
        assert_eq!(
            config.credentials.request_headers(),
            vec![("X-API-Key".to_owned(), "k-123".to_owned())]
        );
        assert_eq!(config.public_metadata()["api_key_header"], "X-API-Key");
        assert!(!format!("{:?}", config.credentials).contains("k-123"));
    }

    #[test]
    fn the_public_metadata_reads_back_as_the_adapters_settings() {
        let mut with_key = request();
        with_key.server_url = "https://mcp.example.com/mcp?key=s3cret".to_owned();
        with_key.transport = Some("auto".to_owned());
        with_key.auth_type = Some("api_key".to_owned());
        with_key.api_key = Some("k-123".to_owned());
        let metadata = validate_custom_mcp(&with_key)
            .expect("valid")
            .public_metadata();
        let keys: Vec<&str> = metadata.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["server_url", "transport", "auth_type", "api_key_header"]
        );
        let settings = McpMetadata::from_metadata(&metadata).expect("settings");
        assert_eq!(settings.server_url, "https://mcp.example.com/mcp?key=…");
        assert_eq!(settings.transport, McpTransportKind::Auto);
        assert_eq!(McpMetadata::from_metadata(&Map::new()), None);
    }

    #[test]
    fn every_problem_is_reported_by_field() {
        let bad = CustomMcpRequest {
            nickname: "!!!".to_owned(),
            server_url: " ".to_owned(),
            transport: Some("websocket".to_owned()),
            auth_type: Some("bearer".to_owned()),
            api_key: Some("stray".to_owned()),
            headers: vec![
                ("Bad Name".to_owned(), "v".to_owned()),
                ("Mcp-Session-Id".to_owned(), "v".to_owned()),
                ("X-Ok".to_owned(), "line\nbreak".to_owned()),
            ],
            ..CustomMcpRequest::default()
        };
        assert_eq!(
            problems(&bad),
            vec![
                (loc(&["nickname"]), "value_error"),
                (loc(&["server_url"]), "missing"),
                (loc(&["transport"]), "enum"),
                (loc(&["token"]), "missing"),
                (loc(&["api_key"]), "extra_forbidden"),
                (loc(&["headers", "Bad Name"]), "value_error"),
                (loc(&["headers", "Mcp-Session-Id"]), "value_error"),
                (loc(&["headers", "X-Ok"]), "value_error"),
            ]
        );
    }

    #[test]
    fn oauth_keeps_no_static_credential_and_says_so_in_the_metadata() {
        let mut oauth = request();
        oauth.auth_type = Some("oauth".to_owned());
        oauth.oauth.scopes = vec!["read".to_owned()];
        oauth.headers = vec![("X-Tenant".to_owned(), "acme".to_owned())];
        let config = validate_custom_mcp(&oauth).expect("valid");
        assert_eq!(
            config.credentials.request_headers(),
            [("X-Tenant".to_owned(), "acme".to_owned())]
        );
        let options = config
            .credentials
            .oauth_options
            .clone()
            .expect("oauth options");
        assert_eq!(options.scopes, ["read"]);
        assert_eq!(
            config_metadata_auth_type(&validate_custom_mcp(&oauth).expect("valid")),
            "oauth"
        );
    }

    fn config_metadata_auth_type(config: &CustomMcpConfig) -> String {
        config.public_metadata()["auth_type"]
            .as_str()
            .expect("auth_type is text")
            .to_owned()
    }

    #[test]
    fn oauth_fields_belong_to_auth_type_oauth_only() {
        let mut stray = request();
        stray.oauth.client_id = Some("client".to_owned());
        assert_eq!(
            problems(&stray),
            vec![(loc(&["oauth_client_id"]), "extra_forbidden")]
        );
    }

    #[test]
    fn an_oauth_connection_takes_no_authorization_header_of_its_own() {
        let mut clash = request();
        clash.auth_type = Some("oauth".to_owned());
        clash.headers = vec![("Authorization".to_owned(), "Bearer x".to_owned())];
        assert_eq!(
            problems(&clash),
            vec![(loc(&["headers", "Authorization"]), "value_error")]
        );
    }

    #[test]
    fn custom_headers_that_differ_only_in_case_are_refused() {
        let mut twins = request();
        twins.headers = vec![
            ("X-Tenant".to_owned(), "a".to_owned()),
            ("x-tenant".to_owned(), "b".to_owned()),
            ("X-Other".to_owned(), "c".to_owned()),
        ];
        assert_eq!(
            problems(&twins),
            vec![(loc(&["headers", "x-tenant"]), "value_error")]
        );
    }

    #[test]
    fn a_custom_header_may_not_replace_the_credential() {
        let mut clash = request();
        clash.auth_type = Some("api_key".to_owned());
        clash.api_key = Some("k".to_owned());
        clash.api_key_header = Some("X-Key".to_owned());
        clash.headers = vec![("x-key".to_owned(), "other".to_owned())];
        assert_eq!(
            problems(&clash),
            vec![(loc(&["headers", "x-key"]), "value_error")]
        );
        let mut reserved_key_header = request();
        reserved_key_header.auth_type = Some("api_key".to_owned());
        reserved_key_header.api_key = Some("k".to_owned());
        reserved_key_header.api_key_header = Some("Content-Type".to_owned());
        assert_eq!(
            problems(&reserved_key_header),
            vec![(loc(&["api_key_header"]), "value_error")]
        );
    }

    #[test]
    fn credentials_round_trip_through_their_sealed_form() {
        let credentials = McpCredentials {
            bearer_token: Some("t".to_owned()),
            api_key: None,
            headers: vec![("X-A".to_owned(), "1".to_owned())],
            server_url: Some("https://h/mcp?k=v".to_owned()),
            oauth_options: None,
            oauth: None,
        };
        let sealed = serde_json::to_vec(&credentials).expect("json");
        assert_eq!(
            serde_json::from_slice::<McpCredentials>(&sealed).expect("json"),
            credentials
        );
    }

    #[test]
    fn query_values_and_fragments_are_redacted_and_the_rest_kept() {
        let cases = [
            ("https://mcp.example.com/mcp", "https://mcp.example.com/mcp"),
            ("https://h/mcp?api_key=s3cret", "https://h/mcp?api_key=…"),
            ("https://h/mcp?a=1&b=&token", "https://h/mcp?a=…&b=…&…"),
            ("https://h:8443/p?k=v#frag=s3cret", "https://h:8443/p?k=…#…"),
            ("https://h/p#only", "https://h/p#…"),
            ("https://h/p?", "https://h/p?"),
        ];
        for (url, expected) in cases {
            assert_eq!(redacted_url(url), expected, "{url}");
        }
    }

    #[test]
    fn a_url_with_a_query_is_shown_redacted_and_sealed_whole() {
        let config = validate_custom_mcp(&CustomMcpRequest {
            nickname: "Keyed".to_owned(),
            server_url: "https://mcp.example.com/mcp?api_key=s3cret".to_owned(),
            ..CustomMcpRequest::default()
        })
        .expect("valid");
        assert_eq!(
            config.public_metadata()["server_url"],
            "https://mcp.example.com/mcp?api_key=…"
        );
        assert_eq!(
            config.credentials.server_url.as_deref(),
            Some("https://mcp.example.com/mcp?api_key=s3cret")
        );
        assert!(!format!("{:?}", config.credentials).contains("s3cret"));
        let plain = validate_custom_mcp(&CustomMcpRequest {
            nickname: "Plain".to_owned(),
            server_url: "https://mcp.example.com/mcp".to_owned(),
            ..CustomMcpRequest::default()
        })
        .expect("valid");
        assert_eq!(plain.credentials.server_url, None);
    }
}
