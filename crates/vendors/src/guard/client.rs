//! The guarded HTTP client: the checks of [`UpstreamPolicy`] applied again on every
//! connection (DNS resolver) and every redirect hop (redirect policy).

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::redirect;
use url::{Host, Url};

use super::policy::check_url_shape;
use super::resolve::resolve_host;
use super::{GuardError, UpstreamPolicy};

/// Redirect hops followed before giving up.
pub(crate) const MAX_REDIRECTS: usize = 5;

impl UpstreamPolicy {
    /// A reqwest `ClientBuilder` for talking to user-given upstreams:
    /// - no proxy (reqwest would otherwise read `HTTP(S)_PROXY` from the environment and
    ///   connect to the proxy, which the guard never sees);
    /// - a DNS resolver that resolves again for every new connection, checks every address
    ///   with this policy and hands reqwest only the allowed ones, so the connection is
    ///   pinned to checked addresses even if DNS changed since [`Self::check_url`]; when none
    ///   is allowed the request fails with a [`GuardError`] in its source chain (see
    ///   [`GuardError::in_chain`]);
    /// - a redirect policy that re-checks every hop (http(s) only, no userinfo, IP-literal
    ///   hosts checked here because reqwest never asks the resolver about them), follows
    ///   none that leaves the first request's origin (the request's headers carry the
    ///   user's credentials and its body the tool's arguments) and stops after 5 hops.
    ///
    /// IP-literal hosts never reach the resolver, so the first request's URL must have passed
    /// [`Self::check_url`]. Callers add their own timeouts.
    pub fn http_client_builder(&self) -> reqwest::ClientBuilder {
        let hops = self.clone();
        reqwest::Client::builder()
            .no_proxy()
            .dns_resolver(GuardedResolver {
                policy: self.clone(),
            })
            .redirect(redirect::Policy::custom(move |attempt| {
                // reqwest lists the chain so far, the original request first.
                let checked = match attempt.previous().first() {
                    Some(first) => {
                        check_redirect(&hops, first, attempt.url(), attempt.previous().len())
                    }
                    None => Err(RedirectRefused::TooMany),
                };
                match checked {
                    Ok(()) => attempt.follow(),
                    Err(refused) => attempt.error(refused.into_error()),
                }
            }))
    }
}

impl GuardError {
    /// The `GuardError` in an error's source chain, if any: how a caller tells "the guard
    /// refused this connection or redirect" (a 422) from an upstream failure.
    pub fn in_chain<'a>(error: &'a (dyn StdError + 'static)) -> Option<&'a GuardError> {
        let mut current = Some(error);
        while let Some(e) = current {
            if let Some(guard) = e.downcast_ref::<GuardError>() {
                return Some(guard);
            }
            current = e.source();
        }
        None
    }
}

/// Resolves like the system resolver, then keeps only the addresses the policy allows.
#[derive(Debug)]
struct GuardedResolver {
    policy: UpstreamPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = resolve_host(&host).await?;
            let allowed = policy.allowed_addresses(&host, &found)?;
            Ok(socket_addrs(allowed))
        })
    }
}

/// Port 0 tells reqwest to use the URL's port (or the scheme's default).
fn socket_addrs(ips: Vec<IpAddr>) -> Addrs {
    Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)))
}

/// Why a redirect hop is not followed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RedirectRefused {
    #[error(
        "The server redirected more than {MAX_REDIRECTS} times; the service stops following \
         redirects there."
    )]
    TooMany,
    #[error(transparent)]
    Guard(#[from] GuardError),
}

impl RedirectRefused {
    /// The error reqwest reports; a guard refusal stays a `GuardError` so callers can find it
    /// with [`GuardError::in_chain`].
    fn into_error(self) -> Box<dyn StdError + Send + Sync> {
        match self {
            Self::Guard(guard) => Box::new(guard),
            too_many @ Self::TooMany => Box::new(too_many),
        }
    }
}

