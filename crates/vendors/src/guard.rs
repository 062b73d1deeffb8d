//! SSRF guard for user-given upstream URLs (MCP servers, OAuth endpoints), DESIGN.md §3.
//!
//! The guard decides three times, because DNS answers can change between them:
//! 1. when a URL is given: [`UpstreamPolicy::check_url`] (parse, http(s) only, no
//!    credentials, resolve, every address allowed);
//! 2. on every new connection: the DNS resolver of [`UpstreamPolicy::http_client_builder`]
//!    resolves again and pins the connection to the addresses it checked;
//! 3. on every redirect hop: its redirect policy.
//!
//! Only public addresses are allowed unless the operator's allow-list
//! (`FEATHER_ALLOW_UPSTREAM`, see [`UpstreamPolicy::with_allow_list`]) says otherwise.
//! [`classify`] is pure, so every range and encoding is tested without traffic.

mod allow_list;
mod class;
mod client;
mod error;
mod policy;
mod resolve;

pub use class::{AddressClass, classify};
pub use error::GuardError;
pub use policy::UpstreamPolicy;
