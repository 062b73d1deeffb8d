//! Authorizations in progress: kept under a state's hash, taken at most once, one per
//! connection, and gone with their connection.

use chrono::Duration;
use feather_store::{PendingAuthorization, Store};
use uuid::Uuid;

use crate::fixtures;

fn pending(organization_id: Uuid, connection_id: Uuid, sealed: &[u8]) -> PendingAuthorization {
    let now = feather_store::now();
    PendingAuthorization {
        organization_id,
        connection_id,
        sealed: sealed.to_vec(),
        created_at: now,
        expires_at: now + Duration::minutes(10),
    }
}

/// Keeps `authorization` under `hash`, as of its creation.
async fn keep(store: &Store, hash: &[u8], authorization: &PendingAuthorization) {
    let mut write = store.begin_write().await.expect("begin");
    write
        .replace_oauth_authorization(hash, authorization, authorization.created_at)
        .await
        .expect("keep");
    write.commit().await.expect("commit");
}

async fn a_state_is_taken_once(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "a").await;
    let authorization = pending(organization.id, connection.id, b"sealed");
    keep(store, b"hash-of-a-state", &authorization).await;
    let now = feather_store::now();
    assert!(
        store
            .has_oauth_authorization(connection.id, now)
            .await
            .expect("read")
    );

    let taken = store
        .take_oauth_authorization(b"hash-of-a-state")
        .await
        .expect("take");
    assert_eq!(taken, Some(authorization));
    let again = store
        .take_oauth_authorization(b"hash-of-a-state")
        .await
        .expect("take");
    assert_eq!(again, None, "a state is used once");
    assert!(
        !store
            .has_oauth_authorization(connection.id, now)
            .await
            .expect("read")
    );
    assert_eq!(
        store
            .take_oauth_authorization(b"never-kept")
            .await
            .expect("take"),
        None
    );
}

async fn a_new_authorization_replaces_the_connections_earlier_one_and_expired_ones(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "a").await;
    let other = fixtures::stored_connection(store, organization.id, "b").await;
    keep(
        store,
        b"first",
        &pending(organization.id, connection.id, b"1"),
    )
    .await;
    let mut expired = pending(organization.id, other.id, b"old");
    expired.created_at -= Duration::minutes(20);
    expired.expires_at -= Duration::minutes(20);
    let mut write = store.begin_write().await.expect("begin");
    write
        .replace_oauth_authorization(b"expired", &expired, expired.created_at)
        .await
        .expect("keep");
    write.commit().await.expect("commit");

    keep(
        store,
        b"second",
        &pending(organization.id, connection.id, b"2"),
    )
    .await;
    assert_eq!(
        store
            .take_oauth_authorization(b"first")
            .await
            .expect("take"),
        None
    );
    assert_eq!(
        store
            .take_oauth_authorization(b"expired")
            .await
            .expect("take"),
        None
    );
    let second = store
        .take_oauth_authorization(b"second")
        .await
        .expect("take");
    assert_eq!(second.map(|kept| kept.sealed), Some(b"2".to_vec()));
}

async fn an_authorization_goes_with_its_connection(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "a").await;
    keep(
        store,
        b"state",
        &pending(organization.id, connection.id, b"s"),
    )
    .await;
    assert!(
        store
            .delete_connection(organization.id, connection.id)
            .await
            .expect("delete")
    );
    assert_eq!(
        store
            .take_oauth_authorization(b"state")
            .await
            .expect("take"),
        None
    );
}

on_both_backends!(
    a_state_is_taken_once,
    a_new_authorization_replaces_the_connections_earlier_one_and_expired_ones,
    an_authorization_goes_with_its_connection,
);