/// The redirect decision for the hop to `next` in a chain that started at `first`, after
/// `requests_so_far` requests (reqwest counts the original request, so the first redirect
/// sees 1). Names are left to the resolver, which checks them when the hop connects. The
/// address checks come first: a redirect to a refused address is reported as such even
/// when it also leaves the origin.
pub(crate) fn check_redirect(
    policy: &UpstreamPolicy,
    first: &Url,
    next: &Url,
    requests_so_far: usize,
) -> Result<(), RedirectRefused> {
    if requests_so_far > MAX_REDIRECTS {
        return Err(RedirectRefused::TooMany);
    }
    let host = check_url_shape(next)?;
    let literal = match next.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(Host::Domain(_)) | None => None,
    };
    if let Some(ip) = literal {
        policy.check_ip(Some(host), ip)?;
    }
    if next.origin() != first.origin() {
        return Err(GuardError::CrossOriginRedirect(next.origin().ascii_serialization()).into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use axum::Router;
    use axum::response::Redirect;
    use axum::routing::get;

    use super::super::AddressClass;
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    fn allow(spec: &str) -> UpstreamPolicy {
        UpstreamPolicy::with_allow_list(spec).expect("valid allow-list")
    }

    /// The decision for a redirect to `next` in a chain that started on `next`'s own origin.
    fn hop(
        policy: &UpstreamPolicy,
        next: &str,
        requests_so_far: usize,
    ) -> Result<(), RedirectRefused> {
        let next = url(next);
        let mut first = next.clone();
        first.set_path("/start");
        check_redirect(policy, &first, &next, requests_so_far)
    }

    #[test]
    fn a_redirect_within_the_first_requests_origin_is_followed() {
        let policy = allow("127.0.0.1/32");
        let first = url("http://127.0.0.1:8080/mcp");
        assert_eq!(
            check_redirect(&policy, &first, &url("http://127.0.0.1:8080/v2/mcp?x=1"), 1),
            Ok(())
        );
    }

    #[test]
    fn a_redirect_to_another_origin_is_refused_naming_only_the_origin() {
        let policy = allow("127.0.0.1/32");
        let first = url("http://127.0.0.1:8080/mcp");
        for (next, origin) in [
            (
                "http://127.0.0.1:9090/mcp?api_key=secret",
                "http://127.0.0.1:9090",
            ),
            ("https://127.0.0.1:8080/mcp", "https://127.0.0.1:8080"),
            ("http://example.com:8080/mcp", "http://example.com:8080"),
        ] {
            assert_eq!(
                check_redirect(&policy, &first, &url(next), 1),
                Err(RedirectRefused::Guard(GuardError::CrossOriginRedirect(
                    origin.to_owned()
                ))),
                "{next}"
            );
        }
    }

    #[test]
    fn redirect_to_a_public_address_or_a_name_is_followed() {
        let policy = UpstreamPolicy::public_only();
        assert_eq!(hop(&policy, "https://93.184.216.34/x", 1), Ok(()));
        assert_eq!(hop(&policy, "https://example.com/x", 1), Ok(()));
    }

    #[test]
    fn redirect_to_a_non_public_ip_literal_is_refused() {
        let policy = UpstreamPolicy::public_only();
        for (next, class) in [
            (
                "http://169.254.169.254/latest/",
                AddressClass::CloudMetadata,
            ),
            ("http://2130706433/", AddressClass::Loopback),
            ("http://[::ffff:10.0.0.1]/", AddressClass::Private),
            ("http://[fe80::1]/", AddressClass::LinkLocal),
        ] {
            let refused = match hop(&policy, next, 1) {
                Err(RedirectRefused::Guard(GuardError::Forbidden { class, .. })) => Some(class),
                _ => None,
            };
            assert_eq!(refused, Some(class), "{next}");
        }
    }

    #[test]
    fn redirect_to_an_allowed_ip_literal_is_followed() {
        let policy = allow("10.0.0.0/8");
        assert_eq!(hop(&policy, "http://10.1.1.1/", 1), Ok(()));
    }

    #[test]
    fn redirect_to_another_scheme_or_with_credentials_is_refused() {
        let policy = UpstreamPolicy::public_only();
        assert_eq!(
            hop(&policy, "file:///etc/passwd", 1),
            Err(RedirectRefused::Guard(GuardError::UnsupportedScheme(
                "file".into()
            )))
        );
        assert_eq!(
            hop(&policy, "https://a:b@example.com/", 1),
            Err(RedirectRefused::Guard(GuardError::CredentialsInUrl))
        );
    }

    #[test]
    fn redirects_stop_after_five_hops() {
        let policy = UpstreamPolicy::public_only();
        let next = "https://example.com/";
        assert_eq!(hop(&policy, next, MAX_REDIRECTS), Ok(()));
        assert_eq!(
            hop(&policy, next, MAX_REDIRECTS + 1),
            Err(RedirectRefused::TooMany)
        );
    }

    #[test]
    fn guard_refusal_stays_findable_in_the_error_chain() {
        let refused = RedirectRefused::Guard(GuardError::MissingHost).into_error();
        assert_eq!(
            GuardError::in_chain(&*refused),
            Some(&GuardError::MissingHost)
        );
        let too_many = RedirectRefused::TooMany.into_error();
        assert_eq!(GuardError::in_chain(&*too_many), None);
    }

    /// An HTTP server on 127.0.0.1 only (not ::1): `/` answers "ok", `/hop` redirects to `to`.
    async fn local_server(to: Option<String>) -> u16 {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let mut app = Router::new().route("/", get(|| async { "ok" }));
        if let Some(to) = to {
            app = app.route(
                "/hop",
                get(move || std::future::ready(Redirect::temporary(&to))),
            );
        }
        tokio::spawn(async move { axum::serve(listener, app).await });
        port
    }

    fn client(policy: &UpstreamPolicy) -> reqwest::Client {
        policy.http_client_builder().build().expect("client builds")
    }

    #[tokio::test]
    async fn client_refuses_a_loopback_upstream_under_the_default_policy() {
        let port = local_server(None).await;
        let err = client(&UpstreamPolicy::public_only())
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .expect_err("refused");
        assert!(
            matches!(
                GuardError::in_chain(&err),
                Some(GuardError::Forbidden {
                    class: AddressClass::Loopback,
                    ..
                })
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn client_connects_to_an_allowed_upstream_pinned_to_the_allowed_address() {
        // localhost resolves to 127.0.0.1 and ::1; only 127.0.0.1 is allowed, so the resolver
        // hands reqwest that one address.
        let port = local_server(None).await;
        let body = client(&allow("127.0.0.1/32"))
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .expect("allowed")
            .text()
            .await
            .expect("body");
        assert_eq!(body, "ok");
    }

    #[tokio::test]
    async fn client_never_connects_to_an_address_it_did_not_check() {
        // The server listens on 127.0.0.1 only and only ::1 is allowed: the connection must
        // fail to connect rather than fall back to the unchecked 127.0.0.1.
        let port = local_server(None).await;
        let err = client(&allow("::1/128"))
            .get(format!("http://localhost:{port}/"))
            .send()
            .await
            .expect_err("nothing listens on the allowed address");
        assert!(err.is_connect(), "{err:?}");
        assert_eq!(GuardError::in_chain(&err), None, "{err:?}");
    }

    #[tokio::test]
    async fn client_follows_a_redirect_only_to_an_allowed_address_of_the_same_origin() {
        let target = local_server(None).await;
        let port = local_server(Some(format!("http://127.0.0.1:{target}/"))).await;
        let start = format!("http://localhost:{port}/hop");

        // Allowed by name only: the redirect to the 127.0.0.1 literal is checked and refused.
        let err = client(&allow("localhost"))
            .get(&start)
            .send()
            .await
            .expect_err("redirect refused");
        assert!(
            matches!(
                GuardError::in_chain(&err),
                Some(GuardError::Forbidden {
                    class: AddressClass::Loopback,
                    ..
                })
            ),
            "{err:?}"
        );

        // Allowed by address, but another port is another origin: not followed.
        let err = client(&allow("127.0.0.1/32"))
            .get(format!("http://127.0.0.1:{port}/hop"))
            .send()
            .await
            .expect_err("redirect refused");
        assert_eq!(
            GuardError::in_chain(&err),
            Some(&GuardError::CrossOriginRedirect(format!(
                "http://127.0.0.1:{target}"
            ))),
            "{err:?}"
        );

        // Within the origin: followed.
        let same = local_server(Some("/".to_owned())).await;
        let response = client(&allow("127.0.0.1/32"))
            .get(format!("http://127.0.0.1:{same}/hop"))
            .send()
            .await
            .expect("followed");
        assert_eq!(response.url().path(), "/");
        assert_eq!(response.text().await.expect("body"), "ok");
    }
}
