use feather_domain::input_config::{InputArgConfig, InputArgType, InputDefaults};
use feather_domain::integration::ToolsStatus;
use feather_domain::patch::Patch;
use feather_domain::tool::Tool;
use feather_store::{Store, ToolConfigPatch};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures;

pub(crate) fn tools_by_path(tools: &[Tool], path: &str) -> Tool {
    tools
        .iter()
        .find(|tool| tool.tool_path == path)
        .cloned()
        .unwrap_or_else(|| panic!("no tool {path}"))
}

pub(crate) async fn connection_tools(
    store: &Store,
    organization_id: Uuid,
    connection_id: Uuid,
) -> Vec<Tool> {
    store
        .list_connection_tools(organization_id, connection_id)
        .await
        .expect("list tools")
}

pub(crate) fn pinned_channel() -> InputDefaults {
    InputDefaults::from_iter([
        (
            "channel".to_owned(),
            InputArgConfig {
                value: json!("#general"),
                r#type: InputArgType::Pinned,
            },
        ),
        (
            "limit".to_owned(),
            InputArgConfig {
                value: json!(10),
                r#type: InputArgType::Default,
            },
        ),
    ])
}

async fn a_first_sync_adds_enabled_unconfigured_tools_and_marks_the_connection_synced(
    store: &Store,
) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "conn").await;
    let at = fixtures::later(connection.created_at, 1);
    let mut with_output = fixtures::catalog_tool("b_fetch");
    with_output.response_schema =
        Some(json!({"type": "object", "properties": {"id": {"type": "string"}}}));
    store
        .seed_catalog(
            organization.id,
            connection.id,
            &[with_output.clone(), fixtures::catalog_tool("a_search")],
            at,
        )
        .await
        .expect("apply");

    let tools = connection_tools(store, organization.id, connection.id).await;
    let paths: Vec<&str> = tools.iter().map(|tool| tool.tool_path.as_str()).collect();
    assert_eq!(paths, ["a_search", "b_fetch"]);
    let fetch = tools_by_path(&tools, "b_fetch");
    assert!(fetch.is_enabled);
    assert_eq!(fetch.input_defaults, None);
    assert_eq!(fetch.response_field_map, None);
    assert_eq!(fetch.slug, "conn_b_fetch");
    assert_eq!(fetch.response_schema, with_output.response_schema);
    assert_eq!(
        (fetch.created_at, fetch.updated_at, fetch.last_seen_at),
        (at, at, at)
    );

    let synced = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(synced.tools_status, ToolsStatus::Synced);
    assert_eq!(synced.tools_synced_at, Some(at));
    assert_eq!(synced.last_refreshed_at, Some(at));
    assert!(!synced.metadata.contains_key("tools_sync_error"));
    assert_eq!(
        synced.metadata.get("server_url"),
        connection.metadata.get("server_url")
    );
}

async fn schemas_keep_their_key_order(store: &Store) {
    let (organization, connection) = fixtures::with_search_tool(store, "conn").await;
    let tool = tools_by_path(
        &connection_tools(store, organization.id, connection.id).await,
        "search",
    );
    assert_eq!(
        serde_json::to_string(&tool.input_schema).expect("serialize"),
        serde_json::to_string(&fixtures::input_schema()).expect("serialize"),
    );
}

async fn a_resync_overwrites_sync_owned_fields_and_keeps_operator_config(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "conn").await;
    let first = fixtures::later(connection.created_at, 1);
    store
        .seed_catalog(
            organization.id,
            connection.id,
            &[fixtures::catalog_tool("search")],
            first,
        )
        .await
        .expect("apply");
    let tool = tools_by_path(
        &connection_tools(store, organization.id, connection.id).await,
        "search",
    );
    let patch = ToolConfigPatch {
        is_enabled: Some(false),
        input_defaults: Patch::Set(pinned_channel()),
        response_field_map: Patch::Set(json!({"field_mappings": [{"path": "id"}]})),
    };
    store
        .seed_tool_config(organization.id, connection.id, tool.id, &patch, first)
        .await
        .expect("configure");

    let second = fixtures::later(first, 60);
    let mut changed = fixtures::catalog_tool("search");
    changed.display_name = "Search v2".to_owned();
    changed.description = None;
    changed.input_schema = json!({"type": "object", "properties": {"q": {"type": "string"}}});
    changed.slug = "ignored_for_existing_tools".to_owned();
    store
        .seed_catalog(organization.id, connection.id, &[changed.clone()], second)
        .await
        .expect("resync");

    let resynced = tools_by_path(
        &connection_tools(store, organization.id, connection.id).await,
        "search",
    );
    assert_eq!(resynced.id, tool.id);
    assert_eq!(resynced.slug, tool.slug);
    assert_eq!(resynced.display_name, "Search v2");
    assert_eq!(resynced.description, None);
    assert_eq!(resynced.input_schema, changed.input_schema);
    assert!(!resynced.is_enabled);
    assert_eq!(resynced.input_defaults, Some(pinned_channel()));
    assert_eq!(
        resynced.response_field_map,
        Some(json!({"field_mappings": [{"path": "id"}]}))
    );
    assert_eq!(resynced.updated_at, second);
    assert_eq!(resynced.last_seen_at, second);
    assert_eq!(resynced.created_at, first);
}

