//! The COSE_Sign1 envelope: structure, AWS's exact headers, signature length,
//! payload size.

use coset::{CborSerializable, CoseSign1, TaggedCborSerializable};

use crate::AttestationError;
use crate::limits::{MAX_DOCUMENT_BYTES, MAX_PAYLOAD_BYTES, SIGNATURE_BYTES};

/// The protected header AWS writes, `{1: -35}` (alg ES384), byte for byte.
pub(crate) const ES384_PROTECTED: [u8; 4] = [0xa1, 0x01, 0x38, 0x22];

/// A COSE_Sign1 that passed the envelope checks.
pub(crate) struct Envelope {
    /// The structure (its `tbs_data` is what the leaf signed).
    pub(crate) cose: CoseSign1,
}

impl Envelope {
    /// The payload bytes (present: checked by [`open`]).
    pub(crate) fn payload(&self) -> &[u8] {
        self.cose.payload.as_deref().unwrap_or_default()
    }
}

/// Checks the document's size, decodes the COSE_Sign1 (untagged, or with
/// tag 18) and checks its headers, signature length and payload size.
pub(crate) fn open(bytes: &[u8]) -> Result<Envelope, AttestationError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(AttestationError::TooLarge {
            len: bytes.len(),
            max: MAX_DOCUMENT_BYTES,
        });
    }
    let cose = CoseSign1::from_slice(bytes)
        .or_else(|untagged| CoseSign1::from_tagged_slice(bytes).map_err(|_| untagged))
        .map_err(|e| AttestationError::NotCoseSign1(e.to_string()))?;
    if cose.protected.original_data.as_deref() != Some(&ES384_PROTECTED[..]) {
        return Err(AttestationError::UnsupportedHeader(
            "protected header is not {1: -35} (ES384)",
        ));
    }
    if !cose.unprotected.is_empty() {
        return Err(AttestationError::UnsupportedHeader(
            "unprotected header is not empty",
        ));
    }
    if cose.signature.len() != SIGNATURE_BYTES {
        return Err(AttestationError::BadSignatureLength(cose.signature.len()));
    }
    let payload_len = match &cose.payload {
        Some(p) => p.len(),
        None => {
            return Err(AttestationError::NotCoseSign1(
                "detached (nil) payload".into(),
            ));
        }
    };
    if payload_len == 0 || payload_len > MAX_PAYLOAD_BYTES {
        return Err(AttestationError::PayloadSize(payload_len));
    }
    Ok(Envelope { cose })
}
