//! What the verifier must remember across restarts, persisted by the caller
//! in the same write as the effects of the records it covers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sui_sdk_types::ValidatorCommittee;

use crate::sequence::Sequences;

/// The verifier's durable state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Every committee reached from the pinned genesis one, by epoch.
    pub committees: BTreeMap<u64, ValidatorCommittee>,
    /// Stream numbers and the last position applied.
    pub sequences: Sequences,
    /// The newest checkpoint certified so far: sequence number and digest.
    pub last_verified: Option<(u64, String)>,
    /// Where a restart must start reading so the proofs of the checkpoint
    /// in progress are read again (the offset of the record that carried
    /// that checkpoint's proof). Records before the caller's own position
    /// are only read for their proofs.
    pub resume_from: i64,
}

/// Why a stored state cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("verifier state: {0}")]
pub struct StateError(String);

impl State {
    /// The state of a fresh log: only the genesis committee.
    pub fn genesis(committee: ValidatorCommittee) -> Self {
        Self {
            committees: [(committee.epoch, committee)].into(),
            sequences: Sequences::default(),
            last_verified: None,
            resume_from: 0,
        }
    }

    /// The stored form (JSON).
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads [`State::encode`]'s form; the genesis committee in it must be
    /// the pinned one, or the stored state belongs to another chain.
    pub fn decode(bytes: &[u8], pinned: &ValidatorCommittee) -> Result<Self, StateError> {
        let s: State = serde_json::from_slice(bytes).map_err(|e| StateError(e.to_string()))?;
        if s.committees.get(&pinned.epoch) != Some(pinned) {
            return Err(StateError(
                "its genesis committee is not the pinned one".into(),
            ));
        }
        Ok(s)
    }

    /// The newest epoch whose committee is known.
    pub fn epoch(&self) -> u64 {
        self.committees.keys().next_back().copied().unwrap_or(0)
    }
}
