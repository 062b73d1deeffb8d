//! The demo MCP server, in this process, connected to the W1 organization through the
//! API: the upstream of the phases where agents call tools (see `agents`).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use feather_demo_mcp::DemoServer;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpStream;

/// The connection the phase adds, and the demo tool it calls.
const NICKNAME: &str = "Bench calls";
const TOOL: &str = "search_customers";

/// How long the demo connection may take to sync before the phase gives up.
const SYNC_PATIENCE: Duration = Duration::from_secs(30);

/// A JSON API of the service, as one client with the organization's key.
#[derive(Debug, Clone)]
pub struct Api {
    pub address: SocketAddr,
    pub api_key: (HeaderName, HeaderValue),
}

impl Api {
    /// Sends one request with a JSON body (or none) and reads the JSON answer.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let (status, bytes) = self.send_raw(method, path, body).await?;
        let answer = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).context("the answer is not JSON")?
        };
        Ok((status, answer))
    }

    /// How many times the service has rendered a listing (its cache misses), from
    /// `/metrics`.
    pub async fn listing_renders(&self) -> anyhow::Result<u64> {
        let (status, bytes) = self.send_raw("GET", "/metrics", None).await?;
        if status != 200 {
            bail!("/metrics answered {status}");
        }
        let text = String::from_utf8_lossy(&bytes);
        Ok(text
            .lines()
            .find_map(|line| line.strip_prefix(r#"feather_listing_cache_total{result="miss"} "#))
            .and_then(|count| count.trim().parse::<f64>().ok())
            .map_or(0, |count| count as u64))
    }

    async fn send_raw(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Bytes)> {
        let stream = TcpStream::connect(self.address).await?;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        let driver = tokio::spawn(connection);
        let payload = body.map(Value::to_string).unwrap_or_default();
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.address.to_string())
            .header(CONTENT_TYPE, "application/json")
            .header(&self.api_key.0, &self.api_key.1)
            .body(Full::new(Bytes::from(payload)))?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        drop(sender);
        driver.abort();
        Ok((status, bytes))
    }
}

/// The demo server, connected and synced, and the slug of the tool to call.
#[derive(Debug)]
pub struct CalledTool {
    demo: DemoServer,
    slug: String,
}

impl CalledTool {
    /// Starts the demo server, connects it through the API and waits for its tools.
    pub async fn connect(api: &Api) -> anyhow::Result<CalledTool> {
        let demo = DemoServer::start(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let body = json!({
            "nickname": NICKNAME,
            "server_url": demo.streamable_url(),
            "transport": "streamable_http",
            "auth_type": "none"
        });
        let (status, created) = api
            .send(
                "POST",
                "/v1/integrations/connections/custom-mcp",
                Some(&body),
            )
            .await?;
        if status != 201 {
            bail!("connecting the demo server answered {status}: {created}");
        }
        let id = created["connection_id"]
            .as_str()
            .context("the connection has no id")?
            .to_owned();
        let connection_path = format!("{}/{id}", crate::runner::LISTING);
        let deadline = tokio::time::Instant::now() + SYNC_PATIENCE;
        loop {
            let (_, connection) = api.send("GET", &connection_path, None).await?;
            match connection["tools_status"].as_str() {
                Some("synced") => {
                    let slug = connection["tools"]
                        .as_array()
                        .and_then(|tools| tools.iter().find(|tool| tool["tool_path"] == TOOL))
                        .and_then(|tool| tool["slug"].as_str())
                        .with_context(|| format!("the demo server has no {TOOL} tool"))?
                        .to_owned();
                    return Ok(CalledTool { demo, slug });
                }
                Some("failed") => bail!("the demo connection's sync failed: {connection}"),
                _ if tokio::time::Instant::now() >= deadline => {
                    bail!("the demo connection did not sync within {SYNC_PATIENCE:?}")
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The slug agents call the tool by.
    pub fn slug(&self) -> &str {
        &self.slug
    }

    /// The tool's name on the demo server itself.
    pub fn tool_path(&self) -> &str {
        TOOL
    }

    /// The demo server's Streamable HTTP URL, to call it directly.
    pub fn upstream_url(&self) -> String {
        self.demo.streamable_url()
    }

    pub async fn stop(self) {
        self.demo.shutdown().await;
    }
}
