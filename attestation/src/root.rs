//! The pinned root a document's chain must start at.

use sha2::{Digest, Sha256};

use crate::AttestationError;

/// SHA-256 of the DER of AWS's Nitro Enclaves root certificate (G1).
pub const AWS_NITRO_ROOT_SHA256: [u8; 32] = [
    0x64, 0x1a, 0x03, 0x21, 0xa3, 0xe2, 0x44, 0xef, 0xe4, 0x56, 0x46, 0x31, 0x95, 0xd6, 0x06, 0x31,
    0x7e, 0xd7, 0xcd, 0xcc, 0x3c, 0x17, 0x56, 0xe0, 0x98, 0x93, 0xf3, 0xc6, 0x8f, 0x79, 0xbb, 0x5b,
];

/// A root certificate (DER) documents are checked against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedRoot {
    der: Vec<u8>,
}

impl TrustedRoot {
    /// AWS's Nitro Enclaves root (G1), pinned by [`AWS_NITRO_ROOT_SHA256`].
    /// The DER is `cabundle[0]` of every AWS document; a test checks its
    /// SHA-256 against the pinned value.
    pub fn aws_nitro() -> Self {
        Self {
            der: include_bytes!("aws_nitro_root_g1.der").to_vec(),
        }
    }

    /// A root given as DER (the dev CA's, or another pinned one). Refused
    /// when it is not a parsable certificate.
    pub fn from_der(der: Vec<u8>) -> Result<Self, AttestationError> {
        let cert = rustls_pki_types::CertificateDer::from(der.as_slice());
        webpki::anchor_from_trusted_cert(&cert)
            .map_err(|e| AttestationError::Chain(format!("root: {e}")))?;
        Ok(Self { der })
    }

    /// The root's DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the root's DER.
    pub fn fingerprint(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// True for AWS's root.
    pub fn is_aws(&self) -> bool {
        self.fingerprint() == AWS_NITRO_ROOT_SHA256
    }
}
