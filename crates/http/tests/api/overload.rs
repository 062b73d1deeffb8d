//! The cap on API requests in flight (`AppOptions::max_in_flight`): one more is refused at
//! once with 503 `overloaded` and `Retry-After`, the health endpoints are not counted, and
//! the place is free again as soon as a request ends.

use std::time::Duration;

use axum::http::StatusCode;
use feather_http::AppOptions;
use futures::StreamExt;
use serde_json::json;

use crate::support::{FakeMcp, LISTING, TestApp, Upstream};
use crate::sync::synced_connection;

#[tokio::test]
async fn past_the_in_flight_cap_api_requests_are_refused_at_once_and_probes_still_answer() {
    let app = TestApp::new().await;
    let server = FakeMcp::start(Upstream::HangsOnCall(json!([
        {"name": "slow", "inputSchema": {"type": "object"}}
    ])))
    .await;
    let connection = synced_connection(&app, &server).await;
    let busy = app
        .replica(AppOptions {
            max_in_flight: 1,
            ..AppOptions::default()
        })
        .await;

    // Boxed, so that dropping it below ends the request.
    let mut hanging = Box::pin(busy.call_tool(&connection, "slow", json!({})));
    // In flight once the server has it.
    tokio::select! {
        answered = hanging.as_mut() => panic!("the hanging call answered: {}", answered.text()),
        () = server.until_calls_received(1) => {}
    }
    let refused = busy.get(LISTING).await;
    assert_eq!(refused.header("retry-after"), Some("1"));
    let body = refused.expect_error(StatusCode::SERVICE_UNAVAILABLE, "overloaded");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("retry in a moment"),
        "{body}"
    );
    busy.get("/healthz").await.expect(StatusCode::OK);
    busy.get("/readyz").await.expect(StatusCode::OK);

    drop(hanging);
    busy.get(LISTING).await.expect(StatusCode::OK);
    server.stop().await;
}

#[tokio::test]
async fn a_request_body_that_stops_arriving_is_408_request_timeout() {
    use axum::body::{Body, Bytes};
    use axum::http::Request;

    let app = TestApp::new().await;
    let impatient = app
        .replica(AppOptions {
            request_body_timeout: Duration::from_millis(200),
            ..AppOptions::default()
        })
        .await;
    // The start of a JSON body, then nothing, ever.
    let trickle =
        futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"{\"name\""))])
            .chain(futures::stream::pending());
    let request = Request::post("/v1/identity/api-keys")
        .header("x-api-key", &app.owner.key)
        .header("content-type", "application/json")
        .body(Body::from_stream(trickle))
        .expect("request");
    let answer = tokio::time::timeout(Duration::from_secs(5), impatient.send(request))
        .await
        .expect("answered, not left hanging");
    answer.expect_error(StatusCode::REQUEST_TIMEOUT, "request_timeout");
}
