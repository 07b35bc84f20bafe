//! The master's own state in etcd, authenticated (decision 0017).
//!
//! - Every value the master writes under `<state>/` (position, ledger keys,
//!   eviction records, outcome batches) is stored as `value || tag`, the
//!   tag being HMAC-SHA256 under the [`StateKey`] over a label, the full
//!   etcd key (length-prefixed) and the value: a changed byte, or a value
//!   moved to another key or another master's prefix, fails its tag.
//! - Per-key tags cannot tell a deleted key, nor an authentic value planted
//!   back (an older version of a key, a key deleted since). So the position
//!   value, tagged like the rest and written in every Txn, also commits to
//!   the set of ledger and eviction keys and the verifier's state
//!   ([`StateSet`]): their count and
//!   the sum mod 2^256 of a second keyed hash of each (key, value), updated
//!   with every write and delete of the same Txn. [`load`] recomputes both
//!   from a full scan and compares.
//! - [`load`] reads the whole state prefix at one revision and checks all
//!   of it; the engine rebuilds from the log on any mismatch
//!   (`apply::Engine::open`).
//!
//! The key is 32 random bytes kept beside the sealing keys
//! ([`STATE_KEY_FILE`] in `--sealing-key-dir`, same checks); it is never
//! written to etcd, logged or shown by `Debug`.

use std::{collections::BTreeMap, fmt, sync::Arc};

use daas_domain::Ledger;
use etcd_client::Client;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::{
    sealing_keys::{FileKeyStore, KeyStoreError},
    state::{self, Layout, Position, StateError},
};

/// Bytes of a tag.
pub const TAG_LEN: usize = 32;
/// The state key's file in the sealing key directory.
pub const STATE_KEY_FILE: &str = "state-key";
/// Domain label of a stored value's tag.
const TAG_LABEL: &[u8] = b"k3s-daas master state tag v1\0";
/// Domain label of a key's element of the multiset digest.
const SET_LABEL: &[u8] = b"k3s-daas master state set v1\0";

/// The key that authenticates the master's state: an HMAC-SHA256 key
/// schedule, made once. Cheap to clone; `Debug` shows no key material.
#[derive(Clone)]
pub struct StateKey(Arc<Hmac<Sha256>>);

impl fmt::Debug for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateKey(..)")
    }
}

/// A stored value whose tag does not match.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TagError {
    /// Shorter than a tag.
    #[error("shorter than its {TAG_LEN}-byte tag")]
    Short,
    /// The tag is not this key's for this etcd key and value.
    #[error(
        "its tag does not match (changed, moved from another key, or written under another state key)"
    )]
    Mismatch,
}

impl StateKey {
    /// A key from its bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        // HMAC takes keys of any length: this cannot fail.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(bytes).unwrap_or_else(|_| unreachable!());
        Self(Arc::new(mac))
    }

    /// The key kept in `store`'s directory as [`STATE_KEY_FILE`], made
    /// (32 random bytes, mode 0600) when missing.
    pub fn load_or_make(store: &FileKeyStore) -> Result<Self, KeyStoreError> {
        let bytes = store.load_or_make_secret(STATE_KEY_FILE)?;
        Ok(Self::from_bytes(&bytes))
    }

    fn hmac(&self, label: &[u8], key: &str, value: &[u8]) -> [u8; 32] {
        let mut m = (*self.0).clone();
        m.update(label);
        m.update(&(key.len() as u64).to_be_bytes());
        m.update(key.as_bytes());
        m.update(value);
        m.finalize().into_bytes().into()
    }

    /// `value`'s tag at etcd key `key`.
    pub fn tag(&self, key: &str, value: &[u8]) -> [u8; 32] {
        self.hmac(TAG_LABEL, key, value)
    }

    /// What to store at `key`: `value || tag`.
    pub fn seal(&self, key: &str, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(value.len() + TAG_LEN);
        out.extend_from_slice(value);
        out.extend_from_slice(&self.tag(key, value));
        out
    }

    /// The value stored at `key`, once its tag is checked (constant time).
    pub fn open<'v>(&self, key: &str, stored: &'v [u8]) -> Result<&'v [u8], TagError> {
        let split = stored.len().checked_sub(TAG_LEN).ok_or(TagError::Short)?;
        let (value, tag) = stored.split_at(split);
        let mut m = (*self.0).clone();
        m.update(TAG_LABEL);
        m.update(&(key.len() as u64).to_be_bytes());
        m.update(key.as_bytes());
        m.update(value);
        m.verify_slice(tag).map_err(|_| TagError::Mismatch)?;
        Ok(value)
    }

    /// The element of the multiset digest for `value` at `key` (never stored).
    fn element(&self, key: &str, value: &[u8]) -> [u8; 32] {
        self.hmac(SET_LABEL, key, value)
    }
}

