//! Creating connections: the first free slug, the organization's limit, and everything a
//! connection is created with written together.

use feather_service::testing::{new_custom_mcp_connection, service_over};
use feather_service::{NewConnection, ServiceError, ServiceLimits};
use feather_store::Store;
use feather_store::testing::active_mcp_connection;

async fn a_created_connection_gets_the_first_free_slug_of_its_organization(store: &Store) {
    let service = service_over(store.clone());
    let organization =
        organization_with_slugs(store, &["crm", "crm_2", "crmx", "cr", "sales_crm"]).await;
    let other = organization_with_slugs(store, &["crm_3"]).await;

    let created = service
        .create_connection(organization, new_custom_mcp_connection("CRM"))
        .await
        .expect("create");
    assert_eq!(created.nickname_slug, "crm_3");
    let created = service
        .create_connection(other, new_custom_mcp_connection("CRM"))
        .await
        .expect("create");
    assert_eq!(created.nickname_slug, "crm");
}

async fn concurrent_creates_with_one_slug_all_succeed_with_distinct_slugs(store: &Store) {
    let service = service_over(store.clone());
    let organization = store.seed_organization().await;
    let creates = (0..10)
        .map(|_| service.create_connection(organization.id, new_custom_mcp_connection("CRM")));
    let mut slugs: Vec<String> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(|created| created.expect("every create succeeds").nickname_slug)
        .collect();
    slugs.sort();
    let mut expected: Vec<String> = std::iter::once("crm".to_owned())
        .chain((2..=10).map(|n| format!("crm_{n}")))
        .collect();
    expected.sort();
    assert_eq!(slugs, expected);
}

async fn an_organization_at_its_connection_limit_creates_nothing(store: &Store) {
    let service = service_over(store.clone()).with_limits(ServiceLimits {
        max_connections_per_organization: 2,
    });
    let organization = store.seed_organization().await;
    for nickname in ["A", "B"] {
        service
            .create_connection(organization.id, new_custom_mcp_connection(nickname))
            .await
            .expect("create");
    }
    let refused = service
        .create_connection(
            organization.id,
            NewConnection {
                credentials: Some(b"secret".to_vec()),
                sync_tools: true,
                ..new_custom_mcp_connection("C")
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(ServiceError::LimitReached(message)) if message.contains("2 connections")),
        "{refused:?}"
    );
    assert_eq!(
        store
            .list_connections(organization.id)
            .await
            .expect("list")
            .len(),
        2
    );
}

async fn a_connection_is_created_with_its_sealed_credentials_and_first_sync(store: &Store) {
    let service = service_over(store.clone());
    let organization = store.seed_organization().await;
    let created = service
        .create_connection(
            organization.id,
            NewConnection {
                credentials: Some(b"plain-text-token".to_vec()),
                sync_tools: true,
                ..new_custom_mcp_connection("CRM")
            },
        )
        .await
        .expect("create");

    let sealed = store
        .connection_secret(created.id)
        .await
        .expect("secret")
        .expect("kept with the connection");
    assert!(
        !sealed
            .windows(b"plain-text-token".len())
            .any(|window| window == b"plain-text-token"),
        "sealed, not stored as given"
    );
    let jobs = store.pending_jobs(created.id).await.expect("jobs");
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].run_at, created.created_at);
    assert_eq!(
        store
            .get_connection(organization.id, created.id)
            .await
            .expect("get"),
        Some(created)
    );
}

/// A new organization with connections of these slugs; its id.
async fn organization_with_slugs(store: &Store, slugs: &[&str]) -> uuid::Uuid {
    let organization = store.seed_organization().await;
    for slug in slugs {
        let connection = active_mcp_connection(organization.id, slug, feather_store::now());
        store
            .seed_connection(&connection, None)
            .await
            .expect("seed");
    }
    organization.id
}

on_both_backends!(
    a_created_connection_gets_the_first_free_slug_of_its_organization,
    concurrent_creates_with_one_slug_all_succeed_with_distinct_slugs,
    an_organization_at_its_connection_limit_creates_nothing,
    a_connection_is_created_with_its_sealed_credentials_and_first_sync,
);
