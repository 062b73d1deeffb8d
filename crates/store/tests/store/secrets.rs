//! Sealed credentials as a whole: counted by the key that sealed them (the key id the
//! value's header carries), walked page by page, replaced and deleted only while they
//! are what was read.

use feather_domain::integration::ConnectionStatus;
use feather_store::{SealedByKey, SealedSecret, SealedWith, Store};
use uuid::Uuid;

use crate::fixtures;

const KEY_A: [u8; 8] = [0x0a; 8];
const KEY_B: [u8; 8] = [0x0b; 8];

/// A value in the format that names its key (version 2), with a body to tell it apart.
fn sealed_with(key_id: [u8; 8], body: &[u8]) -> Vec<u8> {
    [&[2u8][..], &key_id, body].concat()
}

/// A value of the first format, which names no key.
fn unnamed(body: &[u8]) -> Vec<u8> {
    [&[1u8][..], body].concat()
}

/// A new connection of `organization_id` with `sealed` as its credentials; its id.
async fn connection_sealed(
    store: &Store,
    organization_id: Uuid,
    slug: &str,
    sealed: &[u8],
) -> Uuid {
    let connection = fixtures::connection(organization_id, slug, feather_store::now());
    store
        .seed_connection(&connection, Some(sealed))
        .await
        .expect("insert connection");
    connection.id
}

fn ids(page: &[SealedSecret]) -> Vec<Uuid> {
    page.iter().map(|secret| secret.connection_id).collect()
}

async fn sealed_credentials_are_counted_by_the_key_that_sealed_them(store: &Store) {
    assert_eq!(store.sealed_secrets_by_key().await.expect("count"), vec![]);
    let organization = store.seed_organization().await;
    connection_sealed(store, organization.id, "a", &sealed_with(KEY_B, b"1")).await;
    connection_sealed(store, organization.id, "b", &sealed_with(KEY_A, b"2")).await;
    connection_sealed(store, organization.id, "c", &unnamed(b"3")).await;
    connection_sealed(store, organization.id, "d", &sealed_with(KEY_A, b"4")).await;
    // A connection without credentials counts for nothing.
    fixtures::stored_connection(store, organization.id, "e").await;
    assert_eq!(
        store.sealed_secrets_by_key().await.expect("count"),
        vec![
            SealedByKey {
                key_id: None,
                count: 1
            },
            SealedByKey {
                key_id: Some(KEY_A.to_vec()),
                count: 2
            },
            SealedByKey {
                key_id: Some(KEY_B.to_vec()),
                count: 1
            },
        ]
    );
}

async fn a_walk_pages_through_the_credentials_left_to_do_in_connection_order(store: &Store) {
    let organization = store.seed_organization().await;
    let under_b = connection_sealed(store, organization.id, "a", &sealed_with(KEY_B, b"1")).await;
    connection_sealed(store, organization.id, "b", &sealed_with(KEY_A, b"2")).await;
    let old = connection_sealed(store, organization.id, "c", &unnamed(b"3")).await;
    let also_under_b =
        connection_sealed(store, organization.id, "d", &sealed_with(KEY_B, b"4")).await;

    let mut walked = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .sealed_secrets(SealedWith::AnyKeyBut(&KEY_A), after, 2)
            .await
            .expect("page");
        walked.extend(ids(&page));
        match page.last() {
            Some(last) if page.len() == 2 => after = Some(last.connection_id),
            _ => break,
        }
    }
    assert_eq!(walked, vec![under_b, old, also_under_b]);

    let unnamed_only = store
        .sealed_secrets(SealedWith::NoRecordedKey, None, 10)
        .await
        .expect("page");
    assert_eq!(
        unnamed_only,
        vec![SealedSecret {
            organization_id: organization.id,
            connection_id: old,
            sealed: unnamed(b"3"),
        }]
    );
    assert!(
        store
            .sealed_secrets(SealedWith::NoRecordedKey, Some(old), 10)
            .await
            .expect("page")
            .is_empty()
    );
}

async fn a_sealed_credential_is_replaced_only_while_it_is_what_was_read(store: &Store) {
    let organization = store.seed_organization().await;
    let before = sealed_with(KEY_A, b"old");
    let id = connection_sealed(store, organization.id, "a", &before).await;
    let at = feather_store::now();

    let stale = sealed_with(KEY_A, b"what another replica replaced");
    assert!(
        !store
            .replace_sealed_secret(id, &stale, &sealed_with(KEY_B, b"x"), at)
            .await
            .expect("replace")
    );
    assert_eq!(
        store.connection_secret(id).await.expect("read"),
        Some(before.clone())
    );

    let after = sealed_with(KEY_B, b"new");
    assert!(
        store
            .replace_sealed_secret(id, &before, &after, at)
            .await
            .expect("replace")
    );
    assert_eq!(
        store.connection_secret(id).await.expect("read"),
        Some(after.clone())
    );
    // The recorded key follows the value.
    assert_eq!(
        store.sealed_secrets_by_key().await.expect("count"),
        vec![SealedByKey {
            key_id: Some(KEY_B.to_vec()),
            count: 1
        }]
    );
    assert!(
        !store
            .replace_sealed_secret(Uuid::now_v7(), &after, &before, at)
            .await
            .expect("replace")
    );
}

