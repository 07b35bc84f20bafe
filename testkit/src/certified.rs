//! A hand-built certified chain: committees of BLS keys, signed summaries
//! chained by digest, contents, effects and events made with
//! `sui-sdk-types` and signed with `sui-crypto` directly (not with the dev
//! chain's or the indexer's code), for the verifier's own tests and for
//! consumers' tests and benchmarks of a verified log.
//!
//! [`certify`] wraps a [`Workload`](crate::workload::Workload)'s records in
//! such a chain: each usable record becomes the one event of its own
//! transaction, [`PER_CHECKPOINT`] transactions a checkpoint, with the
//! proofs on the first record of each checkpoint and transaction as the
//! indexer writes them. [`Chain::write_genesis`] writes the genesis
//! committee in the form `--genesis-committee` reads.

use std::path::Path;

use daas_domain::{
    LogEntry, LogPosition,
    record::{CheckpointProofBytes, Proof, TransactionProofBytes},
};

use daas_proto::v1;
use prost::Message;
use sui_crypto::bls12381::{Bls12381PrivateKey, ValidatorCommitteeSignatureAggregator};
use sui_sdk_types::{
    Address, CheckpointContents, CheckpointSummary, CheckpointTransactionInfo, Digest,
    EndOfEpochData, Event, ExecutionStatus, GasCostSummary, Identifier, StructTag,
    TransactionEffects, TransactionEffectsV2, TransactionEvents, ValidatorAggregatedSignature,
    ValidatorCommittee, ValidatorCommitteeMember,
};

/// Our package on the fixture chain.
pub const PACKAGE: Address =
    Address::from_static("0x000000000000000000000000000000000000000000000000000000000000da45");

/// A committee with its private keys, in committee order.
pub struct Validators {
    /// The committee.
    pub committee: ValidatorCommittee,
    /// Its private keys, in committee order.
    pub keys: Vec<Bls12381PrivateKey>,
}

impl Validators {
    /// A fresh committee of `n` (random keys, stake 1 each) for `epoch`.
    pub fn new(epoch: u64, n: usize) -> Self {
        let mut keys: Vec<_> = (0..n)
            .map(|_| Bls12381PrivateKey::generate(rand_core::OsRng))
            .collect();
        keys.sort_by_key(|k| k.public_key().inner().to_vec());
        let members = keys
            .iter()
            .map(|k| ValidatorCommitteeMember {
                public_key: k.public_key(),
                stake: 1,
            })
            .collect();
        Self {
            committee: ValidatorCommittee { epoch, members },
            keys,
        }
    }

    /// The signature of the validators at `signers` (committee order),
    /// made even without quorum (the aggregator is given a committee where
    /// the signers hold all the stake; the bitmap indexes the same order).
    pub fn sign(
        &self,
        summary: &CheckpointSummary,
        signers: &[usize],
    ) -> ValidatorAggregatedSignature {
        // Signed as the summary's epoch (a forger's committee claims it).
        let mut committee = self.committee.clone();
        committee.epoch = summary.epoch;
        for (i, m) in committee.members.iter_mut().enumerate() {
            m.stake = if signers.contains(&i) { 100 } else { 1 };
        }
        let mut agg =
            ValidatorCommitteeSignatureAggregator::new_checkpoint_summary(committee, summary)
                .expect("aggregator");
        for &i in signers {
            agg.add_signature(self.keys[i].sign_checkpoint_summary(summary))
                .expect("signature");
        }
        agg.finish().expect("quorum or not, the aggregate is made")
    }

    /// The signature of every validator of the committee.
    pub fn sign_all(&self, summary: &CheckpointSummary) -> ValidatorAggregatedSignature {
        let all: Vec<usize> = (0..self.keys.len()).collect();
        self.sign(summary, &all)
    }
}

/// One event to put in a transaction: module, struct name, contents.
#[derive(Clone)]
pub struct Ev {
    /// The emitting package.
    pub package: Address,
    /// Module.
    pub module: String,
    /// Struct name.
    pub name: String,
    /// BCS contents.
    pub contents: Vec<u8>,
}

