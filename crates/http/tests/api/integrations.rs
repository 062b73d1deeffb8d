//! `GET /v1/integrations`: the platform's catalog.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::{TestApp, as_array, keys, pluck, set};

#[tokio::test]
async fn list_integrations_returns_the_seven_keys_in_contract_order() {
    let app = TestApp::new().await;
    let integrations = as_array(app.get("/v1/integrations").await.expect(StatusCode::OK));
    assert_eq!(
        pluck(&integrations, "key"),
        [
            json!("slack"),
            json!("custom_mcp"),
            json!("notion"),
            json!("google_drive"),
            json!("calcom"),
            json!("twilio"),
            json!("email"),
        ]
    );
    for integration in &integrations {
        assert_eq!(
            keys(integration),
            set(&["key", "display_name", "description", "category", "logo_url"]),
            "IntegrationSummary shape"
        );
        for field in ["display_name", "description", "category", "logo_url"] {
            assert!(
                integration[field]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()),
                "{field} of {integration}"
            );
        }
    }
}

#[tokio::test]
async fn list_integrations_is_the_same_for_every_org() {
    let app = TestApp::new().await;
    let owner = app.get("/v1/integrations").await.expect(StatusCode::OK);
    let stranger = app
        .as_stranger()
        .get("/v1/integrations")
        .await
        .expect(StatusCode::OK);
    assert_eq!(owner, stranger);
}

#[tokio::test]
async fn every_logo_url_resolves_to_an_svg() {
    let app = TestApp::new().await;
    let integrations = as_array(app.get("/v1/integrations").await.expect(StatusCode::OK));
    for integration in integrations {
        let url = integration["logo_url"].as_str().expect("a logo url");
        let logo = app.anonymous().get(url).await;
        assert_eq!(logo.status, StatusCode::OK, "{url}");
        assert_eq!(logo.header("content-type"), Some("image/svg+xml"), "{url}");
        assert!(
            String::from_utf8_lossy(&logo.body).starts_with("<svg"),
            "{url}"
        );
    }
    app.anonymous()
        .get("/static/integrations/unknown.svg")
        .await
        .expect_error(StatusCode::NOT_FOUND, "not_found");
}
