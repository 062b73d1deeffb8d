//! Address classification: which kind of address an IP is, with no I/O.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

/// What kind of address an IP is, for the SSRF decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressClass {
    /// Globally routable: the only class allowed by default.
    Public,
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// RFC 1918, IPv6 unique-local fc00::/7 (and deprecated site-local fec0::/10).
    Private,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 0.0.0.0, :: (Linux connects these to the local host).
    Unspecified,
    /// 255.255.255.255.
    Broadcast,
    /// 100.64.0.0/10, carrier-grade NAT (RFC 6598).
    SharedAddressSpace,
    /// Instance metadata services, which hand out cloud credentials.
    CloudMetadata,
    /// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18.0.0/15, 2001:2::/48.
    Benchmarking,
    /// Everything else that is not globally routable: 0.0.0.0/8, 240.0.0.0/4, 192.0.0.0/24,
    /// 192.88.99.0/24, IPv6 discard 100::/64, 2001::/23, and IPv6 outside 2000::/3.
    Reserved,
}

impl AddressClass {
    /// Whether the address is globally routable (the default policy allows only these).
    pub fn is_public(self) -> bool {
        self == Self::Public
    }

    /// The class as a noun phrase for error messages ("a loopback address").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Public => "a public address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::LinkLocal => "a link-local address",
            Self::Multicast => "a multicast address",
            Self::Unspecified => "the unspecified address",
            Self::Broadcast => "the broadcast address",
            Self::SharedAddressSpace => "a shared (carrier-grade NAT) address",
            Self::CloudMetadata => "a cloud metadata address",
            Self::Documentation => "a documentation address",
            Self::Benchmarking => "a benchmarking address",
            Self::Reserved => "a reserved address",
        }
    }
}

use AddressClass as C;

/// Special IPv4 ranges, most specific first: the first match wins, which is how the metadata
/// addresses take precedence over the link-local or shared range that contains them.
const V4_RANGES: &[(Ipv4Net, AddressClass)] = &[
    (v4(169, 254, 169, 254, 32), C::CloudMetadata), // AWS, GCP, Azure, OpenStack, ...
    (v4(169, 254, 170, 2, 32), C::CloudMetadata),   // AWS ECS task credentials
    (v4(169, 254, 170, 23, 32), C::CloudMetadata),  // AWS EKS Pod Identity agent
    (v4(100, 100, 100, 200, 32), C::CloudMetadata), // Alibaba Cloud
    (v4(255, 255, 255, 255, 32), C::Broadcast),
    (v4(0, 0, 0, 0, 32), C::Unspecified),
    (v4(0, 0, 0, 0, 8), C::Reserved), // "this network"
    (v4(10, 0, 0, 0, 8), C::Private),
    (v4(100, 64, 0, 0, 10), C::SharedAddressSpace),
    (v4(127, 0, 0, 0, 8), C::Loopback),
    (v4(169, 254, 0, 0, 16), C::LinkLocal),
    (v4(172, 16, 0, 0, 12), C::Private),
    (v4(192, 0, 0, 0, 24), C::Reserved), // IETF protocol assignments
    (v4(192, 0, 2, 0, 24), C::Documentation),
    (v4(192, 88, 99, 0, 24), C::Reserved), // deprecated 6to4 relay anycast (RFC 7526)
    (v4(192, 168, 0, 0, 16), C::Private),
    (v4(198, 18, 0, 0, 15), C::Benchmarking),
    (v4(198, 51, 100, 0, 24), C::Documentation),
    (v4(203, 0, 113, 0, 24), C::Documentation),
    (v4(224, 0, 0, 0, 4), C::Multicast),
    (v4(240, 0, 0, 0, 4), C::Reserved),
];

