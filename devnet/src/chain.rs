//! The chain: executed transactions sealed into checkpoints chained by
//! digest and certified by the epoch's validator committee, epochs (each with
//! a new committee, announced in the previous epoch's last checkpoint), and
//! the indexes the RPC reads (transactions, events).
//!
//! Every state change goes through [`Chain::apply`] with a [`Record`], and
//! every record is appended to the write-ahead log before it is applied, so a
//! restart replays the same records into the same chain (execution is
//! deterministic given the record's timestamp).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sui_sdk_types::{
    Address, CheckpointContents, CheckpointSummary, CheckpointTransactionInfo, Digest,
    EndOfEpochData, GasCostSummary, Owner, Transaction, UserSignature,
    ValidatorAggregatedSignature, ValidatorCommittee,
};

use crate::{
    committee::{EpochKeys, Validators, certify},
    contract::ContractState,
    executor::{Executed, Ids, Rejected, World},
    objects::{Kind, Obj, ObjectStore},
};

/// The package id our Move package lives at on the dev chain.
pub const PACKAGE_ID: Address =
    Address::from_static("0x000000000000000000000000000000000000000000000000000000000000da45");

/// The genesis parameters; everything else follows from them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Genesis time, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// Holder of the `AdminCap`.
    pub admin: Address,
    /// The faucet account.
    pub faucet: Address,
    /// Epoch length, ms.
    pub epoch_duration_ms: u64,
    /// Validators in every epoch's committee (their keys come from the seed
    /// file beside the log).
    pub validators: u32,
}

/// One entry of the write-ahead log.
// Nearly every record is a transaction; boxing it would cost an allocation each.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Record {
    /// The first record of every chain.
    Genesis(Genesis),
    /// A transaction accepted by validation, executed at `timestamp_ms`.
    Transaction {
        /// Clock time it ran at.
        timestamp_ms: u64,
        /// The transaction.
        transaction: Transaction,
        /// Its signatures.
        signatures: Vec<UserSignature>,
    },
    /// Seal the pending transactions into the next checkpoint.
    Seal {
        /// Checkpoint timestamp.
        timestamp_ms: u64,
    },
}

/// A sealed checkpoint with its transactions.
#[derive(Clone, Debug)]
pub struct SealedCheckpoint {
    /// Summary.
    pub summary: CheckpointSummary,
    /// The summary's certificate: every validator of its epoch's committee signed it.
    pub signature: ValidatorAggregatedSignature,
    /// Contents.
    pub contents: CheckpointContents,
    /// Digest of the summary.
    pub digest: Digest,
    /// Executed transactions, in order.
    pub transactions: Vec<Executed>,
}

/// One event with its place in the order.
#[derive(Clone, Debug)]
pub struct IndexedEvent {
    /// Checkpoint.
    pub checkpoint: u64,
    /// Transaction index in the checkpoint.
    pub transaction_index: u64,
    /// Event index in the transaction.
    pub event_index: u32,
    /// Emitting transaction.
    pub transaction_digest: Digest,
    /// The event.
    pub event: sui_sdk_types::Event,
}

impl IndexedEvent {
    /// `(checkpoint, transaction index, event index)`.
    pub fn position(&self) -> (u64, u64, u32) {
        (self.checkpoint, self.transaction_index, self.event_index)
    }
}

/// Where a transaction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxLocation {
    /// Executed, waiting for the next checkpoint.
    Pending(usize),
    /// In checkpoint `.0` at index `.1`.
    Sealed(u64, usize),
}

/// The chain state.
pub struct Chain {
    /// Genesis parameters.
    pub genesis: Genesis,
    /// Executable state.
    pub world: World,
    /// Sealed checkpoints, by sequence number.
    pub checkpoints: Vec<SealedCheckpoint>,
    /// Executed, not yet sealed.
    pub pending: Vec<Executed>,
    /// Events of sealed checkpoints, in order.
    pub events: Vec<IndexedEvent>,
    /// Transactions by digest.
    pub transactions: HashMap<Digest, TxLocation>,
    /// The first cluster created on this chain (the node creates it right after genesis).
    pub default_cluster: Option<Address>,
    epoch_start_ms: u64,
    network_total_transactions: u64,
    validators: Validators,
    /// The current epoch's committee and keys.
    signing: EpochKeys,
    /// Committee of each epoch so far, by epoch.
    committees: Vec<ValidatorCommittee>,
    /// First checkpoint of each epoch so far, by epoch (the current epoch's
    /// may not be sealed yet).
    epoch_first: Vec<u64>,
    by_digest: HashMap<Digest, u64>,
}

