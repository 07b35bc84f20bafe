//! The enclave registry from a client's side: registering an attested
//! enclave, listing the registered ones, and checking an outcome's receipt
//! against them (decisions 0020, 0021).
//!
//! Step 0 of issue 16: signatures only; helper D builds them.

use daas_domain::{events::EnclaveRegistered, outcome::OutcomeView};

use crate::session::Session;

/// One `EnclaveRegistered` event of the session's cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnclaveRecord {
    /// The event.
    pub event: EnclaveRegistered,
    /// The transaction that carried it (base58).
    pub transaction_digest: String,
}

/// A receipt that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// The enclave whose key signed it.
    pub enclave: EnclaveRecord,
    /// True when that enclave's document was a dev one.
    pub dev: bool,
}

/// Why a receipt does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptRefusal {
    /// The outcome carries no receipt.
    #[error("the outcome carries no receipt")]
    Missing,
    /// The receipt's digest is not the outcome's.
    #[error("the receipt's outcome digest is not this outcome's")]
    DigestMismatch,
    /// No registered enclave has the key.
    #[error("no enclave registered on chain has key {0}")]
    UnknownKey(String),
    /// The key is registered for another cluster.
    #[error("the enclave key is registered for another cluster")]
    OtherCluster,
    /// The signature does not verify.
    #[error("the receipt's signature does not verify")]
    BadSignature,
    /// The enclave's attestation is a dev one and that was not allowed.
    #[error(
        "the master runs in DEV attestation mode (not an AWS Nitro enclave); pass --allow-dev-attestation to accept it"
    )]
    DevNotAllowed,
}

/// Submits `document` (one PTB: `0x2::nitro_attestation::load_nitro_attestation`,
/// then `enclave::register_enclave`), paid by the session's key.
pub async fn register_attested(
    s: &mut Session,
    document: &[u8],
) -> anyhow::Result<EnclaveRegistered> {
    let _ = (s, document);
    todo!("helper D")
}

/// The `EnclaveRegistered` events of the session's cluster, oldest first.
pub async fn registered_enclaves(s: &mut Session) -> anyhow::Result<Vec<EnclaveRecord>> {
    let _ = s;
    todo!("helper D")
}

/// Checks `view`'s receipt against the registered `enclaves`.
pub fn check_receipt(
    view: &OutcomeView,
    enclaves: &[EnclaveRecord],
    allow_dev: bool,
) -> Result<VerifiedReceipt, ReceiptRefusal> {
    let _ = (view, enclaves, allow_dev);
    todo!("helper D")
}
