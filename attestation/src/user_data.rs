//! What the master binds into its attestation document's `user_data`: the
//! cluster it serves and the sealing key Secrets are sealed to.
//!
//! Layout (80 bytes): `b"DAASATT1"` ‖ cluster_id (32) ‖ sealing key version
//! (u64 little-endian) ‖ X25519 sealing public key (32).

use crate::AttestationError;

/// The 8-byte magic `user_data` starts with.
pub const MAGIC: &[u8; 8] = b"DAASATT1";

/// The length of an encoded [`UserData`].
pub const LEN: usize = 80;

/// The master's `user_data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserData {
    /// The cluster the enclave serves (its object id).
    pub cluster_id: [u8; 32],
    /// The sealing key's version on chain.
    pub sealing_key_version: u64,
    /// The sealing key's X25519 public half.
    pub sealing_public_key: [u8; 32],
}

impl UserData {
    /// The 80 bytes.
    pub fn encode(&self) -> [u8; LEN] {
        let mut out = [0u8; LEN];
        out[..8].copy_from_slice(MAGIC);
        out[8..40].copy_from_slice(&self.cluster_id);
        out[40..48].copy_from_slice(&self.sealing_key_version.to_le_bytes());
        out[48..].copy_from_slice(&self.sealing_public_key);
        out
    }

    /// Reads [`UserData::encode`]'s form (exactly 80 bytes, the magic first).
    pub fn decode(bytes: &[u8]) -> Result<Self, AttestationError> {
        let bad = |reason| AttestationError::BadField {
            field: "user_data",
            reason,
        };
        let bytes: &[u8; LEN] = bytes.try_into().map_err(|_| bad("not 80 bytes"))?;
        if &bytes[..8] != MAGIC {
            return Err(bad("does not start with DAASATT1"));
        }
        let mut cluster_id = [0u8; 32];
        cluster_id.copy_from_slice(&bytes[8..40]);
        let mut version = [0u8; 8];
        version.copy_from_slice(&bytes[40..48]);
        let mut sealing_public_key = [0u8; 32];
        sealing_public_key.copy_from_slice(&bytes[48..]);
        Ok(Self {
            cluster_id,
            sealing_key_version: u64::from_le_bytes(version),
            sealing_public_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn layout_is_magic_cluster_version_key() {
        let u = UserData {
            cluster_id: [0x22; 32],
            sealing_key_version: 0x0102,
            sealing_public_key: [0x44; 32],
        };
        let b = u.encode();
        assert_eq!(&b[..8], b"DAASATT1");
        assert_eq!(&b[8..40], &[0x22; 32]);
        assert_eq!(&b[40..48], &[2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&b[48..], &[0x44; 32]);
        assert_eq!(UserData::decode(&b), Ok(u));
    }

    proptest! {
        /// Any bytes: a typed answer, never a panic; only the 80-byte
        /// magic form decodes, and it round-trips.
        #[test]
        fn decode_takes_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            match UserData::decode(&bytes) {
                Ok(u) => prop_assert_eq!(u.encode().to_vec(), bytes),
                Err(e) => {
                    let typed = matches!(e, AttestationError::BadField { field: "user_data", .. });
                    prop_assert!(typed, "{e:?}");
                }
            }
        }
    }
}
