//! Interop: the real HTTP router against MCP servers this project did not write, run as
//! child processes on 127.0.0.1 from the folder `interop/install.sh` fills
//! (`interop/README.md`):
//!
//! - the official TypeScript `@modelcontextprotocol/server-everything` (npm), over
//!   Streamable HTTP, legacy HTTP+SSE and the `auto` transport;
//! - `interop/drift_server.py`, built on the official Python SDK `mcp` (PyPI), whose
//!   catalog drifts between two runs (renamed, retyped, removed and added tools);
//!
//! and the service's own MCP endpoint against clients this project did not write: the
//! official Python and TypeScript SDKs' clients and `@modelcontextprotocol/inspector-cli`.
//!
//! Every test skips, saying so, unless `FEATHER_INTEROP_DIR` names an installed interop
//! folder, so `cargo test --workspace` passes on a machine without Node or the servers.
//! With `FEATHER_INTEROP_REQUIRED=1` (CI) a skip is a failure instead.

mod agents;
mod app;
mod conformance;
mod drift;
mod everything;
mod key_proxy;
mod servers;
