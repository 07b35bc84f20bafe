//! Records to certified entries: proofs parsed and certified once per
//! checkpoint (cached), each record checked against them.

use std::collections::{BTreeMap, HashMap, HashSet};

use daas_domain::LogEntry;
use sui_sdk_types::{Address, Digest};

use crate::{
    Refusal,
    checkpoint::{Cert, certify},
    committee::Committees,
    proof::{self, CheckedTransaction, ParsedCheckpoint},
    record::RawRecord,
};

/// How many certified checkpoints are kept for records that come later
/// (records of one checkpoint are adjacent in an honest log).
pub const CACHED_CHECKPOINTS: usize = 16_384;

/// What one record certifies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Certified {
    /// An event of ours, rebuilt from certified bytes.
    Entry(Box<LogEntry>),
    /// A certified epoch change (the epoch that ended).
    EpochChange(u64),
    /// Refused.
    Refused(Refusal),
    /// Its checkpoint is of an epoch whose committee is not known yet.
    NeedsEpoch(u64),
}

/// A certified checkpoint and the transactions checked against it.
#[derive(Debug)]
struct Ctx {
    parsed: ParsedCheckpoint,
    proof_offset: i64,
    txs: HashMap<Digest, CheckedTransaction>,
}

/// The certification state kept in memory.
#[derive(Debug)]
pub struct Certifier {
    package: Address,
    pub(crate) committees: Committees,
    cache: BTreeMap<u64, Ctx>,
    /// Checkpoints whose summary waits for its epoch's committee.
    waiting: HashMap<u64, u64>,
    /// Signatures checked so far.
    pub signatures: u64,
}

impl Certifier {
    /// Certifies for `package`, with the committees reached so far.
    pub fn new(package: Address, committees: Committees) -> Self {
        Self {
            package,
            committees,
            cache: BTreeMap::new(),
            waiting: HashMap::new(),
            signatures: 0,
        }
    }

    /// The offset of the record that carried checkpoint `seq`'s proof.
    pub fn proof_offset(&self, seq: u64) -> Option<i64> {
        self.cache.get(&seq).map(|c| c.proof_offset)
    }

    /// The newest certified checkpoint: sequence number and digest.
    pub fn last_verified(&self) -> Option<(u64, String)> {
        let (seq, c) = self.cache.last_key_value()?;
        Some((*seq, c.parsed.digest.to_string()))
    }

    /// Certifies `records` (offset, record) in log order.
    pub fn certify(&mut self, records: &[(i64, &Result<RawRecord, Refusal>)]) -> Vec<Certified> {
        let proof_refusals = self.certify_proofs(records);
        records
            .iter()
            .enumerate()
            .map(|(i, (_, raw))| match (raw, proof_refusals.get(&i)) {
                (Err(r), _) | (_, Some(r)) => Certified::Refused(r.clone()),
                (Ok(raw), None) => self.record(raw),
            })
            .collect()
    }

    /// Parses and certifies the checkpoint proofs `records` carry that are
    /// not cached yet; returns the refusals, by record index.
    fn certify_proofs(
        &mut self,
        records: &[(i64, &Result<RawRecord, Refusal>)],
    ) -> HashMap<usize, Refusal> {
        let mut refusals = HashMap::new();
        let mut new: Vec<(usize, i64, ParsedCheckpoint)> = Vec::new();
        let mut seen = HashSet::new();
        for (i, (offset, raw)) in records.iter().enumerate() {
            let Ok(raw) = raw else { continue };
            let Some(p) = &raw.checkpoint_proof else {
                continue;
            };
            match self.parse_new(raw, p, &new) {
                Ok(Some(parsed)) if seen.insert(parsed.summary.sequence_number) => {
                    new.push((i, *offset, parsed))
                }
                Ok(_) => {}
                Err(r) => {
                    refusals.insert(i, r);
                }
            }
        }
        let refs: Vec<&ParsedCheckpoint> = new.iter().map(|(_, _, p)| p).collect();
        let (certs, n) = certify(&mut self.committees, &refs);
        self.signatures += n as u64;
        for ((i, offset, parsed), cert) in new.into_iter().zip(certs) {
            self.keep(i, offset, parsed, cert, &mut refusals);
        }
        refusals
    }

