//! The master's outcome for one request, and its protobuf form on the
//! outcome topic (`daas.v1.Outcome`). The master writes it; the projector and
//! the CLI read it.

use daas_proto::v1;

pub use crate::receipt::{ReceiptView, SignedReceipt};
use crate::{
    Address, LogPosition, ObjectId,
    admission::{RejectCode, Rejection},
    record::{RecordError, fixed},
};

/// What happened to one request (or to one record of the log that failed
/// verification: [`OutcomeResult::Quarantined`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Cluster the request targeted (the master's own for a quarantined
    /// record).
    pub cluster_id: ObjectId,
    /// The request's per-cluster id (0 for a quarantined record).
    pub request_id: u64,
    /// Chain position of the request event (zero for a quarantined record).
    pub position: LogPosition,
    /// Transaction that carried the request (zero for a quarantined record).
    pub transaction_digest: [u8; 32],
    /// The master's number for this outcome: 1 for the first of the
    /// cluster's log, one more for each next, the same in a replay. The
    /// outcome topic's order (0: not numbered yet).
    pub sequence: u64,
    /// The request event's chain time, ms (0 for a quarantined record): the
    /// receipt's time.
    pub request_timestamp_ms: u64,
    /// The master's ledger root after the Txn that applied the request
    /// (decision 0021); `None` on outcomes made before receipts existed.
    pub ledger_root: Option<[u8; 32]>,
    /// The log offset that Txn ended at.
    pub ledger_root_offset: u64,
    /// The enclave's signature, once the publisher signed it.
    pub receipt: Option<SignedReceipt>,
    /// Applied, rejected or quarantined.
    pub result: OutcomeResult,
}

/// The result of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutcomeResult {
    /// The request took effect.
    Applied {
        /// kubectl's word: `created`, `configured`, `unchanged`, `deleted`.
        action: String,
        /// The object's etcd key.
        key: String,
        /// etcd mod_revision after the write; 0 after a delete.
        resource_version: i64,
        /// Warnings for the requester (kubectl prints each as `Warning: ...`).
        warnings: Vec<String>,
    },
    /// The request was refused and changed nothing.
    Rejected(Rejection),
    /// A record of the log failed verification and was never applied. It
    /// is named by its log offset, not by the request id it claims: a
    /// forger could claim the id of a real request still to come.
    Quarantined {
        /// The record's offset in the log topic.
        offset: i64,
        /// The reason's short, stable label (`bad_signature`, ...).
        label: String,
        /// Why, in words.
        reason: String,
    },
}

/// The longest reason a quarantined outcome carries, in bytes.
pub const MAX_QUARANTINE_REASON: usize = 1024;

impl Outcome {
    /// The outcome of the log record at `offset`, refused by verification.
    /// `reason` is cut to [`MAX_QUARANTINE_REASON`] bytes (at a character
    /// boundary).
    pub fn quarantined(cluster_id: ObjectId, offset: i64, label: &str, reason: &str) -> Self {
        let mut end = reason.len().min(MAX_QUARANTINE_REASON);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        Self {
            cluster_id,
            request_id: 0,
            position: LogPosition::new(0, 0, 0),
            transaction_digest: [0; 32],
            sequence: 0,
            request_timestamp_ms: 0,
            ledger_root: None,
            ledger_root_offset: 0,
            receipt: None,
            result: OutcomeResult::Quarantined {
                offset,
                label: label.to_owned(),
                reason: reason[..end].to_owned(),
            },
        }
    }

    /// True for the outcome of a request (applied or rejected), false for a
    /// quarantined record.
    pub fn is_request(&self) -> bool {
        !matches!(self.result, OutcomeResult::Quarantined { .. })
    }
}

impl RejectCode {
    /// Every code, in protobuf order (`daas.v1.RejectCode` = index + 1).
    pub const ALL: [RejectCode; 23] = [
        RejectCode::InsufficientStake,
        RejectCode::NamespaceForbidden,
        RejectCode::MalformedManifest,
        RejectCode::Oversize,
        RejectCode::UnsupportedKind,
        RejectCode::UnsupportedVerb,
        RejectCode::Conflict,
        RejectCode::NamespaceNotFound,
        RejectCode::WrongCluster,
        RejectCode::PodSecurity,
        RejectCode::ClusterScopedForbidden,
        RejectCode::InvalidName,
        RejectCode::InvalidObject,
        RejectCode::DuplicateKey,
        RejectCode::SystemNamespace,
        RejectCode::NodePinning,
        RejectCode::ImmutableField,
        RejectCode::PrivilegedNamespace,
        RejectCode::RoleEscalation,
        RejectCode::SecretUnsealed,
        RejectCode::SealingKeyUnknown,
        RejectCode::SealedBindingMismatch,
        RejectCode::SealedTampered,
    ];

