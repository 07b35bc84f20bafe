//! The dev chain's validator committee: BLS12-381 keys derived from one seed
//! in the data folder, a new committee every epoch, and the aggregated
//! signature that certifies a checkpoint summary as Sui's validators do.
//!
//! The key of validator `i` in epoch `e` is
//! `Bls12381PrivateKey::new(sha256("k3s-daas devnet validator v1" || seed || e as u64 LE || i as u32 LE))`.
//! About half of all 32-byte values are not valid BLS12-381 scalars (zero or
//! not below the group order): such a value is hashed again with one counter
//! byte appended (1, 2, ... 255). If all 256 tries fail (probability below
//! 2^-220) the last hash with its top two bits cleared and its lowest bit set,
//! always a valid scalar, is the key. The committee of epoch `e` is those keys'
//! public keys ordered by their bytes (as Sui orders members; the signature
//! bitmap indexes that order), stake 1 each.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use sha2::{Digest as _, Sha256};
use sui_crypto::bls12381::Bls12381PrivateKey;
use sui_sdk_types::{
    Bitmap, Bls12381PublicKey, Bls12381Signature, CheckpointSummary, ValidatorAggregatedSignature,
    ValidatorCommittee, ValidatorCommitteeMember,
};

use crate::node::NodeError;

/// Validators a new chain has unless told otherwise.
pub const DEFAULT_VALIDATORS: usize = 4;
/// The most validators a chain may have.
pub const MAX_VALIDATORS: usize = 256;
/// The seed file in the data folder (64 hex characters, mode 0600).
pub const SEED_FILE: &str = "validators.seed";
/// The epoch-0 committee, `serde_json` of [`ValidatorCommittee`]: what
/// verifiers pin (`--genesis-committee FILE`).
pub const GENESIS_COMMITTEE_FILE: &str = "genesis-committee.json";

const KEY_DOMAIN: &[u8] = b"k3s-daas devnet validator v1";

/// The chain's validators: a seed and how many there are. Every epoch's keys
/// and committee follow from these two.
#[derive(Clone, PartialEq, Eq)]
pub struct Validators {
    seed: [u8; 32],
    n: usize,
}

impl std::fmt::Debug for Validators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Validators")
            .field("seed", &"__elided__")
            .field("n", &self.n)
            .finish()
    }
}

/// One epoch's committee with its private keys, in committee order.
pub struct EpochKeys {
    /// The committee (members ordered by public key bytes, stake 1 each).
    pub committee: ValidatorCommittee,
    /// `keys[i]` signs for `committee.members[i]`.
    pub keys: Vec<Bls12381PrivateKey>,
}

/// Why a checkpoint summary could not be certified.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// No signer was given.
    #[error("no signers")]
    NoSigners,
    /// A signer index is not a member of the committee.
    #[error("signer {index} is not in a committee of {members}")]
    NotAMember {
        /// The index.
        index: usize,
        /// Committee size.
        members: usize,
    },
    /// The keys do not match the committee's size.
    #[error("{keys} keys for a committee of {members}")]
    KeyCount {
        /// Keys given.
        keys: usize,
        /// Committee size.
        members: usize,
    },
    /// The same signer was given twice.
    #[error("signer {0} given twice")]
    Duplicate(usize),
    /// A signature would not aggregate (a key that produced bad bytes).
    #[error("aggregating signatures: {0}")]
    Aggregate(String),
}

fn key_error(path: &Path, reason: impl Into<String>) -> NodeError {
    NodeError::Key {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Validators `n` must be within `1..=MAX_VALIDATORS`.
pub fn check_count(n: usize) -> Result<usize, String> {
    if (1..=MAX_VALIDATORS).contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "a chain has 1 to {MAX_VALIDATORS} validators, not {n}"
        ))
    }
}

impl Validators {
    /// The validators of `seed`; `n` is clamped to `1..=MAX_VALIDATORS`
    /// (callers with outside input check it with [`check_count`] first).
    pub fn from_seed(seed: [u8; 32], n: usize) -> Self {
        Self {
            seed,
            n: n.clamp(1, MAX_VALIDATORS),
        }
    }

    /// The validators whose seed is in `dir`'s [`SEED_FILE`]; the file is made
    /// (32 random bytes, hex, mode 0600) if it does not exist.
    pub fn load_or_make(dir: &Path, n: usize) -> Result<Self, NodeError> {
        let path = dir.join(SEED_FILE);
        let n = check_count(n).map_err(|e| key_error(&path, e))?;
        if !path.exists() {
            make_seed(&path)?;
        }
        Self::load(dir, n)
    }

