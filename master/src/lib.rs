//! The master: the log topic → Kubernetes objects in etcd, authorised by its own ledger.
//!
//! - [`store`] owns the etcd connection.

pub mod store;
