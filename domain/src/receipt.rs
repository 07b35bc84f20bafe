//! An outcome's receipt: its digest, the payload the enclave signs, the
//! signature it carries, and how the status API shows it (decision 0021).

use daas_attestation::receipt::{RESULT_QUARANTINED, Receipt};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{
    Address, LogPosition,
    admission::{RejectCode, Rejection},
    outcome::{Outcome, OutcomeResult, OutcomeView},
};

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

/// Why an [`OutcomeView`] does not make an [`Outcome`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutcomeViewError {
    /// A field does not decode (`field`: why).
    #[error("{field}: {reason}")]
    Field {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A quarantined outcome's view does not carry the record's offset,
    /// which its digest covers.
    #[error("a quarantined outcome's view does not carry its log offset")]
    Quarantined,
    /// The status is none of `applied`, `rejected`, `quarantined`.
    #[error("unknown status {0:?}")]
    Status(String),
}

fn field(field: &'static str, reason: impl ToString) -> OutcomeViewError {
    OutcomeViewError::Field {
        field,
        reason: reason.to_string(),
    }
}

/// `text` as exactly `N` bytes of hex.
fn hex_n<const N: usize>(name: &'static str, text: &str) -> Result<[u8; N], OutcomeViewError> {
    let bytes = hex::decode(text).map_err(|e| field(name, e))?;
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| field(name, format!("{len} bytes, want {N}")))
}

impl TryFrom<&ReceiptView> for SignedReceipt {
    type Error = OutcomeViewError;

    fn try_from(r: &ReceiptView) -> Result<Self, Self::Error> {
        Ok(SignedReceipt {
            enclave_public_key: hex_n("receipt.enclave_public_key", &r.enclave_public_key)?,
            signature: hex_n("receipt.signature", &r.signature)?,
            dev_attestation: r.dev_attestation,
        })
    }
}

/// The outcome an [`OutcomeView`] shows: the inverse of
/// `OutcomeView::from(&Outcome)` for requests (applied or rejected), so a
/// client recomputes [`Outcome::digest`] from what the status API served.
impl TryFrom<&OutcomeView> for Outcome {
    type Error = OutcomeViewError;

    fn try_from(v: &OutcomeView) -> Result<Self, Self::Error> {
        let result = match v.status.as_str() {
            "applied" => OutcomeResult::Applied {
                action: v.action.clone(),
                key: v.key.clone(),
                resource_version: v.resource_version,
                warnings: v.warnings.clone(),
            },
            "rejected" => OutcomeResult::Rejected(Rejection {
                code: v
                    .reason
                    .parse::<RejectCode>()
                    .map_err(|e| field("reason", e))?,
                message: v.message.clone(),
            }),
            "quarantined" => return Err(OutcomeViewError::Quarantined),
            other => return Err(OutcomeViewError::Status(other.chars().take(64).collect())),
        };
        let digest = bs58::decode(&v.transaction_digest)
            .into_vec()
            .map_err(|e| field("transaction_digest", e))?;
        let ledger_root = match v.ledger_root.as_str() {
            "" => None,
            root => Some(hex_n("ledger_root", root)?),
        };
        Ok(Outcome {
            cluster_id: v
                .cluster_id
                .parse::<Address>()
                .map_err(|e| field("cluster_id", e))?,
            request_id: v.request_id,
            position: LogPosition::new(v.checkpoint, v.transaction_index, v.event_index),
            transaction_digest: digest
                .try_into()
                .map_err(|_| field("transaction_digest", "not 32 bytes"))?,
            sequence: v.sequence,
            request_timestamp_ms: v.request_timestamp_ms,
            ledger_root,
            ledger_root_offset: v.ledger_root_offset,
            receipt: v
                .receipt
                .as_ref()
                .map(SignedReceipt::try_from)
                .transpose()?,
            result,
        })
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
        let result = OutcomeResult::Applied {
            action: "created".into(),
            key: "/registry/pods/a/b".into(),
            resource_version: 77,
            warnings: Vec::new(),
        };
        let at = LogPosition::new(9, 1, 2);
        let o = Outcome::new(Address([7; 32]), 42, at, [3; 32], 1_764_000_000_000, result);
        Outcome {
            sequence: 5,
            ledger_root: Some([4; 32]),
            ledger_root_offset: 42,
            ..o
        }
    }

    /// A view made from an outcome turns back into the same outcome (so
    /// the same digest), for an applied and a rejected one with a receipt;
    /// every rejection reason name parses back to its code.
    #[test]
    fn a_view_turns_back_into_its_outcome() {
        let signed = Outcome {
            receipt: Some(SignedReceipt {
                enclave_public_key: [1; 32],
                signature: [2; 64],
                dev_attestation: true,
            }),
            ..outcome()
        };
        let rejected = Outcome {
            result: OutcomeResult::Rejected(Rejection {
                code: RejectCode::SealedTampered,
                message: "no".into(),
            }),
            ledger_root: None,
            ..signed.clone()
        };
        for o in [outcome(), signed, rejected] {
            let view = OutcomeView::from(&o);
            assert_eq!(Outcome::try_from(&view), Ok(o.clone()));
        }
        // Names written by hand, not taken from as_str.
        assert_eq!("sealed_tampered".parse(), Ok(RejectCode::SealedTampered));
        assert_eq!(
            "insufficient_stake".parse(),
            Ok(RejectCode::InsufficientStake)
        );
        for code in RejectCode::ALL {
            assert_eq!(code.as_str().parse(), Ok(code));
        }
        assert!("Conflict".parse::<RejectCode>().is_err());
        assert!("".parse::<RejectCode>().is_err());
    }

    #[test]
    fn views_that_do_not_make_an_outcome_are_refused() {
        let good = OutcomeView::from(&outcome());
        let cases: Vec<(OutcomeView, &str)> = vec![
            (
                OutcomeView {
                    status: "done".into(),
                    ..good.clone()
                },
                "unknown status",
            ),
            (
                OutcomeView {
                    status: "rejected".into(),
                    reason: "nope".into(),
                    ..good.clone()
                },
                "reason",
            ),
            (
                OutcomeView {
                    cluster_id: "0xzz".into(),
                    ..good.clone()
                },
                "cluster_id",
            ),
            (
                OutcomeView {
                    transaction_digest: "0OIl".into(),
                    ..good.clone()
                },
                "transaction_digest",
            ),
            (
                OutcomeView {
                    transaction_digest: "1111".into(),
                    ..good.clone()
                },
                "transaction_digest",
            ),
            (
                OutcomeView {
                    ledger_root: "ab".into(),
                    ..good.clone()
                },
                "ledger_root",
            ),
        ];
        for (view, what) in cases {
            let err = Outcome::try_from(&view).expect_err(what).to_string();
            assert!(err.contains(what), "{what}: {err}");
        }
        let q = OutcomeView::from(&Outcome::quarantined(
            Address([7; 32]),
            3,
            "bad_signature",
            "x",
        ));
        assert_eq!(Outcome::try_from(&q), Err(OutcomeViewError::Quarantined));
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
