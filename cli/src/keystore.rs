//! Keys in Sui's own formats, so they move between `daas` and the `sui` CLI
//! unchanged: the keystore is a `sui.keystore` file (a JSON array of base64
//! `flag || private key`), the names live beside it in `sui.aliases` (a JSON
//! array of `{alias, public_key_base64}`), and keys are imported and exported
//! as `suiprivkey1…` (Bech32) strings.
//!
//! Only Ed25519 keys sign here; other entries a `sui` keystore may hold are
//! kept as they are and listed as unsupported.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::Address;

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not in Sui's format.
    #[error("{path} is not a Sui keystore file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// No key has that alias or address.
    #[error("no key {0:?} in the keystore (see `daas keys list`; `daas keys new NAME` makes one)")]
    Unknown(String),
    /// The alias is taken.
    #[error("a key named {0:?} exists already")]
    AliasTaken(String),
    /// The same key is there under another alias.
    #[error("that key is in the keystore already as {0:?}")]
    Duplicate(String),
    /// Not a usable private key.
    #[error("not an Ed25519 suiprivkey: {0}")]
    BadKey(String),
}

/// One named entry of `sui.aliases`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Alias {
    alias: String,
    public_key_base64: String,
}

/// A key as listed.
#[derive(Clone, Debug)]
pub struct Listed {
    /// Its alias.
    pub alias: String,
    /// Its Sui address, or `None` for a scheme `daas` does not sign with.
    pub address: Option<Address>,
    /// Signature scheme.
    pub scheme: &'static str,
}

/// The keystore and its aliases.
pub struct Keystore {
    path: PathBuf,
    /// Entries as stored (base64 `flag || key`).
    entries: Vec<String>,
    aliases: Vec<Alias>,
}

