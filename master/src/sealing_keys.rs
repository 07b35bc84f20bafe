//! The master's sealing keys: the X25519 private keys that open tenants'
//! sealed Secrets (decision 0014), one per key version.
//!
//! - [`KeyStore`]: where the versions live (load all, create the first,
//!   rotate). Only [`FileKeyStore`] exists today; a store that keeps the keys
//!   wrapped by a KMS key whose policy requires the enclave's PCRs is meant to
//!   implement the same trait, so callers do not change.
//! - [`SealingKeys`]: the versions held, as the [`KeyRing`] `open_secret` asks.
//! - [`KeyRingHandle`]: what the apply path holds; it reloads the store
//!   when the chain registers a version it does not hold, so a
//!   `master sealing-key rotate` needs no restart.
//!
//! A private key is never logged, printed or put in an error: `Debug` of
//! every type here shows versions and public keys only.

use std::{
    collections::BTreeMap,
    fmt,
    fs::{self, OpenOptions},
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use daas_sealing::{KeyRing, SealingPrivateKey, SealingPublicKey};

/// Files of the file store: `sealing-key-v<N>`.
pub const FILE_PREFIX: &str = "sealing-key-v";

/// Why the keys could not be read or written. Messages name files and
/// versions, never key bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// A file system operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A key file or the directory may be read or changed by others.
    #[error("{path}: mode {mode:04o} lets group or others {what}; {fix}")]
    Permissions {
        /// The file or directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// What they allow.
        what: &'static str,
        /// The command that fixes it.
        fix: String,
    },
    /// A file named like a key is not one.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// Why (never the content).
        reason: String,
    },
    /// No key is held (`rotate` on an empty store).
    #[error(
        "{0}: no sealing key yet (`master run` or `master sealing-key show` creates version 1)"
    )]
    Empty(PathBuf),
    /// The version after the highest held does not fit in u32.
    #[error("sealing key version {0} is the last one possible")]
    Exhausted(u32),
}

/// The private keys held, by version.
#[derive(Default)]
pub struct SealingKeys {
    keys: BTreeMap<u32, SealingPrivateKey>,
}

impl fmt::Debug for SealingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealingKeys")
            .field("versions", &self.versions())
            .finish()
    }
}

impl SealingKeys {
    /// Keys from (version, key) pairs.
    pub fn new(keys: impl IntoIterator<Item = (u32, SealingPrivateKey)>) -> Self {
        Self {
            keys: keys.into_iter().collect(),
        }
    }

    /// The versions held, ascending.
    pub fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    /// The highest version held and its public key: what to register on chain.
    pub fn current(&self) -> Option<(u32, SealingPublicKey)> {
        self.keys
            .iter()
            .next_back()
            .map(|(v, k)| (*v, k.public_key()))
    }

