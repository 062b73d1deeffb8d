//! Recording a connection's catalog: the slugs its tools are given.

use feather_service::UpstreamTool;
use feather_service::testing::{new_custom_mcp_connection, service_over};
use feather_store::Store;
use serde_json::json;

fn tool(name: &str) -> UpstreamTool {
    UpstreamTool {
        name: name.to_owned(),
        title: None,
        description: None,
        input_schema: json!({"type": "object"}),
        output_schema: None,
        annotations: None,
    }
}

async fn a_tool_slug_another_connection_holds_takes_the_first_free_suffix(store: &Store) {
    let service = service_over(store.clone());
    let organization = store.seed_organization().await;
    // Nickname "A" with tool `b_c` and nickname "A B" with tool `c` both make `a_b_c`.
    let a = service
        .create_connection(organization.id, new_custom_mcp_connection("A"))
        .await
        .expect("create A");
    let a_b = service
        .create_connection(organization.id, new_custom_mcp_connection("A B"))
        .await
        .expect("create A B");
    service
        .record_catalog(organization.id, a.id, vec![tool("b_c")])
        .await
        .expect("sync A");
    service
        .record_catalog(organization.id, a_b.id, vec![tool("c"), tool("c_2")])
        .await
        .expect("sync A B");

    let slugs = |listed: &[feather_service::ConnectionView], id| {
        listed
            .iter()
            .find(|view| view.connection.id == id)
            .map(|view| {
                view.tools
                    .iter()
                    .map(|tool| (tool.tool.tool_path.clone(), tool.tool.slug.clone()))
                    .collect::<Vec<_>>()
            })
            .expect("listed")
    };
    let listed = service
        .list_connections(organization.id)
        .await
        .expect("list");
    assert_eq!(
        slugs(&listed, a.id),
        [("b_c".to_owned(), "a_b_c".to_owned())]
    );
    // In tool_path order: `c` takes `a_b_c_2`, so `c_2`, whose own slug that is, takes
    // `a_b_c_2_2`.
    assert_eq!(
        slugs(&listed, a_b.id),
        [
            ("c".to_owned(), "a_b_c_2".to_owned()),
            ("c_2".to_owned(), "a_b_c_2_2".to_owned()),
        ]
    );

    // A resync keeps every slug given.
    service
        .record_catalog(organization.id, a_b.id, vec![tool("c"), tool("c_2")])
        .await
        .expect("resync A B");
    let again = service
        .list_connections(organization.id)
        .await
        .expect("list");
    assert_eq!(slugs(&again, a_b.id), slugs(&listed, a_b.id));
}

on_both_backends!(a_tool_slug_another_connection_holds_takes_the_first_free_suffix);
