//! The OAuth endpoints of custom MCP connections: the callback the authorization server
//! sends the user to (a small page, or a redirect to the operator's return URL),
//! `finalize` and `reauthorize`, and the Client ID Metadata Document.

use axum::Extension;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use feather_service::oauth::{CallbackOutcome, CallbackParams};

use super::connections::{ConnectionPath, ConnectionResponse};
use super::custom_mcp::CustomMcpConnectResponse;
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorResponse, HttpValidationError};
use crate::extract::PathParams;
use crate::middleware::KeepsItsBody;

/// The script of the callback page, served apart so the page's policy allows no inline
/// script: it tells the window that opened the popup how the authorization ended.
pub(crate) const CALLBACK_SCRIPT_PATH: &str = "/oauth/callback.js";
const CALLBACK_SCRIPT: &str = "(function () {\n\
  var data = document.body.dataset;\n\
  if (window.opener) {\n\
    window.opener.postMessage({type: 'feather:oauth', status: data.status, connection_id: data.connection || null}, '*');\n\
  }\n\
})();\n";

/// The page allows its own script and inline styles only, and no framing.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; \
                           base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Where the authorization server sends the user back. Authenticated by `state` alone:
/// no API key. Answers a page saying how it ended (200 when connected, 400 when not), or
/// a 303 to the configured return URL with `status`, `connection_id` and `reason`.
#[utoipa::path(
    get,
    path = "/v1/integrations/oauth/callback",
    tag = "integrations",
    operation_id = "oauthCallback",
    params(
        ("state" = Option<String>, Query, description = "The state handed out with the authorize URL."),
        ("code" = Option<String>, Query, description = "The authorization code."),
        ("error" = Option<String>, Query, description = "The authorization server's error (RFC 6749 §4.1.2.1)."),
        ("error_description" = Option<String>, Query),
        ("iss" = Option<String>, Query, description = "The authorization server's issuer (RFC 9207)."),
    ),
    responses(
        (status = 200, description = "Connected: a page saying so (it also posts a message to the window that opened it)", content_type = "text/html"),
        (status = 303, description = "Redirected to the configured return URL"),
        (status = 400, description = "Not connected: a page saying why", content_type = "text/html"),
    ),
)]
pub(super) async fn oauth_callback(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = callback_params(query.as_deref().unwrap_or_default());
    let outcome = match state.service.complete_authorization(params).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::error!(%error, "an OAuth callback could not be completed");
            CallbackOutcome::Failed {
                connection_id: None,
                reason: "The service could not record the authorization right now; try \
                         again in a moment."
                    .to_owned(),
            }
        }
    };
    match state.service.oauth_client().return_url() {
        Some(return_url) => redirect_to(return_url, &outcome),
        None => page(&outcome),
    }
}

/// The script the callback page runs.
pub(crate) async fn callback_script() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        CALLBACK_SCRIPT,
    )
}

/// The service's Client ID Metadata Document (the MCP specification's preferred client
/// registration): authorization servers that support it fetch it by its URL, the client id.
pub(crate) async fn client_metadata(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CACHE_CONTROL, "public, max-age=300")],
        Json(state.service.oauth_client().client_metadata_document()),
    )
}

