//! Two `serve` processes on one database, as two replicas behind a load balancer: a write
//! acknowledged by one is what the other serves next, and a key revoked through one stops
//! working on the other within a second. Runs on SQLite always and on PostgreSQL when
//! `FEATHER_TEST_DATABASE_URL` is set (CI sets it).

mod support;

use std::time::{Duration, Instant};

use feather_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::{Value, json};

use support::{Replica, create_organization, seed_connection};

const ROUNDS: usize = 25;

struct Client {
    http: reqwest::Client,
    key: String,
}

impl Client {
    async fn listing(&self, replica: &Replica) -> Value {
        let response = self
            .http
            .get(replica.url("/v1/integrations/connections"))
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("GET listing");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("listing JSON")
    }

    async fn patch(&self, replica: &Replica, path: &str, body: Value) {
        let response = self
            .http
            .patch(replica.url(path))
            .header("x-api-key", &self.key)
            .json(&body)
            .send()
            .await
            .expect("PATCH");
        assert_eq!(response.status(), StatusCode::OK, "PATCH {path}");
    }
}

async fn a_write_through_one_replica_is_served_by_the_other(database: TestDatabase) {
    let data_dir = tempfile::tempdir().expect("data dir");
    let url = database.url();
    let (organization_id, key) = create_organization(&url, data_dir.path());
    let connection_id = seed_connection(&database.store, organization_id).await;
    let first = Replica::start(&url, data_dir.path());
    let second = Replica::start(&url, data_dir.path());
    let client = Client {
        http: reqwest::Client::new(),
        key,
    };
    let connection_path = format!("/v1/integrations/connections/{connection_id}");
    let tool_id = client.listing(&second).await[0]["tools"][0]["id"]
        .as_str()
        .expect("tool id")
        .to_owned();

    for round in 0..ROUNDS {
        // Alternate which replica takes the write; the other has the listing cached.
        let (writer, reader) = if round % 2 == 0 {
            (&first, &second)
        } else {
            (&second, &first)
        };
        client.listing(reader).await;
        let nickname = format!("Desk {round}");
        client
            .patch(writer, &connection_path, json!({"nickname": nickname}))
            .await;
        let listing = client.listing(reader).await;
        assert_eq!(listing[0]["nickname"], json!(nickname), "round {round}");

        let enabled = round % 3 != 0;
        client
            .patch(
                writer,
                &format!("{connection_path}/tools/{tool_id}"),
                json!({"is_enabled": enabled, "input_defaults": {"limit": {"value": round, "type": "pinned"}}}),
            )
            .await;
        let tool = &client.listing(reader).await[0]["tools"][0];
        assert_eq!(tool["is_enabled"], json!(enabled), "round {round}");
        assert_eq!(
            tool["merged_input_preview"]["properties"]["limit"]["default"],
            json!(round),
            "round {round}"
        );
    }
}

async fn a_key_revoked_through_one_replica_stops_working_on_the_other(database: TestDatabase) {
    let data_dir = tempfile::tempdir().expect("data dir");
    let url = database.url();
    let (_, admin_key) = create_organization(&url, data_dir.path());
    let first = Replica::start(&url, data_dir.path());
    let second = Replica::start(&url, data_dir.path());
    let http = reqwest::Client::new();
    let created: Value = http
        .post(first.url("/v1/identity/api-keys"))
        .header("x-api-key", &admin_key)
        .json(&json!({"name": "short-lived"}))
        .send()
        .await
        .expect("create key")
        .json()
        .await
        .expect("created key");
    let doomed = created["plain_text_key"].as_str().expect("plain text key");
    let listing_with = |key: &str, replica: &Replica| {
        http.get(replica.url("/v1/integrations/connections"))
            .header("x-api-key", key)
            .send()
    };
    // The second replica has checked, and trusts, the key before the revocation.
    let before = listing_with(doomed, &second).await.expect("GET");
    assert_eq!(before.status(), StatusCode::OK);

    let revoked = http
        .delete(first.url(&format!(
            "/v1/identity/api-keys/{}",
            created["id"].as_str().expect("id")
        )))
        .header("x-api-key", &admin_key)
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let on_first = listing_with(doomed, &first).await.expect("GET");
    assert_eq!(
        on_first.status(),
        StatusCode::UNAUTHORIZED,
        "at once on the replica that revoked it"
    );

    // A replica trusts a checked key for one second (the API suite moves a manual clock
    // through that window); past it, the key is checked again. Real processes cannot share
    // a manual clock, so this waits for the refusal, failing loudly if it never comes.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let on_second = listing_with(doomed, &second).await.expect("GET");
        if on_second.status() == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(
            on_second.status(),
            StatusCode::OK,
            "trusted until checked again"
        );
        assert!(
            Instant::now() < deadline,
            "the other replica still accepts the revoked key after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(feather_store::testing::TestDatabase::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[feather_test_gates::postgres]
                #[tokio::test]
                async fn $name() {
                    super::$name(feather_store::testing::TestDatabase::postgres().await).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_write_through_one_replica_is_served_by_the_other,
    a_key_revoked_through_one_replica_stops_working_on_the_other,
);