/// Special IPv6 ranges, most specific first. Addresses embedding an IPv4 address are handled
/// before this table (see [`embedded_ipv4`]).
const V6_RANGES: &[(Ipv6Net, AddressClass)] = &[
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), C::Unspecified),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), C::Loopback),
    (
        v6([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128),
        C::CloudMetadata,
    ), // AWS IMDS over IPv6
    (
        v6([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23], 128),
        C::CloudMetadata,
    ), // AWS EKS Pod Identity
    (v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48), C::Private), // local-use NAT64 (RFC 8215)
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), C::Reserved),    // discard-only (RFC 6666)
    (v6([0x2001, 2, 0, 0, 0, 0, 0, 0], 48), C::Benchmarking),
    (v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), C::Documentation),
    (v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), C::Reserved), // IETF protocol assignments, Teredo
    (v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), C::Documentation), // RFC 9637
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), C::Private),   // unique local
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), C::LinkLocal),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), C::Private), // deprecated site-local
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), C::Multicast),
];

/// Only 2000::/3 is allocated for global unicast; anything else not in the table is reserved.
const V6_GLOBAL_UNICAST: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

/// Classifies an address. IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64
/// (64:ff9b::/96) and 6to4 (2002::/16) IPv6 addresses are classified by the IPv4 address they
/// embed. ULA fc00::/7 is Private; fe80::/10 LinkLocal; ff00::/8 Multicast; ::1 Loopback;
/// :: Unspecified. Cloud metadata: 169.254.169.254, 169.254.170.2 (ECS), 169.254.170.23 (EKS),
/// 100.100.100.200 (Alibaba), fd00:ec2::254 and fd00:ec2::23 (AWS v6); CloudMetadata takes
/// precedence over LinkLocal/Private.
pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    V4_RANGES
        .iter()
        .find(|(net, _)| net.contains(&ip))
        .map_or(C::Public, |&(_, class)| class)
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    // An embedded IPv4 address is where the packets really go (the kernel maps ::ffff:0:0/96,
    // a NAT64 gateway or 6to4 relay translates), so it decides.
    if let Some(v4) = embedded_ipv4(ip) {
        return classify_v4(v4);
    }
    if let Some(&(_, class)) = V6_RANGES.iter().find(|(net, _)| net.contains(&ip)) {
        return class;
    }
    if V6_GLOBAL_UNICAST.contains(&ip) {
        C::Public
    } else {
        C::Reserved
    }
}

/// The IPv4 address an IPv6 address stands for, if it is IPv4-mapped (::ffff:a.b.c.d),
/// IPv4-compatible (::a.b.c.d, except :: and ::1), NAT64 well-known prefix (64:ff9b::/96) or
/// 6to4 (2002:aabb:ccdd::/48).
pub(crate) fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let o = ip.octets();
    let low32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match ip.segments() {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low32),
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, _, _] => Some(low32),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low32),
        [0x2002, ..] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        _ => None,
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> Ipv4Net {
    // Evaluated at compile time: an invalid prefix fails the build, never a request.
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix)
}