/// Object ids of the genesis objects (fixed, derived from the package id).
pub fn genesis_ids() -> Ids {
    let id = |n: u8| {
        let mut b = PACKAGE_ID.into_inner();
        b[0] = n;
        Address::new(b)
    };
    Ids {
        package: PACKAGE_ID,
        pool: id(0x10),
        node_registry: id(0x11),
        enclave_registry: id(0x12),
        admin_cap: id(0x13),
    }
}

/// MIST the faucet account starts with (a billion SUI).
pub const FAUCET_SUPPLY: u64 = 1_000_000_000 * 1_000_000_000;
/// MIST the admin account starts with.
pub const ADMIN_SUPPLY: u64 = 1_000 * 1_000_000_000;

impl Chain {
    /// The chain right after genesis: objects created, checkpoint 0 sealed
    /// and certified by `validators`' epoch-0 committee; attestation
    /// documents verified against `nitro_root`. Refused if `validators` is
    /// not as many as the genesis names.
    pub fn new(
        genesis: Genesis,
        validators: Validators,
        nitro_root: daas_attestation::TrustedRoot,
    ) -> Result<Self, Rejected> {
        if validators.len() != genesis.validators as usize {
            return Err(Rejected::Invalid(format!(
                "genesis has {} validators, the seed was opened for {}",
                genesis.validators,
                validators.len()
            )));
        }
        let ids = genesis_ids();
        let mut objects = ObjectStore::default();
        let genesis_tx = Digest::new([0; 32]);
        let shared = |id, kind| Obj {
            id,
            version: 1,
            owner: Owner::Shared(1),
            kind,
            previous_transaction: genesis_tx,
        };
        objects.put(shared(ids.pool, Kind::Pool));
        objects.put(shared(ids.node_registry, Kind::NodeRegistry));
        objects.put(shared(ids.enclave_registry, Kind::EnclaveRegistry));
        objects.put(shared(Address::from_static("0x6"), Kind::Clock));
        objects.put(Obj {
            id: ids.admin_cap,
            version: 1,
            owner: Owner::Address(genesis.admin),
            kind: Kind::AdminCap { pool_id: ids.pool },
            previous_transaction: genesis_tx,
        });
        let coin = |n: u8, owner, balance| {
            let mut b = PACKAGE_ID.into_inner();
            b[0] = n;
            Obj {
                id: Address::new(b),
                version: 1,
                owner: Owner::Address(owner),
                kind: Kind::Coin { balance },
                previous_transaction: genesis_tx,
            }
        };
        objects.put(coin(0x20, genesis.faucet, FAUCET_SUPPLY));
        objects.put(coin(0x21, genesis.admin, ADMIN_SUPPLY));
        let world = World {
            contract: ContractState::new(daas_domain::Address(ids.pool.into_inner())),
            ids,
            objects,
            epoch: 0,
            clock_ms: genesis.timestamp_ms,
            nitro_root,
        };
        let signing = validators.epoch(0);
        let mut chain = Self {
            epoch_start_ms: genesis.timestamp_ms,
            genesis,
            world,
            checkpoints: Vec::new(),
            pending: Vec::new(),
            events: Vec::new(),
            transactions: HashMap::new(),
            default_cluster: None,
            network_total_transactions: 0,
            validators,
            committees: vec![signing.committee.clone()],
            signing,
            epoch_first: vec![0],
            by_digest: HashMap::new(),
        };
        chain.seal(chain.genesis.timestamp_ms)?;
        Ok(chain)
    }

    /// The chain id: the digest of checkpoint 0, as on Sui.
    pub fn chain_id(&self) -> Digest {
        self.checkpoints[0].digest
    }

