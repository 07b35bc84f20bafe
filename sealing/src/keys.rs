//! Sealing keys: an X25519 key pair per version. The private half is kept
//! in [`zeroize::Zeroizing`] bytes and never printed.

use std::fmt;

use crate::rng::CryptoRng;
use hpke::{Deserializable, Kem as _, Serializable, kem::X25519HkdfSha256};
use zeroize::Zeroizing;

use crate::{OpenError, SealError};

/// Bytes of either half of a key.
pub const KEY_BYTES: usize = 32;

/// A sealing private key (X25519 scalar).
#[derive(Clone)]
pub struct SealingPrivateKey(Zeroizing<[u8; KEY_BYTES]>);

impl fmt::Debug for SealingPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealingPrivateKey(public {})", self.public_key())
    }
}

/// A sealing public key (X25519 point), as registered on chain.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SealingPublicKey(pub [u8; KEY_BYTES]);

impl fmt::Display for SealingPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for SealingPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealingPublicKey({self})")
    }
}

impl SealingPrivateKey {
    /// A fresh key from `rng`.
    pub fn generate(rng: &mut impl CryptoRng) -> Self {
        let (sk, _) = X25519HkdfSha256::gen_keypair(rng);
        let mut bytes = Zeroizing::new([0; KEY_BYTES]);
        bytes.copy_from_slice(&sk.to_bytes());
        Self(bytes)
    }

    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, OpenError> {
        let array: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| OpenError::PrivateKey)?;
        let key = Self(Zeroizing::new(array));
        key.hpke()?;
        Ok(key)
    }

    /// The key's 32 bytes (for storing it).
    pub fn to_bytes(&self) -> Zeroizing<[u8; KEY_BYTES]> {
        self.0.clone()
    }

    /// The public half.
    pub fn public_key(&self) -> SealingPublicKey {
        let mut out = [0; KEY_BYTES];
        if let Ok(sk) = self.hpke() {
            out.copy_from_slice(&X25519HkdfSha256::sk_to_pk(&sk).to_bytes());
        }
        SealingPublicKey(out)
    }

    pub(crate) fn hpke(&self) -> Result<<X25519HkdfSha256 as hpke::Kem>::PrivateKey, OpenError> {
        <X25519HkdfSha256 as hpke::Kem>::PrivateKey::from_bytes(self.0.as_slice())
            .map_err(|_| OpenError::PrivateKey)
    }
}

impl SealingPublicKey {
    /// The key from 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let array: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| SealError::PublicKey)?;
        let key = Self(array);
        key.hpke()?;
        Ok(key)
    }

    /// The key from 64 hex digits.
    pub fn from_hex(text: &str) -> Result<Self, SealError> {
        let bytes = hex::decode(text.trim()).map_err(|_| SealError::PublicKey)?;
        Self::from_bytes(&bytes)
    }

    pub(crate) fn hpke(&self) -> Result<<X25519HkdfSha256 as hpke::Kem>::PublicKey, SealError> {
        <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(&self.0)
            .map_err(|_| SealError::PublicKey)
    }
}

/// The private keys a master holds, by version: what opens sealed values.
/// The file store and, later, a KMS-wrapped store implement it.
pub trait KeyRing {
    /// The private key of `version`, if held.
    fn private_key(&self, version: u32) -> Option<&SealingPrivateKey>;
}

impl KeyRing for std::collections::BTreeMap<u32, SealingPrivateKey> {
    fn private_key(&self, version: u32) -> Option<&SealingPrivateKey> {
        self.get(&version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_debug_prints_no_secret() {
        let sk = SealingPrivateKey::generate(&mut crate::rng::os());
        let again = SealingPrivateKey::from_bytes(sk.to_bytes().as_slice()).expect("32 bytes");
        assert_eq!(sk.public_key(), again.public_key());
        let printed = format!("{sk:?}");
        assert!(!printed.contains(&hex::encode(sk.to_bytes().as_slice())));
        assert!(printed.contains(&sk.public_key().to_string()));
        let pk = SealingPublicKey::from_hex(&sk.public_key().to_string()).expect("hex");
        assert_eq!(pk, sk.public_key());
    }

    #[test]
    fn wrong_lengths_are_refused() {
        assert!(SealingPrivateKey::from_bytes(&[1; 31]).is_err());
        assert!(SealingPublicKey::from_bytes(&[1; 33]).is_err());
        assert!(SealingPublicKey::from_hex("zz").is_err());
    }
}
