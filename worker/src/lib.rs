//! The worker: a node operator's agent.
//!
//! - [`node_key`]: the node's Ed25519 identity, which `nodes::register_node`
//!   records on chain and the master uses to recognise the node.

pub mod node_key;
