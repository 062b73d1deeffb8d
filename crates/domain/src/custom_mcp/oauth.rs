//! The `oauth_*` fields of a custom MCP connect request and their rules.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::SERVER_URL_MAX_CHARS;
use crate::input_config::FieldError;

/// Longest client id accepted.
pub const CLIENT_ID_MAX_CHARS: usize = 1024;
/// Most scopes a connection may ask for.
pub const MAX_SCOPES: usize = 64;

/// The `oauth_*` fields as received.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct OAuthFields {
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
}

/// The operator's own client at the authorization server.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorClient {
    pub client_id: String,
    pub client_secret: Option<String>,
}

/// Valid OAuth options of a connect request, kept (sealed) with the connection so that
/// a later authorization is made with them too.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OAuthOptions {
    /// Explicit authorization and token endpoints, overriding discovery.
    pub endpoints: Option<OAuthEndpoints>,
    pub client: Option<OperatorClient>,
    /// The scopes to ask for instead of the discovered ones; empty: the discovered ones.
    pub scopes: Vec<String>,
}

/// Endpoints the operator gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthEndpoints {
    pub authorize_url: String,
    pub token_url: String,
}

impl OAuthFields {
    /// The names of the fields set, for a request whose auth type does not use them.
    pub fn names_set(&self) -> Vec<&'static str> {
        [
            ("oauth_authorize_url", self.authorize_url.is_some()),
            ("oauth_token_url", self.token_url.is_some()),
            ("oauth_client_id", self.client_id.is_some()),
            ("oauth_client_secret", self.client_secret.is_some()),
            ("oauth_scopes", !self.scopes.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// The options these fields make, every problem pushed onto `problems`.
    pub(super) fn check(&self, problems: &mut Vec<FieldError>) -> OAuthOptions {
        OAuthOptions {
            endpoints: self.endpoints(problems),
            client: self.client(problems),
            scopes: self.scopes(problems),
        }
    }

    fn endpoints(&self, problems: &mut Vec<FieldError>) -> Option<OAuthEndpoints> {
        let authorize_url = non_blank(&self.authorize_url);
        let token_url = non_blank(&self.token_url);
        for (field, url) in [
            ("oauth_authorize_url", authorize_url),
            ("oauth_token_url", token_url),
        ] {
            if url.is_some_and(|url| url.chars().count() > SERVER_URL_MAX_CHARS) {
                problems.push(FieldError::new(
                    &[field],
                    format!("The URL must be at most {SERVER_URL_MAX_CHARS} characters."),
                    "string_too_long",
                ));
            }
        }
        match (authorize_url, token_url) {
            (Some(authorize_url), Some(token_url)) => Some(OAuthEndpoints {
                authorize_url: authorize_url.to_owned(),
                token_url: token_url.to_owned(),
            }),
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                let missing = if authorize_url.is_none() {
                    "oauth_authorize_url"
                } else {
                    "oauth_token_url"
                };
                problems.push(FieldError::new(
                    &[missing],
                    "Give oauth_authorize_url and oauth_token_url together, or neither to use \
                     the server's metadata.",
                    "missing",
                ));
                None
            }
        }
    }

    fn client(&self, problems: &mut Vec<FieldError>) -> Option<OperatorClient> {
        let client_secret = non_blank(&self.client_secret).map(str::to_owned);
        let Some(client_id) = non_blank(&self.client_id) else {
            if client_secret.is_some() {
                problems.push(FieldError::new(
                    &["oauth_client_id"],
                    "An oauth_client_secret needs the oauth_client_id it belongs to.",
                    "missing",
                ));
            }
            return None;
        };
        if client_id.chars().count() > CLIENT_ID_MAX_CHARS {
            problems.push(FieldError::new(
                &["oauth_client_id"],
                format!("The client id must be at most {CLIENT_ID_MAX_CHARS} characters."),
                "string_too_long",
            ));
        }
        Some(OperatorClient {
            client_id: client_id.to_owned(),
            client_secret,
        })
    }

    fn scopes(&self, problems: &mut Vec<FieldError>) -> Vec<String> {
        if self.scopes.len() > MAX_SCOPES {
            problems.push(FieldError::new(
                &["oauth_scopes"],
                format!("At most {MAX_SCOPES} scopes may be asked for."),
                "too_long",
            ));
            return Vec::new();
        }
        let mut scopes: Vec<String> = Vec::with_capacity(self.scopes.len());
        for (index, scope) in self.scopes.iter().enumerate() {
            if !is_scope_token(scope) {
                problems.push(FieldError::new(
                    &["oauth_scopes", &index.to_string()],
                    "A scope is one or more printable ASCII characters other than space, \" \
                     and \\ (RFC 6749 §3.3).",
                    "value_error",
                ));
            } else if !scopes.contains(scope) {
                scopes.push(scope.clone());
            }
        }
        scopes
    }
}

/// `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )` (RFC 6749 §3.3).
fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|byte| matches!(byte, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

fn non_blank(value: &Option<String>) -> Option<&str> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

impl fmt::Debug for OAuthFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthFields")
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl fmt::Debug for OperatorClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OperatorClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(fields: &OAuthFields) -> (OAuthOptions, Vec<(Vec<String>, String)>) {
        let mut problems = Vec::new();
        let options = fields.check(&mut problems);
        let problems = problems
            .into_iter()
            .map(|problem| (problem.loc, problem.kind.to_owned()))
            .collect();
        (options, problems)
    }

    fn loc(path: &[&str]) -> Vec<String> {
        path.iter().map(|part| (*part).to_owned()).collect()
    }

    #[test]
    fn nothing_given_means_discover_everything() {
        assert_eq!(
            checked(&OAuthFields::default()),
            (OAuthOptions::default(), vec![])
        );
    }

    #[test]
    fn endpoints_come_as_a_pair() {
        let one = OAuthFields {
            authorize_url: Some("https://auth.example.com/authorize".to_owned()),
            ..OAuthFields::default()
        };
        assert_eq!(
            checked(&one).1,
            vec![(loc(&["oauth_token_url"]), "missing".to_owned())]
        );
        let both = OAuthFields {
            token_url: Some("https://auth.example.com/token".to_owned()),
            ..one
        };
        let (options, problems) = checked(&both);
        assert!(problems.is_empty());
        assert_eq!(
            options.endpoints,
            Some(OAuthEndpoints {
                authorize_url: "https://auth.example.com/authorize".to_owned(),
                token_url: "https://auth.example.com/token".to_owned(),
            })
        );
    }

    #[test]
    fn a_secret_needs_its_client_id() {
        let fields = OAuthFields {
            client_secret: Some("s3cret".to_owned()),
            ..OAuthFields::default()
        };
        assert_eq!(
            checked(&fields).1,
            vec![(loc(&["oauth_client_id"]), "missing".to_owned())]
        );
    }

    #[test]
    fn scopes_are_scope_tokens_and_kept_once() {
        let fields = OAuthFields {
            scopes: vec![
                "read".to_owned(),
                "read".to_owned(),
                "has space".to_owned(),
                String::new(),
                "files:write".to_owned(),
            ],
            ..OAuthFields::default()
        };
        let (options, problems) = checked(&fields);
        assert_eq!(options.scopes, ["read", "files:write"]);
        assert_eq!(
            problems,
            vec![
                (loc(&["oauth_scopes", "2"]), "value_error".to_owned()),
                (loc(&["oauth_scopes", "3"]), "value_error".to_owned()),
            ]
        );
    }

    #[test]
    fn debug_output_hides_the_client_secret() {
        let fields = OAuthFields {
            client_id: Some("client".to_owned()),
            client_secret: Some("s3cret".to_owned()),
            ..OAuthFields::default()
        };
        assert!(!format!("{fields:?}").contains("s3cret"));
        let (options, _) = checked(&fields);
        assert!(!format!("{options:?}").contains("s3cret"));
    }
}
