//! The operator's allow-list (`FEATHER_ALLOW_UPSTREAM`): hosts and CIDRs that may be reached
//! even though they are not public.

use std::net::IpAddr;

use ipnet::IpNet;

use super::GuardError;
use super::class::{AddressClass, embedded_ipv4};

/// Parsed allow-list entries.
#[derive(Debug, Default)]
pub(crate) struct AllowList {
    nets: Vec<IpNet>,
    /// Lower-case ASCII (punycode) host names without a trailing dot.
    hosts: Vec<String>,
}

impl AllowList {
    /// Parses comma-separated entries; blank entries are skipped.
    pub(crate) fn parse(spec: &str) -> Result<Self, GuardError> {
        let mut list = Self::default();
        for entry in spec.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match parse_entry(entry)? {
                Entry::Net(net) => list.nets.push(net),
                Entry::Host(host) => list.hosts.push(host),
            }
        }
        Ok(list)
    }

    /// Whether the operator allowed `ip` (of class `class`) reached through `host`.
    pub(crate) fn allows(&self, host: Option<&str>, ip: IpAddr, class: AddressClass) -> bool {
        host.is_some_and(|h| self.allows_host(h)) || self.allows_address(ip, class)
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = normalize_host(host);
        self.hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    /// Matches the literal address and the IPv4 address it embeds, so `127.0.0.1/32` also
    /// covers `::ffff:127.0.0.1`. A cloud metadata address is matched only by an entry for
    /// that single address: a broad range such as `169.254.0.0/16` or `0.0.0.0/0` written to
    /// reach local services must not also hand out the host's cloud credentials.
    fn allows_address(&self, ip: IpAddr, class: AddressClass) -> bool {
        let embedded = match ip {
            IpAddr::V6(v6) => embedded_ipv4(v6).map(IpAddr::V4),
            IpAddr::V4(_) => None,
        };
        let metadata = class == AddressClass::CloudMetadata;
        self.nets
            .iter()
            .filter(|net| !metadata || net.prefix_len() == net.max_prefix_len())
            .any(|net| net.contains(&ip) || embedded.is_some_and(|e| net.contains(&e)))
    }
}

enum Entry {
    Net(IpNet),
    Host(String),
}

fn parse_entry(entry: &str) -> Result<Entry, GuardError> {
    let invalid = || GuardError::InvalidAllowList(entry.to_owned());
    if let Ok(net) = entry.parse::<IpNet>() {
        return Ok(Entry::Net(net.trunc()));
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(Entry::Net(IpNet::from(ip)));
    }
    // Wildcards are not supported; refusing them beats silently never matching.
    if entry.contains('*') {
        return Err(invalid());
    }
    // The URL parser's own host rules, so an entry is normalized (case, IDNA, IPv4 forms)
    // exactly like the URL host it is compared with.
    match url::Host::parse(entry).map_err(|_| invalid())? {
        url::Host::Domain(name) => Ok(Entry::Host(normalize_host(&name).to_owned())),
        url::Host::Ipv4(ip) => Ok(Entry::Net(IpNet::from(IpAddr::V4(ip)))),
        url::Host::Ipv6(ip) => Ok(Entry::Net(IpNet::from(IpAddr::V6(ip)))),
    }
}

