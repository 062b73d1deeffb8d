//! The reads of the agents' MCP endpoint, and the announcements that tell its open
//! sessions an organization's listing changed.

use feather_domain::integration::ConnectionStatus;
use feather_store::{Store, ToolConfigPatch};
use tokio::sync::broadcast::error::TryRecvError;

use crate::fixtures;

async fn an_agent_is_offered_the_enabled_tools_of_active_connections_only(store: &Store) {
    let organization = store.seed_organization().await;
    let active = fixtures::stored_connection(store, organization.id, "desk").await;
    let paused = fixtures::stored_connection(store, organization.id, "paused").await;
    for connection in [&active, &paused] {
        let catalog = fixtures::catalog_of(connection, &["search", "send"]);
        store
            .seed_catalog(
                organization.id,
                connection.id,
                &catalog,
                feather_store::now(),
            )
            .await
            .expect("catalog");
    }
    let send = store
        .find_organization_tool(organization.id, "desk_send")
        .await
        .expect("read")
        .expect("the tool, found by its slug alone");
    assert_eq!(send.connection_id, active.id);
    let disable = ToolConfigPatch {
        is_enabled: Some(false),
        ..ToolConfigPatch::default()
    };
    store
        .seed_tool_config(
            organization.id,
            active.id,
            send.id,
            &disable,
            feather_store::now(),
        )
        .await
        .expect("disable");
    let mut write = store
        .begin_listing_write(organization.id)
        .await
        .expect("begin");
    write
        .set_connection_status(
            organization.id,
            paused.id,
            ConnectionStatus::Error,
            "paused",
            feather_store::now(),
        )
        .await
        .expect("status");
    write.commit().await.expect("commit");

    let offered = store.enabled_tools(organization.id).await.expect("read");
    let slugs: Vec<&str> = offered.iter().map(|row| row.tool.slug.as_str()).collect();
    assert_eq!(slugs, ["desk_search"]);
    assert_eq!(offered[0].nickname_slug, "desk");
    assert!(offered[0].tools_synced_at.is_some(), "the sync is told");

    let stranger = store.seed_organization().await;
    assert!(
        store
            .enabled_tools(stranger.id)
            .await
            .expect("read")
            .is_empty()
    );
    let found = store
        .find_organization_tool(stranger.id, "desk_search")
        .await
        .expect("read");
    assert_eq!(found, None, "another organization's slug is not found");
    assert!(
        store
            .has_nickname_slug(organization.id, "desk")
            .await
            .expect("read")
    );
    assert!(
        !store
            .has_nickname_slug(stranger.id, "desk")
            .await
            .expect("read")
    );
}

async fn a_committed_listing_write_is_announced_once_and_nothing_else_is(store: &Store) {
    let organization = store.seed_organization().await;
    let mut changes = store.listing_changes();

    let write = store
        .begin_listing_write(organization.id)
        .await
        .expect("begin");
    drop(write);
    assert_eq!(changes.try_recv(), Err(TryRecvError::Empty), "rolled back");
    store
        .begin_write()
        .await
        .expect("begin")
        .commit()
        .await
        .expect("commit");
    assert_eq!(
        changes.try_recv(),
        Err(TryRecvError::Empty),
        "not a listing write"
    );

    fixtures::stored_connection(store, organization.id, "desk").await;
    assert_eq!(changes.try_recv(), Ok(organization.id));
    assert_eq!(changes.try_recv(), Err(TryRecvError::Empty));
}

on_both_backends!(
    an_agent_is_offered_the_enabled_tools_of_active_connections_only,
    a_committed_listing_write_is_announced_once_and_nothing_else_is,
);
