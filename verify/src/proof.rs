//! Proof bytes to checked values: contents → effects → events, and the
//! entry rebuilt from the certified event.

use daas_domain::{Address as DomainAddress, LogEntry, LogPosition};
use daas_proto::v1;
use sui_sdk_types::{
    Address, CheckpointContents, CheckpointSummary, Digest, StructTag, TransactionEffects,
    TransactionEvents, ValidatorAggregatedSignature, hash::Hasher,
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

/// The digest Sui gives a value of type `salt` ("CheckpointSummary::",
/// ...) whose BCS is `bcs`: Blake2b-256 of the salt and the bytes, as
/// `sui_sdk_types`' `digest()` computes over the value's encoding. Hashing
/// the received bytes, rather than re-encoding what was decoded from them,
/// is never weaker: bytes that hash to a certified digest are that
/// digest's encoding exactly (a non-canonical encoding of the same value
/// is refused, where re-encoding would have accepted it).
fn digest_of(salt: &str, bcs: &[u8]) -> Digest {
    let mut h = Hasher::new();
    h.update(salt);
    h.update(bcs);
    h.finalize()
}

const SUMMARY: &str = "CheckpointSummary::";
const CONTENTS: &str = "CheckpointContents::";
const EFFECTS: &str = "TransactionEffects::";
const EVENTS: &str = "TransactionEvents::";

/// Parses a checkpoint proof; contents, when present, must hash to the
/// summary's `content_digest`.
pub fn parse_checkpoint(p: &v1::CheckpointProof) -> Result<ParsedCheckpoint, Refusal> {
    let summary: CheckpointSummary = bcs_of("summary", &p.summary_bcs)?;
    let signature = bcs_of("signature", &p.signature_bcs)?;
    let contents = if p.contents_bcs.is_empty() {
        None
    } else {
        let c: CheckpointContents = bcs_of("contents", &p.contents_bcs)?;
        if digest_of(CONTENTS, &p.contents_bcs) != summary.content_digest {
            return Err(Refusal::ContentDigest(summary.sequence_number));
        }
        Some(c)
    };
    Ok(ParsedCheckpoint {
        digest: digest_of(SUMMARY, &p.summary_bcs),
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
    if digest_of(EFFECTS, &proof.effects_bcs) != *info.effects()
        || *effects.transaction_digest() != digest
    {
        return Err(Refusal::EffectsDigest(digest.to_string()));
    }
    let events: TransactionEvents = bcs_of("events", &proof.events_bcs)?;
    if effects.events_digest() != Some(&digest_of(EVENTS, &proof.events_bcs)) {
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
        type_name(&event.type_),
        DomainAddress(event.sender.into_inner()),
        event.contents.clone(),
    ))
}

/// `tag.to_string()` (`0x<64 hex>::module::Name<params>`), without
/// formatting the address byte by byte.
fn type_name(tag: &StructTag) -> String {
    if !tag.type_params().is_empty() {
        return tag.to_string();
    }
    let (module, name) = (tag.module().as_str(), tag.name().as_str());
    let mut s = String::with_capacity(2 + 64 + 4 + module.len() + name.len());
    s.push_str("0x");
    s.push_str(&hex::encode(tag.address().inner()));
    for part in ["::", module, "::", name] {
        s.push_str(part);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use sui_sdk_types::{Identifier, TypeTag};

    #[test]
    fn the_type_name_is_the_struct_tags_display() {
        let id = |s: &str| Identifier::new(s).expect("identifier");
        let plain = StructTag::new(
            Address::new([0xa5; 32]),
            id("gateway"),
            id("K8sAPIRequest"),
            vec![],
        );
        let generic = StructTag::new(
            Address::TWO,
            id("coin"),
            id("Coin"),
            vec![TypeTag::U64, TypeTag::Struct(Box::new(plain.clone()))],
        );
        for tag in [plain, generic] {
            assert_eq!(type_name(&tag), tag.to_string());
        }
    }

    #[test]
    fn raw_digests_are_the_values_digests() {
        let ev = daas_testkit::certified::Ev::ours("gateway", "FutureEvent", vec![3; 40]);
        let tx = daas_testkit::certified::tx(1, 0, vec![ev]);
        assert_eq!(
            digest_of(EVENTS, &bcs::to_bytes(&tx.events).expect("bcs")),
            tx.events.digest()
        );
        assert_eq!(
            digest_of(EFFECTS, &bcs::to_bytes(&tx.effects).expect("bcs")),
            tx.effects.digest()
        );
        let contents = daas_testkit::certified::contents(std::slice::from_ref(&tx));
        assert_eq!(
            digest_of(CONTENTS, &bcs::to_bytes(&contents).expect("bcs")),
            contents.digest()
        );
        let summary = daas_testkit::certified::next_summary(None, 0, &[tx], None);
        assert_eq!(
            digest_of(SUMMARY, &bcs::to_bytes(&summary).expect("bcs")),
            summary.digest()
        );
    }
}