const fn v6(s: [u16; 8], prefix: u8) -> Ipv6Net {
    Ipv6Net::new_assert(
        Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]),
        prefix,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn assert_class(addr: &str, expected: AddressClass) {
        let ip: IpAddr = addr.parse().expect("test address parses");
        assert_eq!(classify(ip), expected, "{addr}");
    }

    #[test]
    fn ipv4_special_ranges_are_classified_up_to_their_boundaries() {
        // (just outside below, first, last, just outside above) for every range; the
        // neighbours are public unless another special range starts right there.
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str, &str, AddressClass)] = &[
            // below            first            last               above
            ("",               "0.0.0.1",       "0.255.255.255",   "1.0.0.0",       C::Reserved),
            ("9.255.255.255",  "10.0.0.0",      "10.255.255.255",  "11.0.0.0",      C::Private),
            ("100.63.255.255", "100.64.0.0",    "100.127.255.255", "100.128.0.0",   C::SharedAddressSpace),
            ("126.255.255.255","127.0.0.0",     "127.255.255.255", "128.0.0.0",     C::Loopback),
            ("169.253.255.255","169.254.0.0",   "169.254.255.255", "169.255.0.0",   C::LinkLocal),
            ("172.15.255.255", "172.16.0.0",    "172.31.255.255",  "172.32.0.0",    C::Private),
            ("191.255.255.255","192.0.0.0",     "192.0.0.255",     "192.0.1.0",     C::Reserved),
            ("192.0.1.255",    "192.0.2.0",     "192.0.2.255",     "192.0.3.0",     C::Documentation),
            ("192.88.98.255",  "192.88.99.0",   "192.88.99.255",   "192.88.100.0",  C::Reserved),
            ("192.167.255.255","192.168.0.0",   "192.168.255.255", "192.169.0.0",   C::Private),
            ("198.17.255.255", "198.18.0.0",    "198.19.255.255",  "198.20.0.0",    C::Benchmarking),
            ("198.51.99.255",  "198.51.100.0",  "198.51.100.255",  "198.51.101.0",  C::Documentation),
            ("203.0.112.255",  "203.0.113.0",   "203.0.113.255",   "203.0.114.0",   C::Documentation),
            ("223.255.255.255","224.0.0.0",     "239.255.255.255", "",              C::Multicast),
            ("",               "240.0.0.0",     "255.255.255.254", "",              C::Reserved),
        ];
        for &(below, first, last, above, class) in cases {
            assert_class(first, class);
            assert_class(last, class);
            for outside in [below, above].into_iter().filter(|a| !a.is_empty()) {
                assert_class(outside, C::Public);
            }
        }
    }

    #[test]
    fn ipv4_adjacent_special_ranges_do_not_bleed_into_each_other() {
        assert_class("0.255.255.255", C::Reserved);
        assert_class("239.255.255.255", C::Multicast);
        assert_class("240.0.0.0", C::Reserved);
    }

    #[test]
    fn ipv4_single_special_addresses_are_classified() {
        assert_class("0.0.0.0", C::Unspecified);
        assert_class("255.255.255.255", C::Broadcast);
        assert_class("127.0.0.1", C::Loopback);
    }

    #[test]
    fn cloud_metadata_takes_precedence_over_the_range_that_contains_it() {
        assert_class("169.254.169.254", C::CloudMetadata);
        assert_class("169.254.170.2", C::CloudMetadata);
        assert_class("169.254.170.23", C::CloudMetadata);
        assert_class("100.100.100.200", C::CloudMetadata);
        assert_class("fd00:ec2::254", C::CloudMetadata);
        assert_class("fd00:ec2::23", C::CloudMetadata);
        // Their neighbours keep the class of the surrounding range.
        assert_class("169.254.169.253", C::LinkLocal);
        assert_class("169.254.169.255", C::LinkLocal);
        assert_class("100.100.100.201", C::SharedAddressSpace);
        assert_class("fd00:ec2::255", C::Private);
    }

    #[test]
    fn cloud_metadata_is_recognised_through_ipv6_encodings() {
        assert_class("::ffff:169.254.169.254", C::CloudMetadata);
        assert_class("::169.254.169.254", C::CloudMetadata);
        assert_class("64:ff9b::a9fe:a9fe", C::CloudMetadata);
        assert_class("2002:a9fe:a9fe::1", C::CloudMetadata);
    }

    #[test]
    fn public_addresses_are_public() {
        for addr in [
            "93.184.216.34",
            "1.1.1.1",
            "8.8.8.8",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001::200e",
        ] {
            assert_class(addr, C::Public);
        }
    }

    #[test]
    fn ipv6_special_ranges_are_classified_up_to_their_boundaries() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str, &str, AddressClass)] = &[
            // below              first           last                        above
            ("",                 "::",           "::",                       "",            C::Unspecified),
            ("",                 "::1",          "::1",                      "",            C::Loopback),
            ("",                 "100::",        "100::ffff:ffff:ffff:ffff", "",            C::Reserved),
            ("2001:1:ffff:ffff::","2001:2::",    "2001:2:0:ffff::",          "2001:2:1::",  C::Benchmarking),
            ("2001:db7:ffff::",  "2001:db8::",   "2001:db8:ffff:ffff::",     "2001:db9::",  C::Documentation),
            ("2000:ffff:ffff::", "2001::",       "2001:1ff:ffff::",          "2001:200::",  C::Reserved),
            ("3ffe:ffff::",      "3fff::",       "3fff:fff:ffff::",          "3fff:1000::", C::Documentation),
            ("",                 "fc00::",       "fdff:ffff::",              "",            C::Private),
            ("",                 "fe80::",       "febf:ffff::",              "",            C::LinkLocal),
            ("",                 "fec0::",       "feff:ffff::",              "",            C::Private),
            ("",                 "ff00::",       "ff02::1",                  "",            C::Multicast),
            ("",                 "64:ff9b:1::",  "64:ff9b:1:ffff::",         "",            C::Private),
        ];
        for &(below, first, last, above, class) in cases {
            assert_class(first, class);
            assert_class(last, class);
            for outside in [below, above].into_iter().filter(|a| !a.is_empty()) {
                assert_ne!(
                    classify(outside.parse().expect("parses")),
                    class,
                    "{outside}"
                );
            }
        }
        assert_class("2001:200::", C::Public);
        assert_class("3fff:1000::", C::Public);
        assert_class("2001:db9::", C::Public);
    }

    #[test]
    fn ipv6_outside_global_unicast_is_reserved() {
        assert_class("1fff:ffff::", C::Reserved);
        assert_class("4000::", C::Reserved);
        assert_class("5f00::1", C::Reserved);
        assert_class("::ffff:0:7f00:1", C::Reserved); // SIIT form, not mapped
        assert_class("2000::", C::Public);
        assert_class("3ffe:ffff::", C::Public);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_classified_by_the_embedded_ipv4() {
        assert_class("::ffff:127.0.0.1", C::Loopback);
        assert_class("::ffff:7f00:1", C::Loopback);
        assert_class("::ffff:10.0.0.1", C::Private);
        assert_class("::ffff:0.0.0.0", C::Unspecified);
        assert_class("::ffff:224.0.0.1", C::Multicast);
        assert_class("::ffff:93.184.216.34", C::Public);
    }

    #[test]
    fn ipv4_compatible_ipv6_is_classified_by_the_embedded_ipv4() {
        assert_class("::127.0.0.1", C::Loopback);
        assert_class("::192.168.1.1", C::Private);
        assert_class("::0.0.0.2", C::Reserved);
        assert_class("::93.184.216.34", C::Public);
    }

    #[test]
    fn nat64_is_classified_by_the_embedded_ipv4() {
        assert_class("64:ff9b::7f00:1", C::Loopback);
        assert_class("64:ff9b::10.1.2.3", C::Private);
        assert_class("64:ff9b::93.184.216.34", C::Public);
    }

    #[test]
    fn six_to_four_is_classified_by_the_embedded_ipv4() {
        assert_class("2002:7f00:1::", C::Loopback);
        assert_class("2002:c0a8:101::1", C::Private);
        assert_class("2002:a00:1:ffff::", C::Private);
        assert_class("2002:5db8:d822::1", C::Public);
    }

    #[test]
    fn embedded_ipv4_extracts_only_the_known_forms() {
        let e = |s: &str| embedded_ipv4(s.parse().expect("parses"));
        assert_eq!(e("::ffff:1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(e("::1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(e("64:ff9b::1.2.3.4"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(e("2002:102:304::"), Some(Ipv4Addr::new(1, 2, 3, 4)));
        assert_eq!(e("::"), None);
        assert_eq!(e("::1"), None);
        assert_eq!(e("2606:4700::1111"), None);
        assert_eq!(e("64:ff9b:1::1.2.3.4"), None);
    }

    #[test]
    fn only_public_is_public_and_every_class_has_a_description() {
        let all = [
            C::Public,
            C::Loopback,
            C::Private,
            C::LinkLocal,
            C::Multicast,
            C::Unspecified,
            C::Broadcast,
            C::SharedAddressSpace,
            C::CloudMetadata,
            C::Documentation,
            C::Benchmarking,
            C::Reserved,
        ];
        for class in all {
            assert_eq!(class.is_public(), class == C::Public);
            assert!(class.describe().ends_with("address"), "{class:?}");
        }
        assert_eq!(C::Loopback.describe(), "a loopback address");
        assert_eq!(C::CloudMetadata.describe(), "a cloud metadata address");
    }

    #[test]
    fn range_tables_have_no_host_bits_set() {
        for (net, _) in V4_RANGES {
            assert_eq!(*net, net.trunc(), "{net}");
        }
        for (net, _) in V6_RANGES {
            assert_eq!(*net, net.trunc(), "{net}");
        }
    }
}
