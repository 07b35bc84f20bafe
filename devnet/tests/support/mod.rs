//! What the dev chain's integration tests share: a chain opened in a
//! temporary directory with its genesis cluster, and event filters.

#![allow(dead_code)] // each test binary uses its own subset

use std::{sync::Arc, time::Duration};

use daas_attestation::{TrustedRoot, dev::DevCa};
use daas_devnet::{
    executor::Ids,
    node::{Node, NodeConfig},
};
use sui_rpc::proto::sui::rpc::v2::{
    EventFilter, EventLiteral, EventTerm, event_literal::Predicate,
};
use sui_sdk_types::Address;

/// A dev chain in a temporary directory (removed on drop).
pub struct Chain {
    _dir: tempfile::TempDir,
    pub node: Arc<Node>,
    /// The genesis package's object ids.
    pub ids: Ids,
    /// The genesis cluster: its id and initial shared version.
    pub cluster: (Address, u64),
}

/// Opens a fresh dev chain (checkpoints every 250 ms, one-hour epochs) that
/// verifies attestations against AWS's root.
pub fn chain() -> Chain {
    chain_with_root(TrustedRoot::aws_nitro())
}

/// A fresh dev chain pinned to a new dev CA's root, and the CA (to make
/// documents the chain verifies).
pub fn dev_chain() -> (Chain, DevCa) {
    let ca = DevCa::generate(now_ms());
    (chain_with_root(ca.root()), ca)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A fresh dev chain verifying attestations against `nitro_root`.
pub fn chain_with_root(nitro_root: TrustedRoot) -> Chain {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::open(NodeConfig {
        data_dir: dir.path().to_path_buf(),
        checkpoint_interval: Duration::from_millis(250),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
        validators: daas_devnet::committee::DEFAULT_VALIDATORS,
        nitro_root,
    })
    .expect("open");
    let (ids, cluster) = node.read(|c| {
        let id = c.default_cluster.expect("the genesis cluster");
        let version = c
            .world
            .objects
            .get(&id)
            .and_then(|o| o.initial_shared_version())
            .expect("shared");
        (c.world.ids.clone(), (id, version))
    });
    Chain {
        _dir: dir,
        node,
        ids,
        cluster,
    }
}

/// An event filter of the one condition `predicate`.
pub fn filter(predicate: Predicate) -> EventFilter {
    let mut lit = EventLiteral::default();
    lit.predicate = Some(predicate);
    let mut term = EventTerm::default();
    term.literals = vec![lit];
    let mut f = EventFilter::default();
    f.terms = vec![term];
    f
}

/// Serves `node` on a free loopback port while listing the events `request`
/// selects through gRPC `ListEvents` (page by page), calling `each` on each.
pub async fn list_served(
    node: Arc<Node>,
    request: sui_rpc::proto::sui::rpc::v2::ListEventsRequest,
    each: impl FnMut(sui_rpc::proto::sui::rpc::v2::Event) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn({
        let s = shutdown.clone();
        async move {
            let _ = daas_devnet::rpc::serve(listener, node, s).await;
        }
    });
    let client = sui_rpc::Client::new(format!("http://{addr}"))?;
    let listing = daas_devnet::bench::list_events_paged(&client, request, each).await;
    shutdown.cancel();
    let _ = server.await;
    listing
}

/// A node serving gRPC on `addr` and sealing on its timer, until [`Running::stop`].
pub struct Running {
    pub node: Arc<Node>,
    /// Where it serves.
    pub addr: std::net::SocketAddr,
    shutdown: tokio_util::sync::CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Opens (or reopens) the chain in `dir`, sealing every `checkpoint_interval`
/// (one-hour epochs), and serves it on `addr`.
pub async fn start(
    dir: &std::path::Path,
    addr: std::net::SocketAddr,
    checkpoint_interval: Duration,
) -> anyhow::Result<Running> {
    let node = Node::open(NodeConfig {
        data_dir: dir.to_path_buf(),
        checkpoint_interval,
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
        validators: daas_devnet::committee::DEFAULT_VALIDATORS,
        nitro_root: daas_devnet::node::TrustedRoot::aws_nitro(),
    })?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let tasks = vec![
        tokio::spawn({
            let (n, s) = (node.clone(), shutdown.clone());
            async move {
                let _ = n.run_checkpoints(s).await;
            }
        }),
        tokio::spawn({
            let (n, s) = (node.clone(), shutdown.clone());
            async move {
                let _ = daas_devnet::rpc::serve(listener, n, s).await;
            }
        }),
    ];
    Ok(Running {
        node,
        addr,
        shutdown,
        tasks,
    })
}

impl Running {
    /// Stops sealing and serving, and waits for both.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Funds the account of `key` from the faucet, then makes it stake (one event).
pub fn stake(node: &Node, key: &sui_crypto::ed25519::Ed25519PrivateKey) {
    let ids = node.read(|c| c.world.ids.clone());
    let who = key.public_key().derive_address();
    node.faucet(who, 2_000_000_000).expect("faucet");
    let gas = node
        .read(|c| c.largest_coin(&who))
        .expect("a funded account has a coin");
    let (tx, sig) = daas_devnet::calls::stake(key, &ids, gas, 500_000_000, 0);
    let done = node.execute(tx, vec![sig]).expect("stake");
    assert_eq!(done.events.len(), 1);
}

/// The filter selecting the events of the dev chain's package.
pub fn our_package() -> EventFilter {
    let mut m = sui_rpc::proto::sui::rpc::v2::EmitModuleFilter::default();
    m.module = Some(daas_devnet::chain::PACKAGE_ID.to_string());
    filter(Predicate::EmitModule(m))
}