    /// A proof not cached yet, parsed; `None` when it repeats a cached or
    /// pending one exactly; a refusal when it contradicts one.
    fn parse_new(
        &self,
        raw: &RawRecord,
        p: &daas_proto::v1::CheckpointProof,
        pending: &[(usize, i64, ParsedCheckpoint)],
    ) -> Result<Option<ParsedCheckpoint>, Refusal> {
        let parsed = proof::parse_checkpoint(p)?;
        let seq = parsed.summary.sequence_number;
        if raw.position.checkpoint != seq {
            return Err(Refusal::WrongCheckpoint {
                record: raw.position.checkpoint,
                proof: seq,
            });
        }
        let known = self.cache.get(&seq).map(|c| c.parsed.digest).or_else(|| {
            pending
                .iter()
                .find(|(_, _, q)| q.summary.sequence_number == seq)
                .map(|(_, _, q)| q.digest)
        });
        match known {
            Some(d) if d == parsed.digest => Ok(None),
            Some(_) => Err(Refusal::ConflictingSummary(seq)),
            None => Ok(Some(parsed)),
        }
    }

    fn keep(
        &mut self,
        i: usize,
        offset: i64,
        parsed: ParsedCheckpoint,
        cert: Cert,
        refusals: &mut HashMap<usize, Refusal>,
    ) {
        let seq = parsed.summary.sequence_number;
        match cert {
            Cert::Certified => {
                self.waiting.remove(&seq);
                self.cache.insert(
                    seq,
                    Ctx {
                        parsed,
                        proof_offset: offset,
                        txs: HashMap::new(),
                    },
                );
                while self.cache.len() > CACHED_CHECKPOINTS {
                    self.cache.pop_first();
                }
            }
            Cert::NeedsEpoch(e) => {
                self.waiting.insert(seq, e);
            }
            Cert::Refused(r) => {
                refusals.insert(i, r);
            }
        }
    }

    /// One record against the cached, certified proofs.
    fn record(&mut self, raw: &RawRecord) -> Certified {
        let cp = raw.position.checkpoint;
        let Some(ctx) = self.cache.get_mut(&cp) else {
            return match self.waiting.get(&cp) {
                Some(e) => Certified::NeedsEpoch(*e),
                None => Certified::Refused(Refusal::NoCheckpointProof(cp)),
            };
        };
        if let Some(epoch) = raw.epoch_change {
            return epoch_change(&ctx.parsed, epoch);
        }
        let Ctx { parsed, txs, .. } = ctx;
        match transaction(parsed, txs, raw) {
            Ok(tx) => match proof::entry(parsed, tx, raw.position.event_index, &self.package) {
                Ok(e) => Certified::Entry(Box::new(e)),
                Err(r) => Certified::Refused(r),
            },
            Err(r) => Certified::Refused(r),
        }
    }
}

fn epoch_change(parsed: &ParsedCheckpoint, epoch: u64) -> Certified {
    let s = &parsed.summary;
    if s.end_of_epoch_data.is_some() && s.epoch == epoch {
        Certified::EpochChange(epoch)
    } else {
        Certified::Refused(Refusal::BadEpochChange(format!(
            "checkpoint {} does not end epoch {epoch}",
            s.sequence_number
        )))
    }
}

/// The record's transaction, checked: from the proof it carries, or from
/// the one checked earlier in its checkpoint.
fn transaction<'a>(
    parsed: &ParsedCheckpoint,
    txs: &'a mut HashMap<Digest, CheckedTransaction>,
    raw: &RawRecord,
) -> Result<&'a CheckedTransaction, Refusal> {
    let digest = raw
        .digest()
        .ok_or_else(|| Refusal::Malformed("transaction digest is not 32 bytes".into()))?;
    let index = raw.position.transaction_index;
    if let Some(p) = &raw.transaction_proof {
        let tx = proof::check_transaction(parsed, index, digest, p)?;
        txs.insert(tx.digest, tx);
    }
    let d = Digest::new(digest);
    txs.get(&d)
        .filter(|tx| tx.index == index)
        .ok_or_else(|| Refusal::NoTransactionProof(d.to_string()))
}