async fn a_sealed_credential_is_deleted_only_while_it_is_what_was_read(store: &Store) {
    let organization = store.seed_organization().await;
    let sealed = sealed_with(KEY_A, b"lost");
    let id = connection_sealed(store, organization.id, "a", &sealed).await;
    let secret = SealedSecret {
        organization_id: organization.id,
        connection_id: id,
        sealed,
    };
    let stale = SealedSecret {
        sealed: sealed_with(KEY_A, b"changed"),
        ..secret.clone()
    };
    let delete = async |secret: &SealedSecret| {
        let mut write = store
            .begin_listing_write(organization.id)
            .await
            .expect("begin");
        let deleted = write.delete_sealed_secret(secret).await.expect("delete");
        write.commit().await.expect("commit");
        deleted
    };

    assert!(!delete(&stale).await);
    assert!(store.connection_secret(id).await.expect("read").is_some());
    assert!(delete(&secret).await);
    assert_eq!(store.connection_secret(id).await.expect("read"), None);
    assert!(!delete(&secret).await, "already gone");
}

async fn a_connection_status_is_set_with_its_reason(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "a").await;
    let version = store
        .listing_version(organization.id)
        .await
        .expect("version");
    let at = fixtures::later(connection.created_at, 1);
    let mut write = store
        .begin_listing_write(organization.id)
        .await
        .expect("begin");
    write
        .set_connection_status(
            organization.id,
            connection.id,
            ConnectionStatus::Error,
            "Lost: connect it again.",
            at,
        )
        .await
        .expect("set status");
    write.commit().await.expect("commit");

    let connection = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(connection.status, ConnectionStatus::Error);
    assert_eq!(
        connection.status_reason.as_deref(),
        Some("Lost: connect it again.")
    );
    assert_eq!(connection.updated_at, at);
    assert!(
        store
            .listing_version(organization.id)
            .await
            .expect("version")
            > version
    );
}

async fn an_authorized_connection_is_activated_with_its_new_credentials(store: &Store) {
    let organization = store.seed_organization().await;
    let mut pending = fixtures::connection(organization.id, "a", feather_store::now());
    pending.status = ConnectionStatus::PendingOauth;
    pending.status_reason = Some("Waiting.".to_owned());
    pending.connected_at = None;
    store
        .seed_connection(&pending, Some(b"before"))
        .await
        .expect("insert connection");
    let at = fixtures::later(pending.created_at, 1);
    let metadata = serde_json::json!({"auth_type": "oauth"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut write = store
        .begin_listing_write(organization.id)
        .await
        .expect("begin");
    write
        .put_connection_secret(pending.id, b"after", at)
        .await
        .expect("put");
    write
        .activate_connection(organization.id, pending.id, &metadata, at)
        .await
        .expect("activate");
    write.commit().await.expect("commit");
    let active = store
        .get_connection(organization.id, pending.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(active.status, ConnectionStatus::Active);
    assert_eq!(active.status_reason, None);
    assert_eq!(active.connected_at, Some(at));
    assert_eq!(active.last_refreshed_at, Some(at));
    assert_eq!(active.metadata, metadata);
    assert_eq!(
        store.connection_secret(pending.id).await.expect("read"),
        Some(b"after".to_vec())
    );

    // Activated again (a re-authorization), it keeps when it first connected.
    let later = fixtures::later(at, 1);
    let mut write = store
        .begin_listing_write(organization.id)
        .await
        .expect("begin");
    write
        .activate_connection(organization.id, pending.id, &metadata, later)
        .await
        .expect("activate");
    write.commit().await.expect("commit");
    let again = store
        .get_connection(organization.id, pending.id)
        .await
        .expect("get")
        .expect("kept");
    assert_eq!(again.connected_at, Some(at));
    assert_eq!(again.last_refreshed_at, Some(later));
}

on_both_backends!(
    an_authorized_connection_is_activated_with_its_new_credentials,
    sealed_credentials_are_counted_by_the_key_that_sealed_them,
    a_walk_pages_through_the_credentials_left_to_do_in_connection_order,
    a_sealed_credential_is_replaced_only_while_it_is_what_was_read,
    a_sealed_credential_is_deleted_only_while_it_is_what_was_read,
    a_connection_status_is_set_with_its_reason,
);
