//! Host name resolution for the guard: the one place that asks DNS.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::GuardError;
use super::allow_list::normalize_host;

/// How long one resolution may take before the URL is refused as unresolvable.
pub(crate) const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The addresses `host` stands for. IP literals and `localhost` names are answered without
/// DNS; other names go to the system resolver with [`RESOLVE_TIMEOUT`].
pub(crate) async fn resolve_host(host: &str) -> Result<Vec<IpAddr>, GuardError> {
    if let Some(addrs) = resolve_locally(host) {
        return Ok(addrs);
    }
    let unresolvable = |reason: String| GuardError::Unresolvable {
        host: host.to_owned(),
        reason,
    };
    // Port 0: only the addresses matter; the caller keeps the URL's port.
    let lookup = tokio::net::lookup_host((host, 0));
    let addrs = tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
        .await
        .map_err(|_| {
            unresolvable(format!(
                "no answer within {} seconds",
                RESOLVE_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e| unresolvable(e.to_string()))?;
    // Unique addresses in the resolver's order of preference.
    let mut ips: Vec<IpAddr> = Vec::new();
    for ip in addrs.map(|addr| addr.ip()) {
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    Ok(ips)
}

/// Answers that must not depend on DNS: IP literals (with or without brackets) and the
/// `localhost` names, which RFC 6761 reserves for loopback whatever a resolver says.
pub(crate) fn resolve_locally(host: &str) -> Option<Vec<IpAddr>> {
    let name = normalize_host(host);
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(vec![ip]);
    }
    is_localhost_name(name).then(|| {
        vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]
    })
}

/// `localhost`, `*.localhost`, any case, with or without the trailing dot.
pub(crate) fn is_localhost_name(host: &str) -> bool {
    let name = normalize_host(host).to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_names_are_recognised_in_every_spelling() {
        for name in [
            "localhost",
            "LOCALHOST",
            "LOCALHOST.",
            "localhost.",
            "foo.localhost",
            "a.b.LocalHost.",
        ] {
            assert!(is_localhost_name(name), "{name}");
        }
        for name in ["localhost.example", "mylocalhost", "localhostx", "", "."] {
            assert!(!is_localhost_name(name), "{name}");
        }
    }

    #[test]
    fn localhost_resolves_to_both_loopback_addresses_without_dns() {
        let expected = vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ];
        assert_eq!(resolve_locally("foo.localhost"), Some(expected));
    }

    #[test]
    fn ip_literals_resolve_to_themselves_with_or_without_brackets() {
        let v6: IpAddr = "::ffff:127.0.0.1".parse().expect("parses");
        assert_eq!(resolve_locally("[::ffff:127.0.0.1]"), Some(vec![v6]));
        assert_eq!(
            resolve_locally("10.0.0.1"),
            Some(vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))])
        );
        assert_eq!(resolve_locally("example.com"), None);
    }

    #[tokio::test]
    async fn resolve_host_answers_localhost_without_dns() {
        let addrs = resolve_host("LOCALHOST.").await.expect("resolves");
        assert_eq!(addrs.len(), 2);
        assert!(addrs.iter().all(IpAddr::is_loopback));
    }
}