    /// The validators whose seed is in `dir`'s [`SEED_FILE`], which must exist.
    pub fn load(dir: &Path, n: usize) -> Result<Self, NodeError> {
        let path = dir.join(SEED_FILE);
        let n = check_count(n).map_err(|e| key_error(&path, e))?;
        let text = std::fs::read_to_string(&path).map_err(|e| key_error(&path, e.to_string()))?;
        let bytes =
            hex::decode(text.trim()).map_err(|e| key_error(&path, format!("not hex: {e}")))?;
        let seed: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            key_error(&path, format!("the seed is {} bytes, not 32", b.len()))
        })?;
        Ok(Self::from_seed(seed, n))
    }

    /// How many validators there are.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Never: a chain has at least one validator.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Epoch `epoch`'s committee and keys, in committee order.
    pub fn epoch(&self, epoch: u64) -> EpochKeys {
        let mut pairs: Vec<(Bls12381PublicKey, Bls12381PrivateKey)> = (0..self.n as u32)
            .map(|i| {
                let key = derive_key(&self.seed, epoch, i);
                (key.public_key(), key)
            })
            .collect();
        pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let members = pairs
            .iter()
            .map(|(public_key, _)| ValidatorCommitteeMember {
                public_key: *public_key,
                stake: 1,
            })
            .collect();
        EpochKeys {
            committee: ValidatorCommittee { epoch, members },
            keys: pairs.into_iter().map(|(_, k)| k).collect(),
        }
    }

    /// Epoch `epoch`'s committee.
    pub fn committee(&self, epoch: u64) -> ValidatorCommittee {
        self.epoch(epoch).committee
    }

    /// Epoch `epoch`'s private keys, in committee order.
    pub fn keys(&self, epoch: u64) -> Vec<Bls12381PrivateKey> {
        self.epoch(epoch).keys
    }
}

fn make_seed(path: &Path) -> Result<(), NodeError> {
    use rand_core::RngCore;
    let mut seed = [0u8; 32];
    rand_core::OsRng.fill_bytes(&mut seed);
    let tmp = path.with_extension("seed.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = || -> std::io::Result<()> {
        let mut f = options.open(&tmp)?;
        f.write_all(format!("{}\n", hex::encode(seed)).as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| key_error(path, e.to_string()))
}

/// Writes `committee` as [`GENESIS_COMMITTEE_FILE`]-style JSON to `path`
/// (through a temporary file and a rename, so readers never see half of it).
pub fn write_committee(path: &Path, committee: &ValidatorCommittee) -> Result<(), NodeError> {
    let json =
        serde_json::to_string_pretty(committee).map_err(|e| key_error(path, e.to_string()))?;
    let tmp: PathBuf = path.with_extension("json.tmp");
    std::fs::write(&tmp, format!("{json}\n"))
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| key_error(path, e.to_string()))
}

/// Reads a committee written by [`write_committee`].
pub fn read_committee(path: &Path) -> Result<ValidatorCommittee, NodeError> {
    let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| key_error(path, format!("not a committee: {e}")))
}

fn derive_key(seed: &[u8; 32], epoch: u64, index: u32) -> Bls12381PrivateKey {
    let base = Sha256::new()
        .chain_update(KEY_DOMAIN)
        .chain_update(seed)
        .chain_update(epoch.to_le_bytes())
        .chain_update(index.to_le_bytes());
    let mut bytes: [u8; 32] = base.clone().finalize().into();
    for counter in 1..=255u8 {
        if let Ok(key) = Bls12381PrivateKey::new(bytes) {
            return key;
        }
        bytes = base.clone().chain_update([counter]).finalize().into();
    }
    loop {
        if let Ok(key) = Bls12381PrivateKey::new(bytes) {
            return key;
        }
        // Below 2^254 (the group order is above it) and not zero: valid.
        bytes[0] &= 0x3f;
        bytes[31] |= 1;
    }
}

