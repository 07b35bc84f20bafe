//! A Nitro attestation document: parsing (structure and limits) and
//! verification (chain to a pinned root, validity at a time, signature).

use std::collections::BTreeMap;

use crate::{AttestationError, DEV_MODULE_ID_PREFIX, TrustedRoot, chain, cose, payload};

/// The payload of a document that parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// The enclave image's id (a dev document's starts with
    /// [`DEV_MODULE_ID_PREFIX`]).
    pub module_id: String,
    /// When the NSM made it, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// The digest algorithm of the PCRs ("SHA384").
    pub digest: String,
    /// PCR index -> value.
    pub pcrs: BTreeMap<u8, Vec<u8>>,
    /// The leaf certificate (DER) whose key signed the document.
    pub certificate: Vec<u8>,
    /// The chain from the root (`cabundle[0]`) down to the leaf's issuer.
    pub cabundle: Vec<Vec<u8>>,
    /// The enclave's public key, if it gave one.
    pub public_key: Option<Vec<u8>>,
    /// Data the enclave bound into the document, if any.
    pub user_data: Option<Vec<u8>>,
    /// The nonce the requester asked for, if any.
    pub nonce: Option<Vec<u8>>,
}

/// The PCRs an image is expected to have (SHA-384 each).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedPcrs {
    /// The enclave image.
    pub pcr0: [u8; 48],
    /// The kernel and boot ramfs.
    pub pcr1: [u8; 48],
    /// The application.
    pub pcr2: [u8; 48],
}

/// Parses `bytes` as a document: structure and size limits only, no
/// signature or chain check.
///
/// In order: the overall size, the COSE_Sign1 structure (untagged or tag
/// 18, nothing after it), the protected header `a1 01 38 22`, an empty
/// unprotected header, a 96-byte signature, a payload of 1..=16383 bytes, and
/// the payload's fields (see [`crate::limits`]).
pub fn parse(bytes: &[u8]) -> Result<Document, AttestationError> {
    let envelope = cose::open(bytes)?;
    payload::decode(envelope.payload())
}

/// Parses `bytes` and verifies it: `cabundle[0]` is `root`, the chain from
/// `root` to the leaf is valid at `at_ms` (to the second), and the leaf's
/// ES384 key signed the document.
pub fn verify(bytes: &[u8], root: &TrustedRoot, at_ms: u64) -> Result<Document, AttestationError> {
    let envelope = cose::open(bytes)?;
    let document = payload::decode(envelope.payload())?;
    let tbs = envelope.cose.tbs_data(b"");
    chain::verify(&document, root, at_ms, &tbs, &envelope.cose.signature)?;
    Ok(document)
}

/// The PCRs Sui's native always returns when the document has them.
const SUI_REQUIRED_PCRS: [u8; 6] = [0, 1, 2, 3, 4, 8];

impl Document {
    /// Checks PCR0, PCR1 and PCR2 against `expected`.
    pub fn check_pcrs(&self, expected: &ExpectedPcrs) -> Result<(), AttestationError> {
        for (index, want) in [
            (0u8, &expected.pcr0),
            (1, &expected.pcr1),
            (2, &expected.pcr2),
        ] {
            match self.pcrs.get(&index) {
                None => return Err(AttestationError::MissingPcr(index)),
                Some(have) if have.as_slice() != want.as_slice() => {
                    return Err(AttestationError::PcrMismatch { index });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Checks that the document carries exactly `nonce`.
    pub fn check_nonce(&self, nonce: &[u8]) -> Result<(), AttestationError> {
        match &self.nonce {
            Some(n) if n.as_slice() == nonce => Ok(()),
            _ => Err(AttestationError::NonceMismatch),
        }
    }

    /// The PCR entries Sui's native returns: 0, 1, 2, 3, 4 and 8 always,
    /// and every other one that is not all zeros, in ascending order.
    pub fn sui_pcr_entries(&self) -> Vec<(u8, Vec<u8>)> {
        self.pcrs
            .iter()
            .filter(|(i, v)| SUI_REQUIRED_PCRS.contains(i) || v.iter().any(|b| *b != 0))
            .map(|(i, v)| (*i, v.clone()))
            .collect()
    }

    /// True for a document made by the dev CA.
    pub fn is_dev(&self) -> bool {
        self.module_id.starts_with(DEV_MODULE_ID_PREFIX)
    }
}