    /// The protobuf enum value.
    pub fn to_proto(self) -> i32 {
        Self::ALL
            .iter()
            .position(|c| *c == self)
            .map_or(0, |i| i as i32 + 1)
    }

    /// From the protobuf enum value.
    pub fn from_proto(value: i32) -> Option<Self> {
        usize::try_from(value - 1)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

impl Outcome {
    /// A request's outcome, not numbered, without ledger root or receipt
    /// (the master's engine and publisher add them).
    pub fn new(
        cluster_id: ObjectId,
        request_id: u64,
        position: LogPosition,
        transaction_digest: [u8; 32],
        request_timestamp_ms: u64,
        result: OutcomeResult,
    ) -> Self {
        Self {
            cluster_id,
            request_id,
            position,
            transaction_digest,
            sequence: 0,
            request_timestamp_ms,
            ledger_root: None,
            ledger_root_offset: 0,
            receipt: None,
            result,
        }
    }

    /// The protobuf message.
    pub fn to_proto(&self) -> v1::Outcome {
        v1::Outcome {
            cluster_id: self.cluster_id.0.to_vec(),
            request_id: self.request_id,
            position: Some(v1::Position {
                checkpoint: self.position.checkpoint,
                transaction_index: self.position.transaction_index,
                event_index: self.position.event_index,
            }),
            transaction_digest: self.transaction_digest.to_vec(),
            sequence: self.sequence,
            request_timestamp_ms: self.request_timestamp_ms,
            ledger_root: self.ledger_root.map(|r| r.to_vec()).unwrap_or_default(),
            ledger_root_offset: self.ledger_root_offset,
            receipt: self.receipt.as_ref().map(|r| v1::Receipt {
                enclave_public_key: r.enclave_public_key.to_vec(),
                signature: r.signature.to_vec(),
                dev_attestation: r.dev_attestation,
            }),
            result: Some(match &self.result {
                OutcomeResult::Applied {
                    action,
                    key,
                    resource_version,
                    warnings,
                } => v1::outcome::Result::Applied(v1::Applied {
                    action: action.clone(),
                    key: key.clone(),
                    resource_version: *resource_version,
                    warnings: warnings.clone(),
                }),
                OutcomeResult::Rejected(r) => v1::outcome::Result::Rejected(v1::Rejected {
                    code: r.code.to_proto(),
                    message: r.message.clone(),
                }),
                OutcomeResult::Quarantined {
                    offset,
                    label,
                    reason,
                } => v1::outcome::Result::Quarantined(v1::Quarantined {
                    offset: *offset,
                    label: label.clone(),
                    reason: reason.clone(),
                }),
            }),
        }
    }

    /// Encoded protobuf bytes, as produced to the outcome topic.
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&self.to_proto())
    }

    /// Decodes protobuf bytes read from the outcome topic.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let o: v1::Outcome =
            prost::Message::decode(bytes).map_err(|e| RecordError::Protobuf(e.to_string()))?;
        let p = o.position.ok_or(RecordError::Missing("position"))?;
        let result = match o.result.ok_or(RecordError::Missing("result"))? {
            v1::outcome::Result::Applied(a) => OutcomeResult::Applied {
                action: a.action,
                key: a.key,
                resource_version: a.resource_version,
                warnings: a.warnings,
            },
            v1::outcome::Result::Rejected(r) => OutcomeResult::Rejected(Rejection {
                code: RejectCode::from_proto(r.code).ok_or(RecordError::Enum {
                    field: "rejected.code",
                    value: r.code,
                })?,
                message: r.message,
            }),
            v1::outcome::Result::Quarantined(q) => OutcomeResult::Quarantined {
                offset: q.offset,
                label: q.label,
                reason: q.reason,
            },
        };
        Ok(Self {
            cluster_id: Address(fixed::<32>("cluster_id", &o.cluster_id)?),
            request_id: o.request_id,
            position: LogPosition::new(p.checkpoint, p.transaction_index, p.event_index),
            sequence: o.sequence,
            request_timestamp_ms: o.request_timestamp_ms,
            ledger_root: match o.ledger_root.as_slice() {
                [] => None,
                r => Some(fixed::<32>("ledger_root", r)?),
            },
            ledger_root_offset: o.ledger_root_offset,
            receipt: o
                .receipt
                .map(|r| {
                    Ok::<_, RecordError>(SignedReceipt {
                        enclave_public_key: fixed::<32>(
                            "receipt.enclave_public_key",
                            &r.enclave_public_key,
                        )?,
                        signature: fixed::<64>("receipt.signature", &r.signature)?,
                        dev_attestation: r.dev_attestation,
                    })
                })
                .transpose()?,
            transaction_digest: fixed::<32>("transaction_digest", &o.transaction_digest)?,
            result,
        })
    }
}

