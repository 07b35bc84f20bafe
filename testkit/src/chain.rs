//! An in-process dev chain with its gRPC server, for tests that need a Sui
//! node: start it, fill it with events, restart it on the same address.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use daas_devnet::{
    calls,
    committee::{DEFAULT_VALIDATORS, GENESIS_COMMITTEE_FILE, Validators},
    node::{Node, NodeConfig, TrustedRoot},
    rpc,
};
use daas_domain::LogPosition;
use sui_sdk_types::{ObjectReference, Transaction, UserSignature, ValidatorCommittee};

use crate::{hostile, workload::Rng};
use sui_crypto::ed25519::Ed25519PrivateKey;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// A running dev chain.
pub struct TestChain {
    /// The node (execute transactions on it directly, read its chain).
    pub node: Arc<Node>,
    /// Its gRPC URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Its address (to restart it on the same one).
    pub addr: SocketAddr,
    /// Its data folder (log, keys, `validators.seed`, `genesis-committee.json`).
    pub dir: PathBuf,
    shutdown: CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// A one-hour-epoch, default-committee chain's configuration.
fn config(dir: &Path, checkpoint_ms: u64, lowest: u64, nitro_root: TrustedRoot) -> NodeConfig {
    NodeConfig {
        data_dir: dir.to_path_buf(),
        checkpoint_interval: Duration::from_millis(checkpoint_ms),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: lowest,
        validators: DEFAULT_VALIDATORS,
        nitro_root,
    }
}

/// A free loopback address.
pub fn free_addr() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

impl TestChain {
    /// Opens (or creates) the chain in `dir` and serves it on `addr`, sealing
    /// a checkpoint every `checkpoint_ms` (one-hour epochs, 4 validators).
    pub async fn start(
        dir: &Path,
        addr: SocketAddr,
        checkpoint_ms: u64,
        lowest_available_checkpoint: u64,
    ) -> anyhow::Result<Self> {
        Self::start_with(
            config(
                dir,
                checkpoint_ms,
                lowest_available_checkpoint,
                TrustedRoot::aws_nitro(),
            ),
            addr,
        )
        .await
    }

    /// [`TestChain::start`] with `nitro_root` pinned as the root that
    /// `0x2::nitro_attestation::load_nitro_attestation` verifies documents
    /// against (a dev CA's, for attested registration in tests).
    pub async fn start_attested(
        dir: &Path,
        addr: SocketAddr,
        checkpoint_ms: u64,
        nitro_root: TrustedRoot,
    ) -> anyhow::Result<Self> {
        Self::start_with(config(dir, checkpoint_ms, 0, nitro_root), addr).await
    }

    /// Opens (or creates) the chain `config` says and serves it on `addr`
    /// (short epochs: `epoch_duration_ms`; committee size: `validators`).
    pub async fn start_with(config: NodeConfig, addr: SocketAddr) -> anyhow::Result<Self> {
        let dir = config.data_dir.clone();
        let node = Node::open(config)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let (n, s) = (node.clone(), shutdown.clone());
        let server = tokio::spawn(async move {
            let _ = rpc::serve(listener, n, s).await;
        });
        let (n, s) = (node.clone(), shutdown.clone());
        let checkpoints = tokio::spawn(async move {
            let _ = n.run_checkpoints(s).await;
        });
        Ok(Self {
            node,
            url: format!("http://{addr}"),
            addr,
            dir,
            shutdown,
            tasks: vec![server, checkpoints],
        })
    }

    /// The chain's validators: every epoch's committee and keys (to make
    /// certificates, sub-quorum ones included, with `daas_devnet::committee::certify`).
    pub fn validators(&self) -> Validators {
        self.node.validators()
    }

    /// The file holding the epoch-0 committee, what verifiers pin
    /// (`--genesis-committee FILE`).
    pub fn genesis_committee_file(&self) -> PathBuf {
        self.dir.join(GENESIS_COMMITTEE_FILE)
    }

    /// The epoch-0 committee.
    pub fn genesis_committee(&self) -> ValidatorCommittee {
        self.validators().committee(0)
    }

