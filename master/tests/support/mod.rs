//! What the master's integration tests share.

#![allow(dead_code)] // each test binary uses its own subset

use std::{process::Child, time::Duration};

use daas_master::{
    apply::{Config, Engine},
    encryption::SecretKey,
    metrics::Metrics,
    pipeline::{LogArgs, Until, apply_log},
    state::{self, Layout},
};
use daas_testkit::{wait_for, workload};
use etcd_client::Client;
use tokio_util::sync::CancellationToken;

/// The test key for Secrets (32 bytes 0..31).
pub const KEY: &str = "key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A layout under a test prefix (`<prefix>registry`, `<prefix>daas`).
pub fn layout(prefix: &str) -> Layout {
    Layout::new(&format!("{prefix}registry"), &format!("{prefix}daas"))
}

/// The engine configuration for the workload's cluster.
pub fn config(prefix: &str) -> Config {
    Config {
        layout: layout(prefix),
        cluster: workload::CLUSTER,
        secret_key: Some(SecretKey::parse(KEY).expect("test key")),
        outcomes_kept: 10_000,
    }
}

/// The topics.
pub fn log_args(brokers: &str, topic: &str, outcomes: &str) -> LogArgs {
    LogArgs {
        brokers: brokers.into(),
        topic: topic.into(),
        outcome_topic: outcomes.into(),
        read_ahead: 2_000,
        batch_ms: 20,
    }
}

/// Applies the log in-process up to `end` (no outcomes published).
pub async fn apply_to(
    client: &Client,
    prefix: &str,
    log: &LogArgs,
    end: i64,
) -> anyhow::Result<()> {
    let engine = Engine::open(client.clone(), config(prefix)).await?;
    let engine = apply_log(
        engine,
        log,
        &Metrics::default(),
        None,
        Until::Offset(end),
        None,
        &CancellationToken::new(),
    )
    .await?;
    anyhow::ensure!(engine.next_offset() == end);
    Ok(())
}

/// Starts the master binary.
pub fn master(
    etcd: &str,
    prefix: &str,
    brokers: &str,
    topic: &str,
    outcomes: &str,
) -> std::io::Result<Child> {
    master_at(etcd, prefix, brokers, topic, outcomes, "127.0.0.1:0")
}

/// Starts the master binary with its metrics and status API on `listen`.
pub fn master_at(
    etcd: &str,
    prefix: &str,
    brokers: &str,
    topic: &str,
    outcomes: &str,
    listen: &str,
) -> std::io::Result<Child> {
    let l = layout(prefix);
    daas_testkit::service(env!("CARGO_BIN_EXE_master"))
        .args([
            "run",
            "--etcd",
            etcd,
            "--prefix",
            &l.registry,
            "--state-prefix",
            &l.state,
        ])
        .args([
            "--cluster-id",
            &workload::CLUSTER.to_string(),
            "--encryption-key",
            KEY,
        ])
        .args([
            "--brokers",
            brokers,
            "--topic",
            topic,
            "--outcome-topic",
            outcomes,
        ])
        .args(["--metrics-listen", listen])
        .spawn()
}

/// The request ids of `records`' requests, in log order.
pub fn request_ids(records: &[Vec<u8>]) -> Vec<u64> {
    records
        .iter()
        .filter_map(|r| daas_domain::LogEntry::decode(r).ok())
        .filter_map(|e| match e.body {
            daas_domain::Body::Event(daas_domain::Event::K8sApiRequest(r)) => Some(r.request_id),
            _ => None,
        })
        .collect()
}

/// The stored next offset (0 when none, or etcd is unreachable).
pub async fn position(client: &Client, prefix: &str) -> i64 {
    let mut c = client.clone();
    state::load_position(&mut c, &layout(prefix))
        .await
        .unwrap_or(0)
}

/// Waits until the stored position reaches `offset`.
pub async fn wait_position(client: &Client, prefix: &str, offset: i64) -> anyhow::Result<()> {
    wait_for(
        "the master to reach the offset",
        Duration::from_secs(240),
        || async move { Ok((position(client, prefix).await >= offset).then_some(())) },
    )
    .await
}

#[allow(unused_imports)] // each test binary uses its own subset
pub use daas_testkit::{kill9, terminate};

#[allow(unused_imports)] // each test binary uses its own subset
pub use daas_testkit::read_outcomes;
