//! The running node: one chain behind a lock, its log, the checkpoint timer,
//! the faucet, and a watch channel that tells subscribers a checkpoint sealed.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

pub use daas_attestation::TrustedRoot;
use sha2::Digest as _;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::{
    Address, Argument, Command, Input, ProgrammableTransaction, SplitCoins, Transaction,
    TransferObjects, UserSignature,
};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::{
    calls::{self, Arg},
    chain::{Chain, Genesis, Record},
    committee::{self, GENESIS_COMMITTEE_FILE, SEED_FILE, Validators},
    executor::{Executed, Rejected},
    wal::{Wal, WalError},
};

/// How the node runs.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Where the log and keys live.
    pub data_dir: PathBuf,
    /// Time between checkpoints.
    pub checkpoint_interval: Duration,
    /// Epoch length, ms (used only when a new chain is created).
    pub epoch_duration_ms: u64,
    /// Validators per committee, 1 to [`committee::MAX_VALIDATORS`] (used
    /// only when a new chain is created; default
    /// [`committee::DEFAULT_VALIDATORS`]).
    pub validators: usize,
    /// Checkpoints below this are reported as pruned and not served (to test
    /// readers against a node that no longer has old data). 0 = keep all.
    pub lowest_available_checkpoint: u64,
    /// The root `0x2::nitro_attestation::load_nitro_attestation` verifies
    /// documents against: AWS's ([`TrustedRoot::aws_nitro`]) or a dev CA's.
    /// Pinned for the chain's life in [`NITRO_ROOT_FILE`] beside its log (a
    /// replay under another root could change which registrations succeeded).
    pub nitro_root: TrustedRoot,
}

/// The file beside the log that pins the chain's Nitro root (its DER).
pub const NITRO_ROOT_FILE: &str = "nitro-root.der";

/// Why the node could not start or act.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The log failed.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// A key file failed.
    #[error("key file {path}: {reason}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The log does not replay (wrong genesis, a record that no longer validates).
    #[error("chain log does not replay: {0}")]
    Replay(String),
    /// A transaction was refused.
    #[error(transparent)]
    Rejected(#[from] Rejected),
    /// The chain was started with another Nitro root than the one given.
    #[error(
        "the chain was started with the Nitro root of SHA-256 {pinned} ({path}), not {given}: \
         start it with that root, or start a new chain (devnet run --reset)"
    )]
    NitroRoot {
        /// The pin file.
        path: PathBuf,
        /// SHA-256 of the pinned root's DER, hex.
        pinned: String,
        /// SHA-256 of the root given, hex.
        given: String,
    },
}

/// The node.
pub struct Node {
    chain: Mutex<Inner>,
    /// Counters and gauges for the Prometheus endpoint.
    pub metrics: crate::metrics::Metrics,
    sealed: watch::Sender<u64>,
    admin: Ed25519PrivateKey,
    faucet: Ed25519PrivateKey,
    config: NodeConfig,
}

struct Inner {
    chain: Chain,
    wal: Wal,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn load_or_make_key(path: &Path) -> Result<Ed25519PrivateKey, NodeError> {
    let err = |reason: String| NodeError::Key {
        path: path.to_path_buf(),
        reason,
    };
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        return Ed25519PrivateKey::from_suiprivkey(text.trim()).map_err(|e| err(e.to_string()));
    }
    let key = Ed25519PrivateKey::generate(rand_core::OsRng);
    let text = key.to_suiprivkey().map_err(|e| err(e.to_string()))?;
    std::fs::write(path, format!("{text}\n")).map_err(|e| err(e.to_string()))?;
    Ok(key)
}

/// Pins `root` for the chain in `dir`: written for a new chain (and for a
/// chain from before the pin existed); otherwise it must be the pinned root.
fn pin_nitro_root(dir: &Path, root: &TrustedRoot, fresh: bool) -> Result<(), NodeError> {
    let path = dir.join(NITRO_ROOT_FILE);
    let pinned = match std::fs::read(&path) {
        Ok(der) if !fresh => der,
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(NodeError::Key {
                path,
                reason: e.to_string(),
            });
        }
        _ => {
            return std::fs::write(&path, root.der()).map_err(|e| NodeError::Key {
                path,
                reason: e.to_string(),
            });
        }
    };
    if pinned == root.der() {
        return Ok(());
    }
    Err(NodeError::NitroRoot {
        path,
        pinned: hex::encode(sha2::Sha256::digest(&pinned)),
        given: hex::encode(root.fingerprint()),
    })
}