impl Ev {
    /// An event of [`PACKAGE`].
    pub fn ours(module: &str, name: &str, contents: Vec<u8>) -> Self {
        Self {
            package: PACKAGE,
            module: module.into(),
            name: name.into(),
            contents,
        }
    }
}

/// A transaction with its events.
pub struct Tx {
    /// Transaction digest.
    pub digest: Digest,
    /// Sender.
    pub sender: Address,
    /// Its effects.
    pub effects: TransactionEffects,
    /// Its events.
    pub events: TransactionEvents,
}

/// Transaction `[n; 32]` of sender `[0xaa; 32]` (module and struct names
/// must be Move identifiers).
pub fn tx(n: u8, epoch: u64, events: Vec<Ev>) -> Tx {
    let events = events
        .into_iter()
        .map(|e| event(e, Address::new([0xaa; 32])).expect("Move identifiers"))
        .collect();
    tx_of(
        Digest::new([n; 32]),
        Address::new([0xaa; 32]),
        epoch,
        events,
    )
}

/// The Sui event for `e`; `None` when its module or name is not a Move
/// identifier.
pub fn event(e: Ev, sender: Address) -> Option<Event> {
    let module = Identifier::new(e.module).ok()?;
    let name = Identifier::new(e.name).ok()?;
    Some(Event {
        package_id: e.package,
        module: module.clone(),
        sender,
        type_: StructTag::new(e.package, module, name, vec![]),
        contents: e.contents,
    })
}

/// A successful transaction with `events`.
pub fn tx_of(digest: Digest, sender: Address, epoch: u64, events: Vec<Event>) -> Tx {
    let events = TransactionEvents(events);
    let effects = TransactionEffects::V2(Box::new(TransactionEffectsV2 {
        status: ExecutionStatus::Success,
        epoch,
        gas_used: GasCostSummary::default(),
        transaction_digest: digest,
        gas_object_index: None,
        events_digest: (!events.0.is_empty()).then(|| events.digest()),
        dependencies: vec![],
        lamport_version: 1,
        changed_objects: vec![],
        unchanged_consensus_objects: vec![],
        auxiliary_data_digest: None,
    }));
    Tx {
        digest,
        sender,
        effects,
        events,
    }
}

/// A certified checkpoint with its transactions.
pub struct Cp {
    /// The summary.
    pub summary: CheckpointSummary,
    /// Its signature.
    pub signature: ValidatorAggregatedSignature,
    /// Its contents.
    pub contents: CheckpointContents,
    /// Its transactions.
    pub txs: Vec<Tx>,
}

/// Builds a chain: checkpoints chained by digest.
pub struct Chain {
    /// Committees with their keys, by epoch.
    pub validators: Vec<Validators>,
    /// Checkpoints, by sequence number.
    pub checkpoints: Vec<Cp>,
    /// The current epoch.
    pub epoch: u64,
}

impl Chain {
    /// A chain whose genesis committee has `n` validators.
    pub fn new(n: usize) -> Self {
        Self {
            validators: vec![Validators::new(0, n)],
            checkpoints: vec![],
            epoch: 0,
        }
    }

    /// The pinned genesis committee.
    pub fn genesis(&self) -> ValidatorCommittee {
        self.validators[0].committee.clone()
    }

    /// Writes the genesis committee as `--genesis-committee` reads it
    /// (`serde_json` of the `ValidatorCommittee`).
    pub fn write_genesis(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_vec_pretty(&self.genesis())?;
        std::fs::write(path, json)?;
        Ok(())
    }

    /// Appends a checkpoint holding `txs`, signed by everyone; `end` ends the epoch.
    pub fn checkpoint(&mut self, txs: Vec<Tx>, end: bool) -> usize {
        let next = end.then(|| Validators::new(self.epoch + 1, 4));
        let summary = self.summary(&txs, next.as_ref());
        let signature = self.validators[self.epoch as usize].sign_all(&summary);
        self.push(summary, signature, txs, next)
    }

