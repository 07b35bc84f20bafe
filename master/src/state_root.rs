//! The state root: one hash that says "these two clusters hold the same
//! desired state", recomputable by anyone with read access to etcd.
//!
//! Definition (also in docs/decisions/0006-master.md):
//!
//! 1. Take every key under `<registry>/<resource>/` for the managed kinds'
//!    resources (`namespaces`, `pods`, `services/specs`, `configmaps`,
//!    `secrets`, `serviceaccounts`, `deployments`, `statefulsets`,
//!    `daemonsets`, `jobs`, `cronjobs`, `ingress`), every key under
//!    `<state>/ledger/` and every key under `<state>/evictions/`.
//! 2. Name each by replacing its root with `registry` or `daas`
//!    (`/registry/pods/a/b` → `registry/pods/a/b`), so roots under different
//!    prefixes compare.
//! 3. Sort by that name (bytewise) and hash, with SHA-256, for each entry:
//!    u32 big-endian name length, name, u32 big-endian value length, value:
//!    the stored bytes, without the 32-byte tag that ends every value under
//!    `<state>/` (decision 0017: it depends on the master's state key and the
//!    full etcd key; the tag is not checked here), except that a value in kube's encryption envelope
//!    (`k8s:enc:…`) counts by its plaintext. The ciphertext authenticates the
//!    full etcd key, so it differs under another prefix; the plaintext does
//!    not. Computing a root over encrypted Secrets therefore needs the key.
//!    Sealed Secrets are stored opened (decision 0014), so their plaintext
//!    counts too; the root itself needs no sealing key.
//! 4. The root is the hex digest.
//!
//! Left out on purpose: the position and outcome batches (their keys depend
//! on how records were grouped into Txns), Node objects (kubelets write
//! them). Status that controllers write does count: compare a replay with a
//! live cluster whose controllers are stopped, or expect differences there.

use daas_domain::kinds::KINDS;
use etcd_client::Client;
use sha2::{Digest, Sha256};

use crate::{
    encryption::{EncryptionError, SecretKey},
    state::{self, Layout},
};

/// Why a root could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    /// etcd failed.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// An encrypted value without the key, or with the wrong one.
    #[error(
        "{key}: {source} (the state root counts Secrets by their plaintext: pass the encryption key)"
    )]
    Encrypted {
        /// The etcd key.
        key: String,
        /// Why.
        #[source]
        source: EncryptionError,
    },
}

/// The state root and how many entries it covers.
pub async fn state_root(
    client: &mut Client,
    layout: &Layout,
    secret_key: Option<&SecretKey>,
) -> Result<(String, usize), RootError> {
    let mut entries = entries(client, layout, secret_key).await?;
    Ok((root_of(&mut entries), entries.len()))
}

/// The named entries the root covers (step 1 and 2), unsorted.
pub async fn entries(
    client: &mut Client,
    layout: &Layout,
    secret_key: Option<&SecretKey>,
) -> Result<Vec<(String, Vec<u8>)>, RootError> {
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let mut resources: Vec<&str> = KINDS.iter().map(|k| k.etcd_resource).collect();
    resources.sort();
    resources.dedup();
    for r in resources {
        let prefix = format!("{}/{r}/", layout.registry);
        for kv in state::range(client, &prefix).await? {
            let rest = &kv.key()[layout.registry.len()..];
            let value = if kv.value().starts_with(b"k8s:enc:") {
                let key = String::from_utf8_lossy(kv.key()).into_owned();
                let open = match secret_key {
                    Some(k) => k.open(&key, kv.value()),
                    None => Err(EncryptionError::Key("none given".into())),
                };
                open.map_err(|source| RootError::Encrypted { key, source })?
            } else {
                kv.value().to_vec()
            };
            entries.push((format!("registry{}", String::from_utf8_lossy(rest)), value));
        }
    }
    for prefix in [layout.ledger_prefix(), layout.evictions_prefix()] {
        for kv in state::range(client, &prefix).await? {
            let rest = &kv.key()[layout.state.len()..];
            entries.push((
                format!("daas{}", String::from_utf8_lossy(rest)),
                crate::state_mac::payload(kv.value()).to_vec(),
            ));
        }
    }
    Ok(entries)
}

/// The hash of step 3 over `entries` (sorted here).
pub fn root_of(entries: &mut [(String, Vec<u8>)]) -> String {
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut h = Sha256::new();
    for (name, value) in entries.iter() {
        h.update((name.len() as u32).to_be_bytes());
        h.update(name.as_bytes());
        h.update((value.len() as u32).to_be_bytes());
        h.update(value);
    }
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_order_free_and_sensitive_to_every_byte() {
        let mut a = vec![
            ("registry/pods/a/x".to_string(), b"1".to_vec()),
            ("daas/ledger/k".into(), b"2".to_vec()),
        ];
        let mut b = vec![a[1].clone(), a[0].clone()];
        assert_eq!(root_of(&mut a), root_of(&mut b));
        b[0].1 = b"3".to_vec();
        assert_ne!(root_of(&mut a), root_of(&mut b));
        // Known answer for the empty state (SHA-256 of nothing).
        assert_eq!(
            root_of(&mut []),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
