//! Secrets at rest in kube-apiserver's AES-GCM envelope, so a k3s server
//! configured with the same key reads them:
//!
//! `k8s:enc:aesgcm:v1:<key name>:` ‖ nonce (12 bytes) ‖ AES-256-GCM(value),
//! with the etcd key as additional authenticated data (as the apiserver's
//! `aes.gcm` transformer does).
//!
//! The nonce is not random: it is HMAC-SHA256(key, etcd key ‖ log position)
//! truncated to 12 bytes, so a replay writes the same bytes (the state root
//! covers them) while a nonce never repeats for the same key: every write
//! has its own log position.

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a key or an envelope is not usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncryptionError {
    /// The configured key is not `name:base64(32 bytes)`.
    #[error("encryption key must be NAME:BASE64 of 32 bytes ({0})")]
    Key(String),
    /// The value is not an envelope of this key.
    #[error("not a {0} envelope")]
    Envelope(String),
    /// Authentication failed (wrong key, wrong etcd key, or tampering).
    #[error("decryption failed")]
    Decrypt,
}

/// An AES-256-GCM key with its kube name.
#[derive(Clone)]
pub struct SecretKey {
    name: String,
    key: [u8; 32],
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretKey({}, ***)", self.name)
    }
}

impl SecretKey {
    /// Parses `name:base64` (the form of kube's EncryptionConfiguration `keys`).
    pub fn parse(spec: &str) -> Result<Self, EncryptionError> {
        let (name, b64) = spec
            .split_once(':')
            .ok_or_else(|| EncryptionError::Key("no ':'".into()))?;
        if name.is_empty() || name.contains(':') {
            return Err(EncryptionError::Key("empty name".into()));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|e| EncryptionError::Key(e.to_string()))?;
        let key = <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| EncryptionError::Key(format!("{} bytes", bytes.len())))?;
        Ok(Self {
            name: name.to_owned(),
            key,
        })
    }

    /// The envelope prefix, `k8s:enc:aesgcm:v1:<name>:`.
    pub fn prefix(&self) -> String {
        format!("k8s:enc:aesgcm:v1:{}:", self.name)
    }

    fn nonce(&self, etcd_key: &str, position: &[u8]) -> [u8; 12] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(etcd_key.as_bytes());
        mac.update(&[0]);
        mac.update(position);
        let tag = mac.finalize().into_bytes();
        let mut n = [0u8; 12];
        n.copy_from_slice(&tag[..12]);
        n
    }

    /// Seals `value` for `etcd_key`, written at log `position`.
    pub fn seal(&self, etcd_key: &str, position: &[u8], value: &[u8]) -> Vec<u8> {
        let nonce = self.nonce(etcd_key, position);
        let cipher = Aes256Gcm::new(&self.key.into());
        // Sealing with a valid key and nonce cannot fail (only oversize input, > 64 GiB).
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: value,
                    aad: etcd_key.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = self.prefix().into_bytes();
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens an envelope read from `etcd_key`.
    pub fn open(&self, etcd_key: &str, stored: &[u8]) -> Result<Vec<u8>, EncryptionError> {
        let prefix = self.prefix();
        let rest = stored
            .strip_prefix(prefix.as_bytes())
            .ok_or_else(|| EncryptionError::Envelope(prefix.clone()))?;
        if rest.len() < 12 + 16 {
            return Err(EncryptionError::Envelope(prefix));
        }
        let (nonce, sealed) = rest.split_at(12);
        Aes256Gcm::new(&self.key.into())
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: etcd_key.as_bytes(),
                },
            )
            .map_err(|_| EncryptionError::Decrypt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    #[test]
    fn seals_in_the_apiserver_envelope_deterministically() {
        let k = SecretKey::parse(KEY).expect("key");
        let a = k.seal("/registry/secrets/ns/s", b"pos1", b"{\"data\":{}}");
        assert!(a.starts_with(b"k8s:enc:aesgcm:v1:key1:"));
        assert_eq!(a.len(), "k8s:enc:aesgcm:v1:key1:".len() + 12 + 11 + 16);
        assert_eq!(
            a,
            k.seal("/registry/secrets/ns/s", b"pos1", b"{\"data\":{}}")
        );
        assert_ne!(
            a,
            k.seal("/registry/secrets/ns/s", b"pos2", b"{\"data\":{}}")
        );
        assert_eq!(
            k.open("/registry/secrets/ns/s", &a),
            Ok(b"{\"data\":{}}".to_vec())
        );
        // The etcd key is authenticated: moving the value elsewhere breaks it.
        assert_eq!(
            k.open("/registry/secrets/ns/other", &a),
            Err(EncryptionError::Decrypt)
        );
    }

    #[test]
    fn bad_keys_are_typed_errors() {
        assert!(matches!(
            SecretKey::parse("nokey"),
            Err(EncryptionError::Key(_))
        ));
        assert!(matches!(
            SecretKey::parse("k:AAAA"),
            Err(EncryptionError::Key(_))
        ));
        assert!(matches!(
            SecretKey::parse(":AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
            Err(EncryptionError::Key(_))
        ));
    }
}