    /// The summary a checkpoint holding `txs` would have next (`next`: the committee it hands over to).
    pub fn summary(&self, txs: &[Tx], next: Option<&Validators>) -> CheckpointSummary {
        let prev = self.checkpoints.last().map(|c| &c.summary);
        next_summary(prev, self.epoch, txs, next.map(|v| &v.committee))
    }

    /// Appends a made checkpoint (its summary may be signed any way); returns its index.
    pub fn push(
        &mut self,
        summary: CheckpointSummary,
        signature: ValidatorAggregatedSignature,
        txs: Vec<Tx>,
        next: Option<Validators>,
    ) -> usize {
        self.checkpoints.push(Cp::new(summary, signature, txs));
        if let Some(v) = next {
            self.epoch += 1;
            self.validators.push(v);
        }
        self.checkpoints.len() - 1
    }

    /// The log records of checkpoint `i`, as the indexer writes them.
    pub fn records(&self, i: usize) -> Vec<v1::LogRecord> {
        self.checkpoints[i].records()
    }

    /// The checkpoint proof of checkpoint `i`.
    pub fn checkpoint_proof(&self, i: usize) -> v1::CheckpointProof {
        self.checkpoints[i].proof()
    }

    /// An epoch change record for checkpoint `i` (which must end its epoch).
    pub fn epoch_change(&self, i: usize) -> v1::LogRecord {
        self.checkpoints[i].epoch_change()
    }
}

/// The summary of the checkpoint after `previous` (checkpoint 0 when
/// `None`) in `epoch`, holding `txs`; `next`: the committee it hands over
/// to, when it ends the epoch. Its timestamp is the previous one's + 1 ms.
pub fn next_summary(
    previous: Option<&CheckpointSummary>,
    epoch: u64,
    txs: &[Tx],
    next: Option<&ValidatorCommittee>,
) -> CheckpointSummary {
    let contents = contents(txs);
    CheckpointSummary {
        epoch,
        sequence_number: previous.map_or(0, |p| p.sequence_number + 1),
        network_total_transactions: previous.map_or(0, |p| p.network_total_transactions)
            + txs.len() as u64,
        content_digest: contents.digest(),
        previous_digest: previous.map(CheckpointSummary::digest),
        epoch_rolling_gas_cost_summary: GasCostSummary::default(),
        timestamp_ms: previous.map_or(1_700_000_000_000, |p| p.timestamp_ms + 1),
        checkpoint_commitments: vec![],
        end_of_epoch_data: next.map(|c| EndOfEpochData {
            next_epoch_committee: c.members.clone(),
            next_epoch_protocol_version: 1,
            epoch_commitments: vec![],
        }),
        version_specific_data: vec![],
    }
}

impl Cp {
    /// A checkpoint of `summary` (signed any way) holding `txs`.
    pub fn new(
        summary: CheckpointSummary,
        signature: ValidatorAggregatedSignature,
        txs: Vec<Tx>,
    ) -> Self {
        Self {
            contents: contents(&txs),
            summary,
            signature,
            txs,
        }
    }

    /// Its log records, as the indexer writes them (the typed copy of each
    /// event is `Unknown`: a verifier reads the certified bytes).
    pub fn records(&self) -> Vec<v1::LogRecord> {
        let mut out = vec![];
        for (t, tx) in self.txs.iter().enumerate() {
            for (e, ev) in tx.events.0.iter().enumerate() {
                let mut r = v1::LogRecord {
                    position: Some(v1::Position {
                        checkpoint: self.summary.sequence_number,
                        transaction_index: t as u64,
                        event_index: e as u64,
                    }),
                    transaction_digest: tx.digest.inner().to_vec(),
                    checkpoint_timestamp_ms: self.summary.timestamp_ms,
                    event_type: ev.type_.to_string(),
                    sender: tx.sender.inner().to_vec(),
                    bcs: ev.contents.clone(),
                    event: Some(v1::log_record::Event::Unknown(v1::Unknown {})),
                    ..Default::default()
                };
                if out.is_empty() {
                    r.checkpoint_proof = Some(self.proof());
                }
                if e == 0 {
                    r.transaction_proof = Some(v1::TransactionProof {
                        effects_bcs: bcs::to_bytes(&tx.effects).expect("bcs"),
                        events_bcs: bcs::to_bytes(&tx.events).expect("bcs"),
                    });
                }
                out.push(r);
            }
        }
        out
    }

