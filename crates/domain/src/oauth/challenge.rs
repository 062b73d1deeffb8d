//! The `Bearer` challenge of a `WWW-Authenticate` header (RFC 6750 §3), with the
//! `resource_metadata` parameter of RFC 9728 §5.1.

use http_auth::parse_challenges;

/// What a server's `Bearer` challenge says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// Where the server's protected-resource metadata is (RFC 9728 §5.1).
    pub resource_metadata: Option<String>,
    /// The scopes the server asks for (space-delimited in the header).
    pub scope: Option<Vec<String>>,
    /// The error code, e.g. `invalid_token` or `insufficient_scope`.
    pub error: Option<String>,
}

impl BearerChallenge {
    /// The first `Bearer` challenge among the header's values; `None` when there is none
    /// or a value does not parse (a server that sends a malformed challenge is treated as
    /// one that sends none: discovery goes on at the well-known locations).
    pub fn from_headers<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<BearerChallenge> {
        values.into_iter().find_map(|value| {
            let challenges = parse_challenges(value).ok()?;
            let bearer = challenges
                .iter()
                .find(|challenge| challenge.scheme.eq_ignore_ascii_case("bearer"))?;
            let param = |name: &str| {
                bearer
                    .params
                    .iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(name))
                    .map(|(_, value)| value.to_unescaped())
            };
            Some(BearerChallenge {
                resource_metadata: param("resource_metadata"),
                scope: param("scope")
                    .map(|scope| scope.split_ascii_whitespace().map(str::to_owned).collect()),
                error: param("error"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_challenge_gives_metadata_scopes_and_error() {
        let challenge = BearerChallenge::from_headers([
            r#"Basic realm="x", Bearer error="insufficient_scope", scope="files:read  files:write", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#,
        ])
        .expect("a bearer challenge");
        assert_eq!(
            challenge,
            BearerChallenge {
                resource_metadata: Some(
                    "https://mcp.example.com/.well-known/oauth-protected-resource".to_owned()
                ),
                scope: Some(vec!["files:read".to_owned(), "files:write".to_owned()]),
                error: Some("insufficient_scope".to_owned()),
            }
        );
    }

    #[test]
    fn scheme_and_parameter_names_match_in_any_case() {
        let challenge =
            BearerChallenge::from_headers([r#"bearer Resource_Metadata="https://a/b""#])
                .expect("a bearer challenge");
        assert_eq!(challenge.resource_metadata.as_deref(), Some("https://a/b"));
        assert_eq!(challenge.scope, None);
    }

    #[test]
    fn a_bare_bearer_challenge_has_no_parameters() {
        assert_eq!(
            BearerChallenge::from_headers(["Bearer"]),
            Some(BearerChallenge::default())
        );
    }

    #[test]
    fn no_bearer_or_a_malformed_header_is_no_challenge() {
        assert_eq!(BearerChallenge::from_headers([r#"Basic realm="x""#]), None);
        assert_eq!(BearerChallenge::from_headers(["Bearer error error"]), None);
        assert_eq!(BearerChallenge::from_headers([]), None);
    }

    #[test]
    fn a_later_header_value_may_hold_the_bearer_challenge() {
        let challenge =
            BearerChallenge::from_headers([r#"Basic realm="x""#, r#"Bearer scope="a""#])
                .expect("a bearer challenge");
        assert_eq!(challenge.scope, Some(vec!["a".to_owned()]));
    }
}
