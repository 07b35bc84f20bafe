//! An outcome's receipt: its digest, the payload the enclave signs, the
//! signature it carries, and how the status API shows it (decision 0021).

use daas_attestation::receipt::{RESULT_QUARANTINED, Receipt};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::outcome::{Outcome, OutcomeResult};

/// The domain separator of [`Outcome::digest`].
pub const OUTCOME_DIGEST_DOMAIN: &[u8] = b"k3s-daas/outcome/v1\0";

/// The enclave's signature on an outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedReceipt {
    /// The enclave's Ed25519 public key, as registered on chain.
    pub enclave_public_key: [u8; 32],
    /// Ed25519 over `daas_attestation::receipt_message`.
    pub signature: [u8; 64],
    /// True when the master ran with a dev attestation.
    pub dev_attestation: bool,
}

/// A receipt as the status API shows it (hex fields).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptView {
    /// The enclave's key, hex.
    pub enclave_public_key: String,
    /// The signature, hex.
    pub signature: String,
    /// The signed time (the request event's), ms.
    pub timestamp_ms: u64,
    /// The outcome's digest, hex.
    pub outcome_digest: String,
    /// The receipt's result code.
    pub result: u32,
    /// The ledger root, hex.
    pub ledger_root: String,
    /// The ledger root's log offset.
    pub ledger_root_offset: u64,
    /// True when the master ran with a dev attestation.
    pub dev_attestation: bool,
}

impl ReceiptView {
    /// The view of `o`'s receipt `r`.
    pub fn of(o: &Outcome, r: &SignedReceipt) -> Self {
        Self {
            enclave_public_key: hex::encode(r.enclave_public_key),
            signature: hex::encode(r.signature),
            timestamp_ms: o.request_timestamp_ms,
            outcome_digest: hex::encode(o.digest()),
            result: o.receipt_result(),
            ledger_root: o.ledger_root.map(hex::encode).unwrap_or_default(),
            ledger_root_offset: o.ledger_root_offset,
            dev_attestation: r.dev_attestation,
        }
    }
}

/// The fields an outcome's digest covers, BCS-encoded.
#[derive(Serialize)]
struct OutcomeBcs<'a> {
    cluster_id: [u8; 32],
    request_id: u64,
    checkpoint: u64,
    transaction_index: u64,
    event_index: u64,
    transaction_digest: [u8; 32],
    sequence: u64,
    request_timestamp_ms: u64,
    result: ResultBcs<'a>,
}

#[derive(Serialize)]
enum ResultBcs<'a> {
    Applied {
        action: &'a str,
        key: &'a str,
        resource_version: i64,
        warnings: &'a [String],
    },
    Rejected {
        code: u32,
        message: &'a str,
    },
    Quarantined {
        offset: i64,
        label: &'a str,
        reason: &'a str,
    },
}

impl Outcome {
    /// SHA-256(`k3s-daas/outcome/v1\0` ‖ BCS of every field but the ledger
    /// root and the receipt): what a receipt binds.
    pub fn digest(&self) -> [u8; 32] {
        let result = match &self.result {
            OutcomeResult::Applied {
                action,
                key,
                resource_version,
                warnings,
            } => ResultBcs::Applied {
                action,
                key,
                resource_version: *resource_version,
                warnings,
            },
            OutcomeResult::Rejected(r) => ResultBcs::Rejected {
                code: r.code.to_proto() as u32,
                message: &r.message,
            },
            OutcomeResult::Quarantined {
                offset,
                label,
                reason,
            } => ResultBcs::Quarantined {
                offset: *offset,
                label,
                reason,
            },
        };
        let fields = OutcomeBcs {
            cluster_id: self.cluster_id.0,
            request_id: self.request_id,
            checkpoint: self.position.checkpoint,
            transaction_index: self.position.transaction_index,
            event_index: self.position.event_index,
            transaction_digest: self.transaction_digest,
            sequence: self.sequence,
            request_timestamp_ms: self.request_timestamp_ms,
            result,
        };
        let mut h = Sha256::new();
        h.update(OUTCOME_DIGEST_DOMAIN);
        h.update(bcs::to_bytes(&fields).unwrap_or_default());
        h.finalize().into()
    }

    /// The receipt's result code: 0 applied, the `daas.v1.RejectCode`
    /// value when rejected, `u32::MAX` for a quarantined record.
    pub fn receipt_result(&self) -> u32 {
        match &self.result {
            OutcomeResult::Applied { .. } => 0,
            OutcomeResult::Rejected(r) => r.code.to_proto() as u32,
            OutcomeResult::Quarantined { .. } => RESULT_QUARANTINED,
        }
    }

    /// What the enclave signs for this outcome (`None` without a ledger
    /// root: outcomes made before receipts existed).
    pub fn receipt_payload(&self) -> Option<Receipt> {
        let root = self.ledger_root?;
        Some(Receipt {
            cluster_id: self.cluster_id.0,
            request_id: self.request_id,
            outcome_digest: self.digest().to_vec(),
            result: self.receipt_result(),
            ledger_root: root.to_vec(),
            ledger_root_offset: self.ledger_root_offset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        Address, LogPosition,
        admission::{RejectCode, Rejection},
    };

    fn outcome() -> Outcome {
        Outcome {
            cluster_id: Address([7; 32]),
            request_id: 42,
            position: LogPosition::new(9, 1, 2),
            transaction_digest: [3; 32],
            sequence: 5,
            request_timestamp_ms: 1_764_000_000_000,
            ledger_root: Some([4; 32]),
            ledger_root_offset: 42,
            receipt: None,
            result: OutcomeResult::Applied {
                action: "created".into(),
                key: "/registry/pods/a/b".into(),
                resource_version: 77,
                warnings: Vec::new(),
            },
        }
    }

    /// Every field a receipt vouches for changes the digest; the root and
    /// the receipt itself do not (they sit beside it in the receipt).
    #[test]
    fn the_digest_covers_the_outcome_and_nothing_else() {
        let o = outcome();
        let d = o.digest();
        let changed: Vec<Outcome> = vec![
            Outcome {
                request_id: 43,
                ..o.clone()
            },
            Outcome {
                sequence: 6,
                ..o.clone()
            },
            Outcome {
                request_timestamp_ms: 1,
                ..o.clone()
            },
            Outcome {
                position: LogPosition::new(9, 1, 3),
                ..o.clone()
            },
            Outcome {
                transaction_digest: [8; 32],
                ..o.clone()
            },
            Outcome {
                result: OutcomeResult::Rejected(Rejection {
                    code: RejectCode::Conflict,
                    message: String::new(),
                }),
                ..o.clone()
            },
            Outcome {
                result: OutcomeResult::Applied {
                    action: "created".into(),
                    key: "/registry/pods/a/b".into(),
                    resource_version: 78,
                    warnings: Vec::new(),
                },
                ..o.clone()
            },
        ];
        for c in &changed {
            assert_ne!(c.digest(), d, "{c:?}");
        }
        let same = Outcome {
            ledger_root: Some([9; 32]),
            receipt: Some(SignedReceipt {
                enclave_public_key: [1; 32],
                signature: [2; 64],
                dev_attestation: false,
            }),
            ..o.clone()
        };
        assert_eq!(same.digest(), d);
        let payload = o.receipt_payload().expect("a root");
        assert_eq!(payload.outcome_digest, d.to_vec());
        assert_eq!((payload.result, payload.ledger_root_offset), (0, 42));
        assert_eq!(
            Outcome {
                ledger_root: None,
                ..o
            }
            .receipt_payload(),
            None
        );
    }
}