    /// Its checkpoint proof.
    pub fn proof(&self) -> v1::CheckpointProof {
        v1::CheckpointProof {
            summary_bcs: bcs::to_bytes(&self.summary).expect("bcs"),
            signature_bcs: bcs::to_bytes(&self.signature).expect("bcs"),
            contents_bcs: bcs::to_bytes(&self.contents).expect("bcs"),
        }
    }

    /// Its epoch change record (it must end its epoch), as the indexer
    /// writes one for a checkpoint holding none of our events.
    pub fn epoch_change(&self) -> v1::LogRecord {
        let mut proof = self.proof();
        proof.contents_bcs.clear();
        v1::LogRecord {
            position: Some(v1::Position {
                checkpoint: self.summary.sequence_number,
                transaction_index: 0,
                event_index: 0,
            }),
            checkpoint_timestamp_ms: self.summary.timestamp_ms,
            checkpoint_proof: Some(proof),
            event: Some(v1::log_record::Event::EpochChange(v1::EpochChange {
                epoch: self.summary.epoch,
            })),
            ..Default::default()
        }
    }
}

/// The contents of a checkpoint holding `txs`.
pub fn contents(txs: &[Tx]) -> CheckpointContents {
    CheckpointContents::new_v1(
        txs.iter()
            .map(|t| CheckpointTransactionInfo::new(t.digest, t.effects.digest(), vec![]))
            .collect(),
    )
}

/// Records as (offset, bytes) from offset `from`.
pub fn encode(records: &[v1::LogRecord], from: i64) -> Vec<(i64, Vec<u8>)> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| (from + i as i64, r.encode_to_vec()))
        .collect()
}

/// Transactions per checkpoint in [`certify`]'s chain (as the workload's).
pub const PER_CHECKPOINT: usize = 8;

/// A log wrapped in a certified chain.
pub struct CertifiedLog {
    /// The chain whose proofs the records carry.
    pub chain: Chain,
    /// The records (encoded `daas.v1.LogRecord`s), in the input's order.
    pub records: Vec<Vec<u8>>,
    /// How many of them are certified (the rest are kept as they came).
    pub certified: usize,
}

/// Wraps `records` (a workload's) in a certified chain of `validators`
/// validators: every record that decodes to a [`LogEntry`] whose event type
/// is a Move type becomes the only event of a transaction of its sender,
/// [`PER_CHECKPOINT`] transactions a checkpoint, numbered from checkpoint
/// 0; its position, digest and timestamp become the chain's, and it carries
/// the proofs the indexer puts on the first record of a checkpoint and of a
/// transaction. Every `epoch_len` checkpoints (when not 0) the checkpoint
/// ends its epoch and the next committee takes over. Any other record
/// (junk) is kept as it is, in place: a verifier quarantines it. A record
/// that would exceed [`MAX_RECORD_BYTES`] with its proofs (the workload's
/// oversize manifests, carried in the typed event, its `bcs` copy and the
/// certified events) is written without the typed copy (`Unknown`): only a
/// verifying consumer applies it.
pub fn certify(records: &[Vec<u8>], validators: usize, epoch_len: usize) -> CertifiedLog {
    let mut chain = Chain::new(validators);
    let mut slots: Vec<Result<(usize, LogEntry), Vec<u8>>> = Vec::with_capacity(records.len());
    let mut pending: Vec<Tx> = vec![];
    let mut certified = 0;
    for bytes in records {
        let Some((entry, ev)) = usable(bytes) else {
            slots.push(Err(bytes.clone()));
            continue;
        };
        let sender = Address::new(entry.sender.0);
        // Unique per transaction (junk records share theirs).
        let mut digest = entry.transaction_digest;
        digest[..8].copy_from_slice(&(certified as u64).to_be_bytes());
        let digest = Digest::new(digest);
        let Some(ev) = event(ev, sender) else {
            slots.push(Err(bytes.clone()));
            continue;
        };
        pending.push(tx_of(digest, sender, chain.epoch, vec![ev]));
        slots.push(Ok((chain.checkpoints.len(), entry)));
        certified += 1;
        if pending.len() == PER_CHECKPOINT {
            seal(&mut chain, &mut pending, epoch_len);
        }
    }
    if !pending.is_empty() {
        seal(&mut chain, &mut pending, epoch_len);
    }
    let records = slots
        .into_iter()
        .scan(None, |last: &mut Option<(usize, usize)>, slot| {
            Some(match slot {
                Err(bytes) => bytes,
                Ok((cp, entry)) => {
                    let t = match *last {
                        Some((c, t)) if c == cp => t + 1,
                        _ => 0,
                    };
                    *last = Some((cp, t));
                    wrap(&chain, cp, t, entry)
                }
            })
        })
        .collect();
    CertifiedLog {
        chain,
        records,
        certified,
    }
}