/// A stored value without its tag, the tag not checked (the state root,
/// tools). A value shorter than a tag is returned whole.
pub fn payload(stored: &[u8]) -> &[u8] {
    stored
        .len()
        .checked_sub(TAG_LEN)
        .map_or(stored, |n| &stored[..n])
}

/// `a + b` mod 2^256, little-endian.
fn add(a: &mut [u8; 32], b: &[u8; 32]) {
    let mut carry = 0u16;
    for (x, y) in a.iter_mut().zip(b) {
        let s = u16::from(*x) + u16::from(*y) + carry;
        *x = s as u8;
        carry = s >> 8;
    }
}

/// `a - b` mod 2^256, little-endian.
fn sub(a: &mut [u8; 32], b: &[u8; 32]) {
    let mut borrow = 0i16;
    for (x, y) in a.iter_mut().zip(b) {
        let d = i16::from(*x) - i16::from(*y) - borrow;
        *x = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
}

/// The ledger and eviction keys as a multiset of (key, value): each key's
/// element (kept here, so a delete or overwrite can take it out again),
/// their count and their sum mod 2^256, the digest the position commits to.
///
/// A set made for a layout ([`StateSet::new`]) also keeps each ledger and
/// eviction key's public leaf, by name, for the ledger root
/// ([`crate::ledger_root`], decision 0021); the default set keeps none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateSet {
    elements: BTreeMap<String, [u8; 32]>,
    digest: [u8; 32],
    /// The `<state>` root whose ledger and eviction keys get leaves.
    state: Option<String>,
    /// Leaves by name (`daas/ledger/…`), in bytewise order.
    leaves: BTreeMap<String, [u8; 32]>,
}

impl StateSet {
    /// An empty set that also keeps the ledger root's leaves of `layout`'s
    /// ledger and eviction keys.
    pub fn new(layout: &Layout) -> Self {
        Self {
            state: Some(layout.state.clone()),
            ..Self::default()
        }
    }

    /// Keys held.
    pub fn count(&self) -> u64 {
        self.elements.len() as u64
    }

    /// The sum of the elements mod 2^256 (little-endian).
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The ledger root of the keys held ([`crate::ledger_root`]): one hash
    /// over 32 bytes per ledger and eviction key.
    pub fn ledger_root(&self) -> [u8; 32] {
        crate::ledger_root::root_of(self.leaves.values())
    }

    /// Ledger and eviction keys the ledger root covers.
    pub fn leaves(&self) -> usize {
        self.leaves.len()
    }

    fn name(&self, key: &str) -> Option<String> {
        crate::ledger_root::name_of(self.state.as_deref()?, key)
    }

    /// `key` now holds `value` (before its tag).
    pub fn put(&mut self, mac: &StateKey, key: &str, value: &[u8]) {
        self.delete(key);
        let e = mac.element(key, value);
        add(&mut self.digest, &e);
        self.elements.insert(key.to_owned(), e);
        if let Some(name) = self.name(key) {
            let leaf = crate::ledger_root::leaf(&name, value);
            self.leaves.insert(name, leaf);
        }
    }

    /// `key` is deleted.
    pub fn delete(&mut self, key: &str) {
        if let Some(e) = self.elements.remove(key) {
            sub(&mut self.digest, &e);
            if let Some(name) = self.name(key) {
                self.leaves.remove(&name);
            }
        }
    }

