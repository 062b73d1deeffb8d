//! Records to store, with every field set to something a test can check.

use chrono::{DateTime, Duration, Utc};
use feather_domain::connection::Connection;
use feather_domain::organization::Organization;
use feather_store::testing::active_mcp_connection;
use feather_store::{CatalogTool, Store};
use serde_json::{Value, json};
use uuid::Uuid;

pub fn connection(organization_id: Uuid, slug: &str, created_at: DateTime<Utc>) -> Connection {
    Connection {
        nickname: format!("Nickname of {slug}"),
        metadata: json!({"server_url": "https://mcp.example.test/mcp", "tools_sync_error": {"message": "old", "at": "2026-01-01T00:00:00Z"}})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        ..active_mcp_connection(organization_id, slug, created_at)
    }
}

pub async fn stored_connection(store: &Store, organization_id: Uuid, slug: &str) -> Connection {
    let connection = connection(organization_id, slug, feather_store::now());
    store
        .seed_connection(&connection, None)
        .await
        .expect("insert connection");
    connection
}

/// An input schema whose keys are deliberately not in alphabetical (or jsonb) order.
pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "What to search for"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 100},
            "channel": {"type": "string"}
        },
        "required": ["query"],
        "additionalProperties": false
    })
}

pub fn catalog_tool(path: &str) -> CatalogTool {
    CatalogTool {
        tool_path: path.to_owned(),
        slug: format!("conn_{path}"),
        display_name: format!("Tool {path}"),
        description: Some(format!("Does {path}")),
        input_schema: input_schema(),
        response_schema: None,
        annotations: None,
    }
}

/// The tools `paths` as a sync would record them for `connection`: each slug made from
/// the connection's, so that two connections' catalogs never share one.
pub fn catalog_of(connection: &Connection, paths: &[&str]) -> Vec<CatalogTool> {
    paths
        .iter()
        .map(|path| CatalogTool {
            slug: feather_domain::slug::tool_slug(&connection.nickname_slug, path),
            ..catalog_tool(path)
        })
        .collect()
}

pub fn later(at: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    at + Duration::seconds(seconds)
}

/// A new organization with a connection `slug` whose catalog, synced now, is the
/// `search` tool.
pub async fn with_search_tool(store: &Store, slug: &str) -> (Organization, Connection) {
    let organization = store.seed_organization().await;
    let connection = stored_connection(store, organization.id, slug).await;
    store
        .seed_catalog(
            organization.id,
            connection.id,
            &[catalog_tool("search")],
            feather_store::now(),
        )
        .await
        .expect("apply the catalog");
    (organization, connection)
}