async fn an_unchanged_resync_moves_only_timestamps(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "conn").await;
    let first = fixtures::later(connection.created_at, 1);
    let catalog = [fixtures::catalog_tool("search")];
    store
        .seed_catalog(organization.id, connection.id, &catalog, first)
        .await
        .expect("apply");
    let before = connection_tools(store, organization.id, connection.id).await;

    let second = fixtures::later(first, 60);
    store
        .seed_catalog(organization.id, connection.id, &catalog, second)
        .await
        .expect("resync");
    let after = connection_tools(store, organization.id, connection.id).await;

    assert_eq!(after.len(), 1);
    assert_eq!(after[0].updated_at, first);
    assert_eq!(after[0].last_seen_at, second);
    let mut expected = before[0].clone();
    expected.last_seen_at = second;
    assert_eq!(after[0], expected);
}

async fn a_vanished_tool_is_kept_with_its_config_and_falls_behind(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "conn").await;
    let first = fixtures::later(connection.created_at, 1);
    store
        .seed_catalog(
            organization.id,
            connection.id,
            &[
                fixtures::catalog_tool("keep"),
                fixtures::catalog_tool("gone"),
            ],
            first,
        )
        .await
        .expect("apply");
    let gone = tools_by_path(
        &connection_tools(store, organization.id, connection.id).await,
        "gone",
    );
    let patch = ToolConfigPatch {
        input_defaults: Patch::Set(pinned_channel()),
        ..ToolConfigPatch::default()
    };
    store
        .seed_tool_config(organization.id, connection.id, gone.id, &patch, first)
        .await
        .expect("configure");

    let second = fixtures::later(first, 60);
    store
        .seed_catalog(
            organization.id,
            connection.id,
            &[fixtures::catalog_tool("keep")],
            second,
        )
        .await
        .expect("resync");

    let tools = connection_tools(store, organization.id, connection.id).await;
    let kept = tools_by_path(&tools, "gone");
    assert_eq!(kept.last_seen_at, first);
    assert_eq!(kept.input_defaults, Some(pinned_channel()));
    assert_eq!(tools_by_path(&tools, "keep").last_seen_at, second);
    let synced = store
        .get_connection(organization.id, connection.id)
        .await
        .expect("get")
        .expect("exists");
    assert!(kept.last_seen_at < synced.tools_synced_at.expect("synced"));
}

async fn a_tool_patch_writes_only_what_it_names(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "conn").await;
    let at = fixtures::later(connection.created_at, 1);
    store
        .seed_catalog(
            organization.id,
            connection.id,
            &[fixtures::catalog_tool("search")],
            at,
        )
        .await
        .expect("apply");
    let tool = tools_by_path(
        &connection_tools(store, organization.id, connection.id).await,
        "search",
    );
    let configure = |patch: ToolConfigPatch, seconds| {
        let when = fixtures::later(at, seconds);
        async move {
            store
                .seed_tool_config(organization.id, connection.id, tool.id, &patch, when)
                .await
                .expect("configure")
                .expect("exists");
            store
                .get_tool(organization.id, connection.id, tool.id)
                .await
                .expect("get")
                .expect("exists")
        }
    };

    let set = configure(
        ToolConfigPatch {
            input_defaults: Patch::Set(pinned_channel()),
            response_field_map: Patch::Set(json!({"field_mappings": []})),
            ..ToolConfigPatch::default()
        },
        1,
    )
    .await;
    assert!(set.is_enabled);
    assert_eq!(set.input_defaults, Some(pinned_channel()));
    assert_eq!(set.updated_at, fixtures::later(at, 1));

    let disabled = configure(
        ToolConfigPatch {
            is_enabled: Some(false),
            ..ToolConfigPatch::default()
        },
        2,
    )
    .await;
    assert!(!disabled.is_enabled);
    assert_eq!(disabled.input_defaults, Some(pinned_channel()));
    assert_eq!(
        disabled.response_field_map,
        Some(json!({"field_mappings": []}))
    );

    let cleared = configure(
        ToolConfigPatch {
            input_defaults: Patch::Clear,
            ..ToolConfigPatch::default()
        },
        3,
    )
    .await;
    assert_eq!(cleared.input_defaults, None);
    assert_eq!(
        cleared.response_field_map,
        Some(json!({"field_mappings": []}))
    );
    assert!(!cleared.is_enabled);
}

