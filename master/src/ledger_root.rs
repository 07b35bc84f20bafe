//! The ledger root (decision 0021): one hash of the master's ledger and
//! eviction keys, a pure function of the log, that every outcome's receipt
//! carries.
//!
//! Definition:
//!
//! 1. Take every key under `<state>/ledger/` and `<state>/evictions/`
//!    (not the position, the verifier's state or the outcome batches).
//! 2. Name each by replacing its `<state>` root with `daas`
//!    (`/daas/ledger/x` → `daas/ledger/x`), as the state root does.
//! 3. Each key's leaf is SHA-256(u32 BE name length ‖ name ‖ u32 BE value
//!    length ‖ value), the value without the 32-byte tag that ends every
//!    value under `<state>/` (decision 0017).
//! 4. The root is SHA-256(`k3s-daas/ledger-root/v1\0` ‖ the leaves in
//!    bytewise order of their names).
//!
//! The engine keeps the leaves as it writes (`state_mac::StateSet`), so a
//! batch's root costs one hash over 32 bytes per key; [`scan`] recomputes it
//! from etcd (`master state-root --ledger`).

use etcd_client::Client;
use sha2::{Digest, Sha256};

use crate::state::{self, Layout};

/// The root's domain separator.
pub const LEDGER_ROOT_DOMAIN: &[u8] = b"k3s-daas/ledger-root/v1\0";

/// A key's leaf, from its name (step 2) and its value without its tag.
pub fn leaf(name: &str, value: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((name.len() as u32).to_be_bytes());
    h.update(name.as_bytes());
    h.update((value.len() as u32).to_be_bytes());
    h.update(value);
    h.finalize().into()
}

/// The root over `leaves`, which must come in bytewise order of their names.
pub fn root_of<'a>(leaves: impl IntoIterator<Item = &'a [u8; 32]>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(LEDGER_ROOT_DOMAIN);
    for l in leaves {
        h.update(l);
    }
    h.finalize().into()
}

/// The name of `key` (step 2) when it is one the root covers: under
/// `<state>/ledger/` or `<state>/evictions/` of the state root `state`.
pub fn name_of(state: &str, key: &str) -> Option<String> {
    let rest = key.strip_prefix(state)?;
    (rest.starts_with("/ledger/") || rest.starts_with("/evictions/")).then(|| format!("daas{rest}"))
}

/// The ledger root of what etcd holds under `layout`, and how many keys it
/// covers (tags not checked: `master check` does that).
pub async fn scan(
    client: &mut Client,
    layout: &Layout,
) -> Result<([u8; 32], usize), etcd_client::Error> {
    let mut leaves = Vec::new();
    for prefix in [layout.ledger_prefix(), layout.evictions_prefix()] {
        for kv in state::range(client, &prefix).await? {
            let key = String::from_utf8_lossy(kv.key());
            if let Some(name) = name_of(&layout.state, &key) {
                leaves.push((
                    name.clone(),
                    leaf(&name, crate::state_mac::payload(kv.value())),
                ));
            }
        }
    }
    leaves.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok((root_of(leaves.iter().map(|(_, l)| l)), leaves.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known answers computed by hand with `sha2` over the definition's
    /// bytes, not through the functions above.
    #[test]
    fn the_root_follows_the_definition() {
        let empty: [u8; 32] = Sha256::digest(b"k3s-daas/ledger-root/v1\0").into();
        assert_eq!(root_of([]), empty);
        let mut raw = Vec::new();
        raw.extend_from_slice(&[0, 0, 0, 13]);
        raw.extend_from_slice(b"daas/ledger/a");
        raw.extend_from_slice(&[0, 0, 0, 2]);
        raw.extend_from_slice(b"{}");
        let want_leaf: [u8; 32] = Sha256::digest(&raw).into();
        assert_eq!(leaf("daas/ledger/a", b"{}"), want_leaf);
        let mut both = b"k3s-daas/ledger-root/v1\0".to_vec();
        both.extend_from_slice(&want_leaf);
        both.extend_from_slice(&[9; 32]);
        let want: [u8; 32] = Sha256::digest(&both).into();
        assert_eq!(root_of([&want_leaf, &[9; 32]]), want);
        assert_ne!(root_of([&[9; 32], &want_leaf]), want, "order counts");
    }

    #[test]
    fn only_ledger_and_eviction_keys_are_named() {
        assert_eq!(
            name_of("/d", "/d/ledger/x").as_deref(),
            Some("daas/ledger/x")
        );
        assert_eq!(
            name_of("/d", "/d/evictions/n").as_deref(),
            Some("daas/evictions/n")
        );
        assert_eq!(name_of("/d", "/d/verifier"), None);
        assert_eq!(name_of("/d", "/d/position"), None);
        assert_eq!(name_of("/d", "/d/outcomes/1-1"), None);
        assert_eq!(name_of("/d", "/e/ledger/x"), None);
        assert_eq!(name_of("/d", "/dx/ledger/x"), None);
    }
}
