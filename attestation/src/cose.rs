//! The COSE_Sign1 envelope: structure, AWS's exact headers, signature length,
//! payload size.

use ciborium::value::Value;
use coset::{AsCborValue, CoseSign1};

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
    let value = untagged(read_one(bytes)?)?;
    // The headers are checked on the bytes as sent, before coset reads them
    // (coset refuses some headers, e.g. an empty kid, as malformed).
    if let Value::Array(items) = &value {
        check_headers(items)?;
    }
    let cose = CoseSign1::from_cbor_value(value)
        .map_err(|e| AttestationError::NotCoseSign1(e.to_string()))?;
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

/// One CBOR item and nothing after it.
fn read_one(bytes: &[u8]) -> Result<Value, AttestationError> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader(&mut rest)
        .map_err(|e| AttestationError::NotCoseSign1(e.to_string()))?;
    if !rest.is_empty() {
        return Err(AttestationError::NotCoseSign1(format!(
            "{} bytes after the item",
            rest.len()
        )));
    }
    Ok(value)
}

/// An untagged item, or the content of tag 18 (COSE_Sign1); other tags refused.
fn untagged(value: Value) -> Result<Value, AttestationError> {
    match value {
        Value::Tag(18, inner) => Ok(*inner),
        Value::Tag(tag, _) => Err(AttestationError::NotCoseSign1(format!("tag {tag}, not 18"))),
        other => Ok(other),
    }
}

/// The protected header, when bytes, is exactly `{1: -35}`; the unprotected
/// one, when a map, is empty (other types are coset's to refuse).
fn check_headers(items: &[Value]) -> Result<(), AttestationError> {
    if let Some(Value::Bytes(protected)) = items.first()
        && protected.as_slice() != ES384_PROTECTED
    {
        return Err(AttestationError::UnsupportedHeader(
            "protected header is not {1: -35} (ES384)",
        ));
    }
    if let Some(Value::Map(unprotected)) = items.get(1)
        && !unprotected.is_empty()
    {
        return Err(AttestationError::UnsupportedHeader(
            "unprotected header is not empty",
        ));
    }
    Ok(())
}