    /// The public key of `version`, when held.
    pub fn public_key(&self, version: u32) -> Option<SealingPublicKey> {
        self.keys.get(&version).map(SealingPrivateKey::public_key)
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl KeyRing for SealingKeys {
    fn private_key(&self, version: u32) -> Option<&SealingPrivateKey> {
        self.keys.get(&version)
    }
}

/// Where the sealing keys live. Implementations keep every version ever
/// made (old log records are sealed to them) and never expose key bytes
/// except to the [`SealingKeys`] they load.
pub trait KeyStore: Send + Sync + fmt::Debug {
    /// Every version held.
    fn load(&self) -> Result<SealingKeys, KeyStoreError>;
    /// Makes version 1 when no version exists; true when it did.
    fn create_first(&self) -> Result<bool, KeyStoreError>;
    /// Makes the version after the highest held; that version.
    fn rotate(&self) -> Result<u32, KeyStoreError>;
}

/// The development store: one file per version in a directory of its own.
///
/// - the directory is created with mode 0700 when missing; an existing one
///   must give group and others no access at all;
/// - `sealing-key-v<N>` (N decimal, no leading zeros) holds the 32-byte
///   X25519 private key as 64 hex digits and a newline (32 raw bytes are
///   read too), mode 0600; a key file group or others may read, or that is
///   not a regular file (a symlink), is refused;
/// - a new version is written to a temporary file, synced, then linked to
///   its name, which fails if that version exists: two rotations at once
///   cannot overwrite each other, and a crash leaves no half-written key.
#[derive(Clone, Debug)]
pub struct FileKeyStore {
    dir: PathBuf,
}

impl FileKeyStore {
    /// The store in `dir` (nothing is read or created yet).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyStoreError + '_ {
        move |source| KeyStoreError::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// The directory, created (0700) when missing, checked when present.
    pub(crate) fn ensure_dir(&self) -> Result<(), KeyStoreError> {
        if !self.dir.exists() {
            if let Some(parent) = self.dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                fs::create_dir_all(parent).map_err(Self::io(parent))?;
            }
            match fs::DirBuilder::new().mode(0o700).create(&self.dir) {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(Self::io(&self.dir)(e));
                }
                _ => {}
            }
        }
        let meta = fs::symlink_metadata(&self.dir).map_err(Self::io(&self.dir))?;
        if !meta.is_dir() {
            return Err(KeyStoreError::Malformed {
                path: self.dir.clone(),
                reason: "not a directory".into(),
            });
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyStoreError::Permissions {
                path: self.dir.clone(),
                mode,
                what: "list or change the keys",
                fix: format!("chmod 700 {}", self.dir.display()),
            });
        }
        Ok(())
    }

    /// The key files' versions and paths (other files are ignored).
    fn files(&self) -> Result<BTreeMap<u32, PathBuf>, KeyStoreError> {
        let mut out = BTreeMap::new();
        for entry in fs::read_dir(&self.dir).map_err(Self::io(&self.dir))? {
            let entry = entry.map_err(Self::io(&self.dir))?;
            let name = entry.file_name();
            let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(FILE_PREFIX)) else {
                continue;
            };
            let path = entry.path();
            let version = parse_version(rest).ok_or_else(|| KeyStoreError::Malformed {
                path: path.clone(),
                reason: format!("not {FILE_PREFIX}<N> with N a version from 1, no leading zeros"),
            })?;
            out.insert(version, path);
        }
        Ok(out)
    }

    /// Writes a new key as `version`, failing if that version exists.
    fn write_new(&self, version: u32) -> Result<(), KeyStoreError> {
        let key = SealingPrivateKey::generate(&mut daas_sealing::rng::os());
        self.write_secret(
            &format!("{FILE_PREFIX}{version}"),
            key.to_bytes().as_slice(),
        )
    }

    /// Writes 32 secret bytes as `name` (64 hex digits and a newline, mode
    /// 0600) through a synced temporary file linked to its name, failing
    /// if `name` exists.
    pub(crate) fn write_secret(&self, name: &str, secret: &[u8]) -> Result<(), KeyStoreError> {
        let mut text = zeroize::Zeroizing::new(hex::encode(secret));
        text.push('\n');
        self.write_private(name, text.as_bytes())
    }

    /// Writes `bytes` as `name` (mode 0600) through a synced temporary file
    /// linked to its name, failing if `name` exists.
    pub(crate) fn write_private(&self, name: &str, bytes: &[u8]) -> Result<(), KeyStoreError> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            fs::hard_link(&tmp, &path)
        })();
        let _ = fs::remove_file(&tmp);
        written.map_err(Self::io(&path))?;
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(Self::io(&self.dir))
    }

    /// The 32 secret bytes kept as `name` in the directory (checked like
    /// the sealing keys), made from the OS's generator when missing: the
    /// state key (`crate::state_mac`).
    pub(crate) fn load_or_make_secret(
        &self,
        name: &str,
    ) -> Result<zeroize::Zeroizing<[u8; 32]>, KeyStoreError> {
        self.ensure_dir()?;
        let path = self.dir.join(name);
        if !path.exists() {
            let mut fresh = zeroize::Zeroizing::new([0u8; 32]);
            daas_sealing::rng::RngCore::fill_bytes(&mut daas_sealing::rng::os(), fresh.as_mut());
            match self.write_secret(name, fresh.as_slice()) {
                // Another process made it first: read theirs.
                Err(KeyStoreError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists => {}
                r => r?,
            }
        }
        read_secret(&path)
    }
}

