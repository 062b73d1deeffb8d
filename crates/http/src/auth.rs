//! Authentication: the caller's organization, from `x-api-key` or `Authorization: Bearer`.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use feather_domain::api_key::{Grants, Scope};
use feather_service::Principal;

use crate::AppState;
use crate::error::{ApiError, Unauthenticated};

const API_KEY_HEADER: &str = "x-api-key";

/// The authenticated caller. Every handler that takes it is scoped to its organization.
#[derive(Debug, Clone, Copy)]
pub struct Caller(pub Principal);

impl Caller {
    pub fn organization_id(&self) -> uuid::Uuid {
        self.0.organization_id
    }

    pub fn grants(&self) -> Grants {
        self.0.grants
    }
}

/// The scope a request needs: keys for the key endpoints, invoke for tool calls (the MCP
/// endpoint's included), read for every other read, write for every other change.
fn required_scope(method: &Method, path: &str) -> Scope {
    if path.starts_with("/v1/identity/api-keys") {
        Scope::Keys
    } else if path.ends_with("/test-mcp-call")
        || path.ends_with("/test-invoke")
        || path == "/mcp"
        || path.starts_with("/mcp/")
    {
        Scope::Invoke
    } else if method == Method::GET || method == Method::HEAD {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// Why the key's scopes refuse the request, in a sentence naming what it lacks.
fn refusal(grants: Grants, needed: Scope) -> ApiError {
    let held: Vec<&str> = grants.scopes().into_iter().map(Scope::as_str).collect();
    ApiError::Forbidden(format!(
        "This API key's scopes ({}) do not allow this request: it needs the `{}` scope.",
        held.join(", "),
        needed.as_str()
    ))
}

/// The key the request presents: `x-api-key` wins over a bearer token. A header that is
/// not text counts as no key; an `Authorization` of another scheme is named as such.
fn presented_key(parts: &Parts) -> Result<&str, Unauthenticated> {
    if let Some(value) = parts.headers.get(API_KEY_HEADER) {
        return value
            .to_str()
            .map(str::trim)
            .map_err(|_| Unauthenticated::Rejected);
    }
    let Some(authorization) = parts.headers.get(AUTHORIZATION) else {
        return Err(Unauthenticated::NoKey);
    };
    let authorization = authorization
        .to_str()
        .map_err(|_| Unauthenticated::NotBearer)?;
    match authorization.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(Unauthenticated::NotBearer),
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = presented_key(parts).map_err(ApiError::Unauthorized)?;
        let principal = state
            .service
            .authenticate(key)
            .await?
            .ok_or(ApiError::Unauthorized(Unauthenticated::Rejected))?;
        // Every line the request logs from here on names the organization it acts for.
        tracing::Span::current().record(
            "organization_id",
            tracing::field::display(principal.organization_id),
        );
        let needed = required_scope(&parts.method, parts.uri.path());
        if !principal.grants.allows(needed) {
            return Err(refusal(principal.grants, needed));
        }
        state
            .rate_limits
            .admit(&principal, &parts.method, parts.uri.path())?;
        Ok(Caller(principal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_needs_the_scope_of_what_it_does() {
        let connection = "/v1/integrations/connections/0190";
        let cases = [
            (Method::GET, "/v1/integrations/connections", Scope::Read),
            (Method::GET, "/v1/integrations", Scope::Read),
            (Method::PATCH, connection, Scope::Write),
            (Method::DELETE, connection, Scope::Write),
            (
                Method::POST,
                "/v1/integrations/connections/custom-mcp",
                Scope::Write,
            ),
            (
                Method::POST,
                "/v1/integrations/connections/0190/refresh-tools",
                Scope::Write,
            ),
            (
                Method::POST,
                "/v1/integrations/connections/0190/test-mcp-call",
                Scope::Invoke,
            ),
            (
                Method::POST,
                "/v1/integrations/connections/0190/test-invoke",
                Scope::Invoke,
            ),
            (Method::POST, "/mcp", Scope::Invoke),
            (Method::GET, "/mcp", Scope::Invoke),
            (Method::DELETE, "/mcp/support_desk", Scope::Invoke),
            (Method::GET, "/v1/identity/api-keys", Scope::Keys),
            (Method::POST, "/v1/identity/api-keys", Scope::Keys),
            (Method::DELETE, "/v1/identity/api-keys/0190", Scope::Keys),
        ];
        for (method, path, scope) in cases {
            assert_eq!(required_scope(&method, path), scope, "{method} {path}");
        }
    }
}
