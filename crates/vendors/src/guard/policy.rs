//! The decision: which upstream URLs and addresses the service may connect to.

use std::net::IpAddr;
use std::sync::Arc;

use url::Url;

use super::allow_list::AllowList;
use super::resolve::resolve_host;
use super::{GuardError, classify};

/// Which upstreams the service may connect to: public addresses, plus what the operator
/// allowed. Cheap to clone. The HTTP client side is [`UpstreamPolicy::http_client_builder`].
#[derive(Debug, Clone)]
pub struct UpstreamPolicy {
    allow: Arc<AllowList>,
}

impl UpstreamPolicy {
    /// Only public addresses.
    pub fn public_only() -> Self {
        Self {
            allow: Arc::new(AllowList::default()),
        }
    }

    /// Public addresses plus what `spec` (the value of `FEATHER_ALLOW_UPSTREAM`) allows:
    /// comma-separated entries, each a CIDR (`10.0.0.0/8`, `::1/128`), a bare IP (= /32 or
    /// /128), or a host name (matched case-insensitively and exactly against the URL's host;
    /// `localhost` is allowed only if listed). Whitespace around entries and empty entries
    /// are ignored. A cloud metadata address is allowed only by an entry for that exact
    /// address (or a host entry), never by a wider CIDR.
    ///
    /// # Errors
    /// [`GuardError::InvalidAllowList`] naming the first invalid entry.
    pub fn with_allow_list(spec: &str) -> Result<Self, GuardError> {
        Ok(Self {
            allow: Arc::new(AllowList::parse(spec)?),
        })
    }

    /// Whether the connection to `ip` (reached through host name `host`, if any) is allowed.
    ///
    /// # Errors
    /// [`GuardError::Forbidden`] with the address's class.
    pub fn check_ip(&self, host: Option<&str>, ip: IpAddr) -> Result<(), GuardError> {
        let class = classify(ip);
        if class.is_public() || self.allow.allows(host, ip, class) {
            return Ok(());
        }
        Err(GuardError::Forbidden {
            host: host.map_or_else(|| ip.to_string(), str::to_owned),
            ip,
            class,
        })
    }

    /// Connect-time check of a user-given URL; returns it parsed. The URL must be http(s),
    /// have a host and carry no credentials (secrets belong in the auth fields, where they
    /// are encrypted). IP-literal hosts are checked directly — the URL parser has already
    /// normalized decimal, octal, hex and short IPv4 forms (`http://2130706433/` is
    /// 127.0.0.1). `localhost` and `*.localhost` are loopback without asking DNS; other
    /// names are resolved (5 s timeout) and refused if ANY address is not allowed, so one
    /// private address cannot hide among public ones.
    ///
    /// This is a check at one moment: DNS may change later, which is why connections made
    /// with [`Self::http_client_builder`] check again.
    ///
    /// # Errors
    /// Any [`GuardError`] but `InvalidAllowList`.
    pub async fn check_url(&self, raw: &str) -> Result<Url, GuardError> {
        let url = Url::parse(raw).map_err(|e| GuardError::InvalidUrl(e.to_string()))?;
        let host = check_url_shape(&url)?;
        let addrs = resolve_host(host).await?;
        self.check_all(host, &addrs)?;
        Ok(url)
    }

    /// Every address must be allowed (the connect-time rule).
    pub(crate) fn check_all(&self, host: &str, addrs: &[IpAddr]) -> Result<(), GuardError> {
        if addrs.is_empty() {
            return Err(no_addresses(host));
        }
        addrs
            .iter()
            .try_for_each(|&ip| self.check_ip(Some(host), ip))
    }

    /// The allowed subset of `addrs`, in order (the per-connection rule: the connection is
    /// pinned to these). Fails with the first refusal when nothing is left.
    pub(crate) fn allowed_addresses(
        &self,
        host: &str,
        addrs: &[IpAddr],
    ) -> Result<Vec<IpAddr>, GuardError> {
        let mut first_refusal = None;
        let mut allowed = Vec::with_capacity(addrs.len());
        for &ip in addrs {
            match self.check_ip(Some(host), ip) {
                Ok(()) => allowed.push(ip),
                Err(refusal) => {
                    tracing::warn!(host, %ip, "refused an upstream address: {refusal}");
                    first_refusal.get_or_insert(refusal);
                }
            }
        }
        if allowed.is_empty() {
            return Err(first_refusal.unwrap_or_else(|| no_addresses(host)));
        }
        Ok(allowed)
    }
}

/// The checks that need no DNS: http(s), no userinfo, a host. Returns the host as written
/// in the URL (IPv6 literals keep their brackets).
pub(crate) fn check_url_shape(url: &Url) -> Result<&str, GuardError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(GuardError::UnsupportedScheme(url.scheme().to_owned()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(GuardError::CredentialsInUrl);
    }
    match url.host_str() {
        Some(host) if !host.is_empty() => Ok(host),
        _ => Err(GuardError::MissingHost),
    }
}

