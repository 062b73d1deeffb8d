use feather_store::{NewApiKey, Store};
use uuid::Uuid;

use crate::fixtures;

fn new_key(organization_id: Uuid, hash: &str, at: chrono::DateTime<chrono::Utc>) -> NewApiKey {
    NewApiKey {
        id: Uuid::now_v7(),
        organization_id,
        name: format!("key {hash}"),
        key_prefix: "fth_abcdefgh".to_owned(),
        key_hash: hash.to_owned(),
        scopes: vec!["integrations:read".to_owned()],
        created_at: at,
        expires_at: Some(fixtures::later(at, 3600)),
    }
}

async fn insert(store: &Store, key: &NewApiKey) -> feather_domain::api_key::ApiKey {
    store.insert_api_key(key).await.expect("insert key")
}

async fn inserted_key_reads_back_by_hash_without_the_hash(store: &Store) {
    let organization = store.seed_organization().await;
    let new = new_key(organization.id, "hash-1", feather_store::now());
    let stored = insert(store, &new).await;
    assert_eq!(stored.id, new.id);
    assert_eq!(stored.scopes, new.scopes);
    assert_eq!(stored.expires_at, new.expires_at);
    assert_eq!(stored.created_at, new.created_at);
    assert_eq!(stored.last_used_at, None);
    assert_eq!(stored.revoked_at, None);
    let found = store.find_api_key_by_hash("hash-1").await.expect("find");
    assert_eq!(found, Some(stored));
    assert_eq!(
        store.find_api_key_by_hash("hash-2").await.expect("find"),
        None
    );
}

async fn a_hash_is_unique(store: &Store) {
    let organization = store.seed_organization().await;
    insert(
        store,
        &new_key(organization.id, "same", feather_store::now()),
    )
    .await;
    let again = store
        .insert_api_key(&new_key(organization.id, "same", feather_store::now()))
        .await;
    assert!(matches!(
        again,
        Err(feather_store::StoreError::UniqueViolation { .. })
    ));
}

async fn keys_list_oldest_first_within_their_organization(store: &Store) {
    let organization = store.seed_organization().await;
    let other = store.seed_organization().await;
    let at = feather_store::now();
    let second = insert(
        store,
        &new_key(organization.id, "b", fixtures::later(at, 5)),
    )
    .await;
    let first = insert(store, &new_key(organization.id, "a", at)).await;
    insert(store, &new_key(other.id, "c", at)).await;
    let listed = store.list_api_keys(organization.id).await.expect("list");
    assert_eq!(listed, vec![first, second]);
}

async fn revoking_records_the_first_time_only_and_is_scoped(store: &Store) {
    let organization = store.seed_organization().await;
    let other = store.seed_organization().await;
    let key = insert(store, &new_key(organization.id, "h", feather_store::now())).await;
    let at = fixtures::later(key.created_at, 10);
    assert!(
        !store
            .revoke_api_key(other.id, key.id, at)
            .await
            .expect("revoke")
    );
    assert_eq!(
        store
            .find_api_key_by_hash("h")
            .await
            .expect("find")
            .and_then(|k| k.revoked_at),
        None
    );
    assert!(
        store
            .revoke_api_key(organization.id, key.id, at)
            .await
            .expect("revoke")
    );
    assert!(
        store
            .revoke_api_key(organization.id, key.id, fixtures::later(at, 10))
            .await
            .expect("revoke again")
    );
    let revoked = store
        .find_api_key_by_hash("h")
        .await
        .expect("find")
        .expect("still stored");
    assert_eq!(revoked.revoked_at, Some(at));
}

async fn touching_a_key_records_its_use(store: &Store) {
    let organization = store.seed_organization().await;
    let key = insert(store, &new_key(organization.id, "t", feather_store::now())).await;
    let at = fixtures::later(key.created_at, 30);
    store.touch_api_key(key.id, at).await.expect("touch");
    let touched = store
        .find_api_key_by_hash("t")
        .await
        .expect("find")
        .expect("stored");
    assert_eq!(touched.last_used_at, Some(at));
}

on_both_backends!(
    inserted_key_reads_back_by_hash_without_the_hash,
    a_hash_is_unique,
    keys_list_oldest_first_within_their_organization,
    revoking_records_the_first_time_only_and_is_scoped,
    touching_a_key_records_its_use,
);
