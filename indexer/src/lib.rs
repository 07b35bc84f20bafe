//! The indexer: Sui full node (gRPC `sui.rpc.v2`) → the log topic.
//!
//! - [`sink`] owns the Kafka producer side: the broker connection and the log topic.

pub mod sink;
