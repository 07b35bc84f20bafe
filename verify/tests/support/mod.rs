//! A hand-built certified chain for the verifier's tests: committees of
//! BLS keys, signed summaries chained by digest, contents, effects and
//! events made with `sui-sdk-types` and signed with `sui-crypto` directly
//! (not with the dev chain's or the indexer's code).

#![allow(dead_code)]

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
    pub committee: ValidatorCommittee,
    pub keys: Vec<Bls12381PrivateKey>,
}

impl Validators {
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
}

/// One event to put in a transaction: module, struct name, contents.
#[derive(Clone)]
pub struct Ev {
    pub package: Address,
    pub module: &'static str,
    pub name: &'static str,
    pub contents: Vec<u8>,
}

impl Ev {
    pub fn ours(module: &'static str, name: &'static str, contents: Vec<u8>) -> Self {
        Self {
            package: PACKAGE,
            module,
            name,
            contents,
        }
    }
}

/// A transaction with its events.
pub struct Tx {
    pub digest: Digest,
    pub sender: Address,
    pub effects: TransactionEffects,
    pub events: TransactionEvents,
}

pub fn tx(n: u8, epoch: u64, events: Vec<Ev>) -> Tx {
    let digest = Digest::new([n; 32]);
    let sender = Address::new([0xaa; 32]);
    let events = TransactionEvents(
        events
            .into_iter()
            .map(|e| Event {
                package_id: e.package,
                module: Identifier::new(e.module).expect("module"),
                sender,
                type_: StructTag::new(
                    e.package,
                    Identifier::new(e.module).expect("module"),
                    Identifier::new(e.name).expect("name"),
                    vec![],
                ),
                contents: e.contents,
            })
            .collect(),
    );
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
    pub summary: CheckpointSummary,
    pub signature: ValidatorAggregatedSignature,
    pub contents: CheckpointContents,
    pub txs: Vec<Tx>,
}

/// Builds a chain: checkpoints chained by digest.
pub struct Chain {
    pub validators: Vec<Validators>,
    pub checkpoints: Vec<Cp>,
    pub epoch: u64,
}

impl Chain {
    pub fn new(n: usize) -> Self {
        Self {
            validators: vec![Validators::new(0, n)],
            checkpoints: vec![],
            epoch: 0,
        }
    }

    pub fn genesis(&self) -> ValidatorCommittee {
        self.validators[0].committee.clone()
    }

    /// Appends a checkpoint holding `txs`, signed by everyone; `end` ends the epoch.
    pub fn checkpoint(&mut self, txs: Vec<Tx>, end: bool) -> usize {
        let next = end.then(|| Validators::new(self.epoch + 1, 4));
        let summary = self.summary(&txs, next.as_ref());
        let all: Vec<usize> = (0..self.validators[self.epoch as usize].keys.len()).collect();
        let signature = self.validators[self.epoch as usize].sign(&summary, &all);
        self.push(summary, signature, txs, next)
    }

    pub fn summary(&self, txs: &[Tx], next: Option<&Validators>) -> CheckpointSummary {
        let contents = contents(txs);
        let prev = self.checkpoints.last();
        CheckpointSummary {
            epoch: self.epoch,
            sequence_number: self.checkpoints.len() as u64,
            network_total_transactions: 0,
            content_digest: contents.digest(),
            previous_digest: prev.map(|c| c.summary.digest()),
            epoch_rolling_gas_cost_summary: GasCostSummary::default(),
            timestamp_ms: 1_700_000_000_000 + self.checkpoints.len() as u64,
            checkpoint_commitments: vec![],
            end_of_epoch_data: next.map(|v| EndOfEpochData {
                next_epoch_committee: v.committee.members.clone(),
                next_epoch_protocol_version: 1,
                epoch_commitments: vec![],
            }),
            version_specific_data: vec![],
        }
    }

    pub fn push(
        &mut self,
        summary: CheckpointSummary,
        signature: ValidatorAggregatedSignature,
        txs: Vec<Tx>,
        next: Option<Validators>,
    ) -> usize {
        self.checkpoints.push(Cp {
            contents: contents(&txs),
            summary,
            signature,
            txs,
        });
        if let Some(v) = next {
            self.epoch += 1;
            self.validators.push(v);
        }
        self.checkpoints.len() - 1
    }

    /// The log records of checkpoint `i`, as the indexer writes them.
    pub fn records(&self, i: usize) -> Vec<v1::LogRecord> {
        let cp = &self.checkpoints[i];
        let mut out = vec![];
        for (t, tx) in cp.txs.iter().enumerate() {
            for (e, ev) in tx.events.0.iter().enumerate() {
                let mut r = v1::LogRecord {
                    position: Some(v1::Position {
                        checkpoint: i as u64,
                        transaction_index: t as u64,
                        event_index: e as u64,
                    }),
                    transaction_digest: tx.digest.inner().to_vec(),
                    checkpoint_timestamp_ms: cp.summary.timestamp_ms,
                    event_type: ev.type_.to_string(),
                    sender: tx.sender.inner().to_vec(),
                    bcs: ev.contents.clone(),
                    event: Some(v1::log_record::Event::Unknown(v1::Unknown {})),
                    ..Default::default()
                };
                if out.is_empty() {
                    r.checkpoint_proof = Some(self.checkpoint_proof(i));
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

    pub fn checkpoint_proof(&self, i: usize) -> v1::CheckpointProof {
        let cp = &self.checkpoints[i];
        v1::CheckpointProof {
            summary_bcs: bcs::to_bytes(&cp.summary).expect("bcs"),
            signature_bcs: bcs::to_bytes(&cp.signature).expect("bcs"),
            contents_bcs: bcs::to_bytes(&cp.contents).expect("bcs"),
        }
    }

    /// An epoch change record for checkpoint `i` (which must end its epoch).
    pub fn epoch_change(&self, i: usize) -> v1::LogRecord {
        let cp = &self.checkpoints[i];
        let mut proof = self.checkpoint_proof(i);
        proof.contents_bcs.clear();
        v1::LogRecord {
            position: Some(v1::Position {
                checkpoint: i as u64,
                transaction_index: 0,
                event_index: 0,
            }),
            checkpoint_timestamp_ms: cp.summary.timestamp_ms,
            checkpoint_proof: Some(proof),
            event: Some(v1::log_record::Event::EpochChange(v1::EpochChange {
                epoch: cp.summary.epoch,
            })),
            ..Default::default()
        }
    }
}

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
