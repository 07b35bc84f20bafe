//! Signed receipts: what the enclave's Ed25519 key signs for each outcome,
//! laid out as Nautilus does (`bcs(IntentMessage { intent, timestamp_ms,
//! payload })`, signed raw: no hash, no Sui intent prefix). The Move
//! module `enclave::verify_receipt` checks the same bytes. Decision 0021.

use serde::Serialize;

/// The intent byte of a receipt.
pub const RECEIPT_INTENT: u8 = 1;

/// What one outcome's receipt says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Receipt {
    /// The cluster.
    pub cluster_id: [u8; 32],
    /// The request's per-cluster id (0 for a quarantined record).
    pub request_id: u64,
    /// `daas_domain::Outcome::digest()` (32 bytes).
    #[serde(with = "serde_bytes")]
    pub outcome_digest: Vec<u8>,
    /// 0 applied; a `daas.v1.RejectCode` value when rejected;
    /// [`RESULT_QUARANTINED`] for a quarantined record.
    pub result: u32,
    /// The ledger root after the Txn that applied the request (32 bytes).
    #[serde(with = "serde_bytes")]
    pub ledger_root: Vec<u8>,
    /// The log offset that Txn ended at.
    pub ledger_root_offset: u64,
}

/// [`Receipt::result`] of a quarantined record's outcome.
pub const RESULT_QUARANTINED: u32 = u32::MAX;

#[derive(Serialize)]
struct IntentMessage<'a> {
    intent: u8,
    timestamp_ms: u64,
    payload: &'a Receipt,
}

/// The bytes signed: `bcs(IntentMessage { 1, timestamp_ms, receipt })`
/// (127 bytes for 32-byte digests and roots).
pub fn receipt_message(r: &Receipt, timestamp_ms: u64) -> Vec<u8> {
    bcs::to_bytes(&IntentMessage {
        intent: RECEIPT_INTENT,
        timestamp_ms,
        payload: r,
    })
    .unwrap_or_default()
}

/// Why a receipt does not verify.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ReceiptError {
    /// The public key is not a valid Ed25519 point.
    #[error("not an Ed25519 public key")]
    BadPublicKey,
    /// The signature does not verify.
    #[error("the receipt's signature does not verify")]
    BadSignature,
}

/// An enclave's Ed25519 signing key (made at start, never stored).
pub struct EnclaveKey(ed25519_dalek::SigningKey);

impl std::fmt::Debug for EnclaveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EnclaveKey(..)")
    }
}

impl EnclaveKey {
    /// A new random key (OS randomness).
    pub fn generate() -> Self {
        Self(ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng))
    }

    /// The key of a 32-byte seed (tests, vectors).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Its public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// Signs `r` at `timestamp_ms`.
    pub fn sign_receipt(&self, r: &Receipt, timestamp_ms: u64) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.0.sign(&receipt_message(r, timestamp_ms)).to_bytes()
    }
}

/// Checks a receipt's signature under `public_key` (strict Ed25519).
pub fn verify_receipt(
    public_key: &[u8; 32],
    r: &Receipt,
    timestamp_ms: u64,
    signature: &[u8; 64],
) -> Result<(), ReceiptError> {
    let key = ed25519_dalek::VerifyingKey::from_bytes(public_key)
        .map_err(|_| ReceiptError::BadPublicKey)?;
    let sig = ed25519_dalek::Signature::from_bytes(signature);
    key.verify_strict(&receipt_message(r, timestamp_ms), &sig)
        .map_err(|_| ReceiptError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector() -> serde_json::Value {
        serde_json::from_str(include_str!("../tests/vectors/receipt.json")).expect("receipt.json")
    }

    fn h(v: &serde_json::Value, k: &str) -> Vec<u8> {
        hex::decode(v[k].as_str().expect(k)).expect(k)
    }

    fn receipt(v: &serde_json::Value) -> Receipt {
        Receipt {
            cluster_id: h(v, "cluster_id").try_into().expect("32"),
            request_id: v["request_id"].as_u64().expect("request_id"),
            outcome_digest: h(v, "outcome_digest"),
            result: v["result"].as_u64().expect("result") as u32,
            ledger_root: h(v, "ledger_root"),
            ledger_root_offset: v["ledger_root_offset"].as_u64().expect("offset"),
        }
    }

    /// The shared vector (also checked by the Move test and the dev chain):
    /// the message bytes, the key and the signature, and its negatives.
    #[test]
    fn the_shared_vector_signs_and_verifies() {
        let v = vector();
        let r = receipt(&v);
        let ts = v["timestamp_ms"].as_u64().expect("ts");
        let seed: [u8; 32] = h(&v, "seed").try_into().expect("seed");
        let key = EnclaveKey::from_seed(seed);
        assert_eq!(key.public_key().to_vec(), h(&v, "public_key"));
        let msg = receipt_message(&r, ts);
        assert_eq!(msg.len(), 127);
        assert_eq!(msg, h(&v, "message"));
        let sig = key.sign_receipt(&r, ts);
        assert_eq!(sig.to_vec(), h(&v, "signature"));
        let pk = key.public_key();
        assert_eq!(verify_receipt(&pk, &r, ts, &sig), Ok(()));
        let changed = Receipt {
            result: 13,
            ..r.clone()
        };
        assert_eq!(
            verify_receipt(&pk, &changed, ts, &sig),
            Err(ReceiptError::BadSignature)
        );
        assert_eq!(
            verify_receipt(&pk, &r, ts + 1, &sig),
            Err(ReceiptError::BadSignature)
        );
        let other: [u8; 32] = h(&v, "other_public_key").try_into().expect("32");
        assert_eq!(EnclaveKey::from_seed([0x55; 32]).public_key(), other);
        assert_eq!(
            verify_receipt(&other, &r, ts, &sig),
            Err(ReceiptError::BadSignature)
        );
        assert_eq!(format!("{key:?}"), "EnclaveKey(..)");
    }
}
