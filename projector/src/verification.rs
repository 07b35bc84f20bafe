//! The projector's use of `daas-verify`: the stage between reading the log
//! and the processor.
//!
//! With verification on (the default), the processor sees only entries the
//! verifier rebuilt from bytes certified by Sui's validators, from the
//! pinned genesis committee on. A refused record gets a quarantine row with
//! its reason (`projector_verify_quarantined_total{reason}`, a log line);
//! at a gap nothing past it is projected (`projector_verify_gap`, a log line
//! naming the missing stream and number) until the missing record arrives;
//! parked and duplicate records change nothing. `--insecure-no-verify`
//! decodes records as they are and says so.
//!
//! The verifier always starts from genesis at offset 0: the projector reads
//! the log from offset 0 on start anyway (its ledger is not stored), so the
//! restored ledger is built from verified entries only, by the pushes made
//! before the last commit (up to the stored read offset, which can be past
//! the position: see [`crate::committer::StoredVerifier`]). The state stored
//! with each batch is then compared with the restored verifier's: a
//! projection made without verification (no state) or over a log that has
//! changed since is refused.

use std::collections::BTreeMap;

use daas_domain::LogEntry;
pub use daas_service::verification::VerifyMetrics;
use daas_verify::{
    RawRecord, Setup, SetupError, State, Verifier,
    verifier::{Mark, Report, Skip, Verdict},
};

use crate::processor::{self, Processor, Rows};

/// Between the log and the processor.
pub struct Stage {
    on: Option<Box<Verified>>,
    metrics: VerifyMetrics,
    /// Whether reports are logged, counted and recorded (not while the
    /// ledger is restored: those were when first read).
    pub quiet: bool,
}

struct Verified {
    verifier: Verifier,
    /// The state the projection was stored with, until the restore is checked.
    stored: Option<State>,
    /// The mark of the last item applied.
    last: Option<Mark>,
    /// Records read whose own item has not come (held behind a gap), or
    /// kept aside for their proof (parked): the bytes behind an item
    /// released ahead of its place, or a refusal reported later.
    aside: BTreeMap<i64, Vec<u8>>,
}

impl Stage {
    /// The stage for a projection stored up to `next_log` with `stored`
    /// verifier state (`None` in `setup` = verification off).
    pub fn open(
        setup: Option<&Setup>,
        stored: Option<&[u8]>,
        next_log: i64,
        metrics: VerifyMetrics,
    ) -> Result<Self, SetupError> {
        let Some(setup) = setup else {
            return Ok(Self {
                on: None,
                metrics,
                quiet: false,
            });
        };
        let stored = match stored {
            Some(b) => Some(
                State::decode(b, &setup.genesis).map_err(|e| SetupError::Stored(e.to_string()))?,
            ),
            None if next_log == 0 => None,
            // Projected before without verification: nothing says which of
            // those records the chain certified.
            None => {
                return Err(SetupError::Stored(format!(
                    "the projection was made up to offset {next_log} without verification; rebuild it with `projector rebuild`"
                )));
            }
        };
        let verifier = Verifier::new(setup.package, State::genesis(setup.genesis.clone()), 0);
        Ok(Self {
            on: Some(Box::new(Verified {
                verifier,
                stored,
                last: None,
                aside: BTreeMap::new(),
            })),
            metrics,
            quiet: false,
        })
    }

    /// Whether reading the log should pause (records held behind a gap
    /// fill memory).
    pub fn is_full(&self) -> bool {
        self.on.as_ref().is_some_and(|v| v.verifier.is_full())
    }

    /// After the restore: the restored verifier's streams must be the
    /// stored state's (the same records were certified and applied).
    pub fn check_restored(&mut self) -> Result<(), SetupError> {
        let Some(v) = self.on.as_mut() else {
            return Ok(());
        };
        let Some(stored) = v.stored.take() else {
            return Ok(());
        };
        let now = v.verifier.state();
        if now.sequences != stored.sequences {
            return Err(SetupError::Stored(
                "the log before the stored position no longer verifies to the streams stored with the projection (was it rewritten?); rebuild it with `projector rebuild`".into(),
            ));
        }
        Ok(())
    }

    /// The state to store with the rows fed so far (`None` when off).
    pub fn encoded(&self) -> Option<Vec<u8>> {
        let v = self.on.as_ref()?;
        let state = match &v.last {
            Some(mark) => v.verifier.state_at(mark),
            None => v.verifier.state(),
        };
        Some(state.encode())
    }