    /// The newest sealed checkpoint's sequence number.
    pub fn checkpoint_height(&self) -> u64 {
        self.checkpoints.len() as u64 - 1
    }

    /// The newest sealed checkpoint.
    pub fn tip(&self) -> &SealedCheckpoint {
        &self.checkpoints[self.checkpoints.len() - 1]
    }

    /// Current epoch.
    pub fn epoch(&self) -> u64 {
        self.world.epoch
    }

    /// The chain's validators (every epoch's keys).
    pub fn validators(&self) -> &Validators {
        &self.validators
    }

    /// Epoch `epoch`'s committee, if the chain has reached that epoch.
    pub fn committee(&self, epoch: u64) -> Option<&ValidatorCommittee> {
        self.committees.get(usize::try_from(epoch).ok()?)
    }

    /// Epoch `epoch`'s first checkpoint and, once it ended, its last one.
    /// The current epoch's first checkpoint may not be sealed yet.
    pub fn epoch_checkpoints(&self, epoch: u64) -> Option<(u64, Option<u64>)> {
        let e = usize::try_from(epoch).ok()?;
        let first = *self.epoch_first.get(e)?;
        let last = self.epoch_first.get(e + 1).map(|next| next - 1);
        Some((first, last))
    }

    /// A sealed checkpoint by its summary's digest.
    pub fn checkpoint_by_digest(&self, digest: &Digest) -> Option<&SealedCheckpoint> {
        let seq = *self.by_digest.get(digest)?;
        self.checkpoints.get(seq as usize)
    }

    /// Validates a transaction at clock `timestamp_ms` without running it.
    pub fn validate(
        &mut self,
        timestamp_ms: u64,
        tx: &Transaction,
        signatures: &[UserSignature],
    ) -> Result<(), Rejected> {
        self.advance_clock(timestamp_ms);
        if self.transactions.contains_key(&tx.digest()) {
            return Err(Rejected::Invalid(format!(
                "transaction {} was already executed",
                tx.digest()
            )));
        }
        self.world.validate(tx, signatures)
    }

    fn advance_clock(&mut self, timestamp_ms: u64) {
        self.world.clock_ms = self.world.clock_ms.max(timestamp_ms);
    }

    /// Applies one validated record (from the live node or from the log).
    pub fn apply(&mut self, record: Record) -> Result<Option<Executed>, Rejected> {
        match record {
            Record::Genesis(_) => Err(Rejected::Invalid(
                "genesis can only be the first record".into(),
            )),
            Record::Transaction {
                timestamp_ms,
                transaction,
                signatures,
            } => {
                self.advance_clock(timestamp_ms);
                let clusters_before = self.world.contract.clusters.len();
                let executed = self.world.run(transaction, signatures)?;
                if self.default_cluster.is_none()
                    && self.world.contract.clusters.len() > clusters_before
                {
                    self.default_cluster =
                        Some(crate::executor::derive_object_id(&executed.digest, 0));
                }
                self.transactions
                    .insert(executed.digest, TxLocation::Pending(self.pending.len()));
                self.pending.push(executed.clone());
                Ok(Some(executed))
            }
            Record::Seal { timestamp_ms } => {
                self.seal(timestamp_ms)?;
                Ok(None)
            }
        }
    }

    /// Whether the next checkpoint ends the epoch: the epoch has lasted
    /// `epoch_duration_ms` by the clock (checkpoint 0 never ends one).
    fn next_ends_epoch(&self) -> bool {
        !self.checkpoints.is_empty()
            && self.world.clock_ms.saturating_sub(self.epoch_start_ms)
                >= self.genesis.epoch_duration_ms
    }

