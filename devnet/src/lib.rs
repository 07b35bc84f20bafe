//! The dev chain: a single-process node that serves Sui's gRPC API
//! (`sui.rpc.v2`) and runs the `daas` Move package natively.
//!
//! - [`bench`]: the benchmark (`devnet bench`);
//! - [`calls`]: offline builders of our package's transactions;
//! - [`chain`]: checkpoints, epochs and the indexes, driven by log records;
//! - [`committee`]: the validators' keys, committees and checkpoint certificates;
//! - [`contract`]: the Move package's entry functions in Rust (same checks,
//!   abort codes and event bytes);
//! - [`objects`]: the object store (coins, caps, shared objects);
//! - [`executor`]: transaction validation and execution;
//! - [`faucet`]: the faucet's HTTP endpoint (`POST /v2/gas`, as Sui's);
//! - [`loadgen`]: many accounts submitting signed transactions at once;
//! - [`metrics`]: Prometheus counters and gauges;
//! - [`nitro_root`]: which root attestation documents are verified against;
//! - [`wal`]: the write-ahead log the chain replays on restart;
//! - [`node`]: the running node (lock, log, checkpoint timer, faucet);
//! - [`rpc`]: the gRPC services (`sui.rpc.v2`).

pub mod bench;
pub mod calls;
pub mod chain;
pub mod committee;
pub mod contract;
pub mod executor;
pub mod faucet;
pub mod loadgen;
pub mod metrics;
pub mod node;
pub mod objects;
pub mod rpc;
pub mod wal;