    /// Every key under `prefix` is deleted.
    pub fn delete_prefix(&mut self, prefix: &str) {
        let gone: Vec<String> = self
            .elements
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in gone {
            self.delete(&k);
        }
    }

    /// One Txn's changes, in its order: the prefix deletes, then `writes`
    /// (`None`: delete), whose values are replaced by their stored form
    /// (`value || tag`).
    pub fn apply_txn(
        &mut self,
        mac: &StateKey,
        prefix_deletes: &[String],
        writes: &mut BTreeMap<String, Option<Vec<u8>>>,
    ) {
        for p in prefix_deletes {
            self.delete_prefix(p);
        }
        for (key, value) in writes.iter_mut() {
            match value {
                Some(v) => {
                    self.put(mac, key, v);
                    *v = mac.seal(key, v);
                }
                None => self.delete(key),
            }
        }
    }
}

/// State that checked out: where applying stands and what it holds.
#[derive(Debug, Default)]
pub struct Authentic {
    /// The stored position (the default when none is stored).
    pub position: Position,
    /// The position key's stored bytes, tag included (`None`: absent).
    pub position_value: Option<Vec<u8>>,
    /// The ledger and eviction keys.
    pub set: StateSet,
    /// The ledger.
    pub ledger: Ledger,
    /// The verifier's state (`<state>/verifier`), when stored.
    pub verifier: Option<Vec<u8>>,
    /// Outcome batches stored.
    pub outcome_batches: usize,
}

/// State that did not check out.
#[derive(Debug)]
pub struct Tampered {
    /// Each key found wrong, and why (the position's key for a commitment
    /// mismatch or a missing position).
    pub problems: Vec<(String, String)>,
    /// How far the stored state claimed to be: the position's offset if
    /// it still parses, else past the last outcome batch's start; only a
    /// hint (see `Position::rebuild_until`).
    pub claimed: i64,
    /// The position key's mod_revision as read (0: absent): the rebuild's
    /// guard.
    pub position_revision: i64,
}

/// What [`load`] found.
#[derive(Debug)]
pub enum Loaded {
    /// Every tag and the commitment match.
    Authentic(Box<Authentic>),
    /// Something does not.
    Tampered(Tampered),
}

/// What the scan gathers before the position is compared.
#[derive(Default)]
struct Scan {
    found: Authentic,
    problems: Vec<(String, String)>,
    claimed: i64,
    position_revision: i64,
}

/// Reads every key under `<state>/` at one revision and checks its tag, the
/// position's commitment against the ledger and eviction keys found, and
/// that nothing else is there.
pub async fn load(
    client: &mut Client,
    layout: &Layout,
    mac: &StateKey,
) -> Result<Loaded, StateError> {
    let (kvs, _) = state::snapshot(client, &layout.state_prefix()).await?;
    let mut scan = Scan::default();
    scan.found.set = StateSet::new(layout);
    let position_key = layout.position();
    for kv in &kvs {
        let key = String::from_utf8_lossy(kv.key()).into_owned();
        if key == position_key {
            scan.position(mac, &key, kv.value(), kv.mod_revision());
        } else {
            scan.entry(mac, layout, key, kv.value())?;
        }
    }
    let Scan {
        found,
        mut problems,
        claimed,
        position_revision,
    } = scan;
    let p = &found.position;
    if found.position_value.is_none() && problems.is_empty() {
        if found.set.count() > 0 || found.outcome_batches > 0 {
            problems.push((position_key, "missing while other state is stored".into()));
        }
    } else if found.position_value.is_some()
        && (p.count, p.digest) != (found.set.count(), found.set.digest())
    {
        problems.push((
            position_key,
            format!(
                "commits to {} ledger and eviction keys with digest {}, but {} are stored with \
                 digest {} (a key deleted, planted or rolled back)",
                p.count,
                hex::encode(p.digest),
                found.set.count(),
                hex::encode(found.set.digest())
            ),
        ));
    }
    if problems.is_empty() {
        return Ok(Loaded::Authentic(Box::new(found)));
    }
    Ok(Loaded::Tampered(Tampered {
        problems,
        claimed: claimed.max(found.position.cursor.offset),
        position_revision,
    }))
}

