//! A closed-loop HTTP/1.1 load generator: `concurrency` virtual users, each on its own
//! keep-alive connection, send the same request back to back for a fixed duration. Every
//! response body is read whole; latencies are kept exactly (microseconds) for percentiles.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;

/// One request, repeated.
#[derive(Debug, Clone)]
pub struct Target {
    pub address: SocketAddr,
    pub method: Method,
    pub path: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Target {
    /// A `GET` of `path` with `headers`.
    pub fn get(address: SocketAddr, path: &str, headers: Vec<(HeaderName, HeaderValue)>) -> Target {
        Target {
            address,
            method: Method::GET,
            path: path.to_owned(),
            headers,
            body: Bytes::new(),
        }
    }
}

/// What one load phase measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadResult {
    pub requests: u64,
    pub errors: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub body_bytes: u64,
    pub elapsed_secs: f64,
    #[serde(skip)]
    pub latencies_us: Vec<u32>,
}

impl LoadResult {
    pub fn requests_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.requests as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    /// The `q`-quantile latency (0..=1) in milliseconds; the latencies must be sorted.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((self.latencies_us.len() as f64) * q).ceil() as usize;
        let index = rank.clamp(1, self.latencies_us.len()) - 1;
        f64::from(self.latencies_us[index]) / 1000.0
    }

    /// Folds `other` (another slice of the same phase) into this one.
    pub fn merge(&mut self, other: LoadResult) {
        self.requests += other.requests;
        self.errors += other.errors;
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        self.body_bytes += other.body_bytes;
        self.elapsed_secs += other.elapsed_secs;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us.sort_unstable();
    }
}

/// The status, headers and body of one request (to probe a server before loading it).
pub async fn fetch_once(target: &Target) -> anyhow::Result<(u16, hyper::HeaderMap, Bytes)> {
    let stream = TcpStream::connect(target.address)
        .await
        .with_context(|| format!("could not connect to {}", target.address))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request(target)?).await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await?.to_bytes();
    drop(sender);
    driver.abort();
    Ok((status, headers, body))
}

fn request(target: &Target) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut builder = Request::builder()
        .method(target.method.clone())
        .uri(target.path.as_str())
        .header(HOST, target.address.to_string());
    for (name, value) in &target.headers {
        builder = builder.header(name, value);
    }
    Ok(builder.body(Full::new(target.body.clone()))?)
}

/// Loads `target` with `concurrency` connections for `duration`.
pub async fn run(target: &Target, concurrency: usize, duration: Duration) -> LoadResult {
    let started = Instant::now();
    let deadline = started + duration;
    let mut users = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let target = target.clone();
        users.push(tokio::spawn(async move {
            virtual_user(&target, deadline).await
        }));
    }
    let mut total = LoadResult::default();
    for user in users {
        match user.await {
            Ok(result) => {
                total.requests += result.requests;
                total.errors += result.errors;
                for (status, count) in result.statuses {
                    *total.statuses.entry(status).or_default() += count;
                }
                total.body_bytes += result.body_bytes;
                total.latencies_us.extend(result.latencies_us);
            }
            Err(_) => total.errors += 1,
        }
    }
    total.elapsed_secs = started.elapsed().as_secs_f64();
    total.latencies_us.sort_unstable();
    total
}

async fn virtual_user(target: &Target, deadline: Instant) -> LoadResult {
    let mut result = LoadResult {
        latencies_us: Vec::with_capacity(16 * 1024),
        ..LoadResult::default()
    };
    'connect: while Instant::now() < deadline {
        let Ok(stream) = TcpStream::connect(target.address).await else {
            result.errors += 1;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok((mut sender, connection)) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
        else {
            result.errors += 1;
            continue;
        };
        let driver = tokio::spawn(connection);
        while Instant::now() < deadline {
            let Ok(request) = request(target) else {
                result.errors += 1;
                break 'connect;
            };
            let sent = Instant::now();
            let outcome = async {
                let response = sender.send_request(request).await?;
                let status = response.status().as_u16();
                let body = response.into_body().collect().await?.to_bytes();
                anyhow::Ok((status, body.len()))
            }
            .await;
            match outcome {
                Ok((status, bytes)) => {
                    let micros = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                    result.latencies_us.push(micros);
                    result.requests += 1;
                    result.body_bytes += bytes as u64;
                    *result.statuses.entry(status).or_default() += 1;
                }
                Err(_) => {
                    result.errors += 1;
                    driver.abort();
                    continue 'connect;
                }
            }
        }
        driver.abort();
    }
    result
}
