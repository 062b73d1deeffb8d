//! The vendor seam: a vendor the service has no code for, registered in one place, has
//! its catalog synced and its tools invoked through the API exactly as custom MCP's are,
//! with the operator's pins enforced and the credentials its provider hands out. A vendor
//! without adapters has no catalog at all.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use axum::http::StatusCode;
use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use feather_service::vendors::{
    CallEvents, CredentialProvider, ToolSource, UpstreamCredentials, VendorConnection,
};
use feather_service::{
    NewConnection, SyncOutcome, UpstreamError, UpstreamTool, Upstreams, VendorRegistry,
};
use feather_vendors::guard::UpstreamPolicy;
use feather_vendors::oauth::McpOAuthClient;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::support::{LISTING, TestApp};

/// A notebook service: one tool, `write_note`, which answers with what it received.
#[derive(Debug, Default)]
struct Notebook {
    /// Each call's arguments and the credentials it carried.
    calls: Mutex<Vec<(Map<String, Value>, UpstreamCredentials)>>,
}

#[async_trait]
impl ToolSource for Notebook {
    async fn list_tools(
        &self,
        _connection: &VendorConnection,
        _credentials: &UpstreamCredentials,
    ) -> Result<Vec<UpstreamTool>, UpstreamError> {
        Ok(vec![UpstreamTool {
            name: "write_note".to_owned(),
            title: Some("Write a note".to_owned()),
            description: Some("Adds a note to the notebook.".to_owned()),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "notebook": {"type": "string"},
                    "text": {"type": "string"}
                },
                "required": ["notebook", "text"]
            }),
            output_schema: None,
            annotations: None,
        }])
    }

    async fn call_tool(
        &self,
        _connection: &VendorConnection,
        credentials: &UpstreamCredentials,
        name: &str,
        arguments: Map<String, Value>,
        _events: &CallEvents,
    ) -> Result<Value, UpstreamError> {
        assert_eq!(name, "write_note");
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((arguments.clone(), credentials.clone()));
        Ok(json!({
            "content": [{"type": "text", "text": "noted"}],
            "structuredContent": {"written": arguments},
            "isError": false
        }))
    }
}

/// Hands out the connection's sealed secret as a bearer token.
#[derive(Debug)]
struct SecretAsBearer;

#[async_trait]
impl CredentialProvider for SecretAsBearer {
    async fn credentials(
        &self,
        connection: &VendorConnection,
    ) -> Result<UpstreamCredentials, UpstreamError> {
        let secret = connection.secret.as_deref().unwrap_or_default();
        Ok(UpstreamCredentials {
            headers: vec![(
                "authorization".to_owned(),
                format!("Bearer {}", String::from_utf8_lossy(secret)),
            )],
        })
    }
}

/// An app whose only vendor with adapters is the notebook, registered as `platform`.
async fn app_with_notebook() -> (TestApp, Arc<Notebook>) {
    let notebook = Arc::new(Notebook::default());
    let upstreams = Upstreams {
        url_guard: Arc::new(UpstreamPolicy::public_only()),
        oauth: Arc::new(McpOAuthClient::new(&UpstreamPolicy::public_only()).expect("client")),
        vendors: VendorRegistry::new().register(
            Vendor::Platform,
            notebook.clone(),
            Arc::new(SecretAsBearer),
        ),
    };
    (
        TestApp::build().upstreams(upstreams).start().await,
        notebook,
    )
}

async fn connect(app: &TestApp, vendor: Vendor, integration_key: IntegrationKey) -> Uuid {
    app.service
        .create_connection(
            app.owner.id,
            NewConnection {
                integration_key,
                nickname: "Notes".to_owned(),
                vendor,
                vendor_connection_id: None,
                status: ConnectionStatus::Active,
                metadata: Map::new(),
                credentials: Some(b"notebook-token".to_vec()),
                sync_tools: false,
            },
        )
        .await
        .expect("create the connection")
        .id
}

#[tokio::test]
async fn a_registered_vendor_syncs_and_invokes_like_custom_mcp() {
    let (app, notebook) = app_with_notebook().await;
    let id = connect(&app, Vendor::Platform, IntegrationKey::Email).await;
    let synced = app
        .service
        .sync_tools(app.owner.id, id, None)
        .await
        .expect("sync");
    assert_eq!(synced, SyncOutcome::Synced);

    let owner = app.as_owner();
    let connection_url = format!("{LISTING}/{id}");
    let connection = owner.get(&connection_url).await.expect(StatusCode::OK);
    assert_eq!(connection["tools_status"], "synced", "{connection:#}");
    let tool = &connection["tools"][0];
    assert_eq!(tool["tool_path"], "write_note", "{connection:#}");
    let slug = tool["slug"].as_str().expect("a slug").to_owned();

    owner
        .patch_json(
            &format!(
                "{connection_url}/tools/{}",
                tool["id"].as_str().expect("id")
            ),
            json!({"input_defaults": {"notebook": {"value": "support", "type": "pinned"}}}),
        )
        .await
        .expect(StatusCode::OK);
    let invoked = owner
        .post_json(
            &format!("{connection_url}/test-invoke"),
            json!({"slug": slug, "input": {"notebook": "private", "text": "call back"}}),
        )
        .await
        .expect(StatusCode::OK);
    assert_eq!(
        invoked["result"]["structuredContent"]["written"],
        json!({"notebook": "support", "text": "call back"}),
        "the pin wins over the caller's value: {invoked:#}"
    );
    let calls = notebook
        .calls
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].1.headers,
        [(
            "authorization".to_owned(),
            "Bearer notebook-token".to_owned()
        )],
        "the provider's credentials travel with the call"
    );
}

#[tokio::test]
async fn a_vendor_without_adapters_has_no_catalog() {
    let (app, notebook) = app_with_notebook().await;
    // Custom MCP is not registered in this app.
    let id = connect(&app, Vendor::Mcp, IntegrationKey::CustomMcp).await;
    let outcome = app
        .service
        .sync_tools(app.owner.id, id, None)
        .await
        .expect("sync");
    assert_eq!(outcome, SyncOutcome::Skipped);

    let owner = app.as_owner();
    let refused = owner
        .post_json(&format!("{LISTING}/{id}/refresh-tools"), json!({}))
        .await
        .expect_validation_error(&[&["path", "connection_id"]]);
    assert_eq!(refused[0]["type"], "connection_not_active");
    owner
        .post_json(
            &format!("{LISTING}/{id}/test-mcp-call"),
            json!({"slug": "anything", "input": {}}),
        )
        .await
        .expect_error(StatusCode::BAD_REQUEST, "tool_unavailable");
    assert!(
        notebook
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_empty()
    );
}
