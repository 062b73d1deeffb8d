//! OAuth for custom MCP servers through the API, against a strict fake authorization
//! server (`FakeAuthorizationServer`, written from the RFCs): discovery, connecting with
//! `auth_type: "oauth"`, the callback, `finalize` and `reauthorize`.

mod callback;
mod connect;
mod discover;

use serde_json::{Value, json};

/// A connect body for an OAuth server at `server_url`, with `extra` fields.
fn oauth_connection(server_url: &str, extra: Value) -> Value {
    crate::support::with_fields(
        json!({
            "nickname": "Docs",
            "server_url": server_url,
            "transport": "streamable_http",
            "auth_type": "oauth",
        }),
        extra,
    )
}

/// The path and query of `location` (the redirect the authorization server sent the
/// browser), to send to the app in process.
fn path_and_query(location: &str) -> String {
    let url = url::Url::parse(location).expect("the redirect is a URL");
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// The value of the query parameter `name` of `url`.
fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .expect("a URL")
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
