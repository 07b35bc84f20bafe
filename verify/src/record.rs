//! What the verifier reads of a log record: its claimed place and the proof
//! bytes it carries. The typed event and the `bcs` copy are not read: the
//! entry that counts is rebuilt from certified bytes.

use daas_domain::LogPosition;
use daas_proto::v1::{self, log_record::Event as ProtoEvent};

use crate::Refusal;

/// A record as claimed by the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRecord {
    /// Claimed place in chain order.
    pub position: LogPosition,
    /// Claimed transaction digest (32 bytes; empty on an epoch change).
    pub transaction_digest: Vec<u8>,
    /// The checkpoint proof, when the record carries one.
    pub checkpoint_proof: Option<v1::CheckpointProof>,
    /// The transaction proof, when the record carries one.
    pub transaction_proof: Option<v1::TransactionProof>,
    /// `Some(epoch)` when the record says an epoch ended.
    pub epoch_change: Option<u64>,
}

impl RawRecord {
    /// Reads a record from its protobuf bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, Refusal> {
        let r: v1::LogRecord =
            prost::Message::decode(bytes).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let p = r
            .position
            .ok_or_else(|| Refusal::Malformed("no position".into()))?;
        let epoch_change = match &r.event {
            Some(ProtoEvent::EpochChange(e)) => Some(e.epoch),
            _ => None,
        };
        Ok(Self {
            position: LogPosition::new(p.checkpoint, p.transaction_index, p.event_index),
            transaction_digest: r.transaction_digest,
            checkpoint_proof: r.checkpoint_proof,
            transaction_proof: r.transaction_proof,
            epoch_change,
        })
    }

    /// The claimed transaction digest, when it has the right length.
    pub fn digest(&self) -> Option<[u8; 32]> {
        self.transaction_digest.as_slice().try_into().ok()
    }
}
