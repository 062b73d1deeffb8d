//! PostgreSQL going away under a running `serve`: requests get 503 while it is gone (never
//! a cached listing the store can no longer vouch for, never a 500), and the service
//! recovers by itself when it is back. The outage is a TCP proxy between the service and
//! the server that drops every connection and refuses new ones; the restart is the
//! server terminating every session, as a shutdown does. PostgreSQL only: skipped unless
//! `FEATHER_TEST_DATABASE_URL` is set (CI sets it).

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use feather_store::testing::TestDatabase;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use support::{Replica, create_organization, seed_connection};

/// How long the service may take to answer 200 again once the server is back.
const RECOVERY: Duration = Duration::from_secs(20);

/// Forwards 127.0.0.1 connections to `upstream` while up; when cut, drops every
/// forwarded connection and closes new ones at once.
struct Proxy {
    address: SocketAddr,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let address = listener.local_addr().expect("proxy address");
        let (up, watching) = watch::channel(true);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut watching = watching.clone();
                if !*watching.borrow_and_update() {
                    continue;
                }
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = watching.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Proxy { address, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

/// `url` with its host and port replaced by the proxy's.
fn through(proxy: &Proxy, url: &str) -> String {
    let mut url = reqwest::Url::parse(url).expect("database URL");
    url.set_ip_host(proxy.address.ip()).expect("IP host");
    url.set_port(Some(proxy.address.port())).expect("port");
    url.to_string()
}

fn upstream_of(url: &str) -> SocketAddr {
    let url = reqwest::Url::parse(url).expect("database URL");
    let host = url.host_str().expect("host");
    let port = url.port().unwrap_or(5432);
    format!("{host}:{port}")
        .parse()
        .expect("an IP address and port")
}

struct Api {
    http: reqwest::Client,
    key: String,
    listing: String,
}

impl Api {
    async fn listing(&self) -> (StatusCode, Value) {
        let response = self
            .http
            .get(&self.listing)
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("the service answers");
        let status = response.status();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Asks until the listing is 200 again; every answer before it must be a 503.
    async fn recovered_listing(&self) -> Value {
        let started = Instant::now();
        loop {
            let (status, body) = self.listing().await;
            match status {
                StatusCode::OK => return body,
                StatusCode::SERVICE_UNAVAILABLE => {}
                other => panic!("{other} while the database came back: {body}"),
            }
            assert!(started.elapsed() < RECOVERY, "no recovery in {RECOVERY:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

// Multi-threaded: the proxy's tasks run while the test blocks on the process's log.
#[feather_test_gates::postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_is_503_and_the_service_recovers_by_itself() {
    let database = TestDatabase::postgres().await;
    let data_dir = tempfile::tempdir().expect("data dir");
    let url = database.url();
    let (organization_id, key) = create_organization(&url, data_dir.path());
    seed_connection(&database.store, organization_id).await;
    let proxy = Proxy::start(upstream_of(&url)).await;
    let replica = Replica::start(&through(&proxy, &url), data_dir.path());
    let api = Api {
        http: reqwest::Client::new(),
        key,
        listing: replica.url("/v1/integrations/connections"),
    };
    let (status, before) = api.listing().await;
    assert_eq!(status, StatusCode::OK);

    // The listing is cached now, but without the store nothing vouches for it.
    proxy.cut();
    for _ in 0..2 {
        let (status, body) = api.listing().await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"], "service_unavailable");
    }
    let ready = api
        .http
        .get(replica.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore();
    assert_eq!(api.recovered_listing().await, before);

    // A server restart ends every session with 57P01 before it goes.
    database
        .store
        .terminate_other_sessions()
        .await
        .expect("terminate sessions");
    assert_eq!(api.recovered_listing().await, before);
}
