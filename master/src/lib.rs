//! The master: the ordered log → Kubernetes objects in etcd, authorised by
//! the shared ledger derived from the same log, exactly once.
//!
//! - [`apply`]: the engine — records → one guarded etcd Txn of objects,
//!   ledger changes, outcomes and the position;
//! - [`object`]: the stored form of an object (deterministic metadata, merge on update);
//! - [`encryption`]: Secrets in kube's `k8s:enc:aesgcm:v1:` envelope;
//! - [`sealing_keys`]: the private keys that open sealed Secrets, and where
//!   they are kept; [`unseal`]: opening sealed Secrets in the apply path;
//! - [`state`]: the key layout and reading state back; [`state_mac`]: the
//!   tags and commitment that authenticate it;
//! - [`outcomes`]: publishing outcomes to the outcome topic exactly once,
//!   signed ([`receipts`]);
//! - [`pipeline`]: the run loop; [`replay`]: rebuild into a fresh prefix;
//! - [`state_root`]: the verifiable hash of the desired state;
//!   [`ledger_root`]: the hash of the ledger every receipt carries;
//! - [`store`]: etcd connection and `check`; [`metrics`];
//! - [`verification`]: the log checked against Sui's validators (`daas-verify`)
//!   before anything in it is applied (how far it got is served as
//!   `/v1/verification`);
//! - [`attestation`]: the document that binds the enclave key, the
//!   cluster and its sealing key (NSM, or the dev CA);
//!   [`register`]: that document checked and registered on chain;
//! - [`lookup`] and [`api`]: committed outcomes by request and transaction,
//!   served over HTTP for `daas apply` and `daas status`;
//! - [`kube_api`]: the read-only Kubernetes API kubectl talks to, and the
//!   TokenReview webhook; [`access`]: the committed authority it reads.

pub mod access;
pub mod api;
pub mod apply;
pub mod attestation;
pub mod encryption;
pub mod kube_api;
pub mod ledger_root;
pub mod lookup;
pub mod metrics;
pub mod object;
pub mod outcomes;
pub mod pipeline;
pub mod receipts;
pub mod register;
pub mod replay;
pub mod sealing_keys;
pub mod state;
pub mod state_mac;
pub mod state_root;
pub mod store;
pub mod unseal;
pub mod verification;