/// The connection once its authorization has landed: the current row, whatever it is,
/// and the same again if asked again. While it still waits for the callback, a 422 says
/// what is missing.
#[utoipa::path(
    post,
    path = "/v1/integrations/connections/{connection_id}/finalize",
    tag = "integrations",
    operation_id = "finalizeConnection",
    params(("connection_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Successful Response", body = ConnectionResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 400, description = "Bad request", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error, or the authorization has not landed (`connection_not_active`)", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn finalize_connection(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
) -> Result<Json<ConnectionResponse>, ApiError> {
    let view = state
        .service
        .finalize_connection(caller.organization_id(), path.connection_id)
        .await?;
    Ok(Json(view.into()))
}

/// Authorize an OAuth connection again (an extension of the contract): after a refresh
/// was refused, an authorization expired, the server asked for more scopes or moved to
/// another authorization server. Answers a new `authorize_url` and `state`; the
/// connection keeps its tools and their configuration, and its status until the
/// callback lands.
#[utoipa::path(
    post,
    path = "/v1/integrations/connections/{connection_id}/reauthorize",
    tag = "integrations",
    operation_id = "reauthorizeConnection",
    params(("connection_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Successful Response", body = CustomMcpConnectResponse),
        (status = 401, description = "Authentication required", body = ErrorResponse),
        (status = 404, description = "Resource not found", body = ErrorResponse),
        (status = 422, description = "Validation Error, or the connection does not use OAuth (`connection_not_active`)", body = HttpValidationError),
        (status = 403, description = "The key's scopes do not allow this (`forbidden`)", body = ErrorResponse),
        (status = 429, description = "Over the key's or organization's rate limit (`rate_limited`, with `Retry-After`)", body = ErrorResponse),
        (status = 502, description = "The server or its authorization server could not be reached (`upstream_error`)", body = ErrorResponse),
    ),
    security(("HTTPBearer" = []), ("APIKeyHeader" = [])),
)]
pub(super) async fn reauthorize_connection(
    State(state): State<AppState>,
    caller: Caller,
    PathParams(path): PathParams<ConnectionPath>,
) -> Result<Json<CustomMcpConnectResponse>, ApiError> {
    let organization_id = caller.organization_id();
    let link = state
        .service
        .reauthorize_connection(organization_id, path.connection_id)
        .await?;
    let view = state
        .service
        .get_connection(organization_id, path.connection_id)
        .await?;
    Ok(Json(CustomMcpConnectResponse::new(
        &view.connection,
        Some(link),
    )))
}

/// The redirect's parameters; a repeated one counts once (its first value).
fn callback_params(query: &str) -> CallbackParams {
    let mut params = CallbackParams::default();
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "state" => &mut params.state,
            "code" => &mut params.code,
            "error" => &mut params.error,
            "error_description" => &mut params.error_description,
            "iss" => &mut params.iss,
            _ => continue,
        };
        slot.get_or_insert_with(|| value.into_owned());
    }
    params
}

fn redirect_to(return_url: &str, outcome: &CallbackOutcome) -> Response {
    let Ok(mut url) = url::Url::parse(return_url) else {
        return page(outcome);
    };
    {
        let mut query = url.query_pairs_mut();
        match outcome {
            CallbackOutcome::Connected { connection_id, .. } => {
                query.append_pair("status", "connected");
                query.append_pair("connection_id", &connection_id.to_string());
            }
            CallbackOutcome::Failed {
                connection_id,
                reason,
            } => {
                query.append_pair("status", "error");
                if let Some(connection_id) = connection_id {
                    query.append_pair("connection_id", &connection_id.to_string());
                }
                query.append_pair("reason", reason);
            }
        }
    }
    match HeaderValue::from_str(url.as_str()) {
        Ok(location) => (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response(),
        Err(_) => page(outcome),
    }
}

fn page(outcome: &CallbackOutcome) -> Response {
    let (status, state, connection, title, text) = match outcome {
        CallbackOutcome::Connected {
            connection_id,
            nickname,
        } => (
            StatusCode::OK,
            "connected",
            Some(*connection_id),
            "Connected",
            format!("{nickname} is connected. You can close this window."),
        ),
        CallbackOutcome::Failed {
            connection_id,
            reason,
        } => (
            StatusCode::BAD_REQUEST,
            "error",
            *connection_id,
            "Not connected",
            reason.clone(),
        ),
    };
    let connection = connection.map(|id| id.to_string()).unwrap_or_default();
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>\
         <style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;\
         padding:0 1rem;color:#111}}h1{{font-size:1.4rem}}</style></head>\
         <body data-status=\"{state}\" data-connection=\"{connection}\">\
         <h1>{title}</h1><p>{}</p>\
         <script src=\"{CALLBACK_SCRIPT_PATH}\"></script></body></html>\n",
        escape_html(&text)
    );
    (
        status,
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            // The page's URL carries the code and state: never send it on.
            (
                HeaderName::from_static("referrer-policy"),
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        // Not the API's error format: a page for the person in the browser.
        Extension(KeepsItsBody),
        body,
    )
        .into_response()
}

/// `text` safe inside an HTML element or a quoted attribute: the reason may quote what an
/// authorization server said.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_reason_is_shown_as_text() {
        assert_eq!(
            escape_html(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn a_repeated_parameter_counts_once() {
        let params = callback_params("state=first&code=c&state=second&iss=https%3A%2F%2Fa");
        assert_eq!(params.state.as_deref(), Some("first"));
        assert_eq!(params.code.as_deref(), Some("c"));
        assert_eq!(params.iss.as_deref(), Some("https://a"));
    }
}
