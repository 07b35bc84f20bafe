//! The worker: a node operator's agent.
//!
//! - [`check_master`]: `worker check-master`, a master's attestation
//!   checked before the node trusts it;
//! - [`node_key`]: the node's Ed25519 identity, which `nodes::register_node`
//!   records on chain and the master uses to recognise the node.

pub mod check_master;
pub mod node_key;
