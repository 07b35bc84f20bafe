//! The indexer: Sui full node (gRPC `sui.rpc.v2`) → the log topic.
//!
//! - [`source`] owns the node connection: our package's events, in order;
//! - [`sink`] owns the broker: the idempotent producer and the log's last record;
//! - [`proofs`] decides which records carry proofs and writes epoch changes;
//! - [`pipeline`] resumes after the last record and produces each event once.

pub mod pipeline;
pub mod proofs;
pub mod sink;
pub mod source;
