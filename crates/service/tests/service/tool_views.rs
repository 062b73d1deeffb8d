//! The fields derived from a tool's documents, written by the use cases that change them:
//! an operator's configuration and a sync.

use feather_domain::patch::Patch;
use feather_domain::tool::ToolView;
use feather_service::testing::{new_custom_mcp_connection, service_over};
use feather_service::{Service, ToolConfigInput, UpstreamTool};
use feather_store::Store;
use serde_json::{Value, json};
use uuid::Uuid;

/// A tool whose `channel` is a string and `limit` an integer up to 100.
fn search_tool() -> UpstreamTool {
    UpstreamTool {
        name: "search".to_owned(),
        title: None,
        description: Some("Searches".to_owned()),
        input_schema: json!({
            "type": "object",
            "properties": {"channel": {"type": "string"}, "limit": {"type": "integer", "maximum": 100}}
        }),
        output_schema: None,
        annotations: None,
    }
}

/// `channel` pinned to `#general`, `limit` defaulting to 10.
fn pinned_channel() -> Value {
    json!({
        "channel": {"value": "#general", "type": "pinned"},
        "limit": {"value": 10, "type": "default"}
    })
}

fn json_of(raw: &serde_json::value::RawValue) -> Value {
    serde_json::from_str(raw.get()).expect("stored JSON")
}

/// A new organization's connection synced with `search_tool`: the service, the
/// organization and connection ids, and the tool's view.
async fn synced_search_tool(store: &Store) -> (Service, Uuid, Uuid, ToolView) {
    let service = service_over(store.clone());
    let organization = store.seed_organization().await;
    let connection = service
        .create_connection(organization.id, new_custom_mcp_connection("Conn"))
        .await
        .expect("create");
    service
        .record_catalog(organization.id, connection.id, vec![search_tool()])
        .await
        .expect("sync");
    let view = listed_search_tool(&service, organization.id).await;
    (service, organization.id, connection.id, view)
}

async fn listed_search_tool(service: &Service, organization_id: Uuid) -> ToolView {
    let listed = service
        .list_connections(organization_id)
        .await
        .expect("list");
    listed[0]
        .tools
        .iter()
        .find(|tool| tool.tool.tool_path == "search")
        .map(|tool| tool.tool.clone())
        .expect("the search tool")
}

async fn a_configured_tool_shows_its_derived_view_at_once(store: &Store) {
    let (service, organization, connection, unconfigured) = synced_search_tool(store).await;
    assert_eq!(
        json_of(&unconfigured.merged_input_preview),
        search_tool().input_schema
    );
    assert_eq!(
        (unconfigured.default_count, unconfigured.pinned_count),
        (0, 0)
    );

    let configured = service
        .configure_tool(
            organization,
            connection,
            unconfigured.id,
            ToolConfigInput {
                input_defaults: Patch::Set(pinned_channel()),
                ..ToolConfigInput::default()
            },
        )
        .await
        .expect("configure")
        .tool;
    assert_eq!((configured.default_count, configured.pinned_count), (1, 1));
    assert!(configured.stale_input_fields.is_empty());
    let preview = json_of(&configured.merged_input_preview);
    assert_eq!(
        preview["properties"]["channel"]["default"],
        json!("#general")
    );
    assert_eq!(preview["properties"]["limit"]["default"], json!(10));
    // As stored: the listing reads what the configuring write derived.
    assert_eq!(store.count_outdated_views().await.expect("count"), 0);
    let listed = listed_search_tool(&service, organization).await;
    assert_eq!(json_of(&listed.merged_input_preview), preview);
}

async fn a_resync_derives_the_views_of_configured_tools_again(store: &Store) {
    let (service, organization, connection, tool) = synced_search_tool(store).await;
    service
        .configure_tool(
            organization,
            connection,
            tool.id,
            ToolConfigInput {
                input_defaults: Patch::Set(pinned_channel()),
                response_field_map: Patch::Set(json!({"field_mappings": [{"path": "id"}]})),
                ..ToolConfigInput::default()
            },
        )
        .await
        .expect("configure");

    // Upstream drops `channel` and retypes nothing else; the field map's path vanishes.
    let changed = UpstreamTool {
        input_schema: json!({"type": "object", "properties": {"limit": {"type": "integer"}}}),
        output_schema: Some(json!({"type": "object", "properties": {"uuid": {"type": "string"}}})),
        ..search_tool()
    };
    service
        .record_catalog(organization, connection, vec![changed])
        .await
        .expect("resync");

    let view = listed_search_tool(&service, organization).await;
    assert_eq!(view.stale_input_fields, ["channel"]);
    assert_eq!(view.stale_field_paths, ["id"]);
    assert_eq!((view.default_count, view.pinned_count), (1, 1));
    let preview = json_of(&view.merged_input_preview);
    assert_eq!(preview["properties"]["limit"]["default"], json!(10));
    assert!(preview["properties"].get("channel").is_none());
    assert_eq!(store.count_outdated_views().await.expect("count"), 0);
}

on_both_backends!(
    a_configured_tool_shows_its_derived_view_at_once,
    a_resync_derives_the_views_of_configured_tools_again,
);
