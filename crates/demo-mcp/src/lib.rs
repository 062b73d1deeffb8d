//! A small MCP server with realistic customer-support tools.
//!
//! `feather-integrations demo` starts one so a newcomer sees a populated tool
//! listing within seconds, and tests use it as a real upstream. It serves the
//! same tools over both HTTP transports MCP clients meet in the wild:
//!
//! - Streamable HTTP at `/mcp` (rmcp's server), and
//! - the legacy HTTP+SSE transport at `/sse` + `/message` (our own glue, since
//!   rmcp 3 dropped it).
//!
//! All data is fixed and in memory; nothing leaves the process.

mod legacy_sse;
mod tools;

use std::{future::IntoFuture, net::SocketAddr, sync::Arc, time::Duration};

use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::{
    StreamableHttpServerConfig, StreamableHttpService, session::local::LocalSessionManager,
};
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::{CancellationToken, DropGuard};

pub use tools::{DemoTools, TOOL_NAMES};

/// How long [`DemoServer::shutdown`] waits for connections to wind down before
/// aborting the server task. Sessions end on cancellation, so this only bites
/// when a client holds a connection open mid-request.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A running demo MCP server on loopback, serving Streamable HTTP at /mcp and the
/// legacy HTTP+SSE transport at /sse (+ /message).
///
/// Dropping it without [`shutdown`](Self::shutdown) still stops the server, just
/// without waiting for it.
#[derive(Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
    _stop_on_drop: DropGuard,
}

impl DemoServer {
    /// Binds `addr` (use 127.0.0.1:0 in tests) and serves until shutdown.
    pub async fn start(addr: SocketAddr) -> std::io::Result<DemoServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let tools = DemoTools::new();

        let factory_tools = tools.clone();
        // rmcp's default Host allow-list (localhost, 127.0.0.1, ::1) fits a loopback bind.
        let streamable = StreamableHttpService::new(
            move || Ok(factory_tools.clone()),
            Arc::new(LocalSessionManager::default()),
            StreamableHttpServerConfig::default().with_cancellation_token(shutdown.child_token()),
        );
        let app = axum::Router::new()
            .nest_service("/mcp", streamable)
            .merge(legacy_sse::router(tools, shutdown.clone()));

        // Each event goes out as written, not held for the client's delayed ACK.
        let listener = listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
        });
        let task = tokio::spawn(
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.clone().cancelled_owned())
                .into_future(),
        );
        tracing::info!(%addr, "demo MCP server listening");
        Ok(DemoServer {
            addr,
            _stop_on_drop: shutdown.clone().drop_guard(),
            shutdown,
            task,
        })
    }

    /// The address actually bound (with the real port when started on port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// URL of the Streamable HTTP endpoint, e.g. `http://127.0.0.1:PORT/mcp`.
    pub fn streamable_url(&self) -> String {
        format!("http://{}/mcp", self.url_authority())
    }

    /// URL of the legacy HTTP+SSE endpoint, e.g. `http://127.0.0.1:PORT/sse`.
    pub fn sse_url(&self) -> String {
        format!("http://{}/sse", self.url_authority())
    }

    /// Stops accepting, ends open sessions and waits for the server task.
    pub async fn shutdown(self) {
        let DemoServer {
            shutdown, mut task, ..
        } = self;
        shutdown.cancel();
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut task).await {
            Ok(Ok(Ok(()))) => tracing::debug!("demo MCP server stopped"),
            Ok(Ok(Err(error))) => tracing::warn!(%error, "demo MCP server failed"),
            Ok(Err(error)) => tracing::warn!(%error, "demo MCP server task panicked"),
            Err(_) => {
                tracing::warn!("demo MCP server did not stop in time; aborting it");
                task.abort();
            }
        }
    }

    /// Host and port to put in URLs: a wildcard bind is reachable on loopback, and
    /// loopback is what the Streamable HTTP Host check accepts.
    fn url_authority(&self) -> SocketAddr {
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        addr
    }
}
