use crate::fixtures;

store_tests! {
    async fn organization_round_trips(store) {
        assert!(!store.has_organizations().await.expect("exists query"));
        let organization = fixtures::organization(store).await;
        assert!(store.has_organizations().await.expect("exists query"));
        let read = store.get_organization(organization.id).await.expect("get");
        assert_eq!(read, Some(organization));
    }

    async fn unknown_organization_is_none(store) {
        let read = store.get_organization(uuid::Uuid::now_v7()).await.expect("get");
        assert_eq!(read, None);
    }

    async fn store_answers_a_ping(store) {
        store.ping().await.expect("ping");
    }
}
