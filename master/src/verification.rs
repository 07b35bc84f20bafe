//! The master's use of `daas-verify`: its configuration, the stage between
//! reading the log and applying it, and what it reports.
//!
//! With verification on (the default), nothing reaches the engine that the
//! verifier did not rebuild from bytes certified by Sui's validators,
//! starting from the pinned genesis committee. Refused records are skipped
//! and reported (log, `master_verify_quarantined_total{reason}`, and a
//! quarantined outcome on the outcome topic, named by the record's offset);
//! at a gap nothing past it is applied (`master_verify_gap`, log) until the
//! missing record arrives. `--insecure-no-verify` decodes records as they
//! are (for the benchmark baseline and logs made without proofs) and says so.

use std::sync::Arc;

pub use daas_service::verification::VerifyMetrics;
pub use daas_verify::args::{Setup, SetupError, VerifyArgs};
use daas_verify::{
    State, Verifier,
    verifier::{Item, Mark, Verdict},
};

use crate::apply::{Engine, Incoming, Refused};

/// The stage between the log and the engine.
pub enum Stage {
    /// Records decoded as they are.
    Off,
    /// Records verified.
    On(Box<Verifier>, StateEncoder),
}

impl Stage {
    /// The stage for `engine`, and the offset to start reading at (before
    /// the engine's own when the proofs of the checkpoint in progress lie
    /// there).
    pub fn open(setup: Option<&Setup>, engine: &Engine) -> Result<(Self, i64), SetupError> {
        let Some(setup) = setup else {
            return Ok((Stage::Off, engine.next_offset()));
        };
        let state = match engine.stored_verifier() {
            Some(bytes) => State::decode(bytes, &setup.genesis)
                .map_err(|e| SetupError::Stored(e.to_string()))?,
            None if engine.next_offset() == 0 => State::genesis(setup.genesis.clone()),
            // Applied before without verification: nothing says which of
            // those records the chain certified.
            None => {
                return Err(SetupError::Stored(format!(
                    "the state was applied up to offset {} without verification; rebuild it with `master replay` into a fresh prefix",
                    engine.next_offset()
                )));
            }
        };
        let from = state.resume_from.min(engine.next_offset());
        let verifier = Verifier::new(setup.package, state, engine.next_offset());
        Ok((Stage::On(Box::new(verifier), StateEncoder::default()), from))
    }

    /// Whether reading should pause (records held behind a gap fill memory).
    pub fn is_full(&self) -> bool {
        matches!(self, Stage::On(v, _) if v.is_full())
    }

    /// The records for the engine from the next records of the log.
    pub fn push(&mut self, records: Vec<(i64, Vec<u8>)>, m: &VerifyMetrics) -> Vec<Incoming> {
        match self {
            Stage::Off => records
                .iter()
                .map(|(_, bytes)| Incoming::unverified(bytes))
                .collect(),
            Stage::On(v, enc) => {
                let out = v.push(records);
                m.observe(&out.reports, "applied");
                m.gauges(v);
                enc.begin(v);
                out.items.into_iter().map(|i| incoming(i, enc)).collect()
            }
        }
    }
}

/// Encodes the verifier's state after an item, byte for byte as
/// [`State::encode`] does, without cloning and re-encoding the committees
/// for every record: their JSON is kept until a new epoch is reached (the
/// only way they change), and the last verified checkpoint's is made once
/// per batch of records. Items carry a [`PendingState`]; only the one the
/// engine stores (the last of each etcd Txn) is encoded.
#[derive(Debug, Default)]
pub struct StateEncoder {
    /// The epoch reached, and the parts shared by the latest batch's items.
    current: Option<(u64, Arc<Shared>)>,
}

/// The parts of the state that are the same for every item of a batch.
#[derive(Debug)]
struct Shared {
    committees: Arc<str>,
    last_verified: String,
}

impl StateEncoder {
    /// Prepares for the items of `v`'s latest batch.
    pub fn begin(&mut self, v: &Verifier) {
        let epoch = v.epoch();
        let committees = match &self.current {
            Some((e, shared)) if *e == epoch => shared.committees.clone(),
            _ => Arc::from(serde_json::to_string(v.committees()).unwrap_or_default()),
        };
        let last_verified = serde_json::to_string(&v.last_verified()).unwrap_or_default();
        self.current = Some((
            epoch,
            Arc::new(Shared {
                committees,
                last_verified,
            }),
        ));
    }

    /// The state after the item carrying `mark`, to encode if stored.
    pub fn pending(&self, mark: Mark) -> PendingState {
        PendingState {
            shared: self.current.as_ref().map(|(_, s)| s.clone()),
            mark,
        }
    }
}

/// The verifier's state after one item, encoded only when stored.
#[derive(Clone, Debug)]
pub struct PendingState {
    shared: Option<Arc<Shared>>,
    mark: Mark,
}

impl PendingState {
    /// `State::encode()` of this state.
    pub fn encode(&self) -> Vec<u8> {
        let (committees, last_verified) = self
            .shared
            .as_ref()
            .map_or(("", ""), |s| (&*s.committees, s.last_verified.as_str()));
        let sequences = serde_json::to_string(&self.mark.sequences).unwrap_or_default();
        format!(
            "{{\"committees\":{committees},\"sequences\":{sequences},\"last_verified\":{last_verified},\"resume_from\":{}}}",
            self.mark.resume_from
        )
        .into_bytes()
    }
}

fn incoming(item: Item, enc: &StateEncoder) -> Incoming {
    let advances = item.offset.is_some();
    let (entry, refused) = match item.verdict {
        Verdict::Apply(e) => (Some(*e), None),
        Verdict::Skip(_) => (None, None),
        // A refusal is always judged at the record's own place.
        Verdict::Quarantine(r) => (
            None,
            item.offset.map(|offset| Refused {
                offset,
                label: r.label(),
                reason: r.to_string(),
            }),
        ),
    };
    Incoming {
        entry,
        advances,
        verifier: Some(enc.pending(item.mark)),
        refused,
    }
}

#[cfg(test)]
mod tests {
    use daas_testkit::{certified, workload::Workload};
    use daas_verify::{State, Verifier};

    use super::StateEncoder;

    /// The encoder's bytes are `State::encode`'s after every item, across
    /// epoch changes and batches.
    #[test]
    fn the_encoder_writes_what_state_encode_writes() {
        let log = certified::certify(&Workload::new(5, 20).records(300), 4, 6);
        let mut v = Verifier::new(certified::PACKAGE, State::genesis(log.chain.genesis()), 0);
        let mut enc = StateEncoder::default();
        let mut items = 0;
        for (i, batch) in log.records.chunks(37).enumerate() {
            let out = v.push(certified::encode_bytes(batch, (i * 37) as i64));
            enc.begin(&v);
            for item in &out.items {
                let want = v.state_at(&item.mark).encode();
                assert_eq!(
                    String::from_utf8_lossy(&enc.pending(item.mark.clone()).encode()),
                    String::from_utf8_lossy(&want)
                );
                items += 1;
            }
        }
        assert_eq!(items, log.records.len());
        assert!(v.epoch() >= 2);
    }
}
