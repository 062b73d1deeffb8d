use feather_domain::integration::{ConnectionStatus, ToolsStatus};
use feather_store::Invocation;
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;

store_tests! {
    async fn a_connection_is_created_with_its_sealed_secret_and_first_sync(store) {
        let organization = fixtures::organization(store).await;
        let connection = fixtures::connection(organization.id, "crm", feather_store::now());
        store
            .insert_connection(&connection, Some(b"sealed-bytes"), Some(connection.created_at))
            .await
            .expect("insert");
        assert_eq!(
            store.connection_secret(connection.id).await.expect("secret"),
            Some(b"sealed-bytes".to_vec())
        );
        assert_eq!(store.pending_jobs(connection.id).await.expect("jobs").len(), 1);
        // A slug collision rolls all three back together.
        let twin = fixtures::connection(organization.id, "crm", feather_store::now());
        assert!(store.insert_connection(&twin, Some(b"x"), Some(twin.created_at)).await.is_err());
        assert_eq!(store.connection_secret(twin.id).await.expect("secret"), None);
        assert!(store.pending_jobs(twin.id).await.expect("jobs").is_empty());
    }

    async fn a_failed_sync_records_why_and_rejected_credentials_set_status_error(store) {
        let organization = fixtures::organization(store).await;
        let connection = fixtures::stored_connection(store, organization.id, "crm").await;
        let at = fixtures::later(connection.created_at, 5);
        store.mark_tools_syncing(organization.id, connection.id, at).await.expect("syncing");
        let syncing = store.get_connection(organization.id, connection.id).await.expect("get").expect("exists");
        assert_eq!(syncing.tools_status, ToolsStatus::Syncing);

        store
            .record_sync_failure(organization.id, connection.id, "The server timed out.", None, at)
            .await
            .expect("failure");
        let failed = store.get_connection(organization.id, connection.id).await.expect("get").expect("exists");
        assert_eq!(failed.tools_status, ToolsStatus::Failed);
        assert_eq!(failed.status, ConnectionStatus::Active);
        assert_eq!(
            failed.metadata["tools_sync_error"],
            json!({"message": "The server timed out.", "at": at})
        );
        assert_eq!(failed.metadata["server_url"], connection.metadata["server_url"]);

        store
            .record_sync_failure(organization.id, connection.id, "HTTP 401", Some("Credentials rejected."), at)
            .await
            .expect("failure");
        let rejected = store.get_connection(organization.id, connection.id).await.expect("get").expect("exists");
        assert_eq!(rejected.status, ConnectionStatus::Error);
        assert_eq!(rejected.status_reason.as_deref(), Some("Credentials rejected."));

        // A later successful sync clears the recorded error.
        store.apply_catalog(organization.id, connection.id, &[], fixtures::later(at, 5)).await.expect("sync");
        let synced = store.get_connection(organization.id, connection.id).await.expect("get").expect("exists");
        assert_eq!(synced.tools_status, ToolsStatus::Synced);
        assert!(!synced.metadata.contains_key("tools_sync_error"));
    }

    async fn an_invocation_is_recorded_and_marks_the_connection_used(store) {
        let organization = fixtures::organization(store).await;
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
        };
        store.record_invocation(&invocation).await.expect("record");
        assert_eq!(
            store.list_invocations(organization.id, connection.id).await.expect("list"),
            vec![invocation]
        );
        let used = store.get_connection(organization.id, connection.id).await.expect("get").expect("exists");
        assert_eq!(used.last_used_at, Some(at));
        let other = fixtures::organization(store).await;
        assert!(store.list_invocations(other.id, connection.id).await.expect("list").is_empty());
    }
}
