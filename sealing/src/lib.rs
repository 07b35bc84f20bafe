//! Sealed Secrets' cryptography (decision 0014): HPKE (RFC 9180) base mode,
//! single shot, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305,
//! from the `hpke` crate. The wire format and the checks anyone can make
//! from public bytes are in [`daas_domain::sealed`]; this crate adds what
//! needs a key: sealing to the cluster's public key (`daas`) and opening
//! with its private keys (the master).
//!
//! - [`value`]: one value sealed to / opened from its [`Binding`];
//! - [`secret`]: whole Secret manifests: every `data` value (and
//!   `stringData`, moved into `data`) sealed, or opened back.

pub mod keys;
pub mod rng;
pub mod secret;
pub mod value;

pub use daas_domain::sealed::{Binding, SealedValue};
pub use keys::{KeyRing, SealingPrivateKey, SealingPublicKey};
pub use secret::{open_secret, seal_secret};
pub use value::{open_value, seal_value};

/// Why a value or a Secret could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The public key is not an X25519 point HPKE accepts.
    #[error("the sealing public key is not a valid X25519 key")]
    PublicKey,
    /// HPKE refused (a degenerate shared secret).
    #[error("HPKE sealing failed: {0}")]
    Hpke(String),
    /// The manifest is not a Secret this crate can seal.
    #[error("{0}")]
    Manifest(String),
}

/// Why a sealed value did not open. Says nothing of the plaintext.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The value was sealed for another binding (its clear tag says so).
    #[error("sealed for another Secret, data key or key version")]
    Binding,
    /// The ciphertext does not authenticate under the binding and key.
    #[error("the sealed value does not authenticate (tampered, or sealed to another key)")]
    Tampered,
    /// The private key bytes are not an X25519 scalar HPKE accepts.
    #[error("the sealing private key is unusable")]
    PrivateKey,
}
