//! Real responses validated against the seed contract,
//! `../shared/contract/list-connections.openapi.yaml`, read at test time; and the shapes
//! of the other endpoints against `../shared/contract/integrations-v1.90.openapi.json`.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{
    API_KEYS, LISTING, TestApp, as_array, assert_valid, catalog, component_validator, keys,
    later_contract, seed_contract,
};

/// The property names of a component of `contract`.
fn property_names(contract: &Value, component: &str) -> BTreeSet<String> {
    keys(&contract["components"]["schemas"][component]["properties"])
}

/// An org with every kind of listing entry the contract must hold: tools with operator
/// config, stale input fields and stale field paths, a disabled tool, a tool without
/// description or response schema, an unsynced connection (nulls, zero tools), and a
/// synced connection with zero tools.
async fn app_with_a_varied_listing() -> TestApp {
    let app = TestApp::new().await;
    let rich = app.seed_connection("Acme Slack", catalog::standard()).await;
    app.patch_json(
        &rich.tool_url("send_message"),
        json!({
            "input_defaults": {
                "channel": {"value": "#support"},
                "retries": {"value": 2, "type": "pinned"},
                "notify_at": {"value": "2030-01-01T00:00:00Z"}
            },
            "response_field_map": {"field_mappings": [
                {"path": "message.ts", "alias": "ts"},
                {"path": "gone"}
            ]}
        }),
    )
    .await
    .expect(StatusCode::OK);
    app.patch_json(
        &rich.tool_url("get_user"),
        json!({"is_enabled": false, "input_defaults": {}}),
    )
    .await
    .expect(StatusCode::OK);
    let mut retyped = catalog::send_message();
    retyped.input_schema["properties"]["retries"] = json!({"type": "string"});
    app.resync(
        &rich,
        vec![retyped, catalog::get_user(), catalog::list_channels()],
    )
    .await;
    app.seed_unsynced_connection("Not synced yet").await;
    app.seed_connection("Empty catalog", vec![]).await;
    app
}

#[feather_test_gates::contract]
#[tokio::test]
async fn listing_responses_validate_against_the_seed_contract() {
    let seed = seed_contract();
    let app = app_with_a_varied_listing().await;
    let listing = app.get(LISTING).await.expect(StatusCode::OK);

    // The fixture covers what it claims to, so the validation below means something.
    let connections = listing.as_array().expect("an array");
    assert_eq!(connections.len(), 3);
    let send = &connections[0]["tools"][2];
    assert_eq!(send["stale_input_fields"], json!(["retries"]));
    assert_eq!(send["stale_field_paths"], json!(["gone"]));
    assert_eq!(connections[1]["tools_synced_at"], Value::Null);
    assert_eq!(connections[2]["tools"], json!([]));
    assert_eq!(connections[2]["tools_status"], "synced");

    let validator = component_validator(
        &seed["components"],
        json!({"type": "array", "items": {"$ref": "#/components/schemas/ConnectionResponse"}}),
    );
    assert_valid(&validator, &listing, "GET /v1/integrations/connections");

    // The seed has no additionalProperties: false, so exact key sets are checked here.
    let connection_fields = property_names(&seed, "ConnectionResponse");
    let tool_fields = property_names(&seed, "ConnectionToolResponse");
    assert!(connection_fields.contains("tools"));
    for connection in connections {
        assert_eq!(keys(connection), connection_fields, "connection keys");
        for tool in connection["tools"].as_array().expect("tools") {
            assert_eq!(keys(tool), tool_fields, "tool keys");
        }
    }
}

#[feather_test_gates::contract]
#[tokio::test]
async fn the_listing_contract_check_catches_a_broken_response() {
    let seed = seed_contract();
    let app = app_with_a_varied_listing().await;
    let listing = app.get(LISTING).await.expect(StatusCode::OK);
    let validator = component_validator(
        &seed["components"],
        json!({"type": "array", "items": {"$ref": "#/components/schemas/ConnectionResponse"}}),
    );
    // A validator that accepted these would make the test above worthless.
    let mut broken = Vec::new();
    for (pointer, value) in [
        ("/0/id", json!("not-a-uuid")),
        ("/0/created_at", json!("yesterday")),
        ("/0/integration_key", json!("myspace")),
        ("/0/tools/0/default_count", json!("2")),
        (
            "/0/tools/0/input_defaults",
            json!({"a": {"value": 1, "type": "forced"}}),
        ),
        ("/1/status_reason", json!(5)),
    ] {
        let mut copy = listing.clone();
        *copy.pointer_mut(pointer).expect("the pointer exists") = value;
        broken.push(copy);
    }
    let mut missing = listing.clone();
    missing[0]
        .as_object_mut()
        .expect("an object")
        .remove("vendor_connection_id");
    broken.push(missing);
    for instance in broken {
        assert!(!validator.is_valid(&instance), "accepted a broken listing");
    }
}

