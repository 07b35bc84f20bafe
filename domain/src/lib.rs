//! The k3s-daas domain: what the chain says and what it means, with no I/O.
//!
//! Everything here is pure and deterministic so that the projector (Postgres) and
//! the master (etcd) derive the same answers from the same ordered log.
//!
//! - [`events`]: the Move package's events, mirrored field for field, and their
//!   BCS decoder (the only door for outside bytes);
//! - [`ledger`]: the state machine over events (stakes, nodes, grants,
//!   namespaces, enclaves) and its questions;
//! - [`access`]: who may read what in one cluster (the one `may` rule, and
//!   the snapshot the master's Kubernetes API and RBAC mirror use);
//! - [`admission`]: the decision on each kubectl request;
//! - [`manifest`], [`kinds`]: manifest parsing (duplicate keys refused) and
//!   the managed kinds' etcd layout and who may write them;
//! - [`validation`]: field validation as kube-apiserver's;
//! - [`sealed`]: sealed Secrets' wire format and their public checks;
//! - [`pod_security`]: the Pod Security Standards, as Pod Security admission;
//! - [`tenancy`]: what only the cluster admin may do (system namespaces,
//!   node pinning, powerful bindings, privileged namespaces);
//! - [`templates`]: where objects carry pods;
//! - [`memo`]: what admission remembers of admitted objects;
//! - [`roles`]: roles, minimums, lock periods, tiers (the contract's constants);
//! - [`position`]: where a record sits in the chain's total order;
//! - [`record`]: log records and their protobuf form on the log topic;
//! - [`outcome`]: the master's outcome per request, on the outcome topic.

pub mod access;
pub mod address;
pub mod admission;
pub mod bytes;
pub mod events;
pub mod kinds;
pub mod ledger;
pub mod manifest;
pub mod memo;
pub mod outcome;
pub mod pod_security;
pub mod position;
pub mod receipt;
pub mod record;
pub mod roles;
pub mod sealed;
pub mod templates;
pub mod tenancy;
pub mod validation;

pub use address::{Address, ObjectId};
pub use bytes::Bytes;
pub use events::{DecodeError, Decoded, Event, Stream};
pub use ledger::Ledger;
pub use outcome::{Outcome, OutcomeResult};
pub use position::LogPosition;
pub use record::{Body, LogEntry};
pub use roles::{NamespaceRole, Role, Verb};