impl Scan {
    fn position(&mut self, mac: &StateKey, key: &str, stored: &[u8], revision: i64) {
        self.position_revision = revision;
        let parsed = |v: &[u8]| std::str::from_utf8(v).ok().and_then(Position::parse);
        match mac.open(key, stored) {
            Ok(v) => match parsed(v) {
                Some(p) => {
                    self.found.position = p;
                    self.found.position_value = Some(stored.to_vec());
                }
                None => self.problem(key, "authentic but not a position".into()),
            },
            Err(e) => {
                if let Some(p) = parsed(payload(stored)) {
                    self.claimed = self.claimed.max(p.cursor.offset);
                }
                self.problem(key, e.to_string());
            }
        }
    }

    fn entry(
        &mut self,
        mac: &StateKey,
        layout: &Layout,
        key: String,
        stored: &[u8],
    ) -> Result<(), StateError> {
        let outcome_offset = key
            .starts_with(&layout.outcomes_prefix())
            .then(|| layout.outcome_batch_offset(&key));
        let is_set = key.starts_with(&layout.ledger_prefix())
            || key.starts_with(&layout.evictions_prefix())
            || key == layout.verifier();
        if !is_set && !matches!(outcome_offset, Some(Some(_))) {
            self.problem(&key, "not a key this master writes".into());
            return Ok(());
        }
        if let Some(Some(offset)) = outcome_offset {
            // A batch holds at most one Txn's records.
            self.claimed = self.claimed.max(offset.saturating_add(256));
        }
        let value = match mac.open(&key, stored) {
            Ok(v) => v,
            Err(e) => {
                self.problem(&key, e.to_string());
                return Ok(());
            }
        };
        if !is_set {
            self.found.outcome_batches += 1;
            return Ok(());
        }
        self.found.set.put(mac, &key, value);
        if key == layout.verifier() {
            self.found.verifier = Some(value.to_vec());
        } else if key.starts_with(&layout.ledger_prefix()) {
            state::restore(&mut self.found.ledger, key.as_bytes(), value)?;
        }
        Ok(())
    }

