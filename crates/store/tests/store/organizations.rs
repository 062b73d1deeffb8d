use feather_store::Store;

async fn organization_round_trips(store: &Store) {
    assert!(!store.has_organizations().await.expect("exists query"));
    let organization = store.seed_organization().await;
    assert!(store.has_organizations().await.expect("exists query"));
    let read = store.get_organization(organization.id).await.expect("get");
    assert_eq!(read, Some(organization));
}

async fn organizations_are_listed_oldest_first(store: &Store) {
    assert_eq!(store.list_organizations().await.expect("list"), vec![]);
    let first = store.seed_organization().await;
    let second = store.seed_organization().await;
    let listed = store.list_organizations().await.expect("list");
    assert_eq!(listed, vec![first, second]);
}

async fn unknown_organization_is_none(store: &Store) {
    let read = store
        .get_organization(uuid::Uuid::now_v7())
        .await
        .expect("get");
    assert_eq!(read, None);
}

async fn store_answers_a_ping(store: &Store) {
    store.ping().await.expect("ping");
}

on_both_backends!(
    organization_round_trips,
    organizations_are_listed_oldest_first,
    unknown_organization_is_none,
    store_answers_a_ping,
);
