//! Benchmark harness of feather-integrations: realistic fixtures (W1, W2), a loopback load
//! runner with an nginx static baseline, and the schema builders the criterion
//! micro-benchmarks share. Run everything with `bench/run.sh` at the repository root.

pub mod agents;
pub mod calls;
pub mod fixtures;
pub mod load;
pub mod procs;
pub mod runner;
pub mod schemas;
