//! Proof bytes to checked values: contents → effects → events, and the
//! entry rebuilt from the certified event.

use daas_domain::{Address as DomainAddress, LogEntry, LogPosition};
use daas_proto::v1;
use sui_sdk_types::{
    Address, CheckpointContents, CheckpointSummary, Digest, TransactionEffects, TransactionEvents,
    ValidatorAggregatedSignature,
};

use crate::Refusal;

/// A checkpoint proof, parsed (not yet certified).
#[derive(Clone, Debug)]
pub struct ParsedCheckpoint {
    /// The summary.
    pub summary: CheckpointSummary,
    /// Its digest.
    pub digest: Digest,
    /// The validators' aggregated signature over it.
    pub signature: ValidatorAggregatedSignature,
    /// The contents (absent on an epoch change record).
    pub contents: Option<CheckpointContents>,
}

fn bcs_of<T: serde::de::DeserializeOwned>(what: &str, bytes: &[u8]) -> Result<T, Refusal> {
    bcs::from_bytes(bytes).map_err(|e| Refusal::MalformedProof(format!("{what}: {e}")))
}

/// Parses a checkpoint proof; contents, when present, must hash to the
/// summary's `content_digest`.
pub fn parse_checkpoint(p: &v1::CheckpointProof) -> Result<ParsedCheckpoint, Refusal> {
    let summary: CheckpointSummary = bcs_of("summary", &p.summary_bcs)?;
    let signature = bcs_of("signature", &p.signature_bcs)?;
    let contents = if p.contents_bcs.is_empty() {
        None
    } else {
        let c: CheckpointContents = bcs_of("contents", &p.contents_bcs)?;
        if c.digest() != summary.content_digest {
            return Err(Refusal::ContentDigest(summary.sequence_number));
        }
        Some(c)
    };
    Ok(ParsedCheckpoint {
        digest: summary.digest(),
        summary,
        signature,
        contents,
    })
}

/// A transaction whose events are certified by a checkpoint's contents.
#[derive(Clone, Debug)]
pub struct CheckedTransaction {
    /// Index in the checkpoint.
    pub index: u64,
    /// Digest.
    pub digest: Digest,
    /// Its events.
    pub events: TransactionEvents,
}

/// Checks `proof` for the transaction `digest` at `index` of `checkpoint`.
pub fn check_transaction(
    checkpoint: &ParsedCheckpoint,
    index: u64,
    digest: [u8; 32],
    proof: &v1::TransactionProof,
) -> Result<CheckedTransaction, Refusal> {
    let digest = Digest::new(digest);
    let seq = checkpoint.summary.sequence_number;
    let info = checkpoint
        .contents
        .as_ref()
        .and_then(|c| c.transactions().get(usize::try_from(index).ok()?))
        .filter(|info| *info.transaction() == digest)
        .ok_or_else(|| Refusal::NotInCheckpoint {
            checkpoint: seq,
            index,
            digest: digest.to_string(),
        })?;
    let effects: TransactionEffects = bcs_of("effects", &proof.effects_bcs)?;
    if effects.digest() != *info.effects() || *effects.transaction_digest() != digest {
        return Err(Refusal::EffectsDigest(digest.to_string()));
    }
    let events: TransactionEvents = bcs_of("events", &proof.events_bcs)?;
    if effects.events_digest() != Some(&events.digest()) {
        return Err(Refusal::EventsDigest(digest.to_string()));
    }
    Ok(CheckedTransaction {
        index,
        digest,
        events,
    })
}

/// The entry for event `event_index` of `tx`, rebuilt from certified bytes
/// only: position, digest, timestamp, type, sender and contents.
pub fn entry(
    checkpoint: &ParsedCheckpoint,
    tx: &CheckedTransaction,
    event_index: u64,
    package: &Address,
) -> Result<LogEntry, Refusal> {
    let event = usize::try_from(event_index)
        .ok()
        .and_then(|i| tx.events.0.get(i))
        .ok_or_else(|| Refusal::NoSuchEvent {
            digest: tx.digest.to_string(),
            index: event_index,
        })?;
    if event.package_id != *package || event.type_.address() != package {
        return Err(Refusal::OtherPackage(event.type_.address().to_string()));
    }
    Ok(LogEntry::from_chain(
        LogPosition::new(checkpoint.summary.sequence_number, tx.index, event_index),
        tx.digest.into_inner(),
        checkpoint.summary.timestamp_ms,
        event.type_.to_string(),
        DomainAddress(event.sender.into_inner()),
        event.contents.clone(),
    ))
}