/// The aggregated signature of `signers` (indexes into `committee.members`,
/// whose keys are `keys[i]`) on `summary`, with the bitmap of who signed, as
/// Sui's validators certify a checkpoint. It does not check quorum: tests make
/// sub-quorum signatures with it, which verifiers must refuse.
pub fn certify(
    committee: &ValidatorCommittee,
    keys: &[Bls12381PrivateKey],
    signers: &[usize],
    summary: &CheckpointSummary,
) -> Result<ValidatorAggregatedSignature, CertifyError> {
    let members = committee.members.len();
    if keys.len() != members {
        return Err(CertifyError::KeyCount {
            keys: keys.len(),
            members,
        });
    }
    if signers.is_empty() {
        return Err(CertifyError::NoSigners);
    }
    let mut bitmap = Bitmap::new();
    let mut signatures = Vec::with_capacity(signers.len());
    let message = summary.signing_message();
    for &index in signers {
        let key = keys
            .get(index)
            .ok_or(CertifyError::NotAMember { index, members })?;
        if !bitmap.insert(index as u32) {
            return Err(CertifyError::Duplicate(index));
        }
        let signature: Bls12381Signature = sui_crypto::Signer::sign(key, &message);
        let point = blst::min_sig::Signature::from_bytes(signature.as_bytes())
            .map_err(|e| CertifyError::Aggregate(format!("{e:?}")))?;
        signatures.push(point);
    }
    let refs: Vec<&blst::min_sig::Signature> = signatures.iter().collect();
    let aggregate = blst::min_sig::AggregateSignature::aggregate(&refs, false)
        .map_err(|e| CertifyError::Aggregate(format!("{e:?}")))?;
    Ok(ValidatorAggregatedSignature {
        epoch: committee.epoch,
        signature: Bls12381Signature::new(aggregate.to_signature().to_bytes()),
        bitmap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sui_crypto::bls12381::ValidatorCommitteeSignatureVerifier;
    use sui_sdk_types::{Digest, GasCostSummary};

    fn summary(epoch: u64) -> CheckpointSummary {
        CheckpointSummary {
            epoch,
            sequence_number: 7,
            network_total_transactions: 3,
            content_digest: Digest::new([5; 32]),
            previous_digest: Some(Digest::new([6; 32])),
            epoch_rolling_gas_cost_summary: GasCostSummary::default(),
            timestamp_ms: 1_700_000_000_000,
            checkpoint_commitments: Vec::new(),
            end_of_epoch_data: None,
            version_specific_data: Vec::new(),
        }
    }

    #[test]
    fn committees_are_ordered_by_key_and_change_every_epoch() {
        let v = Validators::from_seed([9; 32], 4);
        let c0 = v.committee(0);
        let c1 = v.committee(1);
        assert_eq!(c0.epoch, 0);
        assert_eq!(c0.members.len(), 4);
        assert!(c0.members.iter().all(|m| m.stake == 1));
        assert!(
            c0.members
                .windows(2)
                .all(|w| w[0].public_key.as_bytes() < w[1].public_key.as_bytes())
        );
        assert!(c0.members.iter().all(|m| !c1.members.contains(m)));
        assert_eq!(v.committee(0), c0, "derivation is deterministic");
        assert_ne!(Validators::from_seed([8; 32], 4).committee(0), c0);
    }

    #[test]
    fn keys_follow_committee_order() {
        let v = Validators::from_seed([1; 32], 5);
        let e = v.epoch(3);
        let public: Vec<_> = e.keys.iter().map(|k| k.public_key()).collect();
        let members: Vec<_> = e.committee.members.iter().map(|m| m.public_key).collect();
        assert_eq!(public, members);
    }

    #[test]
    fn a_quorum_verifies_and_fewer_do_not() {
        let v = Validators::from_seed([2; 32], 4);
        let EpochKeys { committee, keys } = v.epoch(1);
        let s = summary(1);
        let verifier = ValidatorCommitteeSignatureVerifier::new(committee.clone()).expect("keys");
        for (signers, ok) in [
            (vec![0, 1, 2, 3], true),
            (vec![3, 1, 0], true),
            (vec![0, 1], false),
            (vec![2], false),
        ] {
            let sig = certify(&committee, &keys, &signers, &s).expect("certify");
            assert_eq!(sig.bitmap.iter().count(), signers.len());
            assert_eq!(
                verifier.verify_checkpoint_summary(&s, &sig).is_ok(),
                ok,
                "signers {signers:?}"
            );
        }
        // Epoch 1's signature does not verify against epoch 2's committee.
        let sig = certify(&committee, &keys, &[0, 1, 2, 3], &s).expect("certify");
        let other = ValidatorCommitteeSignatureVerifier::new(v.committee(2)).expect("keys");
        assert!(other.verify_checkpoint_summary(&s, &sig).is_err());
    }

    #[test]
    fn certify_refuses_bad_signer_lists() {
        let v = Validators::from_seed([3; 32], 4);
        let EpochKeys { committee, keys } = v.epoch(0);
        let s = summary(0);
        assert!(matches!(
            certify(&committee, &keys, &[], &s),
            Err(CertifyError::NoSigners)
        ));
        assert!(matches!(
            certify(&committee, &keys, &[4], &s),
            Err(CertifyError::NotAMember { index: 4, .. })
        ));
        assert!(matches!(
            certify(&committee, &keys, &[1, 1], &s),
            Err(CertifyError::Duplicate(1))
        ));
        assert!(matches!(
            certify(&committee, &keys[..3], &[0], &s),
            Err(CertifyError::KeyCount { .. })
        ));
    }

    #[test]
    fn the_seed_file_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = Validators::load_or_make(dir.path(), 4).expect("make");
        let b = Validators::load_or_make(dir.path(), 4).expect("load");
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(SEED_FILE))
                .expect("seed")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(SEED_FILE), "abcd\n").expect("write");
        assert!(Validators::load(dir.path(), 4).is_err(), "a short seed");
        assert!(Validators::load_or_make(dir.path(), 0).is_err());
    }

    #[test]
    fn a_committee_file_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(GENESIS_COMMITTEE_FILE);
        let c = Validators::from_seed([4; 32], 4).committee(0);
        write_committee(&path, &c).expect("write");
        assert_eq!(read_committee(&path).expect("read"), c);
    }
}
