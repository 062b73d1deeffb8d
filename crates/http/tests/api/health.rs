//! `GET /healthz` (alive) and `GET /readyz` (store reachable): no key needed.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn the_index_points_to_the_api_reference_without_a_key() {
    let app = TestApp::new().await;
    let response = app.anonymous().get("/").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let text = String::from_utf8_lossy(&response.body);
    assert!(text.contains("/openapi.json"), "{text}");
    assert!(text.contains("README"), "{text}");
}

#[tokio::test]
async fn healthz_answers_without_a_key() {
    let app = TestApp::new().await;
    let body = app.anonymous().get("/healthz").await.expect(StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
}

#[tokio::test]
async fn readyz_answers_when_the_store_answers() {
    let app = TestApp::new().await;
    let body = app.anonymous().get("/readyz").await.expect(StatusCode::OK);
    assert_eq!(body, json!({"status": "ready"}));
}

#[tokio::test]
async fn readyz_is_503_when_the_store_is_gone_and_healthz_stays_up() {
    let app = TestApp::new().await;
    app.service.store().close().await;
    let response = app.anonymous().get("/readyz").await;
    let body = response.expect_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    let message = body["message"].as_str().unwrap_or_default();
    let request_id = response.header("x-request-id").expect("a request id");
    assert!(
        message.contains(request_id),
        "the message quotes the request id: {message}"
    );
    app.anonymous().get("/healthz").await.expect(StatusCode::OK);
}

#[tokio::test]
async fn api_requests_are_503_not_500_when_the_store_is_gone() {
    let app = TestApp::new().await;
    app.service.store().close().await;
    let response = app.get("/v1/integrations/connections").await;
    let body = response.expect_error(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    let message = body["message"].as_str().unwrap_or_default().to_lowercase();
    for leak in ["sqlx", "sqlite", "pool", "select"] {
        assert!(
            !message.contains(leak),
            "the message leaks internals: {message}"
        );
    }
}

#[tokio::test]
async fn metrics_scrape_in_prometheus_text_format_without_a_key() {
    let app = TestApp::new().await;
    app.get(crate::support::LISTING)
        .await
        .expect(StatusCode::OK);
    app.post_json(
        "/v1/integrations/connections/custom-mcp",
        crate::support::mcp_connection("http://127.0.0.1:9/mcp", "sse"),
    )
    .await
    .expect(StatusCode::CREATED);
    let scraped = app.anonymous().get("/metrics").await;
    assert_eq!(scraped.status, StatusCode::OK);
    assert_eq!(
        scraped.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = scraped.text();
    // Every line is a comment or a sample: `name{labels} value`.
    for line in text.lines().filter(|line| !line.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            assert!(
                comment.starts_with(" TYPE ") || comment.starts_with(" HELP "),
                "{line}"
            );
            continue;
        }
        let (_, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(value.parse::<f64>().is_ok(), "not a sample: {line}");
    }
    assert!(
        text.contains("# TYPE feather_http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|line| line.starts_with("feather_http_requests_total{")
                && line.contains(r#"route="/v1/integrations/connections""#)
                && line.contains(r#"status="200""#)),
        "{text}"
    );
    assert!(
        text.contains("feather_http_request_duration_seconds_bucket{"),
        "{text}"
    );
    assert!(text.contains(r#"feather_jobs{state="queued"}"#), "{text}");
}
