//! Tool slugs are unique within an organization; a store migrated from before that rule
//! has the collisions it held settled first.

use feather_store::{Store, StoreError};

use crate::fixtures;

async fn two_tools_of_an_organization_cannot_share_a_slug(store: &Store) {
    let (organization, _) = fixtures::with_search_tool(store, "a").await;
    let other = fixtures::stored_connection(store, organization.id, "a_b").await;
    // The fixture gives `search` the same slug on every connection.
    let refused = store
        .seed_catalog(
            organization.id,
            other.id,
            &[fixtures::catalog_tool("search")],
            feather_store::now(),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::UniqueViolation { .. })),
        "{refused:?}"
    );
    // Another organization may use it.
    fixtures::with_search_tool(store, "a").await;
}

async fn a_store_from_before_the_rule_has_its_collisions_settled_on_migrate(store: &Store) {
    store
        .pretend_tool_slugs_unique_per_connection_only()
        .await
        .expect("pretend");
    let (organization, first) = fixtures::with_search_tool(store, "a").await;
    let later = fixtures::stored_connection(store, organization.id, "a_b").await;
    // The later connection's `search` has the same slug, as rows written before the rule
    // could (and a `_2` already taken by a tool of its own).
    let mut taken_suffix = fixtures::catalog_tool("find");
    taken_suffix.slug = format!("{}_2", fixtures::catalog_tool("search").slug);
    let at = fixtures::later(feather_store::now(), 1);
    store
        .seed_catalog(
            organization.id,
            later.id,
            &[fixtures::catalog_tool("search"), taken_suffix.clone()],
            at,
        )
        .await
        .expect("a shared slug is allowed before the rule");
    let version = store
        .listing_version(organization.id)
        .await
        .expect("version");

    store.migrate().await.expect("migrate");

    let slug_of = |tools: Vec<feather_domain::tool::Tool>, path: &str| {
        tools
            .into_iter()
            .find(|tool| tool.tool_path == path)
            .map(|tool| tool.slug)
            .expect("the tool")
    };
    let search = fixtures::catalog_tool("search").slug;
    let first_tools = store
        .list_connection_tools(organization.id, first.id)
        .await
        .expect("tools");
    assert_eq!(
        slug_of(first_tools, "search"),
        search,
        "created first: kept"
    );
    let later_tools = store
        .list_connection_tools(organization.id, later.id)
        .await
        .expect("tools");
    assert_eq!(
        slug_of(later_tools.clone(), "search"),
        format!("{search}_3")
    );
    assert_eq!(slug_of(later_tools, "find"), taken_suffix.slug);
    assert!(
        store
            .listing_version(organization.id)
            .await
            .expect("version")
            > version,
        "cached listings of the old slugs go stale"
    );

    // The rule holds from now on.
    let mut twin = fixtures::catalog_tool("twin");
    twin.slug = search;
    assert!(matches!(
        store
            .seed_catalog(organization.id, later.id, &[twin], at)
            .await,
        Err(StoreError::UniqueViolation { .. })
    ));
}

on_both_backends!(
    two_tools_of_an_organization_cannot_share_a_slug,
    a_store_from_before_the_rule_has_its_collisions_settled_on_migrate,
);
