//! The HTTP server: HTTP/1.1 connections served by hyper, with the bounds that keep a
//! hostile client from taking the process down (issue 9, point 2).
//!
//! - A request's head must arrive within `header_read_timeout`, counted from when the
//!   connection opens or its previous response ends: a connection that sends nothing, or
//!   a head byte by byte, is closed then, and so is a keep-alive connection left idle.
//! - At most `max_connections` are open. At the limit, the connection that has been idle
//!   the longest is closed to make room for a new one (a slowloris's connections, which
//!   never finish a head, go first), so new clients are answered however many idle
//!   connections an attacker opens; only when every connection is answering a request
//!   does the next one wait in the listen backlog.
//! - Requests in flight are capped by the router (`AppOptions::max_in_flight`).

mod connections;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use connections::{Connections, Registered};

/// How many clients the server holds, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
}

impl ServerLimits {
    pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;

    /// Descriptors kept free of client connections for everything else the process opens:
    /// database connections, upstream MCP requests (one per request in flight), files.
    pub const RESERVED_DESCRIPTORS: u64 = 256;

    /// The default connection cap under a descriptor limit of `open_files`: what it leaves
    /// after the reserve and `max_in_flight` upstream requests, at most 4,096.
    pub fn default_max_connections(open_files: u64, max_in_flight: usize) -> usize {
        let reserved = Self::RESERVED_DESCRIPTORS + max_in_flight as u64;
        usize::try_from(open_files.saturating_sub(reserved).clamp(16, 4096)).unwrap_or(4096)
    }
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets every
/// request in progress finish, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let connections = Connections::new(limits.max_connections);
    let stopping = CancellationToken::new();
    let tasks = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => {
                // Each write goes out at once: an event stream's events, and a response
                // whose head and body go out in two writes, must not wait for the peer's
                // delayed ACK (Nagle's algorithm: 40 ms on Linux).
                if let Err(error) = stream.set_nodelay(true) {
                    tracing::debug!(%error, "could not set TCP_NODELAY");
                }
                stream
            }
            Err(error) => {
                // Out of descriptors (or a connection reset before it was accepted): wait
                // a moment instead of spinning, as the error passes when connections close.
                tracing::warn!(%error, "could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        connections.make_room().await;
        let registered = connections.register();
        let (app, stopping) = (app.clone(), stopping.clone());
        tasks.spawn(serve_connection(stream, app, registered, limits, stopping));
    }
    stopping.cancel();
    tasks.close();
    tasks.wait().await;
    Ok(())
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    app: Router,
    registered: Registered,
    limits: ServerLimits,
    stopping: CancellationToken,
) {
    // Shared with the service, which marks each request; the last holder frees the place.
    let registered = Arc::new(registered);
    let service = {
        let registered = registered.clone();
        app.map_request(|request: Request<Incoming>| request.map(Body::new))
            .map_future(move |future| {
                let in_progress = registered.begin_request();
                async move {
                    let response = future.await;
                    drop(in_progress);
                    response
                }
            })
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let connection =
        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    let mut connection = std::pin::pin!(connection);
    let close = registered.close_requested().clone();
    let mut closing = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            // Room for a new client, or the server stopping: between requests the
            // connection is dropped at once (hyper's graceful shutdown would wait for a
            // half-sent head to finish or time out); a response in progress is finished.
            () = either(&close, &stopping), if !closing => {
                if registered.is_idle() {
                    break;
                }
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Completes when either token is cancelled.
async fn either(first: &CancellationToken, second: &CancellationToken) {
    tokio::select! {
        () = first.cancelled() => {}
        () = second.cancelled() => {}
    }
}