impl Node {
    /// Opens the chain in `config.data_dir`, replaying its log, or creates a new
    /// chain there (genesis, then the default cluster's creation, sealed).
    /// Writes [`GENESIS_COMMITTEE_FILE`] there. Refuses a log without its
    /// validator seed: its checkpoints could not be certified again.
    pub fn open(config: NodeConfig) -> Result<Arc<Self>, NodeError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| NodeError::Key {
            path: config.data_dir.clone(),
            reason: e.to_string(),
        })?;
        let admin = load_or_make_key(&config.data_dir.join("admin.key"))?;
        let faucet = load_or_make_key(&config.data_dir.join("faucet.key"))?;
        let (mut wal, records) = Wal::open(&config.data_dir.join("chain.wal"))?;
        let mut records = records.into_iter();
        let (genesis, validators, fresh) = match records.next() {
            Some(Record::Genesis(g)) => {
                let validators = Self::existing_validators(&config.data_dir, &g)?;
                (g, validators, false)
            }
            Some(_) => return Err(NodeError::Replay("the first record is not genesis".into())),
            None => {
                let validators = Validators::load_or_make(&config.data_dir, config.validators)?;
                let g = Genesis {
                    timestamp_ms: now_ms(),
                    admin: admin.public_key().derive_address(),
                    faucet: faucet.public_key().derive_address(),
                    epoch_duration_ms: config.epoch_duration_ms,
                    validators: validators.len() as u32,
                };
                wal.append(&Record::Genesis(g.clone()))?;
                (g, validators, true)
            }
        };
        committee::write_committee(
            &config.data_dir.join(GENESIS_COMMITTEE_FILE),
            &validators.committee(0),
        )?;
        pin_nitro_root(&config.data_dir, &config.nitro_root, fresh)?;
        let mut chain = Chain::new(genesis, validators, config.nitro_root.clone())
            .map_err(|e| NodeError::Replay(e.to_string()))?;
        for record in records {
            chain
                .apply(record)
                .map_err(|e| NodeError::Replay(e.to_string()))?;
        }
        let (height, epoch) = (chain.checkpoint_height(), chain.epoch());
        let metrics = crate::metrics::Metrics::default();
        metrics.checkpoint_height.set(height as i64);
        metrics.epoch.set(epoch as i64);
        let node = Arc::new(Self {
            metrics,
            chain: Mutex::new(Inner { chain, wal }),
            sealed: watch::Sender::new(height),
            admin,
            faucet,
            config,
        });
        if fresh {
            node.create_default_cluster()?;
            node.seal()?;
        }
        Ok(node)
    }

    /// The validators of an existing chain: its seed file must be there.
    fn existing_validators(dir: &Path, genesis: &Genesis) -> Result<Validators, NodeError> {
        let seed = dir.join(SEED_FILE);
        if !seed.exists() {
            return Err(NodeError::Key {
                path: seed,
                reason: "the chain log exists but its validator seed does not, so its \
                         checkpoints cannot be certified again; restore the file, or start \
                         a new chain (devnet run --reset)"
                    .into(),
            });
        }
        Validators::load(dir, genesis.validators as usize)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock would be a bug; the state is still
        // consistent record by record, so keep serving.
        self.chain.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the chain read-locked.
    pub fn read<T>(&self, f: impl FnOnce(&Chain) -> T) -> T {
        f(&self.lock().chain)
    }

    /// A receiver that changes whenever a checkpoint is sealed (value: the new
    /// height, which only goes up).
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.sealed.subscribe()
    }

    /// The node's configuration.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The chain's validators (every epoch's committee and keys).
    pub fn validators(&self) -> Validators {
        self.read(|c| c.validators().clone())
    }

    /// The genesis admin's key (holds the AdminCap).
    pub fn admin_key(&self) -> &Ed25519PrivateKey {
        &self.admin
    }

    /// Validates, logs and executes a signed transaction.
    pub fn execute(
        &self,
        tx: Transaction,
        signatures: Vec<UserSignature>,
    ) -> Result<Executed, NodeError> {
        let result = Self::execute_in(&mut self.lock(), tx, signatures);
        self.count(&result);
        result
    }

    fn count(&self, result: &Result<Executed, NodeError>) {
        match result {
            Ok(e) if e.effects.status() == &sui_sdk_types::ExecutionStatus::Success => {
                self.metrics.executed.inc()
            }
            Ok(_) => self.metrics.failed.inc(),
            Err(_) => self.metrics.rejected.inc(),
        };
    }

    fn execute_in(
        inner: &mut Inner,
        tx: Transaction,
        signatures: Vec<UserSignature>,
    ) -> Result<Executed, NodeError> {
        let now = now_ms();
        inner.chain.validate(now, &tx, &signatures)?;
        let record = Record::Transaction {
            timestamp_ms: inner.chain.world.clock_ms,
            transaction: tx,
            signatures,
        };
        inner.wal.append(&record)?;
        let executed = inner.chain.apply(record)?;
        executed.ok_or_else(|| NodeError::Replay("a transaction record produced no result".into()))
    }

    /// Runs `tx` against a copy of the state: effects and events, nothing kept.
    pub fn simulate(&self, tx: Transaction) -> Result<Executed, NodeError> {
        let mut world = {
            let inner = self.lock();
            inner.chain.world.clone()
        };
        world.clock_ms = world.clock_ms.max(now_ms());
        world.validate_inputs(&tx)?;
        Ok(world.run(tx, Vec::new())?)
    }

    /// Seals pending transactions into a checkpoint now.
    pub fn seal(&self) -> Result<u64, NodeError> {
        let mut inner = self.lock();
        let record = Record::Seal {
            timestamp_ms: now_ms(),
        };
        inner.wal.append(&record)?;
        inner.chain.apply(record)?;
        let (height, epoch) = (inner.chain.checkpoint_height(), inner.chain.epoch());
        // Published before the lock is released: seals from several threads
        // (the timer, explicit seals) publish their heights in the order they
        // sealed, so the watch, and every subscription that follows it, never
        // goes back to a lower height.
        self.metrics.checkpoint_height.set(height as i64);
        self.metrics.epoch.set(epoch as i64);
        self.sealed.send_replace(height);
        drop(inner);
        Ok(height)
    }

    /// Seals a checkpoint every `checkpoint_interval` until `shutdown`.
    pub async fn run_checkpoints(
        self: Arc<Self>,
        shutdown: CancellationToken,
    ) -> Result<(), NodeError> {
        let mut tick = tokio::time::interval(self.config.checkpoint_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tick.tick() => {
                    let node = self.clone();
                    tokio::task::spawn_blocking(move || node.seal())
                        .await
                        .map_err(|e| NodeError::Replay(e.to_string()))??;
                }
            }
        }
    }

    /// Sends `amount` MIST from the faucet account to `recipient`.
    pub fn faucet(&self, recipient: Address, amount: u64) -> Result<Executed, NodeError> {
        let sender = self.faucet.public_key().derive_address();
        // One lock from reading the faucet's coin to executing: concurrent
        // requests must not pay with the same coin version.
        let mut inner = self.lock();
        let gas = inner.chain.largest_coin(&sender);
        let gas = gas.ok_or_else(|| Rejected::Gas("the faucet has no coin left".into()))?;
        let ptb = ProgrammableTransaction {
            inputs: vec![
                Input::Pure(amount.to_le_bytes().to_vec()),
                Input::Pure(recipient.into_inner().to_vec()),
            ],
            commands: vec![
                Command::SplitCoins(SplitCoins {
                    coin: Argument::Gas,
                    amounts: vec![Argument::Input(0)],
                }),
                Command::TransferObjects(TransferObjects {
                    objects: vec![Argument::Result(0)],
                    address: Argument::Input(1),
                }),
            ],
        };
        let (tx, sig) = calls::sign(&self.faucet, ptb, vec![gas]);
        let result = Self::execute_in(&mut inner, tx, vec![sig]);
        drop(inner);
        self.count(&result);
        result
    }

    /// The admin's first act: `gateway::create_cluster(cap, "default", clock)`.
    fn create_default_cluster(&self) -> Result<Executed, NodeError> {
        let admin = self.admin.public_key().derive_address();
        let (gas, cap, ids) = self.read(|c| {
            let gas = c.largest_coin(&admin);
            let cap = c
                .world
                .objects
                .get(&c.world.ids.admin_cap)
                .map(|o| o.reference(c.world.ids.package, c.world.clock_ms));
            (gas, cap, c.world.ids.clone())
        });
        let (Some(gas), Some(cap)) = (gas, cap) else {
            return Err(NodeError::Replay(
                "genesis lacks the admin's coin or cap".into(),
            ));
        };
        let (tx, sig) = calls::move_call(
            &self.admin,
            &ids,
            gas,
            "gateway",
            "create_cluster",
            vec![Arg::Owned(cap), Arg::pure(&"default"), Arg::Clock],
        );
        self.execute(tx, vec![sig])
    }
}
