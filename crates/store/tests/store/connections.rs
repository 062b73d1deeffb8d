use uuid::Uuid;

use crate::fixtures;
use feather_store::Store;

async fn connection_round_trips_every_field(store: &Store) {
    let organization = store.seed_organization().await;
    let mut connection = fixtures::connection(organization.id, "crm", feather_store::now());
    connection.vendor_connection_id = Some("nango-123".to_owned());
    connection.status_reason = Some("Token expired.".to_owned());
    connection.last_used_at = Some(fixtures::later(connection.created_at, 1));
    store
        .seed_connection(&connection, None)
        .await
        .expect("insert");
    let read = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get");
    assert_eq!(read, Some(connection));
}

async fn another_organization_cannot_read_rename_or_delete_a_connection(store: &Store) {
    let owner = store.seed_organization().await;
    let stranger = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, owner.id, "crm").await;
    let at = feather_store::now();
    assert_eq!(
        store
            .get_connection(stranger.id, connection.id)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .rename_connection(stranger.id, connection.id, "Mine", at)
            .await
            .expect("rename"),
        None
    );
    assert!(
        !store
            .delete_connection(stranger.id, connection.id)
            .await
            .expect("delete")
    );
    assert_eq!(
        store
            .get_connection(owner.id, connection.id)
            .await
            .expect("get"),
        Some(connection)
    );
}

async fn a_nickname_slug_is_unique_within_an_organization_only(store: &Store) {
    let organization = store.seed_organization().await;
    let other = store.seed_organization().await;
    fixtures::stored_connection(store, organization.id, "crm").await;
    let duplicate = fixtures::connection(organization.id, "crm", feather_store::now());
    assert!(matches!(
        store.seed_connection(&duplicate, None).await,
        Err(feather_store::StoreError::UniqueViolation { .. })
    ));
    fixtures::stored_connection(store, other.id, "crm").await;
}

async fn connections_list_by_creation_time_then_id(store: &Store) {
    let organization = store.seed_organization().await;
    let other = store.seed_organization().await;
    let at = feather_store::now();
    let late = fixtures::connection(organization.id, "late", fixtures::later(at, 60));
    let mut tied = [
        fixtures::connection(organization.id, "tied_a", at),
        fixtures::connection(organization.id, "tied_b", at),
    ];
    // A sub-second difference must order correctly too (SQLite compares text).
    let early = fixtures::connection(
        organization.id,
        "early",
        at - chrono::Duration::microseconds(1500),
    );
    for connection in [&late, &tied[1], &early, &tied[0]] {
        store
            .seed_connection(connection, None)
            .await
            .expect("insert");
    }
    store
        .seed_connection(&fixtures::connection(other.id, "foreign", at), None)
        .await
        .expect("insert");
    tied.sort_by_key(|connection| connection.id);
    let expected: Vec<Uuid> = [&early, &tied[0], &tied[1], &late]
        .iter()
        .map(|connection| connection.id)
        .collect();
    let listed: Vec<Uuid> = store
        .list_connections(organization.id)
        .await
        .expect("list")
        .iter()
        .map(|connection| connection.id)
        .collect();
    assert_eq!(listed, expected);
}

async fn renaming_keeps_the_slug_and_moves_updated_at(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "crm").await;
    let at = fixtures::later(connection.created_at, 5);
    let renamed = store
        .rename_connection(organization.id, connection.id, "Sales CRM", at)
        .await
        .expect("rename")
        .expect("exists");
    assert_eq!(renamed.nickname, "Sales CRM");
    assert_eq!(renamed.nickname_slug, "crm");
    assert_eq!(renamed.updated_at, at);
    assert_eq!(renamed.created_at, connection.created_at);
}

async fn deleting_a_connection_deletes_its_tools(store: &Store) {
    let (organization, connection) = fixtures::with_search_tool(store, "crm").await;
    assert!(
        store
            .delete_connection(organization.id, connection.id)
            .await
            .expect("delete")
    );
    assert_eq!(
        store
            .get_connection(organization.id, connection.id)
            .await
            .expect("get"),
        None
    );
    assert!(
        store
            .list_organization_tools(organization.id)
            .await
            .expect("tools")
            .is_empty()
    );
    assert!(
        !store
            .delete_connection(organization.id, connection.id)
            .await
            .expect("delete")
    );
}

on_both_backends!(
    connection_round_trips_every_field,
    another_organization_cannot_read_rename_or_delete_a_connection,
    a_nickname_slug_is_unique_within_an_organization_only,
    connections_list_by_creation_time_then_id,
    renaming_keeps_the_slug_and_moves_updated_at,
    deleting_a_connection_deletes_its_tools,
);
