//! AWS Nitro attestation documents and the master's signed receipts.
//!
//! - [`verify`]: a document (COSE_Sign1, ES384) checked the way Sui's
//!   `nitro_attestation` native checks it: size limits, structure, the
//!   certificate chain to a pinned root at a given time, and the signature.
//!   [`Document::check_pcrs`] and [`Document::check_nonce`] check what the
//!   caller expects. Decision 0020.
//! - [`user_data`]: what the master binds into its document (cluster, sealing
//!   key).
//! - [`receipt`]: the message an enclave signs for each outcome, and its
//!   check. Decision 0021.
//! - `dev` (feature): a local test CA that makes documents of AWS's shape,
//!   for dev mode and tests. A dev document says so (`module_id`).
//!
//! No I/O: time and roots are parameters.
#![deny(missing_docs)]

mod chain;
mod cose;
pub mod document;
pub mod error;
pub mod limits;
mod payload;
pub mod receipt;
pub mod root;
pub mod user_data;

#[cfg(feature = "dev")]
pub mod dev;

pub use document::{Document, ExpectedPcrs, parse, verify};
pub use error::AttestationError;
pub use receipt::{
    EnclaveKey, RECEIPT_INTENT, Receipt, ReceiptError, receipt_message, verify_receipt,
};
pub use root::{AWS_NITRO_ROOT_SHA256, TrustedRoot};
pub use user_data::UserData;

/// The `module_id` prefix of documents made by the dev CA: a client decides
/// "dev" from this (it is recorded on chain), not from what a master says.
pub const DEV_MODULE_ID_PREFIX: &str = "k3s-daas-dev";

/// The `module_id` the dev CA writes.
pub const DEV_MODULE_ID: &str = "k3s-daas-dev-enclave";
