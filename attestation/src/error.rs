//! Why a document or a check was refused.

/// Why a document was refused. [`AttestationError::sui_abort_code`] maps it to
/// the abort code Sui's native uses (parse failures 1, verify failures 2).
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttestationError {
    /// Over a size limit.
    #[error("document of {len} bytes (at most {max})")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a COSE_Sign1 structure (CBOR error, arity, types, tag, trailing bytes).
    #[error("not a COSE_Sign1 document: {0}")]
    NotCoseSign1(String),
    /// A header other than AWS's (protected `{1: -35}`, unprotected empty).
    #[error("unsupported COSE header: {0}")]
    UnsupportedHeader(&'static str),
    /// The signature is not 96 bytes.
    #[error("signature of {0} bytes (ES384 needs 96)")]
    BadSignatureLength(usize),
    /// The payload is empty or too large.
    #[error("payload of {0} bytes")]
    PayloadSize(usize),
    /// A required payload field is missing.
    #[error("missing field {0}")]
    MissingField(&'static str),
    /// A payload field has the wrong type or value.
    #[error("field {field}: {reason}")]
    BadField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// A payload key appears twice.
    #[error("duplicate payload key {0:?}")]
    DuplicateKey(String),
    /// A payload field is over its limit.
    #[error("field {field} of {len} (at most {max})")]
    FieldTooLarge {
        /// The field.
        field: &'static str,
        /// Its length (bytes or entries).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A PCR entry with a bad index or value length.
    #[error("PCR {index}: {reason}")]
    BadPcr {
        /// Its index.
        index: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// `cabundle[0]` is not the pinned root.
    #[error("the certificate chain does not start at the pinned root")]
    RootMismatch,
    /// A certificate of the chain has expired at the given time.
    #[error("certificate expired at {not_after_s} s (checked at {at_s} s)")]
    Expired {
        /// Its not_after, seconds.
        not_after_s: u64,
        /// The time checked.
        at_s: u64,
    },
    /// A certificate of the chain is not valid yet at the given time.
    #[error("certificate not valid before {not_before_s} s (checked at {at_s} s)")]
    NotYetValid {
        /// Its not_before, seconds.
        not_before_s: u64,
        /// The time checked.
        at_s: u64,
    },
    /// Another certificate chain failure.
    #[error("certificate chain: {0}")]
    Chain(String),
    /// The COSE signature does not verify under the leaf's key.
    #[error("the document's signature does not verify")]
    SignatureInvalid,
    /// A PCR differs from the expected value.
    #[error("PCR{index} differs from the expected value")]
    PcrMismatch {
        /// Its index.
        index: u8,
    },
    /// An expected PCR is absent.
    #[error("PCR{0} is missing")]
    MissingPcr(u8),
    /// The nonce is absent or differs.
    #[error("the nonce differs from the one asked for")]
    NonceMismatch,
}

impl AttestationError {
    /// The abort code Sui's `load_nitro_attestation_internal` uses for this
    /// failure: 1 for a document that does not parse, 2 for one that does
    /// not verify. Check-only variants (PCRs, nonce) map to 2.
    pub fn sui_abort_code(&self) -> u64 {
        match self {
            Self::TooLarge { .. }
            | Self::NotCoseSign1(_)
            | Self::UnsupportedHeader(_)
            | Self::BadSignatureLength(_)
            | Self::PayloadSize(_)
            | Self::MissingField(_)
            | Self::BadField { .. }
            | Self::DuplicateKey(_)
            | Self::FieldTooLarge { .. }
            | Self::BadPcr { .. } => 1,
            _ => 2,
        }
    }
}
