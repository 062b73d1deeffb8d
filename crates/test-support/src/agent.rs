//! An agent, as the MCP endpoint sees one: the app served on a loopback port, and an MCP
//! client (rmcp's) connected to it with an API key, recording the notifications it gets.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use feather_http::ServerLimits;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig,
    ClientRequest, Implementation, NumberOrString, ProgressNotificationParam, ProgressToken,
    ProtocolVersion, RequestMetaObject, Tool,
};
#[allow(deprecated)]
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam, SetLevelRequestParams};
use rmcp::service::{
    ClientLifecycleMode, ClientServiceExt, NotificationContext, PeerRequestOptions, RequestHandle,
    RunningService,
};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::TestApp;

/// The app listening on a loopback port; it stops when this is dropped.
#[derive(Debug)]
pub struct ServedApp {
    pub addr: SocketAddr,
    _stop: DropGuard,
}

impl ServedApp {
    /// The URL of `path` on the served app.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl TestApp {
    /// Serves the app's router over TCP, as `serve` does, for clients that speak HTTP
    /// themselves.
    pub async fn serve(&self) -> ServedApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("bound address");
        let stop = CancellationToken::new();
        let end_streams = self.end_streams();
        let shutdown = {
            let stop = stop.clone();
            async move {
                stop.cancelled().await;
                end_streams.cancel();
            }
        };
        let limits = ServerLimits {
            max_connections: 256,
            header_read_timeout: Duration::from_secs(10),
        };
        tokio::spawn(feather_http::serve(
            listener,
            self.router(),
            limits,
            shutdown,
        ));
        ServedApp {
            addr,
            _stop: stop.drop_guard(),
        }
    }
}

/// An MCP client of the endpoint, with the notifications it was sent.
pub struct Agent {
    service: RunningService<RoleClient, AgentHandler>,
    tool_list_changed: Arc<Notify>,
    notified: Arc<Mutex<Vec<Value>>>,
}

#[derive(Debug, Clone)]
struct AgentHandler {
    config: ClientConfig,
    tool_list_changed: Arc<Notify>,
    /// The progress and log notifications received, as `{"progress": params}` and
    /// `{"log": params}`, in order.
    notified: Arc<Mutex<Vec<Value>>>,
}

impl AgentHandler {
    fn record(&self, kind: &str, params: serde_json::Result<Value>) {
        let params = params.expect("notification params serialize");
        self.notified
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(serde_json::json!({ kind: params }));
    }
}

impl ClientHandler for AgentHandler {
    fn get_info(&self) -> ClientConfig {
        self.config.clone()
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        self.tool_list_changed.notify_one();
    }

    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.record("progress", serde_json::to_value(params));
    }

    #[allow(deprecated)]
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.record("log", serde_json::to_value(params));
    }
}

/// A call sent and not answered yet.
#[derive(Debug)]
pub struct PendingCall {
    handle: RequestHandle<RoleClient>,
}

impl PendingCall {
    /// Tells the server the agent no longer wants the answer (`notifications/cancelled`).
    pub async fn cancel(self) {
        self.handle
            .cancel(Some("The user stopped the agent.".into()))
            .await
            .expect("the cancellation is sent");
    }
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("protocol_version", &self.protocol_version())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// Connects to `url` with `api_key` as a bearer token: with an `initialize` handshake
    /// offering `version`, or, when `None`, by `server/discover` and stateless requests
    /// (2026-07-28).
    pub async fn connect(
        url: &str,
        api_key: &str,
        version: Option<ProtocolVersion>,
    ) -> Result<Agent, String> {
        let mut config = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("feather-test-agent", "1.0.0"),
        );
        if let Some(version) = &version {
            config = config.with_protocol_version(version.clone());
        }
        let tool_list_changed = Arc::new(Notify::new());
        let notified = Arc::default();
        let handler = AgentHandler {
            config,
            tool_list_changed: tool_list_changed.clone(),
            notified: Arc::clone(&notified),
        };
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(url).auth_header(api_key),
        );
        let started = match version {
            Some(_) => handler.serve(transport).await,
            None => {
                let discover = ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                };
                handler.serve_with_lifecycle(transport, discover).await
            }
        };
        let service = started.map_err(|error| error.to_string())?;
        Ok(Agent {
            service,
            tool_list_changed,
            notified,
        })
    }

    /// The protocol version the session settled on.
    pub fn protocol_version(&self) -> Option<ProtocolVersion> {
        self.service
            .peer()
            .peer_info()
            .map(|info| info.protocol_version.clone())
    }

    /// Every tool, following `nextCursor` to the end.
    pub async fn list_all_tools(&self) -> Vec<Tool> {
        self.service
            .peer()
            .list_all_tools()
            .await
            .expect("tools/list answers")
    }

    /// The names of every tool, in the order listed.
    pub async fn tool_names(&self) -> Vec<String> {
        self.list_all_tools()
            .await
            .into_iter()
            .map(|tool| tool.name.into_owned())
            .collect()
    }

    /// Calls `name` with `arguments` (a JSON object); a protocol error is `Err` with its
    /// message.
    pub async fn call(&self, name: &str, arguments: Value) -> Result<CallToolResult, String> {
        let arguments: Map<String, Value> = match arguments {
            Value::Object(arguments) => arguments,
            other => panic!("arguments must be an object, not {other}"),
        };
        self.service
            .peer()
            .call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(arguments))
            .await
            .map_err(|error| error.to_string())
    }

    /// Calls `name` with `arguments` under the progress token `token`, asking (on
    /// 2026-07-28, where a request opts in) for log messages from `log_level` up.
    #[allow(deprecated)]
    pub async fn call_reporting(
        &self,
        name: &str,
        arguments: Value,
        token: &str,
        log_level: LoggingLevel,
    ) -> Result<CallToolResult, String> {
        let Value::Object(arguments) = arguments else {
            panic!("arguments must be an object");
        };
        let mut meta = RequestMetaObject::with_progress_token(ProgressToken(
            NumberOrString::String(token.to_owned().into()),
        ));
        meta.set_log_level(log_level);
        let mut params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        params.meta = Some(meta);
        self.service
            .peer()
            .call_tool(params)
            .await
            .map_err(|error| error.to_string())
    }

    /// Starts a call of `name` with `arguments` without waiting for its answer.
    pub async fn start_call(&self, name: &str, arguments: Value) -> PendingCall {
        let Value::Object(arguments) = arguments else {
            panic!("arguments must be an object");
        };
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let handle = self
            .service
            .peer()
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
            .expect("the call is sent");
        PendingCall { handle }
    }

    /// Sets the session's log level (`logging/setLevel`).
    #[allow(deprecated)]
    pub async fn set_log_level(&self, level: LoggingLevel) {
        self.service
            .peer()
            .set_level(SetLevelRequestParams::new(level))
            .await
            .expect("logging/setLevel answers");
    }

    /// The progress and log notifications received so far, once at least `count` have
    /// arrived (waiting at most 10 s).
    pub async fn notifications(&self, count: usize) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self
                .notified
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if notified.len() >= count || tokio::time::Instant::now() > deadline {
                return notified;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (at most 10 s) for a `notifications/tools/list_changed`; whether one came.
    pub async fn tool_list_changed(&self) -> bool {
        tokio::time::timeout(Duration::from_secs(10), self.tool_list_changed.notified())
            .await
            .is_ok()
    }

    pub async fn close(self) {
        let _ = self.service.cancel().await;
    }
}