fn no_addresses(host: &str) -> GuardError {
    GuardError::Unresolvable {
        host: host.to_owned(),
        reason: "no addresses".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::AddressClass;
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address parses")
    }

    fn allow(spec: &str) -> UpstreamPolicy {
        UpstreamPolicy::with_allow_list(spec).expect("valid allow-list")
    }

    /// The class a refused URL reports, or None when it is allowed. Never sends traffic:
    /// only IP literals and localhost names are used.
    async fn refusal(policy: &UpstreamPolicy, url: &str) -> Option<AddressClass> {
        match policy.check_url(url).await {
            Ok(_) => None,
            Err(GuardError::Forbidden { class, .. }) => Some(class),
            Err(other) => panic!("{url}: expected Forbidden or Ok, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn every_encoding_of_loopback_is_refused() {
        let policy = UpstreamPolicy::public_only();
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://017700000001/",
            "http://[::1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[2002:7f00:1::]/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://foo.localhost:8080/",
            "http://ｌｏｃａｌｈｏｓｔ/",
        ] {
            assert_eq!(
                refusal(&policy, url).await,
                Some(AddressClass::Loopback),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn non_public_ip_literals_are_refused_with_their_class() {
        let policy = UpstreamPolicy::public_only();
        let cases = [
            ("http://10.1.2.3/", AddressClass::Private),
            ("https://[fd12::1]/", AddressClass::Private),
            ("http://[2002:c0a8:101::1]/", AddressClass::Private),
            ("http://169.254.1.1/", AddressClass::LinkLocal),
            ("http://[fe80::1]/", AddressClass::LinkLocal),
            (
                "http://169.254.169.254/latest/meta-data/",
                AddressClass::CloudMetadata,
            ),
            ("http://[fd00:ec2::254]/", AddressClass::CloudMetadata),
            ("http://[::ffff:a9fe:a9fe]/", AddressClass::CloudMetadata),
            ("http://0/", AddressClass::Unspecified),
            ("http://[::]/", AddressClass::Unspecified),
            ("http://224.0.0.1/", AddressClass::Multicast),
            ("http://[ff02::1]/", AddressClass::Multicast),
            ("http://255.255.255.255/", AddressClass::Broadcast),
            ("http://100.64.0.1/", AddressClass::SharedAddressSpace),
            ("http://192.0.2.1/", AddressClass::Documentation),
            ("http://198.18.0.1/", AddressClass::Benchmarking),
            ("http://240.0.0.1/", AddressClass::Reserved),
        ];
        for (url, class) in cases {
            assert_eq!(refusal(&policy, url).await, Some(class), "{url}");
        }
    }

    #[tokio::test]
    async fn public_ip_literals_pass_and_come_back_parsed() {
        let policy = UpstreamPolicy::public_only();
        for raw in [
            "http://93.184.216.34/mcp",
            "https://[2606:4700::1111]:8443/mcp?x=1",
        ] {
            let url = policy.check_url(raw).await.expect("public address allowed");
            assert_eq!(url.as_str(), raw);
        }
    }

    #[tokio::test]
    async fn only_http_and_https_are_accepted() {
        let policy = UpstreamPolicy::public_only();
        for (url, scheme) in [
            ("ftp://93.184.216.34/", "ftp"),
            ("file:///etc/passwd", "file"),
            ("gopher://93.184.216.34:70/_x", "gopher"),
            ("javascript:alert(1)", "javascript"),
            ("ws://93.184.216.34/", "ws"),
            ("data:text/plain,hi", "data"),
        ] {
            assert_eq!(
                policy.check_url(url).await,
                Err(GuardError::UnsupportedScheme(scheme.to_owned())),
                "{url}"
            );
        }
    }

    #[tokio::test]
    async fn credentials_in_the_url_are_refused_before_any_lookup() {
        let policy = UpstreamPolicy::public_only();
        for url in [
            "https://user:secret@93.184.216.34/",
            "https://user@93.184.216.34/",
            "https://:secret@93.184.216.34/",
            "https://token@unresolvable.invalid/",
        ] {
            let err = policy.check_url(url).await.expect_err("refused");
            assert_eq!(err, GuardError::CredentialsInUrl, "{url}");
            assert!(!err.to_string().contains("secret"));
        }
    }

    #[tokio::test]
    async fn malformed_urls_are_invalid_and_the_message_does_not_echo_them() {
        let policy = UpstreamPolicy::public_only();
        for url in [
            "",
            "not a url",
            "/relative/path?token=secret",
            "http://",
            "http://[::1/",
            "http://999.1.1.1/",
            "http://exa mple.com/?token=secret",
        ] {
            let err = policy.check_url(url).await.expect_err("refused");
            assert!(matches!(err, GuardError::InvalidUrl(_)), "{url}: {err:?}");
            assert!(!err.to_string().contains("secret"), "{err}");
        }
    }

    #[tokio::test]
    async fn allow_list_opens_loopback_by_cidr_or_host_name() {
        let by_cidr = allow("127.0.0.1/32,::1/128");
        assert_eq!(refusal(&by_cidr, "http://127.0.0.1:8080/mcp").await, None);
        assert_eq!(refusal(&by_cidr, "http://[::ffff:127.0.0.1]/").await, None);
        assert_eq!(refusal(&by_cidr, "http://localhost:3000/").await, None);
        assert_eq!(
            refusal(&by_cidr, "http://127.0.0.2/").await,
            Some(AddressClass::Loopback)
        );

        let by_name = allow("localhost");
        assert_eq!(refusal(&by_name, "http://LocalHost./").await, None);
        assert_eq!(
            refusal(&by_name, "http://127.0.0.1/").await,
            Some(AddressClass::Loopback)
        );
        assert_eq!(
            refusal(&by_name, "http://foo.localhost/").await,
            Some(AddressClass::Loopback)
        );
    }

    #[tokio::test]
    async fn localhost_is_refused_unless_both_loopback_addresses_are_allowed() {
        // localhost stands for 127.0.0.1 and ::1; like any name, all its addresses must pass.
        let v4_only = allow("127.0.0.1/32");
        let err = v4_only
            .check_url("http://localhost/")
            .await
            .expect_err("refused");
        assert_eq!(
            err,
            GuardError::Forbidden {
                host: "localhost".into(),
                ip: ip("::1"),
                class: AddressClass::Loopback
            }
        );
    }

    #[test]
    fn check_ip_refusal_names_the_host_or_the_address() {
        let policy = UpstreamPolicy::public_only();
        assert_eq!(
            policy.check_ip(Some("db.internal"), ip("10.0.0.5")),
            Err(GuardError::Forbidden {
                host: "db.internal".into(),
                ip: ip("10.0.0.5"),
                class: AddressClass::Private
            })
        );
        assert_eq!(
            policy.check_ip(None, ip("10.0.0.5")),
            Err(GuardError::Forbidden {
                host: "10.0.0.5".into(),
                ip: ip("10.0.0.5"),
                class: AddressClass::Private
            })
        );
        assert_eq!(policy.check_ip(None, ip("93.184.216.34")), Ok(()));
        assert_eq!(
            policy.check_ip(Some("example.com"), ip("2606:4700::1111")),
            Ok(())
        );
    }

    #[test]
    fn invalid_allow_list_is_an_error_naming_the_entry() {
        assert_eq!(
            UpstreamPolicy::with_allow_list("127.0.0.1/32, 10.0.0.0/99").err(),
            Some(GuardError::InvalidAllowList("10.0.0.0/99".into()))
        );
        assert!(UpstreamPolicy::with_allow_list(" , ").is_ok());
    }

    #[test]
    fn every_resolved_address_must_pass_at_connect_time() {
        let policy = UpstreamPolicy::public_only();
        let mixed = [ip("93.184.216.34"), ip("10.0.0.1"), ip("2606:4700::1111")];
        assert_eq!(
            policy.check_all("mixed.example", &mixed),
            Err(GuardError::Forbidden {
                host: "mixed.example".into(),
                ip: ip("10.0.0.1"),
                class: AddressClass::Private
            })
        );
        assert_eq!(
            policy.check_all("public.example", &[ip("93.184.216.34")]),
            Ok(())
        );
        assert!(matches!(
            policy.check_all("empty.example", &[]),
            Err(GuardError::Unresolvable { .. })
        ));
    }

    #[test]
    fn per_connection_resolution_keeps_only_allowed_addresses_in_order() {
        let policy = allow("10.0.0.1");
        let addrs = [
            ip("127.0.0.1"),
            ip("2606:4700::1111"),
            ip("10.0.0.1"),
            ip("169.254.169.254"),
            ip("93.184.216.34"),
        ];
        assert_eq!(
            policy.allowed_addresses("host.example", &addrs),
            Ok(vec![
                ip("2606:4700::1111"),
                ip("10.0.0.1"),
                ip("93.184.216.34")
            ])
        );
    }

    #[test]
    fn per_connection_resolution_fails_with_the_first_refusal_when_nothing_is_allowed() {
        let policy = UpstreamPolicy::public_only();
        assert_eq!(
            policy.allowed_addresses("rebound.example", &[ip("169.254.169.254"), ip("10.0.0.1")]),
            Err(GuardError::Forbidden {
                host: "rebound.example".into(),
                ip: ip("169.254.169.254"),
                class: AddressClass::CloudMetadata
            })
        );
        assert!(matches!(
            policy.allowed_addresses("empty.example", &[]),
            Err(GuardError::Unresolvable { .. })
        ));
    }

    #[test]
    fn url_shape_requires_http_a_host_and_no_userinfo() {
        let shape = |s: &str| check_url_shape(&Url::parse(s).expect("parses")).map(str::to_owned);
        assert_eq!(
            shape("https://Example.COM:8443/x"),
            Ok("example.com".into())
        );
        assert_eq!(shape("http://[::1]/"), Ok("[::1]".into()));
        assert_eq!(
            shape("http://u:p@example.com/"),
            Err(GuardError::CredentialsInUrl)
        );
        assert_eq!(
            shape("mailto:a@example.com"),
            Err(GuardError::UnsupportedScheme("mailto".into()))
        );
    }
}
