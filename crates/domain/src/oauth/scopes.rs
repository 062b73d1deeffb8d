//! Which scopes an authorization request asks for (the MCP specification's "Scope
//! Selection Strategy").

/// The refresh-token scope of OpenID Connect, asked for when the server offers it so the
/// connection outlives its first access token.
pub const OFFLINE_ACCESS: &str = "offline_access";

/// Where the scopes of an authorization request come from.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScopeSources<'a> {
    /// The operator's `oauth_scopes`: when non-empty, exactly these.
    pub operator: &'a [String],
    /// The `scope` of the server's 401 (or 403) challenge.
    pub challenge: Option<&'a [String]>,
    /// The protected resource's `scopes_supported`.
    pub resource: Option<&'a [String]>,
    /// The authorization server's `scopes_supported`.
    pub authorization_server: Option<&'a [String]>,
}

/// The scopes to request: the operator's when given, else the challenge's, else the
/// resource's `scopes_supported`, else none (the request then carries no `scope`), plus
/// `offline_access` when the authorization server advertises it. Duplicates are dropped,
/// first occurrence kept.
pub fn requested_scopes(sources: ScopeSources<'_>) -> Vec<String> {
    let chosen = if !sources.operator.is_empty() {
        sources.operator
    } else {
        sources.challenge.or(sources.resource).unwrap_or_default()
    };
    let mut scopes: Vec<String> = Vec::with_capacity(chosen.len() + 1);
    for scope in chosen {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    let offers_offline = sources
        .authorization_server
        .is_some_and(|offered| offered.iter().any(|scope| scope == OFFLINE_ACCESS));
    if offers_offline && !scopes.iter().any(|scope| scope == OFFLINE_ACCESS) {
        scopes.push(OFFLINE_ACCESS.to_owned());
    }
    scopes
}

/// The scopes of `first` then those of `second` it lacks: a new authorization keeps what
/// an earlier one was granted (the MCP specification's step-up union).
pub fn union_scopes(first: &[String], second: &[String]) -> Vec<String> {
    let mut union = first.to_vec();
    for scope in second {
        if !union.contains(scope) {
            union.push(scope.clone());
        }
    }
    union
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(scopes: &[&str]) -> Vec<String> {
        scopes.iter().map(|scope| (*scope).to_owned()).collect()
    }

    #[test]
    fn the_challenge_comes_before_the_resources_scopes() {
        let challenge = list(&["read"]);
        let resource = list(&["read", "write"]);
        let sources = ScopeSources {
            challenge: Some(&challenge),
            resource: Some(&resource),
            ..ScopeSources::default()
        };
        assert_eq!(requested_scopes(sources), list(&["read"]));
        let sources = ScopeSources {
            challenge: None,
            ..sources
        };
        assert_eq!(requested_scopes(sources), list(&["read", "write"]));
    }

    #[test]
    fn the_operators_scopes_override_every_other_source() {
        let operator = list(&["admin", "admin"]);
        let challenge = list(&["read"]);
        let sources = ScopeSources {
            operator: &operator,
            challenge: Some(&challenge),
            ..ScopeSources::default()
        };
        assert_eq!(requested_scopes(sources), list(&["admin"]));
    }

    #[test]
    fn a_union_keeps_the_first_order_and_adds_what_is_new() {
        assert_eq!(
            union_scopes(&list(&["mcp:basic", "read"]), &list(&["mcp:write", "read"])),
            list(&["mcp:basic", "read", "mcp:write"])
        );
    }

    #[test]
    fn no_source_means_no_scope() {
        assert!(requested_scopes(ScopeSources::default()).is_empty());
    }

    #[test]
    fn offline_access_is_added_once_when_the_authorization_server_offers_it() {
        let offered = list(&["read", OFFLINE_ACCESS]);
        let challenge = list(&["read"]);
        let sources = ScopeSources {
            challenge: Some(&challenge),
            authorization_server: Some(&offered),
            ..ScopeSources::default()
        };
        assert_eq!(requested_scopes(sources), list(&["read", OFFLINE_ACCESS]));
        let already = list(&[OFFLINE_ACCESS, "read"]);
        let sources = ScopeSources {
            challenge: Some(&already),
            ..sources
        };
        assert_eq!(requested_scopes(sources), list(&[OFFLINE_ACCESS, "read"]));
    }

    #[test]
    fn offline_access_is_not_asked_of_a_server_that_does_not_offer_it() {
        let offered = list(&["read"]);
        let sources = ScopeSources {
            authorization_server: Some(&offered),
            ..ScopeSources::default()
        };
        assert!(requested_scopes(sources).is_empty());
    }
}