/// The entry and its event when `bytes` is a record with a Move event type.
fn usable(bytes: &[u8]) -> Option<(LogEntry, Ev)> {
    let entry = LogEntry::decode(bytes).ok()?;
    let mut parts = entry.event_type.splitn(3, "::");
    let package: Address = parts.next()?.parse().ok()?;
    let (module, name) = (parts.next()?, parts.next()?);
    let ev = Ev {
        package,
        module: module.into(),
        name: name.into(),
        contents: entry.bcs.clone(),
    };
    Some((entry, ev))
}

fn seal(chain: &mut Chain, pending: &mut Vec<Tx>, epoch_len: usize) {
    let n = chain.checkpoints.len() + 1;
    let end = epoch_len > 0 && n.is_multiple_of(epoch_len);
    chain.checkpoint(std::mem::take(pending), end);
}

/// `entry` as transaction `t` of checkpoint `cp`, with its proofs.
fn wrap(chain: &Chain, cp: usize, t: usize, mut entry: LogEntry) -> Vec<u8> {
    let c = &chain.checkpoints[cp];
    let tx = &c.txs[t];
    entry.position = LogPosition::new(cp as u64, t as u64, 0);
    entry.transaction_digest = tx.digest.into_inner();
    entry.checkpoint_timestamp_ms = c.summary.timestamp_ms;
    let cproof = (t == 0).then(|| chain.checkpoint_proof(cp));
    entry.proof = Proof {
        checkpoint: cproof.map(|p| CheckpointProofBytes {
            summary_bcs: p.summary_bcs,
            signature_bcs: p.signature_bcs,
            contents_bcs: p.contents_bcs,
        }),
        transaction: Some(TransactionProofBytes {
            effects_bcs: bcs::to_bytes(&tx.effects).expect("bcs"),
            events_bcs: bcs::to_bytes(&tx.events).expect("bcs"),
        }),
    };
    let bytes = entry.encode();
    if bytes.len() <= MAX_RECORD_BYTES {
        return bytes;
    }
    // Too big for the broker with three copies of the event: drop the typed
    // one (a verifier reads only the certified bytes).
    entry.body = daas_domain::Body::Unknown;
    entry.encode()
}

/// The broker's message limit (1 MB), less room for the record's envelope:
/// a record above it loses its typed copy of the event (see [`certify`]).
pub const MAX_RECORD_BYTES: usize = 1_000_000 - 4_096;

/// Encoded records as (offset, bytes) from offset `from`.
pub fn encode_bytes(records: &[Vec<u8>], from: i64) -> Vec<(i64, Vec<u8>)> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| (from + i as i64, r.clone()))
        .collect()
}
