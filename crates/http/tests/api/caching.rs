//! The listing as a cacheable resource: strong ETags and 304s, compression, a per-org
//! cache that is never stale, and replicas sharing one database.

use std::io::Read;

use axum::http::StatusCode;
use axum::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH};
use chrono::TimeDelta;
use feather_http::AppOptions;
use feather_service::ManualClock;
use feather_store::testing::TestDatabase;
use serde_json::{Value, json};

use crate::support::{LISTING, TestApp, TestResponse, catalog};

fn etag_of(response: &TestResponse) -> String {
    response.headers[ETAG].to_str().expect("ascii").to_owned()
}

#[tokio::test]
async fn the_listing_has_a_strong_etag_and_is_private_and_revalidated() {
    let app = TestApp::new().await;
    app.seed_connection("Slack", catalog::standard()).await;
    let response = app.get(LISTING).await;
    assert_eq!(response.status, StatusCode::OK);
    let etag = etag_of(&response);
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    assert_eq!(response.headers[CACHE_CONTROL], "private, no-cache");
    // The same bytes give the same tag.
    assert_eq!(etag_of(&app.get(LISTING).await), etag);
}

#[tokio::test]
async fn if_none_match_answers_304_until_the_listing_changes() {
    let app = TestApp::new().await;
    let connection = app.seed_connection("Slack", catalog::standard()).await;
    let etag = etag_of(&app.get(LISTING).await);

    let unchanged = app
        .as_owner()
        .get_with(LISTING, &[(IF_NONE_MATCH.as_str(), &etag)])
        .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    assert!(unchanged.body.is_empty());
    assert_eq!(etag_of(&unchanged), etag);

    app.patch_json(&connection.url(), json!({"nickname": "Renamed"}))
        .await
        .expect(StatusCode::OK);
    let changed = app
        .as_owner()
        .get_with(LISTING, &[(IF_NONE_MATCH.as_str(), &etag)])
        .await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(etag_of(&changed), etag);
    assert_eq!(changed.json()[0]["nickname"], "Renamed");
}

#[tokio::test]
async fn one_connection_answers_304_for_its_current_etag() {
    let app = TestApp::new().await;
    let connection = app.seed_connection("Slack", catalog::standard()).await;
    let etag = etag_of(&app.get(&connection.url()).await);
    let unchanged = app
        .as_owner()
        .get_with(&connection.url(), &[(IF_NONE_MATCH.as_str(), &etag)])
        .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
    app.patch_json(&connection.tools_url(), json!({"is_enabled": false}))
        .await
        .expect(StatusCode::OK);
    let changed = app
        .as_owner()
        .get_with(&connection.url(), &[(IF_NONE_MATCH.as_str(), &etag)])
        .await;
    assert_eq!(changed.status, StatusCode::OK);
}

#[tokio::test]
async fn every_kind_of_write_shows_in_the_next_listing() {
    let app = TestApp::new().await;
    let connection = app.seed_connection("Slack", catalog::standard()).await;
    let tool_path = connection.tools.keys().next().expect("a tool").clone();
    let mut previous = app.get(LISTING).await.expect(StatusCode::OK);
    let writes: [(&str, Value); 3] = [
        (
            &connection.tool_url(&tool_path),
            json!({"is_enabled": false}),
        ),
        (&connection.tools_url(), json!({"is_enabled": true})),
        (&connection.url(), json!({"nickname": "Slack EU"})),
    ];
    for (url, body) in writes {
        app.patch_json(url, body).await.expect(StatusCode::OK);
        let listed = app.get(LISTING).await.expect(StatusCode::OK);
        assert_ne!(listed, previous, "PATCH {url} did not show");
        previous = listed;
    }
    app.resync(&connection, vec![catalog::get_user()]).await;
    let listed = app.get(LISTING).await.expect(StatusCode::OK);
    assert_ne!(listed, previous, "a sync did not show");
    app.delete(&connection.url())
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(app.get(LISTING).await.expect(StatusCode::OK), json!([]));
}

#[tokio::test]
async fn the_listing_is_compressed_as_the_client_accepts() {
    let app = TestApp::new().await;
    app.seed_connection("Slack", catalog::standard()).await;
    let plain = app.get(LISTING).await;
    for encoding in ["gzip", "br", "zstd"] {
        let compressed = app
            .as_owner()
            .get_with(LISTING, &[(ACCEPT_ENCODING.as_str(), encoding)])
            .await;
        assert_eq!(compressed.status, StatusCode::OK);
        assert_eq!(compressed.headers[CONTENT_ENCODING], encoding);
        assert!(
            compressed.body.len() < plain.body.len(),
            "{encoding} did not shrink it"
        );
        assert_eq!(etag_of(&compressed), etag_of(&plain));
    }
    let gzipped = app
        .as_owner()
        .get_with(LISTING, &[(ACCEPT_ENCODING.as_str(), "gzip")])
        .await;
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&gzipped.body[..])
        .read_to_end(&mut inflated)
        .expect("gzip");
    assert_eq!(inflated, plain.body.to_vec());
}

#[tokio::test]
async fn the_listing_without_its_cache_is_the_same() {
    let cached = TestApp::new().await;
    cached.seed_connection("Slack", catalog::standard()).await;
    let uncached = cached
        .replica(AppOptions {
            listing_cache: false,
            ..AppOptions::default()
        })
        .await;
    let from_cache = cached.get(LISTING).await;
    let rendered = uncached.get(LISTING).await;
    assert_eq!(from_cache.body, rendered.body);
    assert_eq!(etag_of(&from_cache), etag_of(&rendered));
}

/// Two replicas over one database: a write taken by one shows at once in the other's
/// listing, and a key revoked on one stops working on the other within a second.
async fn replicas_stay_coherent(database: TestDatabase) {
    let first = TestApp::build()
        .over(database)
        .clock(ManualClock::starting_now())
        .start()
        .await;
    let connection = first.seed_connection("Slack", catalog::standard()).await;
    let second = first.replica(AppOptions::default()).await;
    let owner = &first.owner;
    let before = second.get(LISTING).await.expect(StatusCode::OK);
    assert_eq!(before[0]["nickname"], "Slack");

    first
        .patch_json(
            &connection.url(),
            json!({"nickname": "Renamed on the first"}),
        )
        .await
        .expect(StatusCode::OK);
    let after = second.get(LISTING).await.expect(StatusCode::OK);
    assert_eq!(after[0]["nickname"], "Renamed on the first");

    first
        .delete(&format!("/v1/identity/api-keys/{}", owner.key_id))
        .await
        .expect(StatusCode::NO_CONTENT);
    assert_eq!(first.get(LISTING).await.status, StatusCode::UNAUTHORIZED);
    // The second replica trusts the key it checked for one second, then asks the store.
    assert_eq!(second.get(LISTING).await.status, StatusCode::OK);
    first.clock().advance(TimeDelta::seconds(1));
    assert_eq!(second.get(LISTING).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn replicas_on_one_sqlite_database_stay_coherent() {
    replicas_stay_coherent(TestDatabase::sqlite().await).await;
}

#[feather_test_gates::postgres]
#[tokio::test]
async fn replicas_on_one_postgres_database_stay_coherent() {
    let database = TestDatabase::postgres().await;
    replicas_stay_coherent(database).await;
}
