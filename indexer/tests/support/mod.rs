//! What the indexer's integration tests share: spawning the binary, waiting
//! for the log to reach a size.

#![allow(dead_code)] // each test binary uses its own subset

pub mod onchain;
pub mod proofs;

use std::{path::Path, process::Child, sync::Arc, time::Duration};

use daas_devnet::node::{Node, NodeConfig};
use daas_testkit::{high_watermark, service, wait_for};
use tokio_util::sync::CancellationToken;

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

/// A dev chain with short epochs (`epoch_ms`), sealing every `checkpoint_ms`,
/// served on a free loopback port; dropping the token stops it.
pub struct EpochChain {
    /// The node.
    pub node: Arc<Node>,
    /// Its gRPC URL.
    pub url: String,
    stop: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl EpochChain {
    /// Creates the chain in `dir` and serves it.
    pub async fn start(dir: &Path, checkpoint_ms: u64, epoch_ms: u64) -> anyhow::Result<Self> {
        let node = Node::open(NodeConfig {
            data_dir: dir.to_path_buf(),
            checkpoint_interval: Duration::from_millis(checkpoint_ms),
            epoch_duration_ms: epoch_ms,
            validators: 4,
            lowest_available_checkpoint: 0,
        })?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let stop = CancellationToken::new();
        let (n, s) = (node.clone(), stop.clone());
        let server = tokio::spawn(async move {
            let _ = daas_devnet::rpc::serve(listener, n, s).await;
        });
        let (n, s) = (node.clone(), stop.clone());
        let sealer = tokio::spawn(async move {
            let _ = n.run_checkpoints(s).await;
        });
        Ok(Self {
            node,
            url,
            stop,
            tasks: vec![server, sealer],
        })
    }

    /// Stops serving and sealing.
    pub async fn stop(self) {
        self.stop.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Every event of the sealed checkpoints: (position, BCS contents).
    pub fn events(&self) -> Vec<(daas_domain::LogPosition, Vec<u8>)> {
        self.node.read(|c| {
            let at = |e: &daas_devnet::chain::IndexedEvent| {
                daas_domain::LogPosition::new(
                    e.checkpoint,
                    e.transaction_index,
                    e.event_index.into(),
                )
            };
            c.events
                .iter()
                .map(|e| (at(e), e.event.contents.clone()))
                .collect()
        })
    }

    /// The chain's epoch ends: (last checkpoint, epoch) of every ended epoch.
    pub fn epoch_ends(&self) -> Vec<(u64, u64)> {
        self.node.read(|c| {
            c.checkpoints
                .iter()
                .filter(|cp| cp.summary.end_of_epoch_data.is_some())
                .map(|cp| (cp.summary.sequence_number, cp.summary.epoch))
                .collect()
        })
    }
}