/// `N` of `sealing-key-vN`: decimal, 1..=u32::MAX, no leading zeros.
fn parse_version(digits: &str) -> Option<u32> {
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Reads one key file, refusing one others may read or that is not a
/// regular file.
fn read_key(path: &Path) -> Result<SealingPrivateKey, KeyStoreError> {
    let key = read_secret(path)?;
    SealingPrivateKey::from_bytes(key.as_slice()).map_err(|_| KeyStoreError::Malformed {
        path: path.to_owned(),
        reason: "not a usable X25519 key".into(),
    })
}

/// Reads 32 secret bytes (raw, or 64 hex digits) from a regular file that
/// group and others cannot access.
fn read_secret(path: &Path) -> Result<zeroize::Zeroizing<[u8; 32]>, KeyStoreError> {
    let bytes = read_private(path)?;
    let malformed = |reason: &str| KeyStoreError::Malformed {
        path: path.to_owned(),
        reason: reason.into(),
    };
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    if bytes.len() == 32 {
        key.copy_from_slice(&bytes);
    } else {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| malformed("neither 32 bytes nor 64 hex digits"))?;
        hex::decode_to_slice(text.trim(), key.as_mut_slice())
            .map_err(|_| malformed("neither 32 bytes nor 64 hex digits"))?;
    }
    Ok(key)
}

/// The bytes of a regular file that group and others cannot access (a
/// symlink, or a file with any group or other permission, is refused).
pub(crate) fn read_private(path: &Path) -> Result<zeroize::Zeroizing<Vec<u8>>, KeyStoreError> {
    let io = FileKeyStore::io(path);
    let meta = fs::symlink_metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(KeyStoreError::Malformed {
            path: path.to_owned(),
            reason: "not a regular file (a symlink or directory)".into(),
        });
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyStoreError::Permissions {
            path: path.to_owned(),
            mode,
            what: "read or change a private key",
            fix: format!("chmod 600 {}", path.display()),
        });
    }
    Ok(zeroize::Zeroizing::new(
        fs::read(path).map_err(FileKeyStore::io(path))?,
    ))
}

impl KeyStore for FileKeyStore {
    fn load(&self) -> Result<SealingKeys, KeyStoreError> {
        self.ensure_dir()?;
        let mut keys = BTreeMap::new();
        for (version, path) in self.files()? {
            keys.insert(version, read_key(&path)?);
        }
        Ok(SealingKeys { keys })
    }

    fn create_first(&self) -> Result<bool, KeyStoreError> {
        self.ensure_dir()?;
        if !self.files()?.is_empty() {
            return Ok(false);
        }
        match self.write_new(1) {
            Ok(()) => Ok(true),
            // Another process made it first: fine.
            Err(KeyStoreError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn rotate(&self) -> Result<u32, KeyStoreError> {
        // Every key held must be usable before another is added beside them.
        let last = self
            .load()?
            .versions()
            .last()
            .copied()
            .ok_or_else(|| KeyStoreError::Empty(self.dir.clone()))?;
        let next = last.checked_add(1).ok_or(KeyStoreError::Exhausted(last))?;
        self.write_new(next)?;
        Ok(next)
    }
}

/// The keys the apply path opens with. The engine asks it to [`reload`]
/// when the chain registers a version for the served cluster that is not
/// held (a `master sealing-key rotate` while running): the log, not a
/// tenant's request, triggers reloads, so a replay reloads at the same
/// records.
///
/// [`reload`]: KeyRingHandle::reload_for
pub struct KeyRingHandle {
    store: Option<Arc<dyn KeyStore>>,
    keys: RwLock<Arc<SealingKeys>>,
}

impl fmt::Debug for KeyRingHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRingHandle")
            .field("store", &self.store)
            .field("versions", &self.snapshot().versions())
            .finish()
    }
}

impl KeyRingHandle {
    /// The keys of `store`, loaded now.
    pub fn load(store: Arc<dyn KeyStore>) -> Result<Self, KeyStoreError> {
        let keys = store.load()?;
        Ok(Self {
            store: Some(store),
            keys: RwLock::new(Arc::new(keys)),
        })
    }

