//! What the indexer's integration tests share: spawning the binary, waiting
//! for the log to reach a size.

#![allow(dead_code)] // each test binary uses its own subset

pub mod onchain;
pub mod proofs;

use std::{path::Path, process::Child, time::Duration};

use daas_devnet::{committee::DEFAULT_VALIDATORS, node::NodeConfig};
use daas_testkit::{TestChain, high_watermark, service, wait_for};

/// Starts the indexer binary against `node_url`, writing `topic`.
pub fn indexer(node_url: &str, brokers: &str, topic: &str) -> std::io::Result<Child> {
    indexer_on(node_url, brokers, topic, "127.0.0.1:0")
}

/// [`indexer`] with its metrics and `/healthz` on `listen`.
pub fn indexer_on(
    node_url: &str,
    brokers: &str,
    topic: &str,
    listen: &str,
) -> std::io::Result<Child> {
    service(env!("CARGO_BIN_EXE_indexer"))
        .args([
            "run",
            "--node-url",
            node_url,
            "--brokers",
            brokers,
            "--topic",
            topic,
        ])
        .args(["--metrics-listen", listen])
        .spawn()
}

/// Waits until `topic` holds at least `n` records.
pub async fn wait_count(brokers: &str, topic: &str, n: usize) -> anyhow::Result<()> {
    wait_for(
        "the log to reach its size",
        Duration::from_secs(180),
        || {
            let (b, t) = (brokers.to_owned(), topic.to_owned());
            async move { Ok((high_watermark(&b, &t)? >= n as i64).then_some(())) }
        },
    )
    .await
}

/// The log's (position, BCS) pairs.
pub fn log_of(
    brokers: &str,
    topic: &str,
) -> anyhow::Result<Vec<(daas_domain::LogPosition, Vec<u8>)>> {
    Ok(daas_testkit::read_log(brokers, topic)?
        .into_iter()
        .map(|e| (e.position, e.bcs))
        .collect())
}

/// A dev chain with short epochs (`epoch_ms`), sealing every `checkpoint_ms`.
pub async fn epoch_chain(
    dir: &Path,
    checkpoint_ms: u64,
    epoch_ms: u64,
) -> anyhow::Result<TestChain> {
    let config = NodeConfig {
        data_dir: dir.to_path_buf(),
        checkpoint_interval: Duration::from_millis(checkpoint_ms),
        epoch_duration_ms: epoch_ms,
        lowest_available_checkpoint: 0,
        validators: DEFAULT_VALIDATORS,
        nitro_root: daas_devnet::node::TrustedRoot::aws_nitro(),
    };
    TestChain::start_with(config, daas_testkit::free_addr()?).await
}

/// The chain's epoch ends: (last checkpoint, epoch) of every ended epoch.
pub fn epoch_ends(chain: &TestChain) -> Vec<(u64, u64)> {
    chain.node.read(|c| {
        c.checkpoints
            .iter()
            .filter(|cp| cp.summary.end_of_epoch_data.is_some())
            .map(|cp| (cp.summary.sequence_number, cp.summary.epoch))
            .collect()
    })
}
