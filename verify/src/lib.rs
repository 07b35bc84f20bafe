//! Checks the log against Sui's validators before anything in it counts.
//!
//! The log topic is written by an indexer outside the enclave, so every
//! record is treated as a claim. A record counts only when:
//!
//! 1. its checkpoint's summary is certified: the aggregated BLS signature of
//!    a quorum of the epoch's committee, or the hash link (`previous_digest`)
//!    from the next summary, itself certified ([`checkpoint`]);
//! 2. the epoch's committee was reached from the pinned genesis committee,
//!    each step taken from a certified end-of-epoch summary ([`committee`]);
//! 3. the checkpoint's contents hash to the summary's `content_digest`, hold
//!    the record's transaction at its index, with effects that hash to the
//!    contents' effects digest, whose `events_digest` is the hash of the
//!    events the record carries ([`proof`]);
//! 4. the event at the record's index is of our package; the entry the
//!    master applies is decoded from those certified bytes only, never from
//!    the record's typed copy;
//! 5. it is the next of its stream ([`sequence`]): a missing record holds
//!    everything after it until it arrives; an old one is a duplicate.
//!
//! [`Verifier`] ties these together over batches of records. It is pure:
//! the caller reads the log and persists [`State`] with its own writes.

pub mod args;
pub mod certifier;
pub mod checkpoint;
pub mod committee;
pub mod proof;
pub mod record;
pub mod sequence;
pub mod state;
pub mod verifier;

pub use args::{Setup, SetupError, VerifyArgs};
pub use committee::{Committees, load_genesis_committee};
pub use record::RawRecord;
pub use state::State;
pub use verifier::{Item, Report, Verdict, Verifier};

/// Why a record was refused. Every case is a quarantine: the record is
/// skipped, reported and never applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The record is not a log record (protobuf, missing position).
    #[error("malformed record: {0}")]
    Malformed(String),
    /// A proof's bytes are not the BCS they claim to be.
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// No certified summary is known for the record's checkpoint.
    #[error("no proof for checkpoint {0} (its first record in the log carries none)")]
    NoCheckpointProof(u64),
    /// The summary's signature does not verify against the epoch's committee.
    #[error(
        "checkpoint {checkpoint}: signature does not verify against epoch {epoch}'s committee: {reason}"
    )]
    BadSignature {
        /// Checkpoint sequence number.
        checkpoint: u64,
        /// Epoch claimed by the summary.
        epoch: u64,
        /// What the signature check said.
        reason: String,
    },
    /// The record's position and the proof's checkpoint disagree.
    #[error("record at checkpoint {record} carries the proof of checkpoint {proof}")]
    WrongCheckpoint {
        /// Checkpoint of the record's position.
        record: u64,
        /// Checkpoint of the proof.
        proof: u64,
    },
    /// Two different summaries for one checkpoint.
    #[error("checkpoint {0}: a second, different summary")]
    ConflictingSummary(u64),
    /// The contents do not hash to the summary's content digest.
    #[error("checkpoint {0}: contents do not match the summary's content digest")]
    ContentDigest(u64),
    /// The transaction is not at the record's index in the checkpoint.
    #[error("transaction {digest} is not at index {index} of checkpoint {checkpoint}")]
    NotInCheckpoint {
        /// Checkpoint.
        checkpoint: u64,
        /// Index claimed.
        index: u64,
        /// Transaction digest claimed (hex).
        digest: String,
    },
    /// No effects and events are known for the record's transaction.
    #[error("no transaction proof for {0}")]
    NoTransactionProof(String),
    /// The effects do not hash to the digest the checkpoint certifies.
    #[error("transaction {0}: effects do not match the checkpoint's effects digest")]
    EffectsDigest(String),
    /// The events do not hash to the effects' events digest.
    #[error("transaction {0}: events do not match the effects' events digest")]
    EventsDigest(String),
    /// The transaction has no event at the record's index.
    #[error("transaction {digest} has no event {index}")]
    NoSuchEvent {
        /// Transaction digest (hex).
        digest: String,
        /// Event index claimed.
        index: u64,
    },
    /// The certified event is not of our package.
    #[error("the event is of package {0}, not ours")]
    OtherPackage(String),
    /// An epoch change whose summary is not the end of that epoch.
    #[error("epoch change: {0}")]
    BadEpochChange(String),
}

impl Refusal {
    /// A short, stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Malformed(_) => "malformed",
            Refusal::MalformedProof(_) => "malformed_proof",
            Refusal::NoCheckpointProof(_) => "no_checkpoint_proof",
            Refusal::BadSignature { .. } => "bad_signature",
            Refusal::WrongCheckpoint { .. } => "wrong_checkpoint",
            Refusal::ConflictingSummary(_) => "conflicting_summary",
            Refusal::ContentDigest(_) => "content_digest",
            Refusal::NotInCheckpoint { .. } => "not_in_checkpoint",
            Refusal::NoTransactionProof(_) => "no_transaction_proof",
            Refusal::EffectsDigest(_) => "effects_digest",
            Refusal::EventsDigest(_) => "events_digest",
            Refusal::NoSuchEvent { .. } => "no_such_event",
            Refusal::OtherPackage(_) => "other_package",
            Refusal::BadEpochChange(_) => "bad_epoch_change",
        }
    }

    /// Every label, for metrics that export zeros.
    pub const LABELS: [&'static str; 14] = [
        "malformed",
        "malformed_proof",
        "no_checkpoint_proof",
        "bad_signature",
        "wrong_checkpoint",
        "conflicting_summary",
        "content_digest",
        "not_in_checkpoint",
        "no_transaction_proof",
        "effects_digest",
        "events_digest",
        "no_such_event",
        "other_package",
        "bad_epoch_change",
    ];
}