/// `Example.COM.` and `example.com` name the same host; `[::1]` is `::1`.
pub(crate) fn normalize_host(host: &str) -> &str {
    let host = host.strip_suffix('.').unwrap_or(host);
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address parses")
    }

    fn allows(spec: &str, host: Option<&str>, addr: &str) -> bool {
        let list = AllowList::parse(spec).expect("valid allow-list");
        let addr = ip(addr);
        list.allows(host, addr, super::super::classify(addr))
    }

    #[test]
    fn parses_cidrs_bare_ips_and_hosts_ignoring_whitespace_and_empty_entries() {
        let list =
            AllowList::parse(" 10.0.0.0/8 ,, ::1/128,192.168.1.5 ,fe80::1, My-Host.Example ,")
                .expect("valid");
        assert_eq!(
            list.nets,
            vec![
                "10.0.0.0/8".parse::<IpNet>().expect("net"),
                "::1/128".parse().expect("net"),
                "192.168.1.5/32".parse().expect("net"),
                "fe80::1/128".parse().expect("net"),
            ]
        );
        assert_eq!(list.hosts, vec!["my-host.example".to_owned()]);
    }

    #[test]
    fn empty_spec_allows_nothing() {
        let list = AllowList::parse(" , ").expect("valid");
        assert!(list.nets.is_empty() && list.hosts.is_empty());
        assert!(!allows("", Some("localhost"), "127.0.0.1"));
    }

    #[test]
    fn invalid_entries_are_reported_by_name() {
        for bad in [
            "10.0.0.0/33",
            "::1/129",
            "10.0.0.0/",
            "300.1.1.1",
            "*.example.com",
            "http://example.com",
            "example.com:8080",
            "127.0.0.1:80",
            "exa mple.com",
            "a/b",
        ] {
            let err = AllowList::parse(&format!("127.0.0.1/32, {bad} ,::1")).err();
            assert_eq!(
                err,
                Some(GuardError::InvalidAllowList(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn cidr_host_bits_are_ignored() {
        assert!(allows("10.1.2.3/8", None, "10.200.0.1"));
    }

    #[test]
    fn url_style_ip_forms_are_accepted_as_addresses() {
        assert!(allows("[::1]", None, "::1"));
        assert!(allows("127.1", None, "127.0.0.1"));
    }

    #[test]
    fn cidr_matches_the_literal_and_the_embedded_ipv4() {
        assert!(allows("127.0.0.1/32", None, "127.0.0.1"));
        assert!(allows("127.0.0.1/32", None, "::ffff:127.0.0.1"));
        assert!(allows("127.0.0.1/32", None, "::127.0.0.1"));
        assert!(allows("10.0.0.0/8", None, "64:ff9b::10.9.8.7"));
        assert!(allows("::ffff:127.0.0.1/128", None, "::ffff:127.0.0.1"));
        assert!(!allows("127.0.0.1/32", None, "127.0.0.2"));
        assert!(!allows("127.0.0.1/32", None, "::1"));
        assert!(!allows("::1/128", None, "127.0.0.1"));
    }

    #[test]
    fn host_entries_match_case_insensitively_and_exactly() {
        assert!(allows(
            "internal.example",
            Some("INTERNAL.example"),
            "10.0.0.1"
        ));
        assert!(allows(
            "internal.example.",
            Some("internal.example"),
            "10.0.0.1"
        ));
        assert!(allows(
            "internal.example",
            Some("internal.example."),
            "10.0.0.1"
        ));
        assert!(!allows(
            "internal.example",
            Some("a.internal.example"),
            "10.0.0.1"
        ));
        assert!(!allows(
            "internal.example",
            Some("internal.example.org"),
            "10.0.0.1"
        ));
        assert!(!allows("internal.example", None, "10.0.0.1"));
    }

    #[test]
    fn localhost_is_allowed_only_when_listed() {
        assert!(allows("localhost", Some("localhost"), "127.0.0.1"));
        assert!(allows("localhost", Some("localhost"), "::1"));
        assert!(!allows("10.0.0.0/8", Some("localhost"), "127.0.0.1"));
        assert!(!allows("localhost", Some("foo.localhost"), "127.0.0.1"));
    }

    #[test]
    fn unicode_host_entries_match_the_punycode_url_host() {
        assert!(allows(
            "bücher.example",
            Some("xn--bcher-kva.example"),
            "10.0.0.1"
        ));
    }

    #[test]
    fn metadata_needs_an_entry_for_that_exact_address() {
        assert!(!allows("169.254.0.0/16", None, "169.254.169.254"));
        assert!(!allows("0.0.0.0/0", None, "169.254.169.254"));
        assert!(!allows("::/0", None, "fd00:ec2::254"));
        assert!(allows("169.254.0.0/16", None, "169.254.1.1"));
        assert!(allows("169.254.169.254", None, "169.254.169.254"));
        assert!(allows("169.254.169.254/32", None, "::ffff:169.254.169.254"));
        assert!(allows(
            "metadata.internal",
            Some("metadata.internal"),
            "169.254.169.254"
        ));
    }

    #[test]
    fn normalize_host_strips_brackets_and_one_trailing_dot() {
        assert_eq!(normalize_host("[::1]"), "::1");
        assert_eq!(normalize_host("example.com."), "example.com");
        assert_eq!(normalize_host("example.com"), "example.com");
        assert_eq!(normalize_host("["), "[");
        assert_eq!(normalize_host(""), "");
    }
}