fn flagged_public_key(key: &Ed25519PrivateKey) -> String {
    let mut bytes = vec![0u8];
    bytes.extend_from_slice(key.public_key().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn read_json<T: for<'de> Deserialize<'de> + Default>(path: &Path) -> Result<T, KeyError> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(T::default()),
        Ok(text) => serde_json::from_str(&text).map_err(|e| KeyError::Format {
            path: path.to_owned(),
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(source) => Err(KeyError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

impl Keystore {
    /// Opens `path` (missing = empty), with `sui.aliases` beside it.
    pub fn open(path: &Path) -> Result<Self, KeyError> {
        let entries: Vec<String> = read_json(path)?;
        let mut aliases: Vec<Alias> = read_json(&Self::aliases_path(path))?;
        // A key without an alias (written by another tool) gets one, as the sui CLI does.
        for e in &entries {
            if let Ok(k) = Ed25519PrivateKey::from_base64(e) {
                let pk = flagged_public_key(&k);
                if !aliases.iter().any(|a| a.public_key_base64 == pk) {
                    let alias = format!("key-{}", aliases.len() + 1);
                    aliases.push(Alias {
                        alias,
                        public_key_base64: pk,
                    });
                }
            }
        }
        Ok(Self {
            path: path.to_owned(),
            entries,
            aliases,
        })
    }

    fn aliases_path(path: &Path) -> PathBuf {
        path.with_file_name("sui.aliases")
    }

    /// The keystore file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds `key` as `alias` and saves.
    pub fn add(&mut self, alias: &str, key: &Ed25519PrivateKey) -> Result<Address, KeyError> {
        if self.aliases.iter().any(|a| a.alias == alias) {
            return Err(KeyError::AliasTaken(alias.to_owned()));
        }
        let pk = flagged_public_key(key);
        if let Some(a) = self.aliases.iter().find(|a| a.public_key_base64 == pk) {
            return Err(KeyError::Duplicate(a.alias.clone()));
        }
        self.entries.push(key.to_base64());
        self.aliases.push(Alias {
            alias: alias.to_owned(),
            public_key_base64: pk,
        });
        self.save()?;
        Ok(key.public_key().derive_address())
    }

    /// The key named `who` (an alias or a `0x…` address).
    pub fn get(&self, who: &str) -> Result<Ed25519PrivateKey, KeyError> {
        let wanted_pk = self
            .aliases
            .iter()
            .find(|a| a.alias == who)
            .map(|a| a.public_key_base64.clone());
        for e in &self.entries {
            let Ok(k) = Ed25519PrivateKey::from_base64(e) else {
                continue;
            };
            let hit = match &wanted_pk {
                Some(pk) => flagged_public_key(&k) == *pk,
                None => k.public_key().derive_address().to_string() == who,
            };
            if hit {
                return Ok(k);
            }
        }
        Err(KeyError::Unknown(who.to_owned()))
    }

    /// Every key, in keystore order.
    pub fn list(&self) -> Vec<Listed> {
        self.entries
            .iter()
            .map(|e| match Ed25519PrivateKey::from_base64(e) {
                Ok(k) => {
                    let pk = flagged_public_key(&k);
                    Listed {
                        alias: self
                            .aliases
                            .iter()
                            .find(|a| a.public_key_base64 == pk)
                            .map_or_else(String::new, |a| a.alias.clone()),
                        address: Some(k.public_key().derive_address()),
                        scheme: "ed25519",
                    }
                }
                Err(_) => Listed {
                    alias: String::new(),
                    address: None,
                    scheme: "unsupported",
                },
            })
            .collect()
    }

    fn save(&self) -> Result<(), KeyError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| KeyError::Io { path, source }
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        // Serialising strings and string pairs cannot fail.
        let entries = serde_json::to_string_pretty(&self.entries).unwrap_or_default();
        write_private(&self.path, &entries).map_err(io(&self.path))?;
        let aliases = Self::aliases_path(&self.path);
        let names = serde_json::to_string_pretty(&self.aliases).unwrap_or_default();
        std::fs::write(&aliases, names).map_err(io(&aliases))
    }
}

/// Writes a secret file readable by its owner only (0600, through a
/// temporary file renamed into place).
pub fn write_private(path: &Path, text: impl AsRef<[u8]>) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(text.as_ref())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Parses a `suiprivkey1…` string (surrounding whitespace ignored).
pub fn parse_suiprivkey(text: &str) -> Result<Ed25519PrivateKey, KeyError> {
    Ed25519PrivateKey::from_suiprivkey(text.trim()).map_err(|e| KeyError::BadKey(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_the_sui_formats() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sui.keystore");
        let mut ks = Keystore::open(&path).expect("empty");
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        let addr = ks.add("alice", &key).expect("add");
        assert!(matches!(
            ks.add("alice", &Ed25519PrivateKey::generate(rand_core::OsRng)),
            Err(KeyError::AliasTaken(_))
        ));
        assert!(matches!(ks.add("bob", &key), Err(KeyError::Duplicate(a)) if a == "alice"));

        // What the sui CLI reads: a JSON array of base64 flag||key, and the aliases.
        let stored: Vec<String> =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(stored, vec![key.to_base64()]);
        let mode = std::fs::metadata(&path).expect("meta").permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );

        let again = Keystore::open(&path).expect("reopen");
        let got = again.get("alice").expect("by alias");
        assert_eq!(got.public_key().derive_address(), addr);
        assert!(again.get(&addr.to_string()).is_ok(), "by address");
        assert!(matches!(again.get("carol"), Err(KeyError::Unknown(_))));
        let exported = got.to_suiprivkey().expect("bech32");
        assert!(exported.starts_with("suiprivkey1"));
        assert_eq!(
            parse_suiprivkey(&format!(" {exported}\n"))
                .expect("parse")
                .public_key(),
            key.public_key()
        );
        assert!(parse_suiprivkey("suiprivkey1nonsense").is_err());
    }

    #[test]
    fn a_keystore_written_by_another_tool_gets_aliases_and_keeps_other_schemes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sui.keystore");
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        // A secp256k1 entry (flag 1) the CLI cannot sign with.
        let other = base64::engine::general_purpose::STANDARD.encode([1u8; 33]);
        std::fs::write(
            &path,
            serde_json::to_string(&[key.to_base64(), other]).expect("json"),
        )
        .expect("write");
        let ks = Keystore::open(&path).expect("open");
        let listed = ks.list();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].alias, "key-1");
        assert_eq!(listed[1].scheme, "unsupported");
        std::fs::write(&path, "{not json").expect("write");
        assert!(matches!(
            Keystore::open(&path),
            Err(KeyError::Format { .. })
        ));
    }
}