#[feather_test_gates::contract]
#[tokio::test]
async fn single_connection_and_tool_responses_validate_against_the_seed_contract() {
    let seed = seed_contract();
    let app = TestApp::new().await;
    let seeded = app.seed_connection("Acme", catalog::standard()).await;
    let connection_validator = component_validator(
        &seed["components"],
        json!({"$ref": "#/components/schemas/ConnectionResponse"}),
    );
    let tool_validator = component_validator(
        &seed["components"],
        json!({"$ref": "#/components/schemas/ConnectionToolResponse"}),
    );
    let tools_validator = component_validator(
        &seed["components"],
        json!({"type": "array", "items": {"$ref": "#/components/schemas/ConnectionToolResponse"}}),
    );
    let got = app.connection(&seeded).await;
    assert_valid(&connection_validator, &got, "GET connection");
    let renamed = app
        .patch_json(&seeded.url(), json!({"nickname": "Renamed"}))
        .await
        .expect(StatusCode::OK);
    assert_valid(&connection_validator, &renamed, "PATCH connection");
    let tool = app
        .patch_json(
            &seeded.tool_url("send_message"),
            json!({"input_defaults": {"channel": {"value": "#x", "type": "pinned"}}}),
        )
        .await
        .expect(StatusCode::OK);
    assert_valid(&tool_validator, &tool, "PATCH tool");
    let tools = app
        .patch_json(&seeded.tools_url(), json!({"is_enabled": false}))
        .await
        .expect(StatusCode::OK);
    assert_valid(&tools_validator, &tools, "PATCH tools");
}

#[feather_test_gates::contract]
#[tokio::test]
async fn error_responses_validate_against_the_seed_contract() {
    let seed = seed_contract();
    let app = TestApp::new().await;
    let validator = component_validator(
        &seed["components"],
        json!({"$ref": "#/components/schemas/ErrorResponse"}),
    );
    for response in [
        app.anonymous().get(LISTING).await,
        app.get(&format!("{LISTING}/{}", uuid::Uuid::new_v4()))
            .await,
        app.as_owner()
            .send_raw(
                axum::http::Method::PATCH,
                &format!("{LISTING}/{}", uuid::Uuid::new_v4()),
                "application/json",
                "{",
            )
            .await,
    ] {
        assert_valid(&validator, &response.json(), "an error response");
    }
}

#[feather_test_gates::contract]
#[tokio::test]
async fn other_endpoints_match_the_shapes_of_the_later_spec() {
    let spec = later_contract();
    let app = TestApp::new().await;
    let components = &spec["components"];
    let validate = |component: &str, instance: &Value| {
        let validator = component_validator(
            components,
            json!({"$ref": format!("#/components/schemas/{component}")}),
        );
        assert_valid(&validator, instance, component);
    };
    let validate_each = |component: &str, instances: &Value| {
        for instance in instances.as_array().expect("an array") {
            validate(component, instance);
        }
    };

    let integrations = app.get("/v1/integrations").await.expect(StatusCode::OK);
    validate_each("IntegrationSummary", &integrations);

    let created = app
        .post_json(
            API_KEYS,
            json!({"name": "ci", "scopes": ["read"], "expires_at": "2999-01-01T00:00:00Z"}),
        )
        .await
        .expect(StatusCode::CREATED);
    validate("ApiKeyCreateResponse", &created);
    let listed = app.get(API_KEYS).await.expect(StatusCode::OK);
    validate_each("ApiKeyResponse", &listed);
    for key in as_array(listed) {
        assert_eq!(keys(&key), property_names(&spec, "ApiKeyResponse"));
    }
    assert_eq!(
        keys(&created),
        property_names(&spec, "ApiKeyCreateResponse")
    );

    let invalid = app
        .post_json(API_KEYS, json!({"name": "", "extra": 1}))
        .await
        .expect(StatusCode::UNPROCESSABLE_ENTITY);
    validate("HTTPValidationError", &invalid);
    let integration_fields = property_names(&spec, "IntegrationSummary");
    for integration in as_array(integrations) {
        assert_eq!(keys(&integration), integration_fields);
    }
}
