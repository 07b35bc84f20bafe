//! Committees: the pinned genesis committee and the ratchet across epochs.
//!
//! The only committee taken on trust is the genesis one, from the master's
//! configuration. Epoch e+1's committee is taken from the
//! `end_of_epoch_data.next_epoch_committee` of epoch e's last summary, and
//! only once that summary is certified by epoch e's committee.

use std::collections::{BTreeMap, HashMap};

use sui_crypto::bls12381::ValidatorCommitteeSignatureVerifier;
use sui_sdk_types::{CheckpointSummary, ValidatorAggregatedSignature, ValidatorCommittee};

use crate::Refusal;

/// Why the pinned committee cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CommitteeError {
    /// The file is not a committee in `sui-sdk-types`' JSON form.
    #[error("not a validator committee (sui-sdk-types JSON): {0}")]
    Parse(String),
    /// The committee is not of epoch 0, or has no stake.
    #[error("not a genesis committee: {0}")]
    NotGenesis(String),
}

/// Reads the genesis committee from its JSON form (what `devnet committee`
/// prints and the dev chain writes to `genesis-committee.json`).
pub fn load_genesis_committee(json: &str) -> Result<ValidatorCommittee, CommitteeError> {
    let c: ValidatorCommittee =
        serde_json::from_str(json).map_err(|e| CommitteeError::Parse(e.to_string()))?;
    if c.epoch != 0 {
        return Err(CommitteeError::NotGenesis(format!(
            "its epoch is {}",
            c.epoch
        )));
    }
    if c.members.is_empty() || c.members.iter().all(|m| m.stake == 0) {
        return Err(CommitteeError::NotGenesis("it has no stake".into()));
    }
    ValidatorCommitteeSignatureVerifier::new(c.clone())
        .map_err(|e| CommitteeError::NotGenesis(format!("bad public key: {e}")))?;
    Ok(c)
}

/// Every committee reached so far, by epoch, with their signature checkers.
pub struct Committees {
    known: BTreeMap<u64, ValidatorCommittee>,
    checkers: HashMap<u64, ValidatorCommitteeSignatureVerifier>,
}

impl std::fmt::Debug for Committees {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Committees")
            .field("epochs", &self.known.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Committees {
    /// Starting from the pinned genesis committee.
    pub fn new(genesis: ValidatorCommittee) -> Self {
        Self::from_known([(genesis.epoch, genesis)].into())
    }

    /// From a persisted set (see [`crate::State`]).
    pub fn from_known(known: BTreeMap<u64, ValidatorCommittee>) -> Self {
        Self {
            known,
            checkers: HashMap::new(),
        }
    }

    /// The committees, by epoch.
    pub fn known(&self) -> &BTreeMap<u64, ValidatorCommittee> {
        &self.known
    }

    /// The newest epoch whose committee is known.
    pub fn current_epoch(&self) -> u64 {
        self.known.keys().next_back().copied().unwrap_or(0)
    }

    /// Whether epoch `epoch`'s committee is known.
    pub fn knows(&self, epoch: u64) -> bool {
        self.known.contains_key(&epoch)
    }

    /// Checks `signature` over `summary` with the committee of the summary's epoch.
    pub fn verify(
        &mut self,
        summary: &CheckpointSummary,
        signature: &ValidatorAggregatedSignature,
    ) -> Result<(), Refusal> {
        let bad = |reason: String| Refusal::BadSignature {
            checkpoint: summary.sequence_number,
            epoch: summary.epoch,
            reason,
        };
        let Some(committee) = self.known.get(&summary.epoch) else {
            return Err(bad("that epoch's committee is not known".into()));
        };
        let checker = match self.checkers.entry(summary.epoch) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => e.insert(
                ValidatorCommitteeSignatureVerifier::new(committee.clone())
                    .map_err(|e| bad(e.to_string()))?,
            ),
        };
        checker
            .verify_checkpoint_summary(summary, signature)
            .map_err(|e| bad(e.to_string()))
    }

    /// Takes the next committee from a certified end-of-epoch summary of
    /// the newest known epoch. The caller certified `summary` first.
    pub fn advance(&mut self, summary: &CheckpointSummary) -> Result<u64, Refusal> {
        let current = self.current_epoch();
        if summary.epoch != current {
            return Err(Refusal::BadEpochChange(format!(
                "the summary is of epoch {}, the newest known committee is of epoch {current}",
                summary.epoch
            )));
        }
        let Some(end) = &summary.end_of_epoch_data else {
            return Err(Refusal::BadEpochChange(format!(
                "checkpoint {} does not end its epoch",
                summary.sequence_number
            )));
        };
        if end.next_epoch_committee.is_empty() {
            return Err(Refusal::BadEpochChange(
                "the next committee is empty".into(),
            ));
        }
        let next = ValidatorCommittee {
            epoch: current + 1,
            members: end.next_epoch_committee.clone(),
        };
        self.known.insert(current + 1, next);
        Ok(current + 1)
    }
}