    /// Fixed keys, never reloaded (tests, tools).
    pub fn fixed(keys: SealingKeys) -> Self {
        Self {
            store: None,
            keys: RwLock::new(Arc::new(keys)),
        }
    }

    /// The keys as they are now.
    pub fn snapshot(&self) -> Arc<SealingKeys> {
        match self.keys.read() {
            Ok(k) => k.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reloads the store when `version` is not held; the keys after. A
    /// failed reload keeps the keys held (and is logged).
    pub fn reload_for(&self, version: u32) -> Arc<SealingKeys> {
        let keys = self.snapshot();
        let Some(store) = self
            .store
            .as_ref()
            .filter(|_| keys.private_key(version).is_none())
        else {
            return keys;
        };
        match store.load() {
            Ok(fresh) => {
                let fresh = Arc::new(fresh);
                tracing::info!(versions = ?fresh.versions(), "sealing keys reloaded");
                match self.keys.write() {
                    Ok(mut k) => *k = fresh.clone(),
                    Err(poisoned) => *poisoned.into_inner() = fresh.clone(),
                }
                fresh
            }
            Err(e) => {
                tracing::error!(error = %e, version, "reloading the sealing keys failed");
                keys
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory path under the system temp dir (not created).
    fn fresh_dir() -> PathBuf {
        std::env::temp_dir()
            .join(daas_testkit::unique_name("sealing-keys"))
            .join("keys")
    }

    /// Why `store` does not load ("" when it does).
    fn load_error(store: &FileKeyStore) -> String {
        store
            .load()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o777)
    }

    #[test]
    fn the_first_key_is_made_once_private_and_rotation_keeps_old_versions() -> anyhow::Result<()> {
        let dir = fresh_dir();
        let store = FileKeyStore::new(&dir);
        assert!(matches!(store.rotate(), Err(KeyStoreError::Empty(_))));
        assert!(store.create_first()?, "an empty store gets version 1");
        assert!(!store.create_first()?, "only once");
        assert_eq!(mode(&dir), 0o700);
        let v1 = dir.join("sealing-key-v1");
        assert_eq!(mode(&v1), 0o600);
        let text = fs::read_to_string(&v1)?;
        assert_eq!(text.len(), 65, "64 hex digits and a newline");
        let first = store.load()?;
        assert_eq!(first.versions(), [1]);

        assert_eq!(store.rotate()?, 2);
        assert_eq!(store.rotate()?, 3);
        let keys = store.load()?;
        assert_eq!(keys.versions(), [1, 2, 3]);
        assert_eq!(keys.public_key(1), first.public_key(1), "v1 unchanged");
        assert_ne!(keys.public_key(2), keys.public_key(1));
        assert_eq!(keys.current().map(|c| c.0), Some(3));
        let names: Vec<String> = fs::read_dir(&dir)?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .collect();
        assert_eq!(names.len(), 3, "no temporary file left: {names:?}");
        // Debug shows versions only.
        let printed = format!("{keys:?} {:?}", KeyRingHandle::fixed(store.load()?));
        assert!(!printed.contains(text.trim()), "{printed}");
        let _ = fs::remove_dir_all(dir.parent().unwrap_or(&dir));
        Ok(())
    }

    #[test]
    fn keys_others_may_read_and_directories_others_may_enter_are_refused() -> anyhow::Result<()> {
        let dir = fresh_dir();
        let store = FileKeyStore::new(&dir);
        store.create_first()?;
        let v1 = dir.join("sealing-key-v1");
        for bad in [0o640, 0o604, 0o660, 0o644] {
            fs::set_permissions(&v1, fs::Permissions::from_mode(bad))?;
            let e = load_error(&store);
            assert!(e.contains("chmod 600"), "{bad:o}: {e}");
        }
        fs::set_permissions(&v1, fs::Permissions::from_mode(0o400))?;
        assert_eq!(
            store.load()?.versions(),
            [1],
            "read-only for the owner is fine"
        );
        for bad in [0o750, 0o705, 0o777] {
            fs::set_permissions(&dir, fs::Permissions::from_mode(bad))?;
            let e = load_error(&store);
            assert!(e.contains("chmod 700"), "{bad:o}: {e}");
            assert!(store.rotate().is_err(), "no new key into an open directory");
        }
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))?;
        let _ = fs::remove_dir_all(dir.parent().unwrap_or(&dir));
        Ok(())
    }

    #[test]
    fn files_named_like_keys_must_be_keys() -> anyhow::Result<()> {
        let dir = fresh_dir();
        let store = FileKeyStore::new(&dir);
        store.create_first()?;
        fs::write(dir.join("README"), "other files are ignored")?;
        assert_eq!(store.load()?.versions(), [1]);
        let write_private = |name: &str, bytes: &[u8]| -> std::io::Result<PathBuf> {
            let p = dir.join(name);
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&p)?;
            f.write_all(bytes)?;
            Ok(p)
        };
        let cases: [(&str, &[u8], &str); 5] = [
            ("sealing-key-v02", b"", "leading zeros"),
            ("sealing-key-vx", b"", "version from 1"),
            ("sealing-key-v0", b"", "version from 1"),
            ("sealing-key-v2", b"not hex at all", "64 hex digits"),
            ("sealing-key-v3", &[7; 31], "64 hex digits"),
        ];
        for (name, bytes, says) in cases {
            let p = write_private(name, bytes)?;
            let e = load_error(&store);
            assert!(e.contains(says) && e.contains(name), "{name}: {e}");
            fs::remove_file(p)?;
        }
        // 32 raw bytes are a key too.
        write_private("sealing-key-v2", &[0x42; 32])?;
        assert_eq!(store.load()?.versions(), [1, 2]);
        // A symlink is not followed.
        std::os::unix::fs::symlink(dir.join("sealing-key-v1"), dir.join("sealing-key-v3"))?;
        let e = load_error(&store);
        assert!(e.contains("not a regular file"), "{e}");
        let _ = fs::remove_dir_all(dir.parent().unwrap_or(&dir));
        Ok(())
    }

    #[test]
    fn a_handle_reloads_only_for_a_version_it_does_not_hold() -> anyhow::Result<()> {
        let dir = fresh_dir();
        let store = Arc::new(FileKeyStore::new(&dir));
        store.create_first()?;
        let handle = KeyRingHandle::load(store.clone())?;
        assert_eq!(handle.reload_for(1).versions(), [1]);
        store.rotate()?;
        assert_eq!(handle.snapshot().versions(), [1], "not reloaded by itself");
        assert_eq!(
            handle.reload_for(1).versions(),
            [1],
            "v1 is held: no reload"
        );
        assert_eq!(handle.reload_for(2).versions(), [1, 2]);
        assert_eq!(handle.snapshot().versions(), [1, 2]);
        assert_eq!(
            handle.reload_for(9).versions(),
            [1, 2],
            "missing stays missing"
        );
        let _ = fs::remove_dir_all(dir.parent().unwrap_or(&dir));
        Ok(())
    }
}
