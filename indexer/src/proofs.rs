//! Which records of the log carry proofs, and the epoch changes between them
//! (TRUST-SPEC §3, decision 0015).
//!
//! - The first record of each checkpoint in the log carries the checkpoint's
//!   proof (summary, aggregated signature, contents); the first record of each
//!   transaction carries the transaction's (effects, events). "First in the
//!   log" is literal: after a restart in the middle of a checkpoint the
//!   records that follow carry no proof again; the log already holds it.
//! - Before the first record of a checkpoint of epoch `e`, every epoch that
//!   ended since the log's last epoch (from 0 on an empty log) gets an
//!   [`Body::EpochChange`] record at `(its last checkpoint, 0, 0)`, proved by
//!   that checkpoint's summary and signature, unless that checkpoint already
//!   holds records of ours (its proof is then on the first of them).
//!
//! The chain is behind the [`Chain`] trait: the full node in production
//! ([`crate::source::Source`]), a fake in the unit tests below.

use std::{future::Future, sync::Arc};

use daas_domain::{
    Body, LogEntry, LogPosition,
    record::{CheckpointProofBytes, TransactionProofBytes},
};

use crate::source::SourceError;

/// A checkpoint as the log's proofs need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointData {
    /// Its sequence number.
    pub sequence_number: u64,
    /// The epoch it belongs to (from its summary).
    pub epoch: u64,
    /// Its timestamp, ms since the Unix epoch (from its summary).
    pub timestamp_ms: u64,
    /// Summary, signature and contents, as the node served them.
    pub proof: CheckpointProofBytes,
    /// Each transaction's digest and proof, in checkpoint order.
    pub transactions: Vec<([u8; 32], TransactionProofBytes)>,
}

impl CheckpointData {
    /// The proof of the transaction at `index` in this checkpoint, which must
    /// have `digest` (looked up by digest when the index does not match).
    pub fn transaction(&self, index: u64, digest: &[u8; 32]) -> Option<&TransactionProofBytes> {
        let at = usize::try_from(index)
            .ok()
            .and_then(|i| self.transactions.get(i))
            .filter(|(d, _)| d == digest);
        at.or_else(|| self.transactions.iter().find(|(d, _)| d == digest))
            .map(|(_, p)| p)
    }
}

/// What the proofs read from the chain.
pub trait Chain {
    /// Checkpoint `sequence_number` with its contents and transactions' proofs.
    fn checkpoint(
        &mut self,
        sequence_number: u64,
    ) -> impl Future<Output = Result<Arc<CheckpointData>, SourceError>> + Send;
    /// Checkpoint `sequence_number` with only its summary and signature
    /// (empty contents, no transactions): an epoch's last checkpoint.
    fn summary(
        &mut self,
        sequence_number: u64,
    ) -> impl Future<Output = Result<CheckpointData, SourceError>> + Send;
    /// The last checkpoint of `epoch`; `None` while the epoch runs.
    fn epoch_end(
        &mut self,
        epoch: u64,
    ) -> impl Future<Output = Result<Option<u64>, SourceError>> + Send;
}

/// The log's proof state: the last record and the first epoch whose end the
/// log does not account for yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prover {
    last: Option<LogPosition>,
    next_epoch: u64,
}

impl Prover {
    /// The state after `last`, the log's last record (`None`: an empty log).
    /// An epoch change record accounts for its epoch; any other record for
    /// the epochs before its checkpoint's (read from the chain).
    pub async fn resume<C: Chain>(
        last: Option<&LogEntry>,
        chain: &mut C,
    ) -> Result<Self, SourceError> {
        let next_epoch = match last {
            None => 0,
            Some(LogEntry {
                body: Body::EpochChange { epoch },
                ..
            }) => epoch.saturating_add(1),
            Some(e) => chain.checkpoint(e.position.checkpoint).await?.epoch,
        };
        Ok(Self {
            last: last.map(|e| e.position),
            next_epoch,
        })
    }

    /// The position of the log's last record (as far as this state knows).
    pub fn last(&self) -> Option<LogPosition> {
        self.last
    }

    /// The records to write for `entry`, an event after the log's last
    /// record: the epoch changes that must precede its checkpoint, then
    /// `entry` with the proofs it carries. The state assumes they are written.
    pub async fn records<C: Chain>(
        &mut self,
        mut entry: LogEntry,
        chain: &mut C,
    ) -> Result<Vec<LogEntry>, SourceError> {
        let at = entry.position;
        let mut out = Vec::new();
        let new_checkpoint = self.last.is_none_or(|l| l.checkpoint != at.checkpoint);
        let new_transaction = new_checkpoint
            || self
                .last
                .is_none_or(|l| l.transaction_index != at.transaction_index);
        if new_transaction {
            let data = chain.checkpoint(at.checkpoint).await?;
            if new_checkpoint {
                self.epoch_changes(data.epoch, chain, &mut out).await?;
                entry.proof.checkpoint = Some(data.proof.clone());
            }
            let proof = data
                .transaction(at.transaction_index, &entry.transaction_digest)
                .ok_or(SourceError::Incomplete(
                    "the event's transaction in its checkpoint",
                ))?;
            entry.proof.transaction = Some(proof.clone());
        }
        self.last = Some(at);
        out.push(entry);
        Ok(out)
    }

    /// Appends to `out` an epoch change for every epoch from the first
    /// unaccounted one up to `epoch` (excluded).
    async fn epoch_changes<C: Chain>(
        &mut self,
        epoch: u64,
        chain: &mut C,
        out: &mut Vec<LogEntry>,
    ) -> Result<(), SourceError> {
        while self.next_epoch < epoch {
            let ended = self.next_epoch;
            let end = chain
                .epoch_end(ended)
                .await?
                .ok_or(SourceError::Incomplete(
                    "the last checkpoint of an ended epoch",
                ))?;
            // Its last checkpoint holds records of ours: the proof is on them.
            if self.last.is_none_or(|l| l.checkpoint != end) {
                let data = chain.summary(end).await?;
                if data.epoch != ended {
                    return Err(SourceError::Invalid {
                        what: "an epoch's last checkpoint",
                        reason: format!("checkpoint {end} is in epoch {}, not {ended}", data.epoch),
                    });
                }
                let record = LogEntry::epoch_change(end, data.timestamp_ms, ended, data.proof);
                self.last = Some(record.position);
                out.push(record);
            }
            self.next_epoch = ended + 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
