use feather_domain::connection::Connection;
use feather_domain::integration::{ConnectionStatus, ToolsStatus};
use feather_domain::invocation::InvocationMode;
use feather_store::{Invocation, JobKind, SyncFailure};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;
use feather_store::Store;

async fn a_write_keeps_all_its_operations_or_none(store: &Store) {
    let organization = store.seed_organization().await;
    let write_connection = async |connection: &Connection, commit: bool| {
        let mut write = store
            .begin_listing_write(organization.id)
            .await
            .expect("begin");
        write.insert_connection(connection).await.expect("insert");
        write
            .insert_connection_secret(connection.id, b"sealed-bytes", connection.created_at)
            .await
            .expect("secret");
        write
            .enqueue_job(
                JobKind::SyncTools,
                organization.id,
                connection.id,
                connection.created_at,
                connection.created_at,
            )
            .await
            .expect("enqueue");
        if commit {
            write.commit().await.expect("commit");
        }
    };

    let kept = fixtures::connection(organization.id, "crm", feather_store::now());
    write_connection(&kept, true).await;
    assert_eq!(
        store.connection_secret(kept.id).await.expect("secret"),
        Some(b"sealed-bytes".to_vec())
    );
    assert_eq!(store.pending_jobs(kept.id).await.expect("jobs").len(), 1);

    // Dropped before it commits: none of the three is kept.
    let dropped = fixtures::connection(organization.id, "sales", feather_store::now());
    write_connection(&dropped, false).await;
    assert_eq!(
        store
            .get_connection(organization.id, dropped.id)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store.connection_secret(dropped.id).await.expect("secret"),
        None
    );
    assert!(
        store
            .pending_jobs(dropped.id)
            .await
            .expect("jobs")
            .is_empty()
    );
}

async fn a_failed_sync_records_why_and_rejected_credentials_set_status_error(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "crm").await;
    let at = fixtures::later(connection.created_at, 5);
    store
        .mark_tools_syncing(organization.id, connection.id, at)
        .await
        .expect("syncing");
    let syncing = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(syncing.tools_status, ToolsStatus::Syncing);

    let retry_at = fixtures::later(at, 10);
    store
        .record_sync_failure(
            organization.id,
            connection.id,
            &SyncFailure {
                message: "The server timed out.",
                reason: "Retried soon.".to_owned(),
                credentials_rejected: false,
                retry_at: Some(retry_at),
                at,
            },
        )
        .await
        .expect("failure");
    let retrying = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        retrying.tools_status,
        ToolsStatus::Syncing,
        "another attempt is planned"
    );
    assert_eq!(retrying.status_reason.as_deref(), Some("Retried soon."));
    assert_eq!(
        retrying.metadata["tools_sync_error"],
        json!({"message": "The server timed out.", "at": at, "retry_at": retry_at})
    );

    store
        .record_sync_failure(
            organization.id,
            connection.id,
            &SyncFailure {
                message: "The server timed out.",
                reason: "Gave up.".to_owned(),
                credentials_rejected: false,
                retry_at: None,
                at,
            },
        )
        .await
        .expect("failure");
    let failed = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(failed.tools_status, ToolsStatus::Failed);
    assert_eq!(failed.status, ConnectionStatus::Active);
    assert_eq!(failed.status_reason.as_deref(), Some("Gave up."));
    assert_eq!(
        failed.metadata["tools_sync_error"],
        json!({"message": "The server timed out.", "at": at})
    );
    assert_eq!(
        failed.metadata["server_url"],
        connection.metadata["server_url"]
    );

    // A later successful sync clears the recorded error and its reason.
    store
        .seed_catalog(organization.id, connection.id, &[], fixtures::later(at, 5))
        .await
        .expect("sync");
    let synced = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(synced.tools_status, ToolsStatus::Synced);
    assert!(!synced.metadata.contains_key("tools_sync_error"));
    assert_eq!(synced.status_reason, None);

    store
        .record_sync_failure(
            organization.id,
            connection.id,
            &SyncFailure {
                message: "HTTP 401",
                reason: "Credentials rejected.".to_owned(),
                credentials_rejected: true,
                retry_at: None,
                at,
            },
        )
        .await
        .expect("failure");
    let rejected = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(rejected.status, ConnectionStatus::Error);
    assert_eq!(
        rejected.status_reason.as_deref(),
        Some("Credentials rejected.")
    );

    // The reason of an `error` status outlives the catalog write.
    store
        .seed_catalog(organization.id, connection.id, &[], fixtures::later(at, 6))
        .await
        .expect("sync");
    let still_rejected = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        still_rejected.status_reason.as_deref(),
        Some("Credentials rejected.")
    );
}

async fn an_invocation_is_recorded_and_its_connection_marked_used(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "crm").await;
    let at = fixtures::later(connection.created_at, 9);
    let invocation = Invocation {
        id: Uuid::now_v7(),
        organization_id: organization.id,
        connection_id: connection.id,
        tool_id: Uuid::now_v7(),
        tool_path: "search".to_owned(),
        started_at: at,
        duration_ms: 42,
        outcome: "upstream_error".to_owned(),
        error: Some("The server is unreachable.".to_owned()),
        mode: InvocationMode::Agent,
    };
    store.record_invocation(&invocation).await.expect("record");
    assert_eq!(
        store
            .list_invocations(organization.id, connection.id)
            .await
            .expect("list"),
        vec![invocation]
    );
    let unmarked = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        unmarked.last_used_at, None,
        "marking the use is a write of its own"
    );
    store
        .mark_connection_used(organization.id, connection.id, at)
        .await
        .expect("mark");
    let used = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(used.last_used_at, Some(at));
    let other = store.seed_organization().await;
    assert!(
        store
            .list_invocations(other.id, connection.id)
            .await
            .expect("list")
            .is_empty()
    );
}

async fn concurrent_invocations_are_all_recorded_and_a_failing_one_fails_alone(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "crm").await;
    let invocation = |index: i64| Invocation {
        id: Uuid::now_v7(),
        organization_id: organization.id,
        connection_id: connection.id,
        tool_id: Uuid::now_v7(),
        tool_path: format!("tool_{index}"),
        started_at: fixtures::later(connection.created_at, index),
        duration_ms: index,
        outcome: "ok".to_owned(),
        error: None,
        mode: InvocationMode::Agent,
    };
    let first = invocation(0);
    store.record_invocation(&first).await.expect("record");
    let others: Vec<Invocation> = (1..=40).map(invocation).collect();
    // Recorded at once, the others share statements; the repeated id is refused.
    let (repeated, recorded) = tokio::join!(
        store.record_invocation(&first),
        futures::future::join_all(others.iter().map(|other| store.record_invocation(other))),
    );
    assert!(
        matches!(
            repeated,
            Err(feather_store::StoreError::UniqueViolation { .. })
        ),
        "{repeated:?}"
    );
    assert!(recorded.iter().all(Result::is_ok), "{recorded:?}");
    let mut listed = store
        .list_invocations(organization.id, connection.id)
        .await
        .expect("list");
    listed.sort_by_key(|listed| listed.duration_ms);
    let mut expected = vec![first];
    expected.extend(others);
    assert_eq!(listed, expected);
}

on_both_backends!(
    a_write_keeps_all_its_operations_or_none,
    a_failed_sync_records_why_and_rejected_credentials_set_status_error,
    an_invocation_is_recorded_and_its_connection_marked_used,
    concurrent_invocations_are_all_recorded_and_a_failing_one_fails_alone,
);
