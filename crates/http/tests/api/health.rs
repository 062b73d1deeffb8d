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