    /// Stops serving and sealing; the data folder keeps the chain.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Every event of the chain's sealed checkpoints: (position, BCS contents).
    pub fn events(&self) -> Vec<(LogPosition, Vec<u8>)> {
        self.node.read(|c| {
            c.events
                .iter()
                .map(|e| {
                    (
                        LogPosition::new(
                            e.checkpoint,
                            e.transaction_index,
                            u64::from(e.event_index),
                        ),
                        e.event.contents.clone(),
                    )
                })
                .collect()
        })
    }
}

/// Registers `public_key` (X25519) as the default cluster's next sealing key
/// (`enclave::register_sealing_key`, signed by the genesis admin, who holds
/// the cluster's `AdminCap`), then seals a checkpoint so `ListEvents` lists
/// it. Returns the version the contract gave it (1 for the first).
/// Blocking: run it with `spawn_blocking` from async code.
pub fn register_sealing_key(node: &Node, public_key: &[u8; 32]) -> anyhow::Result<u32> {
    let admin = node.admin_key();
    let who = admin.public_key().derive_address();
    let (ids, gas, cap, cluster) = node.read(|c| {
        let ids = c.world.ids.clone();
        let cap = c
            .world
            .objects
            .get(&ids.admin_cap)
            .map(|o| o.reference(ids.package, c.world.clock_ms));
        let cluster = c
            .default_cluster
            .and_then(|id| Some((id, c.world.objects.get(&id)?.initial_shared_version()?)));
        (ids, c.largest_coin(&who), cap, cluster)
    });
    let (Some(gas), Some(cap), Some(cluster)) = (gas, cap, cluster) else {
        anyhow::bail!("the dev chain has no funded admin, AdminCap or default cluster");
    };
    let (tx, sig) = calls::register_sealing_key(admin, &ids, gas, cap, cluster, public_key);
    let done = node.execute(tx, vec![sig])?;
    let version = done.events.iter().find_map(|e| {
        let t = &e.type_;
        match daas_domain::events::decode(t.module().as_str(), t.name().as_str(), &e.contents) {
            Ok(daas_domain::Decoded::Known(daas_domain::Event::SealingKeyRegistered(k))) => {
                k.version_u32()
            }
            _ => None,
        }
    });
    let Some(version) = version else {
        anyhow::bail!("register_sealing_key failed: {:?}", done.effects.status());
    };
    node.seal()?;
    Ok(version)
}

/// Executes `n` transactions with one event each (a stake per account, then
/// 1-MIST top-ups) from `accounts` fresh accounts, straight into the node,
/// sealing every 2,000. Blocking: run it with `spawn_blocking`.
pub fn fill(node: &Node, n: usize, accounts: usize) {
    fill_with(node, n, accounts, None);
}

/// [`fill`], plus, about 5 times in 1,000 and deterministically from `rng`,
/// a `gateway::submit_request` with a hostile value ([`crate::hostile`]) in
/// one of its string fields or as its manifest. Requests the chain refuses
/// are left out (the gateway checks names, namespaces, kinds and apiVersions;
/// only hostile manifests reach the log).
pub fn fill_hostile(node: &Node, n: usize, accounts: usize, rng: &mut Rng) {
    fill_with(node, n, accounts, Some(rng));
}

fn fill_with(node: &Node, n: usize, accounts: usize, mut hostile: Option<&mut Rng>) {
    let ids = node.read(|c| c.world.ids.clone());
    let accounts = accounts.max(1);
    let mut keys = Vec::new();
    for _ in 0..accounts {
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        let who = key.public_key().derive_address();
        node.faucet(who, 100_000_000_000).expect("faucet");
        let gas = node.read(|c| c.largest_coin(&who)).expect("a funded coin");
        keys.push((key, gas, true));
    }
    for i in 0..n {
        let (key, gas, first) = &mut keys[i % accounts];
        if let Some(rng) = hostile.as_mut().filter(|_| !*first)
            && rng.chance(5)
        {
            submit_hostile(node, key, gas, rng, i as u64);
        }
        let (tx, sig) = if *first {
            calls::stake(key, &ids, gas.clone(), 500_000_000, 0)
        } else {
            calls::top_up(key, &ids, gas.clone(), 1, 0)
        };
        *first = false;
        let done = node.execute(tx, vec![sig]).expect("execute");
        *gas = calls::gas_after(&done.effects).expect("the gas coin after");
        if i % 2_000 == 1_999 {
            node.seal().expect("seal");
        }
    }
    node.seal().expect("seal");
}

/// One request from `key` to the default cluster with a hostile value in one
/// field; `gas` follows the transaction when it executed.
fn submit_hostile(
    node: &Node,
    key: &Ed25519PrivateKey,
    gas: &mut ObjectReference,
    rng: &mut Rng,
    n: u64,
) {
    let Some(cluster) = node.read(|c| {
        let id = c.default_cluster?;
        Some((id, c.world.objects.get(&id)?.initial_shared_version()?))
    }) else {
        return;
    };
    let ids = node.read(|c| c.world.ids.clone());
    // Enough stake for any kind (10 SUI), so the gateway looks at the values.
    let (tx, sig) = calls::top_up(key, &ids, gas.clone(), 10_000_000_000, 0);
    execute(node, tx, sig, gas);
    let mut f = [
        "apply".to_owned(),
        "v1".into(),
        "ConfigMap".into(),
        // Not `default`: the gateway reserves it (and kube-*) for cluster admins.
        "team-h".into(),
        format!("h-{n}"),
    ];
    // The gateway refuses hostile names, namespaces, kinds and apiVersions
    // (decision 0009) but carries the manifest's bytes as they are: half of
    // the hostile requests put their value there, so the chain holds some.
    let field = rng.below(10) as usize;
    let manifest = if field >= 5 {
        hostile::manifest(rng)
    } else {
        f[field] = hostile::string(rng, n);
        b"{}".to_vec()
    };
    let [verb, api, kind, ns, name] = &f;
    let (tx, sig) = calls::submit_request(
        key,
        &ids,
        gas.clone(),
        cluster,
        verb,
        api,
        kind,
        ns,
        name,
        &manifest,
    );
    execute(node, tx, sig, gas);
}

/// Executes `tx`; `gas` follows it when it executed (even if it aborted).
fn execute(node: &Node, tx: Transaction, sig: UserSignature, gas: &mut ObjectReference) {
    if let Ok(done) = node.execute(tx, vec![sig])
        && let Some(next) = calls::gas_after(&done.effects)
    {
        *gas = next;
    }
}