    fn problem(&mut self, key: &str, reason: String) {
        self.problems.push((key.to_owned(), reason));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> StateKey {
        StateKey::from_bytes(&[b; 32])
    }

    #[test]
    fn tags_open_only_under_the_same_key_etcd_key_and_value() {
        let k = key(1);
        let stored = k.seal("/d/ledger/a", b"{\"x\":1}");
        assert_eq!(stored.len(), 7 + TAG_LEN);
        assert_eq!(k.open("/d/ledger/a", &stored), Ok(&b"{\"x\":1}"[..]));
        assert_eq!(payload(&stored), b"{\"x\":1}");
        assert_eq!(key(2).open("/d/ledger/a", &stored), Err(TagError::Mismatch));
        assert_eq!(k.open("/d/ledger/b", &stored), Err(TagError::Mismatch));
        assert_eq!(k.open("/e/ledger/a", &stored), Err(TagError::Mismatch));
        let mut flipped = stored.clone();
        flipped[0] ^= 1;
        assert_eq!(k.open("/d/ledger/a", &flipped), Err(TagError::Mismatch));
        assert_eq!(k.open("/d/ledger/a", &stored[..31]), Err(TagError::Short));
        // The key is length-prefixed: moving bytes between key and value fails.
        let s2 = k.seal("/d/ledger/a{", b"\"x\":1}");
        assert_ne!(s2[6..], stored[7..]);
    }

    #[test]
    fn the_tag_is_hmac_sha256_over_label_key_and_value() {
        // Independent computation with the `hmac` crate directly.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&[7; 32]).expect("any length");
        m.update(b"k3s-daas master state tag v1\0");
        m.update(&5u64.to_be_bytes());
        m.update(b"/k/ey");
        m.update(b"val");
        let want: [u8; 32] = m.finalize().into_bytes().into();
        assert_eq!(key(7).tag("/k/ey", b"val"), want);
    }

    #[test]
    fn the_digest_is_order_free_and_tracks_puts_and_deletes() {
        let k = key(3);
        let mut a = StateSet::default();
        a.put(&k, "/d/ledger/x", b"1");
        a.put(&k, "/d/ledger/y", b"2");
        let mut b = StateSet::default();
        b.put(&k, "/d/ledger/y", b"2");
        b.put(&k, "/d/ledger/z", b"9");
        b.put(&k, "/d/ledger/x", b"0");
        b.put(&k, "/d/ledger/x", b"1");
        b.delete("/d/ledger/z");
        assert_eq!(a, b);
        assert_eq!(a.count(), 2);
        let before = a.digest();
        a.put(&k, "/d/ledger/y", b"3");
        assert_ne!(a.digest(), before);
        a.put(&k, "/d/ledger/y", b"2");
        assert_eq!(a.digest(), before);
        a.delete_prefix("/d/ledger/");
        assert_eq!(a, StateSet::default());
        // Another key gives another digest for the same entries.
        let mut c = StateSet::default();
        c.put(&key(4), "/d/ledger/x", b"1");
        let mut d = StateSet::default();
        d.put(&k, "/d/ledger/x", b"1");
        assert_ne!(c.digest(), d.digest());
    }

    #[test]
    fn the_state_key_is_made_once_private_beside_the_sealing_keys() -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir()
            .join(daas_testkit::unique_name("state-key"))
            .join("keys");
        let store = FileKeyStore::new(&dir);
        let first = StateKey::load_or_make(&store)?;
        let file = dir.join(STATE_KEY_FILE);
        let mode =
            |p: &std::path::Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode(&file)?, 0o600);
        assert_eq!(mode(&dir)?, 0o700);
        let text = std::fs::read_to_string(&file)?;
        assert_eq!(text.len(), 65, "64 hex digits and a newline");
        let again = StateKey::load_or_make(&store)?;
        assert_eq!(
            first.tag("/k", b"v"),
            again.tag("/k", b"v"),
            "made once, then read"
        );
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes)?;
        assert_eq!(
            StateKey::from_bytes(&bytes).tag("/k", b"v"),
            first.tag("/k", b"v")
        );
        assert!(
            !format!("{first:?}").contains(text.trim()),
            "Debug shows no key"
        );
        let held = crate::sealing_keys::KeyStore::load(&store)?;
        assert_eq!(
            held.versions(),
            Vec::<u32>::new(),
            "not taken for a sealing key"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))?;
        let refused = StateKey::load_or_make(&store).err().map(|e| e.to_string());
        assert!(refused.is_some_and(|e| e.contains("chmod 600")));
        let _ = std::fs::remove_dir_all(dir.parent().unwrap_or(&dir));
        Ok(())
    }

    #[test]
    fn sums_wrap_mod_2_256() {
        let mut a = [0xff; 32];
        add(&mut a, &{
            let mut one = [0; 32];
            one[0] = 1;
            one
        });
        assert_eq!(a, [0; 32]);
        sub(&mut a, &{
            let mut one = [0; 32];
            one[0] = 1;
            one
        });
        assert_eq!(a, [0xff; 32]);
    }

    #[test]
    fn a_txn_tags_its_writes_and_moves_the_digest() {
        let k = key(5);
        let mut set = StateSet::default();
        set.put(&k, "/d/ledger/ns/a", b"old");
        set.put(&k, "/d/ledger/keep", b"k");
        let mut writes = BTreeMap::from([
            ("/d/ledger/new".to_string(), Some(b"v".to_vec())),
            ("/d/ledger/keep".to_string(), None),
        ]);
        set.apply_txn(&k, &["/d/ledger/ns/".into()], &mut writes);
        assert_eq!(set.count(), 1);
        let stored = writes["/d/ledger/new"].clone().expect("put");
        assert_eq!(k.open("/d/ledger/new", &stored), Ok(&b"v"[..]));
        let mut want = StateSet::default();
        want.put(&k, "/d/ledger/new", b"v");
        assert_eq!(set, want);
    }
}