    /// Feeds `records` (consecutive, in log order) through the verifier to
    /// `processor`, appending rows to `rows`. Returns the next log offset
    /// the rows now reach, if they moved it (records held behind a gap do
    /// not). One push per call: the verifier checks one signature per push
    /// (at its last certified checkpoint) and hash-links the rest, so a
    /// caller hands over whatever records it has at once.
    pub fn feed(
        &mut self,
        records: Vec<(i64, Vec<u8>)>,
        processor: &mut Processor,
        rows: &mut Rows,
    ) -> Option<i64> {
        let Some(v) = self.on.as_mut() else {
            let next = records.last().map(|(o, _)| o + 1);
            for (offset, bytes) in &records {
                processor.process(*offset, bytes, rows);
            }
            return next;
        };
        let last_offset = records.last().map(|(o, _)| *o)?;
        v.aside.extend(records.iter().cloned());
        let out = v.verifier.push(records);
        if !self.quiet {
            self.metrics.observe(&out.reports, "projected");
        }
        for r in &out.reports {
            if let Report::Quarantined {
                offset, refusal, ..
            } = r
            {
                let raw = v.aside.remove(offset).unwrap_or_default();
                if !self.quiet {
                    let reason = format!("not verified ({}): {refusal}", refusal.label());
                    processor::refuse(rows, *offset, &reason, &raw);
                }
            }
        }
        let mut next = None;
        for item in out.items {
            // A parked record stays aside: its item may come again later.
            let own = match (item.offset, &item.verdict) {
                (Some(_), Verdict::Skip(Skip::Parked)) | (None, _) => None,
                (Some(o), _) => v.aside.remove(&o).map(|raw| (o, raw)),
            };
            next = item.offset.map(|o| o + 1).or(next);
            if let Verdict::Apply(entry) = &item.verdict {
                let (o, raw) = own
                    .or_else(|| v.origin(entry))
                    .unwrap_or_else(|| (last_offset, entry.encode()));
                processor.process_entry(o, entry, &raw, rows);
            }
            v.last = Some(item.mark);
        }
        v.prune();
        self.metrics.gauges(&v.verifier);
        next
    }
}

impl Verified {
    /// Forgets records before the last item's resume offset: a record held
    /// or parked is never before it (parked ones lower it), so those left
    /// aside were parked and then dropped as already applied.
    fn prune(&mut self) {
        if let Some(mark) = &self.last {
            self.aside = self.aside.split_off(&mark.resume_from);
        }
    }

    /// The record kept aside whose position is `entry`'s: the one released
    /// ahead of its place (taken out).
    fn origin(&mut self, entry: &LogEntry) -> Option<(i64, Vec<u8>)> {
        let offset = *self.aside.iter().find_map(|(o, b)| {
            RawRecord::decode(b)
                .is_ok_and(|r| r.position == entry.position)
                .then_some(o)
        })?;
        self.aside.remove(&offset).map(|b| (offset, b))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use daas_testkit::{certified, workload::Workload};
    use proptest::prelude::*;

    use super::*;

    /// A certified log of workload records, made once.
    fn honest() -> &'static certified::CertifiedLog {
        static LOG: OnceLock<certified::CertifiedLog> = OnceLock::new();
        LOG.get_or_init(|| certified::certify(&Workload::new(7, 10).records(200), 4, 5))
    }

    /// The rows of `records` fed through a verifying stage `chunk` records
    /// at a time.
    fn rows_of(records: &[Vec<u8>], chunk: usize) -> Rows {
        let setup = Setup {
            genesis: honest().chain.genesis(),
            package: certified::PACKAGE,
        };
        let metrics = VerifyMetrics::default();
        let mut stage = Stage::open(Some(&setup), None, 0, metrics).expect("a fresh stage");
        let (mut processor, mut rows) = (Processor::default(), Rows::default());
        let numbered: Vec<(i64, Vec<u8>)> = (0..).zip(records.iter().cloned()).collect();
        for records in numbered.chunks(chunk) {
            stage.feed(records.to_vec(), &mut processor, &mut rows);
        }
        rows
    }

    /// Without the quarantine (whose offsets move when records are added).
    fn kept_rows(records: &[Vec<u8>], chunk: usize) -> Rows {
        let mut rows = rows_of(records, chunk);
        rows.quarantine.clear();
        rows
    }

    /// A record of the honest log with its proofs taken away, claiming a
    /// checkpoint the chain has not made: the kind of record anyone can
    /// write to the topic.
    fn stripped(i: usize, checkpoint: u64) -> Vec<u8> {
        let log = honest();
        match LogEntry::decode(&log.records[i % log.records.len()]) {
            Ok(mut e) => {
                e.proof = Default::default();
                e.position.checkpoint = checkpoint;
                e.encode()
            }
            Err(_) => vec![0xff],
        }
    }

    /// The names the README and the decision give.
    #[test]
    fn the_metrics_are_named_projector_verify() {
        let m = crate::metrics::Metrics::default();
        let mut registry = prometheus_client::registry::Registry::default();
        m.register(&mut registry);
        m.verify
            .quarantined
            .get_or_create(&vec![("reason", "events_digest")])
            .inc();
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
        for name in [
            "projector_verify_quarantined_total{reason=\"events_digest\"} 1",
            "projector_verify_gap 0",
            "projector_verify_held 0",
            "projector_verify_parked 0",
        ] {
            assert!(text.contains(name), "{name} in:\n{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Records nobody certified, anywhere in the log (random bytes, or
        /// real records without their proofs), change no row but the
        /// quarantine's: the honest records project as they do alone, fed
        /// one by one; and how the records are cut into pushes changes no
        /// row at all.
        #[test]
        fn uncertified_records_change_no_row(
            chunk in 1usize..80,
            junk in prop::collection::vec(
                (any::<prop::sample::Index>(), prop_oneof![
                    prop::collection::vec(any::<u8>(), 0..300),
                    (any::<usize>(), 1_000u64..1_060).prop_map(|(i, c)| stripped(i, c)),
                ]),
                1..12,
            )
        ) {
            let log = honest();
            let mut records = log.records.clone();
            for (at, bytes) in junk {
                records.insert(at.index(records.len() + 1), bytes);
            }
            let want = kept_rows(&log.records, 1);
            prop_assert!(!want.requests.is_empty());
            prop_assert_eq!(kept_rows(&records, chunk), want);
            prop_assert_eq!(rows_of(&records, chunk), rows_of(&records, 1));
        }
    }
}
