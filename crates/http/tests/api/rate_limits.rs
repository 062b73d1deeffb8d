//! Rate limits per API key and organization: past a budget the answer is 429
//! `rate_limited` with `Retry-After`, and nothing is done.

use axum::http::StatusCode;
use feather_http::{AppOptions, RateLimits};

use crate::support::{LISTING, TestApp};

#[tokio::test]
async fn past_its_budget_a_key_gets_429_with_retry_after_and_others_are_unaffected() {
    let app = TestApp::new().await;
    let limited = app
        .replica(AppOptions {
            rate_limits: RateLimits {
                per_key: 1,
                ..RateLimits::default()
            },
            ..AppOptions::default()
        })
        .await;
    // The rate, and a burst of twice it.
    for _ in 0..2 {
        limited.get(LISTING).await.expect(StatusCode::OK);
    }
    let refused = limited.get(LISTING).await;
    assert_eq!(refused.header("retry-after"), Some("1"));
    let body = refused.expect_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("at most 1 a second"), "{message}");
    // Another organization's key has its own budget.
    limited
        .as_stranger()
        .get(LISTING)
        .await
        .expect(StatusCode::OK);
    // Probes never count.
    limited.get("/healthz").await.expect(StatusCode::OK);
}
