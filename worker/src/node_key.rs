//! The node's Ed25519 key, stored in Sui's own `suiprivkey1…` form so the same
//! file works with the `sui` CLI (`sui keytool import`).

use std::{fs, io::Write, os::unix::fs::OpenOptionsExt, path::Path};

use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::Address;

/// Why a key file could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the file failed.
    #[error("key file {path}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not hold a `suiprivkey1…` Ed25519 key.
    #[error("key file {path} does not hold an Ed25519 suiprivkey: {reason}")]
    Format {
        /// The file.
        path: String,
        /// What the decoder said.
        reason: String,
    },
    /// Refusing to overwrite an existing key.
    #[error("key file {0} exists; refusing to overwrite a node identity")]
    Exists(String),
}

/// A node identity: what `register_node` needs on chain.
pub struct NodeKey {
    key: Ed25519PrivateKey,
}

impl NodeKey {
    /// Makes a fresh key from the OS random source.
    pub fn generate() -> Self {
        Self {
            key: Ed25519PrivateKey::generate(rand_core::OsRng),
        }
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let text = fs::read_to_string(path).map_err(|source| KeyError::Io {
            path: shown.clone(),
            source,
        })?;
        let key =
            Ed25519PrivateKey::from_suiprivkey(text.trim()).map_err(|e| KeyError::Format {
                path: shown,
                reason: e.to_string(),
            })?;
        Ok(Self { key })
    }

    /// Writes the key to a new file readable only by its owner.
    pub fn save(&self, path: &Path) -> Result<(), KeyError> {
        let shown = path.display().to_string();
        let encoded = self.key.to_suiprivkey().map_err(|e| KeyError::Format {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|source| match source.kind() {
                std::io::ErrorKind::AlreadyExists => KeyError::Exists(shown.clone()),
                _ => KeyError::Io {
                    path: shown.clone(),
                    source,
                },
            })?;
        writeln!(file, "{encoded}").map_err(|source| KeyError::Io {
            path: shown,
            source,
        })
    }

    /// The 32-byte Ed25519 public key, hex: the `public_key` argument of `register_node`.
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.public_key().inner())
    }

    /// The Sui address of this key (for funding the node operator from the same key).
    pub fn address(&self) -> Address {
        self.key.public_key().derive_address()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_key_loads_back_identically() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("node.key");
        let key = NodeKey::generate();
        key.save(&path).expect("save");
        let back = NodeKey::load(&path).expect("load");
        assert_eq!(back.public_key_hex(), key.public_key_hex());
        assert_eq!(back.address(), key.address());
        assert!(matches!(key.save(&path), Err(KeyError::Exists(_))));
    }

    #[test]
    fn garbage_file_is_a_format_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.key");
        fs::write(&path, "suiprivkey1notreally").expect("write");
        assert!(matches!(NodeKey::load(&path), Err(KeyError::Format { .. })));
    }
}
