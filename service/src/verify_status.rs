//! What a verifying reader's verifier has reached, served by the master as
//! `GET /v1/verification` and printed by `master check --api`: the epoch,
//! the last certified checkpoint and, while one holds, the gap (which
//! stream's record is missing), so an operator need not read logs to learn
//! what the master waits for.

use std::sync::{Arc, RwLock};

use daas_verify::{Verifier, verifier::Gap};
use serde::{Deserialize, Serialize};

/// The verifier's progress, as served.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyView {
    /// False when the reader runs with `--insecure-no-verify`.
    pub verifying: bool,
    /// The newest epoch whose committee was reached.
    pub epoch: u64,
    /// The newest certified checkpoint: sequence number and digest.
    pub last_verified: Option<(u64, String)>,
    /// The gap holding the log back, if any.
    pub gap: Option<GapView>,
    /// Records held behind the gap.
    pub held: usize,
    /// Records kept aside until their proof comes.
    pub parked: usize,
}

/// A gap, as served.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapView {
    /// The stream whose record is missing (`pool`, `nodes`, `enclave`,
    /// `cluster/0x…`), or `epoch` for a missing end of epoch.
    pub stream: String,
    /// The missing number (for `epoch`: the epoch whose end is missing).
    pub missing: u64,
    /// The offset of the first record held behind it.
    pub held_from: i64,
    /// The sentence the log prints.
    pub text: String,
}

impl From<&Gap> for GapView {
    fn from(gap: &Gap) -> Self {
        let text = gap.to_string();
        match gap {
            Gap::Stream {
                stream,
                expected,
                offset,
                ..
            } => GapView {
                stream: stream.clone(),
                missing: *expected,
                held_from: *offset,
                text,
            },
            Gap::Epoch { ended, offset } => GapView {
                stream: "epoch".into(),
                missing: *ended,
                held_from: *offset,
                text,
            },
        }
    }
}

/// The shared view, written by the verification stage after each batch.
#[derive(Clone, Debug, Default)]
pub struct VerifyStatus(Arc<RwLock<VerifyView>>);

impl VerifyStatus {
    /// Records where `v` is.
    pub fn update(&self, v: &Verifier) {
        let view = VerifyView {
            verifying: true,
            epoch: v.epoch(),
            last_verified: v.last_verified(),
            gap: v.gap().map(GapView::from),
            held: v.held(),
            parked: v.parked(),
        };
        if let Ok(mut w) = self.0.write() {
            *w = view;
        }
    }

    /// What was last recorded.
    pub fn view(&self) -> VerifyView {
        self.0.read().map(|v| v.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_gap_names_the_stream_and_the_missing_number() {
        let gap = Gap::Stream {
            stream: "pool".into(),
            expected: 7,
            found: 9,
            offset: 120,
        };
        let v = GapView::from(&gap);
        assert_eq!(
            (v.stream.as_str(), v.missing, v.held_from),
            ("pool", 7, 120)
        );
        assert_eq!(
            v.text,
            "stream pool: record 7 is missing (found 9 at offset 120)"
        );
        let e = GapView::from(&Gap::Epoch {
            ended: 3,
            offset: 5,
        });
        assert_eq!((e.stream.as_str(), e.missing, e.held_from), ("epoch", 3, 5));
    }
}
