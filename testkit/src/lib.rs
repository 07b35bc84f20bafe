//! Isolated slices of the real local stack for integration tests.
//!
//! `scripts/stack up` starts PostgreSQL, etcd and the tansu broker and writes their
//! addresses to `.stack/env`. Each test takes its own slice so tests run in parallel
//! without seeing each other:
//!
//! - [`TestDb`]: a fresh database with the workspace migrations applied;
//! - [`TestEtcd`]: a unique key prefix;
//! - [`TestTopic`]: a unique one-partition topic;
//! - [`TestChain`]: an in-process dev chain serving the Sui gRPC API;
//! - [`workload`]: a deterministic, realistic log without a chain;
//! - [`certified`]: a log wrapped in a hand-built certified chain;
//! - [`hostile`]: the hostile values the workload mixes in;
//! - [`sealing`]: the test sealing key and Secrets sealed to it;
//! - [`at_rest`]: kube-apiserver's at-rest envelope, opened independently.
//!
//! Databases and etcd prefixes remove themselves when dropped (best effort: a
//! leftover never breaks another test because every name is unique). Topics
//! stay: see [`TestTopic`] for why.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let stack = daas_testkit::Stack::from_env()?;
//! let db = daas_testkit::TestDb::new(&stack).await?;
//! sqlx::query("select 1").execute(&db.pool).await?;
//! # Ok(()) }
//! ```

pub mod at_rest;
pub mod certified;
mod chain;
mod db;
mod etcd;
pub mod hostile;
mod postgres;
mod process;
pub mod sealing;
mod stack;
mod topic;
mod wait;
pub mod workload;

pub use chain::{TestChain, fill, fill_hostile, free_addr, register_sealing_key};
pub use db::{MIGRATOR, TestDb};
pub use etcd::{PrivateEtcd, TestEtcd};
pub use postgres::PrivatePostgres;
pub use process::{Running, kill9, service, terminate};
pub use stack::Stack;
pub use topic::{
    TestTopic, high_watermark, produce, raw_consume_rate, read_log, read_outcomes, read_topic,
};
pub use wait::wait_for;

/// A benchmark's size knob: the environment variable `key` as a number, or
/// `default` when it is unset or not a number.
pub fn bench_param(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A short unique suffix for names of databases, prefixes and topics.
pub fn unique_name(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &id[..16])
}