/// An outcome as JSON, for people and HTTP clients: the master's status API
/// serves it and `daas status` reads it. Ids are `0x…` hex, the digest is
/// base58 like every Sui digest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutcomeView {
    /// Cluster id.
    pub cluster_id: String,
    /// The request's per-cluster id.
    pub request_id: u64,
    /// Checkpoint holding the request.
    pub checkpoint: u64,
    /// The transaction, base58.
    pub transaction_digest: String,
    /// `applied` or `rejected`.
    pub status: String,
    /// kubectl's word when applied (`created`, `configured`, `unchanged`, `deleted`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub action: String,
    /// The object's etcd key when applied.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// etcd mod_revision after the write (0 after a delete).
    #[serde(default)]
    pub resource_version: i64,
    /// The reason code when rejected (`insufficient_stake`, …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human-readable detail of a rejection.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Warnings for the requester when applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The request's transaction index in its checkpoint.
    #[serde(default)]
    pub transaction_index: u64,
    /// The request's event index in its transaction.
    #[serde(default)]
    pub event_index: u64,
    /// The master's number for the outcome.
    #[serde(default)]
    pub sequence: u64,
    /// The request event's chain time, ms.
    #[serde(default)]
    pub request_timestamp_ms: u64,
    /// The ledger root (hex) after the Txn that applied it, if known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ledger_root: String,
    /// The log offset that Txn ended at.
    #[serde(default)]
    pub ledger_root_offset: u64,
    /// The enclave's signed receipt, if signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<ReceiptView>,
}

impl From<&Outcome> for OutcomeView {
    fn from(o: &Outcome) -> Self {
        let mut v = OutcomeView {
            cluster_id: o.cluster_id.to_string(),
            request_id: o.request_id,
            checkpoint: o.position.checkpoint,
            transaction_digest: bs58::encode(o.transaction_digest).into_string(),
            status: String::new(),
            action: String::new(),
            key: String::new(),
            resource_version: 0,
            reason: String::new(),
            message: String::new(),
            warnings: Vec::new(),
            transaction_index: o.position.transaction_index,
            event_index: o.position.event_index,
            sequence: o.sequence,
            request_timestamp_ms: o.request_timestamp_ms,
            ledger_root: o.ledger_root.map(hex::encode).unwrap_or_default(),
            ledger_root_offset: o.ledger_root_offset,
            receipt: o.receipt.as_ref().map(|r| ReceiptView::of(o, r)),
        };
        match &o.result {
            OutcomeResult::Applied {
                action,
                key,
                resource_version,
                warnings,
            } => {
                v.warnings = warnings.clone();
                v.status = "applied".into();
                v.action = action.clone();
                v.key = key.clone();
                v.resource_version = *resource_version;
            }
            OutcomeResult::Rejected(r) => {
                v.status = "rejected".into();
                v.reason = r.code.as_str().into();
                v.message = r.message.clone();
            }
            OutcomeResult::Quarantined { label, reason, .. } => {
                v.status = "quarantined".into();
                v.reason = label.clone();
                v.message = reason.clone();
            }
        }
        v
    }
}

