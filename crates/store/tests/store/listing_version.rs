use feather_store::{Invocation, Store, ToolConfigPatch};
use uuid::Uuid;

use crate::fixtures;

async fn version(store: &Store, organization_id: Uuid) -> i64 {
    store
        .listing_version(organization_id)
        .await
        .expect("version")
        .expect("a known organization")
}

/// Asserts that `write` moved the organization's listing version.
macro_rules! moves_the_version {
    ($store:expr, $organization:expr, $what:literal, $write:expr) => {{
        let before = version($store, $organization).await;
        $write.await.expect($what);
        assert!(
            version($store, $organization).await > before,
            "{} did not move it",
            $what
        );
    }};
}

/// Asserts that `write` left the organization's listing version where it was.
macro_rules! keeps_the_version {
    ($store:expr, $organization:expr, $what:literal, $write:expr) => {{
        let before = version($store, $organization).await;
        $write.await.expect($what);
        assert_eq!(
            version($store, $organization).await,
            before,
            "{} moved it",
            $what
        );
    }};
}

async fn every_write_to_an_organizations_listing_moves_its_version(store: &Store) {
    let organization = store.seed_organization().await;
    let org = organization.id;
    let other = store.seed_organization().await;
    let other_version = version(store, other.id).await;
    let connection = fixtures::connection(org, "crm", feather_store::now());
    let at = fixtures::later(connection.created_at, 1);

    moves_the_version!(
        store,
        org,
        "insert",
        store.seed_connection(&connection, None)
    );
    moves_the_version!(
        store,
        org,
        "sync",
        store.seed_catalog(org, connection.id, &[fixtures::catalog_tool("search")], at)
    );
    let tool = store
        .list_connection_tools(org, connection.id)
        .await
        .expect("tools")[0]
        .clone();
    let patch = ToolConfigPatch {
        is_enabled: Some(false),
        ..ToolConfigPatch::default()
    };
    moves_the_version!(
        store,
        org,
        "configure",
        store.seed_tool_config(org, connection.id, tool.id, &patch, at)
    );
    moves_the_version!(
        store,
        org,
        "bulk toggle",
        store.set_connection_tools_enabled(org, connection.id, true, at)
    );
    moves_the_version!(
        store,
        org,
        "rename",
        store.rename_connection(org, connection.id, "Sales", at)
    );
    moves_the_version!(
        store,
        org,
        "syncing",
        store.mark_tools_syncing(org, connection.id, at)
    );
    moves_the_version!(
        store,
        org,
        "sync failure",
        store.record_sync_failure(
            org,
            connection.id,
            &feather_store::SyncFailure {
                message: "down",
                reason: "Down.".to_owned(),
                credentials_rejected: false,
                retry_at: None,
                at,
            }
        )
    );
    moves_the_version!(
        store,
        org,
        "use",
        store.mark_connection_used(org, connection.id, at)
    );
    moves_the_version!(
        store,
        org,
        "delete",
        store.delete_connection(org, connection.id)
    );

    assert_eq!(
        version(store, other.id).await,
        other_version,
        "another org's version moved"
    );
    assert_eq!(
        store
            .listing_version(Uuid::now_v7())
            .await
            .expect("version"),
        None
    );
}

async fn writes_the_listing_does_not_show_keep_its_version(store: &Store) {
    let organization = store.seed_organization().await;
    let org = organization.id;
    let connection = fixtures::connection(org, "crm", feather_store::now());
    store
        .seed_connection(&connection, None)
        .await
        .expect("insert");
    let at = fixtures::later(connection.created_at, 1);
    store
        .seed_catalog(org, connection.id, &[fixtures::catalog_tool("search")], at)
        .await
        .expect("sync");
    let tool = store
        .list_connection_tools(org, connection.id)
        .await
        .expect("tools")[0]
        .clone();
    let invocation = Invocation {
        id: Uuid::now_v7(),
        organization_id: org,
        connection_id: connection.id,
        tool_id: tool.id,
        tool_path: tool.tool_path.clone(),
        started_at: at,
        duration_ms: 1,
        outcome: "ok".to_owned(),
        error: None,
        mode: feather_domain::invocation::InvocationMode::TestMcpCall,
    };
    keeps_the_version!(
        store,
        org,
        "invocation",
        store.record_invocation(&invocation)
    );
    keeps_the_version!(
        store,
        org,
        "revocation",
        store.revoke_api_key(org, Uuid::now_v7(), at)
    );
    keeps_the_version!(
        store,
        org,
        "no-op revocation",
        store.revoke_api_key(org, Uuid::now_v7(), at)
    );
}

async fn a_connection_used_again_keeps_its_latest_use(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::connection(organization.id, "crm", feather_store::now());
    store
        .seed_connection(&connection, None)
        .await
        .expect("insert");
    let (earlier, later) = (
        fixtures::later(connection.created_at, 1),
        fixtures::later(connection.created_at, 2),
    );
    store
        .mark_connection_used(organization.id, connection.id, later)
        .await
        .expect("use");
    store
        .mark_connection_used(organization.id, connection.id, earlier)
        .await
        .expect("use");
    let stored = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("read")
        .expect("the connection");
    assert_eq!(stored.last_used_at, Some(later));
}

on_both_backends!(
    every_write_to_an_organizations_listing_moves_its_version,
    writes_the_listing_does_not_show_keep_its_version,
    a_connection_used_again_keeps_its_latest_use,
);
