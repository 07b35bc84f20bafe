//! Signed receipts (decision 0021): every outcome the master publishes
//! carries an Ed25519 signature by the enclave key over
//! `bcs(IntentMessage { 1, request_timestamp_ms, Outcome::receipt_payload() })`
//! (`daas_attestation::receipt`).
//!
//! The key is made once per process ([`EnclaveKey::generate`]) and never
//! stored; its public half is in the attestation document
//! (`crate::attestation`). Outcomes are signed when they are published
//! (`outcomes::Publisher::send`), so outcomes stored before a restart are
//! signed again, with the new key, when they are published again. The signed
//! time is the request event's chain time, so the bytes are deterministic.

use daas_attestation::EnclaveKey;
use daas_domain::{Outcome, outcome::SignedReceipt};
use prometheus_client::metrics::counter::Counter;

/// Signs outcomes with the enclave key.
#[derive(Debug)]
pub struct ReceiptSigner {
    key: EnclaveKey,
    dev: bool,
    signed: Counter,
}

impl ReceiptSigner {
    /// A signer with `key`; `dev` marks its receipts as made by a master
    /// attested by the dev CA. `signed` counts receipts
    /// (`master_receipts_signed_total`).
    pub fn new(key: EnclaveKey, dev: bool, signed: Counter) -> Self {
        Self { key, dev, signed }
    }

    /// The enclave's public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.public_key()
    }

    /// True when receipts say dev attestation.
    pub fn is_dev(&self) -> bool {
        self.dev
    }

    /// Sets `o.receipt`: the signature over its receipt payload at its
    /// request time. An outcome without a ledger root (stored before
    /// receipts existed) has no payload and is left unsigned.
    pub fn sign(&self, o: &mut Outcome) {
        let Some(payload) = o.receipt_payload() else {
            o.receipt = None;
            return;
        };
        let signature = self.key.sign_receipt(&payload, o.request_timestamp_ms);
        o.receipt = Some(SignedReceipt {
            enclave_public_key: self.key.public_key(),
            signature,
            dev_attestation: self.dev,
        });
        self.signed.inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use daas_attestation::verify_receipt;
    use daas_domain::{Address, LogPosition, OutcomeResult};

    fn outcome(root: Option<[u8; 32]>) -> Outcome {
        let result = OutcomeResult::Applied {
            action: "created".into(),
            key: "/registry/pods/a/b".into(),
            resource_version: 5,
            warnings: Vec::new(),
        };
        let at = LogPosition::new(1, 2, 3);
        let o = Outcome::new(Address([7; 32]), 3, at, [4; 32], 1_764_000_000_000, result);
        Outcome {
            sequence: 9,
            ledger_root: root,
            ledger_root_offset: 12,
            ..o
        }
    }

    #[test]
    fn a_signed_outcome_verifies_and_a_changed_one_does_not() {
        let signer =
            ReceiptSigner::new(EnclaveKey::from_seed([0x11; 32]), true, Counter::default());
        let mut o = outcome(Some([5; 32]));
        signer.sign(&mut o);
        let r = o.receipt.clone().expect("signed");
        assert!(r.dev_attestation);
        assert_eq!(r.enclave_public_key, signer.public_key());
        let payload = o.receipt_payload().expect("payload");
        assert_eq!(
            verify_receipt(
                &r.enclave_public_key,
                &payload,
                o.request_timestamp_ms,
                &r.signature
            ),
            Ok(())
        );
        let mut changed = o.clone();
        changed.request_id = 4;
        let p2 = changed.receipt_payload().expect("payload");
        assert!(
            verify_receipt(
                &r.enclave_public_key,
                &p2,
                o.request_timestamp_ms,
                &r.signature
            )
            .is_err()
        );
        // Deterministic: signing again gives the same bytes.
        let mut again = o.clone();
        signer.sign(&mut again);
        assert_eq!(again.receipt, o.receipt);
        assert_eq!(signer.signed.get(), 2);
        let mut old = outcome(None);
        signer.sign(&mut old);
        assert_eq!(old.receipt, None);
    }
}