    /// The next checkpoint's contents and (unsigned) summary from the pending
    /// transactions, without changing anything; `next_committee` is given
    /// when it ends the epoch.
    pub fn next_checkpoint(
        &self,
        next_committee: Option<&ValidatorCommittee>,
    ) -> (CheckpointContents, CheckpointSummary) {
        let mut gas = GasCostSummary::default();
        let infos = self
            .pending
            .iter()
            .map(|t| {
                gas.computation_cost += t.effects.gas_summary().computation_cost;
                CheckpointTransactionInfo::new(t.digest, t.effects.digest(), t.signatures.clone())
            })
            .collect();
        let contents = CheckpointContents::new_v1(infos);
        let summary = CheckpointSummary {
            epoch: self.world.epoch,
            sequence_number: self.checkpoints.len() as u64,
            network_total_transactions: self.network_total_transactions + self.pending.len() as u64,
            content_digest: contents.digest(),
            previous_digest: self.checkpoints.last().map(|c| c.digest),
            epoch_rolling_gas_cost_summary: gas,
            timestamp_ms: self.world.clock_ms,
            checkpoint_commitments: Vec::new(),
            end_of_epoch_data: next_committee.map(|c| EndOfEpochData {
                next_epoch_committee: c.members.clone(),
                next_epoch_protocol_version: 1,
                epoch_commitments: Vec::new(),
            }),
            version_specific_data: Vec::new(),
        };
        (contents, summary)
    }

    /// Seals pending transactions into the next checkpoint (an empty one is
    /// fine), certified by every validator of the epoch. The checkpoint that
    /// ends an epoch names the next epoch's committee, which signs from the
    /// next checkpoint on. Nothing changes if signing fails.
    fn seal(&mut self, timestamp_ms: u64) -> Result<(), Rejected> {
        self.advance_clock(timestamp_ms);
        let next = self
            .next_ends_epoch()
            .then(|| self.validators.epoch(self.world.epoch + 1));
        let (contents, summary) = self.next_checkpoint(next.as_ref().map(|k| &k.committee));
        let everyone: Vec<usize> = (0..self.signing.keys.len()).collect();
        let signature = certify(
            &self.signing.committee,
            &self.signing.keys,
            &everyone,
            &summary,
        )
        .map_err(|e| {
            Rejected::Invalid(format!(
                "certifying checkpoint {}: {e}",
                summary.sequence_number
            ))
        })?;
        let sequence_number = summary.sequence_number;
        let digest = summary.digest();
        let transactions = std::mem::take(&mut self.pending);
        self.network_total_transactions = summary.network_total_transactions;
        self.index(sequence_number, &transactions);
        self.by_digest.insert(digest, sequence_number);
        self.checkpoints.push(SealedCheckpoint {
            summary,
            signature,
            contents,
            digest,
            transactions,
        });
        if let Some(next) = next {
            self.world.epoch += 1;
            self.epoch_start_ms = self.world.clock_ms;
            self.committees.push(next.committee.clone());
            self.epoch_first.push(sequence_number + 1);
            self.signing = next;
        }
        Ok(())
    }

    /// Indexes the transactions and events of checkpoint `sequence_number`.
    fn index(&mut self, sequence_number: u64, transactions: &[Executed]) {
        for (i, t) in transactions.iter().enumerate() {
            self.transactions
                .insert(t.digest, TxLocation::Sealed(sequence_number, i));
            for (j, e) in t.events.iter().enumerate() {
                self.events.push(IndexedEvent {
                    checkpoint: sequence_number,
                    transaction_index: i as u64,
                    event_index: j as u32,
                    transaction_digest: t.digest,
                    event: e.clone(),
                });
            }
        }
    }

    /// The reference of `owner`'s largest SUI coin (what pays gas best).
    pub fn largest_coin(&self, owner: &Address) -> Option<sui_sdk_types::ObjectReference> {
        self.world
            .objects
            .owned_by(owner)
            .filter(|o| o.balance().is_some())
            .max_by_key(|o| o.balance())
            .map(|o| o.reference(self.world.ids.package, self.world.clock_ms))
    }

    /// A transaction by digest, with its checkpoint if sealed.
    pub fn transaction(&self, digest: &Digest) -> Option<(&Executed, Option<u64>)> {
        match self.transactions.get(digest)? {
            TxLocation::Pending(i) => self.pending.get(*i).map(|t| (t, None)),
            TxLocation::Sealed(c, i) => self
                .checkpoints
                .get(*c as usize)
                .and_then(|cp| cp.transactions.get(*i))
                .map(|t| (t, Some(*c))),
        }
    }
}
