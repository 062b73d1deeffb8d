//! Rate limits: per API key and per organization, with a separate, smaller budget for
//! the requests that reach an upstream server (tool calls, catalog refreshes, connects).
//! Budgets are kept in this process: with several replicas behind a balancer, a client
//! may get up to the budget from each.

use std::num::NonZeroU32;

use axum::http::Method;
use feather_service::Principal;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use uuid::Uuid;

use crate::error::ApiError;

/// Requests per second allowed; each budget also allows a burst of twice that. Zero
/// switches a budget off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    pub per_key: u32,
    pub per_organization: u32,
    pub upstream_per_key: u32,
    pub upstream_per_organization: u32,
}

impl RateLimits {
    /// Every budget off.
    pub const UNLIMITED: RateLimits = RateLimits {
        per_key: 0,
        per_organization: 0,
        upstream_per_key: 0,
        upstream_per_organization: 0,
    };
}

impl Default for RateLimits {
    /// Generous for a dashboard (a page load is a handful of requests) and for scripts
    /// polling the listing; tight enough that one client cannot flood the upstream servers
    /// through the service.
    fn default() -> Self {
        RateLimits {
            per_key: 50,
            per_organization: 100,
            upstream_per_key: 5,
            upstream_per_organization: 10,
        }
    }
}

/// Keys tracked per budget before the idle ones are dropped.
const TRACKED_BEFORE_CLEANUP: usize = 10_000;

#[derive(Debug)]
pub(crate) struct Limiters {
    per_key: Budget,
    per_organization: Budget,
    upstream_per_key: Budget,
    upstream_per_organization: Budget,
}

#[derive(Debug)]
struct Budget {
    /// What the budget is of, for the refusal's sentence.
    of: &'static str,
    per_second: u32,
    limiter: Option<DefaultKeyedRateLimiter<Uuid>>,
}

impl Budget {
    fn new(of: &'static str, per_second: u32) -> Budget {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
            DefaultKeyedRateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Budget {
            of,
            per_second,
            limiter,
        }
    }

    fn check(&self, id: Uuid) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > TRACKED_BEFORE_CLEANUP {
            limiter.retain_recent();
        }
        limiter.check_key(&id).map_err(|not_until| {
            metrics::counter!("feather_rate_limited_total", "budget" => self.of).increment(1);
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited {
                message: format!(
                    "Too many requests for this {}: at most {} a second are answered.",
                    self.of, self.per_second
                ),
                retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            }
        })
    }
}

impl Limiters {
    pub(crate) fn new(limits: RateLimits) -> Limiters {
        Limiters {
            per_key: Budget::new("API key", limits.per_key),
            per_organization: Budget::new("organization", limits.per_organization),
            upstream_per_key: Budget::new(
                "API key's upstream requests (tool calls, refreshes, connects)",
                limits.upstream_per_key,
            ),
            upstream_per_organization: Budget::new(
                "organization's upstream requests (tool calls, refreshes, connects)",
                limits.upstream_per_organization,
            ),
        }
    }

    /// Counts the request against the caller's budgets; the first one that is spent
    /// refuses it.
    pub(crate) fn admit(
        &self,
        principal: &Principal,
        method: &Method,
        path: &str,
    ) -> Result<(), ApiError> {
        self.per_key.check(principal.key_id)?;
        self.per_organization.check(principal.organization_id)?;
        if reaches_upstream(method, path) {
            self.admit_upstream(principal)?;
        }
        Ok(())
    }

    /// Counts a request that reaches an upstream server against the caller's upstream
    /// budgets, for requests whose path does not tell (an MCP `tools/call`).
    pub(crate) fn admit_upstream(&self, principal: &Principal) -> Result<(), ApiError> {
        self.upstream_per_key.check(principal.key_id)?;
        self.upstream_per_organization
            .check(principal.organization_id)
    }
}

/// Whether the request makes the service call an upstream server.
fn reaches_upstream(method: &Method, path: &str) -> bool {
    *method == Method::POST
        && (path.ends_with("/test-mcp-call")
            || path.ends_with("/test-invoke")
            || path.ends_with("/refresh-tools")
            || path == "/v1/integrations/connections/custom-mcp")
}

#[cfg(test)]
mod tests {
    use feather_domain::api_key::Grants;

    use super::*;

    fn principal() -> Principal {
        Principal {
            organization_id: Uuid::now_v7(),
            key_id: Uuid::now_v7(),
            grants: Grants::EVERYTHING,
        }
    }

    #[test]
    fn a_key_gets_its_burst_then_a_refusal_saying_when_to_retry() {
        let limiters = Limiters::new(RateLimits {
            per_key: 2,
            ..RateLimits::default()
        });
        let caller = principal();
        for _ in 0..4 {
            limiters
                .admit(&caller, &Method::GET, "/v1/integrations")
                .expect("within the burst of twice the rate");
        }
        match limiters.admit(&caller, &Method::GET, "/v1/integrations") {
            Err(ApiError::RateLimited {
                retry_after_secs, ..
            }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected a refusal, got {other:?}"),
        }
        // Another key of the same organization has its own budget.
        let colleague = Principal {
            key_id: Uuid::now_v7(),
            ..caller
        };
        assert!(
            limiters
                .admit(&colleague, &Method::GET, "/v1/integrations")
                .is_ok()
        );
    }

    #[test]
    fn upstream_requests_have_their_own_smaller_budget() {
        let limiters = Limiters::new(RateLimits {
            upstream_per_key: 1,
            ..RateLimits::default()
        });
        let caller = principal();
        let call = "/v1/integrations/connections/0190/test-mcp-call";
        for _ in 0..2 {
            limiters
                .admit(&caller, &Method::POST, call)
                .expect("within the burst");
        }
        assert!(limiters.admit(&caller, &Method::POST, call).is_err());
        assert!(
            limiters
                .admit(&caller, &Method::GET, "/v1/integrations/connections")
                .is_ok(),
            "reads are not upstream requests"
        );
    }

    #[test]
    fn a_budget_of_zero_is_off() {
        let limiters = Limiters::new(RateLimits {
            per_key: 0,
            per_organization: 0,
            ..RateLimits::default()
        });
        let caller = principal();
        for _ in 0..1000 {
            assert!(
                limiters
                    .admit(&caller, &Method::GET, "/v1/integrations")
                    .is_ok()
            );
        }
    }
}
