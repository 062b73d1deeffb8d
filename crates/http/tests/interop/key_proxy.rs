//! A forwarding proxy that adds the organization's API key to every request: the
//! conformance suite's client sends no credentials, and the endpoint requires them. It
//! passes everything else on as it came (method, path, `Host`, `Origin` and every other
//! header, the body) and streams the answer back, so that the suite sees the endpoint's
//! own behaviour, its refusals of a foreign `Host` included.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use tokio::net::TcpListener;
use tokio_util::sync::{CancellationToken, DropGuard};

/// Largest request body forwarded (the suite's are a few hundred bytes).
const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
struct Forward {
    http: reqwest::Client,
    target: SocketAddr,
    authorization: HeaderValue,
}

/// The proxy, listening on a loopback port until dropped.
pub struct KeyProxy {
    addr: SocketAddr,
    _stop: DropGuard,
}

impl KeyProxy {
    /// Forwards to `target` with `Authorization: Bearer <key>`.
    pub async fn start(target: SocketAddr, key: &str) -> KeyProxy {
        let forward = Forward {
            // Redirects are the endpoint's answer to pass on, not to follow.
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            target,
            authorization: HeaderValue::from_str(&format!("Bearer {key}")).expect("a header"),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("bound address");
        let stop = CancellationToken::new();
        let app = axum::Router::new()
            .fallback(forward_request)
            .with_state(forward);
        let stopped = stop.clone();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stopped.cancelled_owned())
                .await
        });
        KeyProxy {
            addr,
            _stop: stop.drop_guard(),
        }
    }

    /// The URL of `path` through the proxy.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

async fn forward_request(State(forward): State<Forward>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let mut headers = parts.headers;
    headers.insert(AUTHORIZATION, forward.authorization.clone());
    // `Host` is kept as the client sent it: hyper's client only adds one when absent.
    let sent = forward
        .http
        .request(parts.method, format!("http://{}{path}", forward.target))
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(error) => return (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    };
    let mut response = Response::builder().status(answer.status());
    if let Some(headers) = response.headers_mut() {
        headers.extend(answer.headers().clone());
    }
    let stream = answer.bytes_stream().map_err(std::io::Error::other);
    response
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}
