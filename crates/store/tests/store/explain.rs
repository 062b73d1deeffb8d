use feather_store::Backend;

use crate::fixtures;
use feather_store::Store;

async fn the_listing_reads_only_the_organizations_rows_through_its_indexes(store: &Store) {
    let (organization, _) = fixtures::with_search_tool(store, "crm").await;
    let plans = store
        .explain_listing(organization.id)
        .await
        .expect("explain");
    assert_eq!(
        plans.len(),
        3,
        "the listing is three queries, whatever the data"
    );
    let [version, connections, tools] = [&plans[0], &plans[1], &plans[2]];
    match store.backend() {
        Backend::Sqlite => {
            assert!(
                version.contains("SEARCH organizations USING INDEX"),
                "{version}"
            );
            assert!(
                connections.contains("USING INDEX connections_by_organization"),
                "{connections}"
            );
            assert!(
                tools.contains("USING INDEX connection_tools_by_organization"),
                "{tools}"
            );
        }
        Backend::Postgres => {
            assert!(
                version.contains("Index Scan using organizations_pkey"),
                "{version}"
            );
            assert!(
                connections.contains("Index Scan using connections_by_organization"),
                "{connections}"
            );
            assert!(
                tools.contains("Index Scan using connection_tools_by_organization"),
                "{tools}"
            );
        }
    }
    // Rows come in index order: no sort step anywhere.
    for plan in &plans {
        assert!(
            !plan.contains("TEMP B-TREE") && !plan.contains("Sort"),
            "{plan}"
        );
    }
}

on_both_backends!(the_listing_reads_only_the_organizations_rows_through_its_indexes,);