async fn tool_reads_and_writes_are_scoped_to_organization_and_connection(store: &Store) {
    let owner = store.seed_organization().await;
    let stranger = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, owner.id, "conn").await;
    let sibling = fixtures::stored_connection(store, owner.id, "sibling").await;
    store
        .seed_catalog(
            owner.id,
            connection.id,
            &[fixtures::catalog_tool("search")],
            feather_store::now(),
        )
        .await
        .expect("apply");
    let tool = tools_by_path(
        &connection_tools(store, owner.id, connection.id).await,
        "search",
    );
    let patch = ToolConfigPatch {
        is_enabled: Some(false),
        ..ToolConfigPatch::default()
    };
    let at = feather_store::now();

    assert_eq!(
        store
            .get_tool(stranger.id, connection.id, tool.id)
            .await
            .expect("get"),
        None
    );
    assert_eq!(
        store
            .get_tool(owner.id, sibling.id, tool.id)
            .await
            .expect("get"),
        None
    );
    assert!(
        store
            .seed_tool_config(stranger.id, connection.id, tool.id, &patch, at)
            .await
            .expect("update")
            .is_none()
    );
    assert!(
        store
            .seed_tool_config(owner.id, sibling.id, tool.id, &patch, at)
            .await
            .expect("update")
            .is_none()
    );
    store
        .set_connection_tools_enabled(stranger.id, connection.id, false, at)
        .await
        .expect("bulk");
    assert!(
        connection_tools(store, stranger.id, connection.id)
            .await
            .is_empty()
    );
    assert_eq!(
        store
            .get_tool(owner.id, connection.id, tool.id)
            .await
            .expect("get"),
        Some(tool)
    );
}

async fn bulk_toggle_moves_updated_at_only_of_tools_that_changed(store: &Store) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "conn").await;
    let at = fixtures::later(connection.created_at, 1);
    store
        .seed_catalog(
            organization.id,
            connection.id,
            &[fixtures::catalog_tool("a"), fixtures::catalog_tool("b")],
            at,
        )
        .await
        .expect("apply");
    let a = tools_by_path(
        &connection_tools(store, organization.id, connection.id).await,
        "a",
    );
    let off = ToolConfigPatch {
        is_enabled: Some(false),
        ..ToolConfigPatch::default()
    };
    store
        .seed_tool_config(organization.id, connection.id, a.id, &off, at)
        .await
        .expect("disable a");

    let later = fixtures::later(at, 30);
    store
        .set_connection_tools_enabled(organization.id, connection.id, false, later)
        .await
        .expect("bulk");
    let tools = connection_tools(store, organization.id, connection.id).await;
    assert!(tools.iter().all(|tool| !tool.is_enabled));
    assert_eq!(tools_by_path(&tools, "a").updated_at, at);
    assert_eq!(tools_by_path(&tools, "b").updated_at, later);
}

async fn organization_tools_come_grouped_by_connection_in_tool_path_order(store: &Store) {
    let organization = store.seed_organization().await;
    let other = store.seed_organization().await;
    let first = fixtures::stored_connection(store, organization.id, "first").await;
    let second = fixtures::stored_connection(store, organization.id, "second").await;
    let foreign = fixtures::stored_connection(store, other.id, "foreign").await;
    let at = feather_store::now();
    for (owner, connection) in [
        (organization.id, &second),
        (organization.id, &first),
        (other.id, &foreign),
    ] {
        store
            .seed_catalog(
                owner,
                connection.id,
                &fixtures::catalog_of(connection, &["z", "a", "m"]),
                at,
            )
            .await
            .expect("apply");
    }
    let tools = store
        .list_organization_tools(organization.id)
        .await
        .expect("list");
    assert_eq!(tools.len(), 6);
    assert!(
        tools
            .iter()
            .all(|tool| tool.organization_id == organization.id)
    );
    for group in tools.chunk_by(|a, b| a.connection_id == b.connection_id) {
        let paths: Vec<&str> = group.iter().map(|tool| tool.tool_path.as_str()).collect();
        assert_eq!(paths, ["a", "m", "z"]);
    }
    assert_eq!(
        tools
            .chunk_by(|a, b| a.connection_id == b.connection_id)
            .count(),
        2
    );
}

on_both_backends!(
    a_first_sync_adds_enabled_unconfigured_tools_and_marks_the_connection_synced,
    schemas_keep_their_key_order,
    a_resync_overwrites_sync_owned_fields_and_keeps_operator_config,
    an_unchanged_resync_moves_only_timestamps,
    a_vanished_tool_is_kept_with_its_config_and_falls_behind,
    a_tool_patch_writes_only_what_it_names,
    tool_reads_and_writes_are_scoped_to_organization_and_connection,
    bulk_toggle_moves_updated_at_only_of_tools_that_changed,
    organization_tools_come_grouped_by_connection_in_tool_path_order,
);
