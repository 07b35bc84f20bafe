//! A local test CA that makes documents of AWS's shape (dev mode, tests):
//! root -> intermediate -> a fresh leaf per document, P-384 throughout,
//! an untagged COSE_Sign1 with protected `{1: -35}`, the 9 AWS payload keys,
//! PCR 0..=15, `module_id` = [`crate::DEV_MODULE_ID`].

use std::collections::BTreeMap;

use crate::{AttestationError, TrustedRoot};

/// The dev CA's stored parts (DER certificates, PKCS#8 DER keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevCaParts {
    /// The root certificate.
    pub root_der: Vec<u8>,
    /// The root's key.
    pub root_key_pkcs8: Vec<u8>,
    /// The intermediate certificate.
    pub intermediate_der: Vec<u8>,
    /// The intermediate's key.
    pub intermediate_key_pkcs8: Vec<u8>,
}

/// What a dev document is to say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevRequest {
    /// Its time, ms.
    pub timestamp_ms: u64,
    /// `public_key`.
    pub public_key: Option<Vec<u8>>,
    /// `user_data`.
    pub user_data: Option<Vec<u8>>,
    /// `nonce`.
    pub nonce: Option<Vec<u8>>,
    /// PCRs set (others are zeros).
    pub pcrs: BTreeMap<u8, [u8; 48]>,
}

/// The dev CA.
pub struct DevCa {
    parts: DevCaParts,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevCa(..)")
    }
}

impl DevCa {
    /// A new CA (root valid 30 years, intermediate 10, from `now_ms`).
    pub fn generate(now_ms: u64) -> Self {
        let _ = now_ms;
        todo!("helper A")
    }

    /// The CA from stored parts (refused when a part does not parse).
    pub fn from_parts(parts: DevCaParts) -> Result<Self, AttestationError> {
        let _ = &parts;
        todo!("helper A")
    }

    /// Its parts, to store.
    pub fn parts(&self) -> &DevCaParts {
        &self.parts
    }

    /// Its root, to pin.
    pub fn root(&self) -> TrustedRoot {
        todo!("helper A")
    }

    /// A document for `r`.
    pub fn attest(&self, r: &DevRequest) -> Vec<u8> {
        let _ = r;
        todo!("helper A")
    }
}