impl OutcomeView {
    /// True when the request took effect.
    pub fn is_applied(&self) -> bool {
        self.status == "applied"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reject_codes_match_the_proto_enum() {
        use daas_proto::v1::RejectCode as Pb;
        let pb = [
            Pb::InsufficientStake,
            Pb::NamespaceForbidden,
            Pb::MalformedManifest,
            Pb::Oversize,
            Pb::UnsupportedKind,
            Pb::UnsupportedVerb,
            Pb::Conflict,
            Pb::NamespaceNotFound,
            Pb::WrongCluster,
            Pb::PodSecurity,
            Pb::ClusterScopedForbidden,
            Pb::InvalidName,
            Pb::InvalidObject,
            Pb::DuplicateKey,
            Pb::SystemNamespace,
            Pb::NodePinning,
            Pb::ImmutableField,
            Pb::PrivilegedNamespace,
            Pb::RoleEscalation,
            Pb::SecretUnsealed,
            Pb::SealingKeyUnknown,
            Pb::SealedBindingMismatch,
            Pb::SealedTampered,
        ];
        for (code, pb) in RejectCode::ALL.into_iter().zip(pb) {
            assert_eq!(code.to_proto(), pb as i32, "{code:?}");
            assert_eq!(RejectCode::from_proto(pb as i32), Some(code));
        }
        assert_eq!(RejectCode::from_proto(0), None);
        assert_eq!(RejectCode::from_proto(24), None);
        let mut names: Vec<&str> = RejectCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            RejectCode::ALL.len(),
            "every code has its own name"
        );
    }

    #[test]
    fn outcomes_round_trip_and_bad_bytes_are_errors() {
        let o = Outcome {
            cluster_id: crate::Address([7; 32]),
            request_id: 42,
            position: LogPosition::new(9, 1, 2),
            transaction_digest: [3; 32],
            sequence: 5,
            request_timestamp_ms: 1_764_000_000_000,
            ledger_root: Some([4; 32]),
            ledger_root_offset: 42,
            receipt: Some(SignedReceipt {
                enclave_public_key: [5; 32],
                signature: [6; 64],
                dev_attestation: true,
            }),
            result: OutcomeResult::Rejected(Rejection {
                code: RejectCode::Conflict,
                message: "exists".into(),
            }),
        };
        assert_eq!(Outcome::decode(&o.encode()), Ok(o.clone()));
        let applied = Outcome {
            result: OutcomeResult::Applied {
                action: "created".into(),
                key: "/registry/pods/a/b".into(),
                resource_version: 77,
                warnings: vec!["would violate PodSecurity".into()],
            },
            ..o.clone()
        };
        assert_eq!(Outcome::decode(&applied.encode()), Ok(applied.clone()));
        let view = OutcomeView::from(&applied);
        assert!(view.is_applied());
        assert_eq!(
            view.transaction_digest,
            bs58::encode([3u8; 32]).into_string()
        );
        let json = serde_json::to_string(&view).expect("json");
        assert_eq!(serde_json::from_str::<OutcomeView>(&json).ok(), Some(view));
        let rejected = OutcomeView::from(&o);
        assert_eq!(
            (rejected.status.as_str(), rejected.reason.as_str()),
            ("rejected", "conflict")
        );
        assert!(matches!(
            Outcome::decode(b"\xff\xff"),
            Err(RecordError::Protobuf(_))
        ));
        assert_eq!(Outcome::decode(&[]), Err(RecordError::Missing("position")));
    }

    /// A quarantined record's outcome names its offset and reason, claims
    /// nothing of the record, keeps its reason bounded and whole characters,
    /// and round-trips.
    #[test]
    fn quarantined_outcomes_carry_the_offset_and_a_bounded_reason() {
        let long = format!("{}é", "x".repeat(MAX_QUARANTINE_REASON - 1));
        let mut o = Outcome::quarantined(crate::Address([7; 32]), 12, "bad_signature", &long);
        o.sequence = 3;
        let OutcomeResult::Quarantined { offset, reason, .. } = &o.result else {
            panic!("{o:?}");
        };
        assert_eq!(*offset, 12);
        // The two-byte 'é' would end past the limit: it is cut whole.
        assert_eq!(reason.len(), MAX_QUARANTINE_REASON - 1);
        assert_eq!((o.request_id, o.transaction_digest), (0, [0; 32]));
        assert!(!o.is_request());
        assert_eq!(Outcome::decode(&o.encode()), Ok(o.clone()));
        let view = OutcomeView::from(&o);
        assert_eq!(
            (view.status.as_str(), view.reason.as_str()),
            ("quarantined", "bad_signature")
        );
        assert!(!view.is_applied());
    }
}
