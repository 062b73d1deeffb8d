//! Why an upstream URL was refused.

use std::fmt;
use std::net::IpAddr;

use super::AddressClass;

/// Why an upstream URL was refused. Display is one human sentence that says why and what to
/// do; it never includes URL credentials, paths or query strings (only scheme, host and
/// address), so it is safe to return to the client in a 422 and to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The text is not an absolute URL; holds the parser's reason, not the URL.
    #[error("The server URL is not a valid URL ({0}); give an absolute http:// or https:// URL.")]
    InvalidUrl(String),
    /// A scheme other than http or https; holds the scheme.
    #[error("The server URL uses the scheme \"{0}\"; only http and https URLs are supported.")]
    UnsupportedScheme(String),
    /// The URL has no host to connect to.
    #[error("The server URL has no host; give an http:// or https:// URL with a host name.")]
    MissingHost,
    /// The URL carries a user name or password (`https://user:pass@host/`).
    #[error(
        "The server URL contains a user name or password; remove it and put credentials in \
         the authentication settings instead."
    )]
    CredentialsInUrl,
    /// The host is, or resolves to, an address the policy does not allow.
    #[error("{}", forbidden_message(host, *ip, *class))]
    Forbidden {
        /// The URL's host as written (an IP literal keeps its brackets), or the address.
        host: String,
        /// The refused address.
        ip: IpAddr,
        /// Why the address is refused.
        class: AddressClass,
    },
    /// DNS gave no usable answer.
    #[error("The server URL host {host} could not be resolved ({reason}); check the host name.")]
    Unresolvable {
        /// The host name that was looked up.
        host: String,
        /// The resolver's reason.
        reason: String,
    },
    /// A redirect to another origin (scheme, host or port); holds the new origin only.
    /// Followed, it would hand that server the connection's credential headers and the
    /// request body (tool arguments): reqwest strips only `Authorization` on such a hop.
    #[error(
        "The server redirected to another origin ({0}); the service follows redirects only \
         within the server's own origin, so that its credentials and requests never reach \
         another server. Connect that server's URL directly if it is the right one."
    )]
    CrossOriginRedirect(String),
    /// An entry of the operator's allow-list (`FEATHER_ALLOW_UPSTREAM`) is not a host name,
    /// IP address or CIDR; holds the entry.
    #[error(
        "The --allow-upstream option (FEATHER_ALLOW_UPSTREAM) has an invalid entry \"{0}\"; give comma-separated host names, \
         IP addresses or CIDRs, e.g. 127.0.0.1/32,::1/128."
    )]
    InvalidAllowList(String),
}

fn forbidden_message(host: &str, ip: IpAddr, class: AddressClass) -> String {
    let target = ForbiddenTarget { host, ip };
    let desc = class.describe();
    if class == AddressClass::CloudMetadata {
        // A broad CIDR never unlocks metadata (see the allow-list), so say what does.
        format!(
            "{target}, {desc}; the service never connects to cloud metadata services unless \
             --allow-upstream (FEATHER_ALLOW_UPSTREAM) lists that exact address."
        )
    } else {
        format!(
            "{target}, {desc}; the service only connects to public addresses unless \
             --allow-upstream (FEATHER_ALLOW_UPSTREAM) allows it."
        )
    }
}

/// "The server URL points to 10.0.0.1" for IP literals, "... host h resolves to ..." for names.
struct ForbiddenTarget<'a> {
    host: &'a str,
    ip: IpAddr,
}

impl fmt::Display for ForbiddenTarget<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let literal = self.host.trim_start_matches('[').trim_end_matches(']');
        if literal.parse::<IpAddr>().is_ok() {
            write!(f, "The server URL points to {}", self.ip)
        } else {
            write!(
                f,
                "The server URL host {} resolves to {}",
                self.host, self.ip
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forbidden(host: &str, ip: &str, class: AddressClass) -> String {
        GuardError::Forbidden {
            host: host.to_owned(),
            ip: ip.parse().expect("test address parses"),
            class,
        }
        .to_string()
    }

    #[test]
    fn forbidden_name_says_what_it_resolves_to_and_what_to_do() {
        assert_eq!(
            forbidden("internal.example", "10.1.2.3", AddressClass::Private),
            "The server URL host internal.example resolves to 10.1.2.3, a private address; the \
             service only connects to public addresses unless --allow-upstream \
             (FEATHER_ALLOW_UPSTREAM) allows it."
        );
    }

    #[test]
    fn forbidden_ip_literal_says_where_it_points() {
        let message = forbidden("[::1]", "::1", AddressClass::Loopback);
        assert!(
            message.starts_with("The server URL points to ::1, a loopback address;"),
            "{message}"
        );
    }

    #[test]
    fn forbidden_metadata_explains_that_only_the_exact_address_unlocks_it() {
        let message = forbidden(
            "169.254.169.254",
            "169.254.169.254",
            AddressClass::CloudMetadata,
        );
        assert!(message.contains("a cloud metadata address"), "{message}");
        assert!(message.contains("lists that exact address"), "{message}");
    }

    #[test]
    fn every_message_is_one_sentence() {
        let errors = [
            GuardError::InvalidUrl("relative URL without a base".into()),
            GuardError::UnsupportedScheme("ftp".into()),
            GuardError::MissingHost,
            GuardError::CredentialsInUrl,
            GuardError::Unresolvable {
                host: "nowhere.example".into(),
                reason: "no addresses".into(),
            },
            GuardError::InvalidAllowList("10.0.0.0/33".into()),
            GuardError::CrossOriginRedirect("https://other.example".into()),
        ];
        for error in errors {
            let message = error.to_string();
            assert!(message.starts_with(char::is_uppercase), "{message}");
            assert!(message.ends_with('.'), "{message}");
        }
    }
}
