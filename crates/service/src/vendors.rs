//! The vendor seam: how the service reaches a connection's upstream without knowing its
//! vendor. A vendor's adapters (in the vendors crate) implement the two ports, a
//! [`ToolSource`] and a [`CredentialProvider`]; a [`VendorRegistry`] holds them by
//! [`Vendor`], and sync and invoke pick them per connection from it. Each adapter reads
//! its own typed configuration from the [`VendorConnection`] it is given.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use feather_domain::catalog::UpstreamTool;
use feather_domain::integration::Vendor;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::oauth::AuthorizationClient;
use crate::{UpstreamError, UrlGuard};

/// Everything the service reaches the outside through: the guard for user-given URLs,
/// the OAuth client and every vendor's adapters.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub url_guard: Arc<dyn UrlGuard>,
    pub oauth: Arc<dyn AuthorizationClient>,
    pub vendors: VendorRegistry,
}

/// A connection as its vendor's adapters see it: what it stores in the open and its
/// secret, opened. What either means is the vendor's own business.
#[derive(Clone)]
pub struct VendorConnection {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// The connection's public settings (the listing's `metadata`).
    pub metadata: Map<String, Value>,
    /// The connection's sealed secret, opened; `None` when it keeps none.
    pub secret: Option<Vec<u8>>,
}

impl fmt::Debug for VendorConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendorConnection")
            .field("id", &self.id)
            .field("organization_id", &self.organization_id)
            .field("metadata", &self.metadata)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .finish()
    }
}

/// What a request to the upstream carries to authenticate: headers (a bearer token is
/// one). `Debug` shows only their names.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UpstreamCredentials {
    pub headers: Vec<(String, String)>,
}

impl fmt::Debug for UpstreamCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("UpstreamCredentials")
            .field("headers", &names)
            .finish()
    }
}

/// Hands out the credentials a connection's requests carry.
#[async_trait]
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// The credentials to use now. A provider whose tokens expire refreshes them here.
    async fn credentials(
        &self,
        connection: &VendorConnection,
    ) -> Result<UpstreamCredentials, UpstreamError>;
}

/// What an upstream tells about a call while it runs (MCP progress and log
/// notifications), passed on to the caller.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    Progress {
        progress: f64,
        total: Option<f64>,
        message: Option<String>,
    },
    Log {
        /// The MCP level name (`debug` … `emergency`).
        level: String,
        logger: Option<String>,
        data: Value,
    },
}

/// Where a call's [`CallEvent`]s go: to a caller that listens, or nowhere. A caller that
/// falls behind by more than [`CallEvents::BUFFER`] events misses the later ones: an
/// upstream cannot make the service hold an unbounded backlog.
#[derive(Debug, Clone, Default)]
pub struct CallEvents {
    listener: Option<tokio::sync::mpsc::Sender<CallEvent>>,
}

impl CallEvents {
    /// Events held for a listener that has not taken them yet.
    pub const BUFFER: usize = 64;

    /// Nobody listens: every event is dropped.
    pub fn none() -> CallEvents {
        CallEvents::default()
    }

    /// Events for the receiver returned alongside.
    pub fn channel() -> (CallEvents, tokio::sync::mpsc::Receiver<CallEvent>) {
        let (sender, receiver) = tokio::sync::mpsc::channel(Self::BUFFER);
        (
            CallEvents {
                listener: Some(sender),
            },
            receiver,
        )
    }

    /// Passes `event` on, or drops it when nobody listens or the listener is behind.
    pub fn tell(&self, event: CallEvent) {
        if let Some(listener) = &self.listener {
            let _ = listener.try_send(event);
        }
    }
}

/// Where a connection's tools come from and are called.
#[async_trait]
pub trait ToolSource: Send + Sync + fmt::Debug {
    /// The connection's whole tool catalog.
    async fn list_tools(
        &self,
        connection: &VendorConnection,
        credentials: &UpstreamCredentials,
    ) -> Result<Vec<UpstreamTool>, UpstreamError>;

    /// Calls the tool named `name` (its `tool_path`); the MCP `CallToolResult` as JSON (a
    /// tool's own error is still `Ok`). What the upstream tells while the call runs goes
    /// to `events`.
    async fn call_tool(
        &self,
        connection: &VendorConnection,
        credentials: &UpstreamCredentials,
        name: &str,
        arguments: Map<String, Value>,
        events: &CallEvents,
    ) -> Result<Value, UpstreamError>;
}

/// One vendor's adapters.
#[derive(Debug, Clone)]
pub(crate) struct VendorAdapters {
    pub(crate) tools: Arc<dyn ToolSource>,
    pub(crate) credentials: Arc<dyn CredentialProvider>,
}

/// The adapters of every vendor the service can reach. A vendor without adapters has no
/// tool catalog: its connections are never synced and their tools cannot be invoked.
#[derive(Debug, Clone, Default)]
pub struct VendorRegistry {
    adapters: HashMap<Vendor, VendorAdapters>,
}

impl VendorRegistry {
    pub fn new() -> VendorRegistry {
        VendorRegistry::default()
    }

    /// This registry with `vendor`'s adapters (replacing any registered before).
    pub fn register(
        mut self,
        vendor: Vendor,
        tools: Arc<dyn ToolSource>,
        credentials: Arc<dyn CredentialProvider>,
    ) -> VendorRegistry {
        self.adapters
            .insert(vendor, VendorAdapters { tools, credentials });
        self
    }

    /// Whether connections of `vendor` have a tool catalog this service can reach.
    pub fn has_tools(&self, vendor: Vendor) -> bool {
        self.adapters.contains_key(&vendor)
    }

    pub(crate) fn adapters(&self, vendor: Vendor) -> Option<&VendorAdapters> {
        self.adapters.get(&vendor)
    }
}
