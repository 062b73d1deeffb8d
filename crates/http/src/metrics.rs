//! Prometheus metrics: the process's recorder, the request metrics, and `GET /metrics`.
//!
//! Every crate records through the `metrics` facade; this module installs the Prometheus
//! recorder once per process (a second app in the same process, as in tests, shares it)
//! and renders it in the text exposition format. Metric names start with `feather_`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;
use crate::error::ApiError;

/// Latency buckets, in seconds: from a cached listing (well under a millisecond) to an
/// upstream call at its timeout.
const DURATION_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    120.0,
];

/// The process's recorder, installed on first use; None when another recorder was
/// installed before (metrics then go there, and `/metrics` says it has none).
pub(crate) fn recorder() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), DURATION_BUCKETS)
                .ok()?
                .install_recorder()
                .ok()
        })
        .as_ref()
}

/// Counts every request by route template (never the raw path, so ids cannot multiply
/// the series), method and status, and its latency by route and method.
pub(crate) async fn record_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "feather_http_requests_total",
        "route" => route.clone(),
        "method" => method.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "feather_http_request_duration_seconds",
        "route" => route,
        "method" => method
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: every metric in Prometheus text format, the job queue's depth read
/// from the store at the scrape.
pub(crate) async fn scrape(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(handle) = recorder() else {
        return Err(ApiError::Unavailable(
            "another metrics recorder is installed in this process".to_owned(),
        ));
    };
    for (job_state, count) in state.service.job_counts().await? {
        metrics::gauge!("feather_jobs", "state" => job_state).set(count as f64);
    }
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
