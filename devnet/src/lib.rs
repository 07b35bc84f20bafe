//! The dev chain: a single-process node that serves Sui's gRPC API
//! (`sui.rpc.v2`) and runs the `daas` Move package natively.
//!
//! - [`contract`]: the Move package's entry functions in Rust (same checks,
//!   abort codes and event bytes);
//! - [`objects`]: the object store (coins, caps, shared objects);
//! - [`executor`]: transaction validation and execution.

pub mod contract;
pub mod executor;
pub mod objects;
