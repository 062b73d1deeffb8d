//! The service suite: use cases over a real store, every test written once and run on
//! SQLite always and on PostgreSQL when `FEATHER_TEST_DATABASE_URL` is set, each in a fresh
//! database. Upstreams are never reached (see `feather_service::testing`).

#[macro_use]
extern crate feather_store;

mod connections;
mod tool_views;

use feather_domain::integration::{ConnectionStatus, IntegrationKey, Vendor};
use feather_domain::organization::Organization;
use feather_service::NewConnection;
use feather_store::Store;
use uuid::Uuid;

/// A new organization, written straight to the store.
async fn organization(store: &Store) -> Organization {
    let organization = Organization {
        id: Uuid::now_v7(),
        name: "Acme".to_owned(),
        created_at: feather_store::now(),
    };
    store
        .insert_organization(&organization)
        .await
        .expect("insert organization");
    organization
}

/// An active custom MCP connection to create, nicknamed `nickname`, with no credentials
/// and no first sync.
fn new_connection(nickname: &str) -> NewConnection {
    NewConnection {
        integration_key: IntegrationKey::CustomMcp,
        nickname: nickname.to_owned(),
        vendor: Vendor::Mcp,
        vendor_connection_id: None,
        status: ConnectionStatus::Active,
        metadata: serde_json::Map::new(),
        credentials: None,
        sync_tools: false,
    }
}
