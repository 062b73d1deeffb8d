//! The fields derived from a tool's documents: recorded by the writes that change them
//! (the service's suite tests which ones), derived again on read and by `migrate` when the
//! rules that derived them changed.

use feather_domain::organization::Organization;
use feather_domain::patch::Patch;
use feather_domain::tool::ToolView;
use feather_store::{Store, ToolConfigPatch};
use serde_json::json;

use crate::fixtures;
use crate::tools::{connection_tools, pinned_channel, tools_by_path};

fn view_by_path(views: &[ToolView], path: &str) -> ToolView {
    views
        .iter()
        .find(|view| view.tool_path == path)
        .cloned()
        .unwrap_or_else(|| panic!("no tool {path}"))
}

fn json_of(raw: &serde_json::value::RawValue) -> serde_json::Value {
    serde_json::from_str(raw.get()).expect("stored JSON")
}

/// A catalog tool whose `channel` is a string and `limit` an integer up to 100.
fn search_tool() -> feather_store::CatalogTool {
    let mut tool = fixtures::catalog_tool("search");
    tool.input_schema = json!({
        "type": "object",
        "properties": {"channel": {"type": "string"}, "limit": {"type": "integer", "maximum": 100}}
    });
    tool
}

/// A new connection with `search_tool` synced and its `channel` pinned: the organization
/// and the tool's view as the configuring write recorded it.
async fn pinned_search_tool(store: &Store) -> (Organization, ToolView) {
    let organization = store.seed_organization().await;
    let connection = fixtures::stored_connection(store, organization.id, "conn").await;
    let at = feather_store::now();
    store
        .seed_catalog(organization.id, connection.id, &[search_tool()], at)
        .await
        .expect("apply");
    let tool = tools_by_path(
        &connection_tools(store, organization.id, connection.id).await,
        "search",
    );
    let patch = ToolConfigPatch {
        input_defaults: Patch::Set(pinned_channel()),
        ..ToolConfigPatch::default()
    };
    let mut write = store
        .begin_listing_write(organization.id)
        .await
        .expect("begin");
    let configured = write
        .configure_tool(organization.id, connection.id, tool.id, &patch, at)
        .await
        .expect("configure")
        .expect("exists");
    let view = write
        .record_tool_view(
            organization.id,
            connection.id,
            tool.id,
            configured.derive_view(),
        )
        .await
        .expect("record the view")
        .expect("exists");
    write.commit().await.expect("commit");
    assert_eq!((view.default_count, view.pinned_count), (1, 1));
    (organization, view)
}

async fn a_view_not_derived_by_the_current_rules_is_derived_on_read_and_by_migrate(store: &Store) {
    let (organization, derived) = pinned_search_tool(store).await;

    assert_eq!(store.count_outdated_views().await.expect("count"), 0);
    store.forget_derived_views().await.expect("forget");
    assert_eq!(store.count_outdated_views().await.expect("count"), 1);
    let read = view_by_path(
        &store
            .list_organization_tools(organization.id)
            .await
            .expect("views"),
        "search",
    );
    assert_eq!(
        json_of(&read.merged_input_preview),
        json_of(&derived.merged_input_preview)
    );
    assert_eq!((read.default_count, read.pinned_count), (1, 1));

    store.migrate().await.expect("migrate");
    assert_eq!(store.count_outdated_views().await.expect("count"), 0);
    let stored = view_by_path(
        &store
            .list_organization_tools(organization.id)
            .await
            .expect("views"),
        "search",
    );
    assert_eq!(
        json_of(&stored.merged_input_preview),
        json_of(&derived.merged_input_preview)
    );
    assert_eq!(stored.stale_input_fields, derived.stale_input_fields);
}

async fn a_start_with_newer_rules_derives_every_older_view_again_without_a_migration_of_its_own(
    store: &Store,
) {
    let (organization, _) = pinned_search_tool(store).await;

    // As if the previous binary's rules (one revision back) had derived the views, and
    // had derived a different count.
    let previous = feather_domain::tool_view::DERIVATION_REVISION - 1;
    store
        .pretend_views_derived_by(previous, 99)
        .await
        .expect("pretend");
    store.migrate().await.expect("migrate");
    assert_eq!(store.count_outdated_views().await.expect("count"), 0);
    let view = view_by_path(
        &store
            .list_organization_tools(organization.id)
            .await
            .expect("views"),
        "search",
    );
    assert_eq!(
        (view.default_count, view.pinned_count),
        (1, 1),
        "derived by the current rules"
    );

    // The next start finds the store up to date and leaves the views alone, even a view
    // whose stored count a test changed behind its back.
    store
        .pretend_views_derived_by(feather_domain::tool_view::DERIVATION_REVISION, 99)
        .await
        .expect("pretend");
    store.migrate().await.expect("migrate");
    let untouched = view_by_path(
        &store
            .list_organization_tools(organization.id)
            .await
            .expect("views"),
        "search",
    );
    assert_eq!(
        untouched.default_count, 99,
        "no full pass on a start with the same rules"
    );
}

on_both_backends!(
    a_view_not_derived_by_the_current_rules_is_derived_on_read_and_by_migrate,
    a_start_with_newer_rules_derives_every_older_view_again_without_a_migration_of_its_own,
);
