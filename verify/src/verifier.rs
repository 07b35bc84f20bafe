//! The verifier over the log: records in, verdicts out, in the order the
//! caller applies them.
//!
//! Records are taken in log order. Each becomes an [`Item`]: an entry to
//! apply (certified, next of its stream), a skip (duplicate, epoch change)
//! or a quarantine (refused). At a gap (a stream number above the expected
//! one, or a checkpoint of an epoch whose change is missing) nothing past it
//! is released: the records are held, and still read, until the missing
//! one arrives later in the log. It is then released first as an injected
//! item (no offset of its own), then the held records in order; its own
//! place in the log is skipped as a duplicate when reached.

use std::collections::{HashSet, VecDeque};

use daas_domain::{LogEntry, LogPosition};
use sui_sdk_types::{Address, ValidatorCommittee};

use crate::{
    Refusal,
    certifier::{Certified, Certifier},
    committee::Committees,
    record::RawRecord,
    sequence::{Order, Sequences},
    state::State,
};

/// At most this many records are held behind a gap. The caller stops
/// reading when [`Verifier::is_full`]: the missing record must come within
/// this many records of the gap, or the gap lasts until a restart.
pub const MAX_HELD: usize = 100_000;

/// What to do with one record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Apply this entry (rebuilt from certified bytes).
    Apply(Box<LogEntry>),
    /// Nothing to apply: an epoch change, or a record already applied.
    Skip(Skip),
    /// Refused: never applied.
    Quarantine(Refusal),
}

/// Why a record is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A certified epoch change: the committee moved on.
    EpochChange,
    /// Its stream already passed its number.
    Duplicate,
    /// No proof for it has come yet (its checkpoint's or transaction's
    /// proof-carrying record is not before it). It is kept aside and
    /// released ahead of its place if its proof comes later; a record
    /// nobody proves stays aside, blocking nothing.
    Parked,
}

/// At most this many records wait aside for their proofs; the oldest
/// beyond it are refused for good.
pub const MAX_PARKED: usize = 10_000;

/// One verdict, in apply order.
#[derive(Clone, Debug)]
pub struct Item {
    /// The record's offset; `None` for a record released ahead of its place
    /// (it filled a gap), which does not move the caller's log position.
    pub offset: Option<i64>,
    /// What to do.
    pub verdict: Verdict,
    /// The durable part of the verifier's state once this item is applied.
    pub mark: Mark,
}

/// The per-item part of [`State`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Streams after this item.
    pub sequences: Sequences,
    /// Where a restart after this item must start reading.
    pub resume_from: i64,
}

/// Something to tell the operator (log, metric, outcome).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Report {
    /// A record was refused.
    Quarantined {
        /// Its offset.
        offset: i64,
        /// Its claimed position.
        position: Option<LogPosition>,
        /// Why.
        refusal: Refusal,
    },
    /// Nothing past `offset` is applied until the missing record arrives.
    Gap(Gap),
    /// The gap closed.
    GapFilled,
    /// A certified record arrived after later positions were applied.
    Late(LogPosition),
    /// A record already applied came again.
    Duplicate(i64),
    /// A record waits aside for its proof.
    Parked(i64),
}

/// What is missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    /// A stream's record.
    Stream {
        /// The stream.
        stream: String,
        /// The number missing.
        expected: u64,
        /// The number that came instead.
        found: u64,
        /// The offset of the first held record.
        offset: i64,
    },
    /// The certified end of an epoch.
    Epoch {
        /// The epoch whose end is missing.
        ended: u64,
        /// The offset of the first held record.
        offset: i64,
    },
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gap::Stream {
                stream,
                expected,
                found,
                offset,
            } => write!(
                f,
                "stream {stream}: record {expected} is missing (found {found} at offset {offset})"
            ),
            Gap::Epoch { ended, offset } => write!(
                f,
                "the certified end of epoch {ended} is missing (held from offset {offset})"
            ),
        }
    }
}

/// What one call returns.
#[derive(Debug, Default)]
pub struct Output {
    /// Verdicts, in apply order.
    pub items: Vec<Item>,
    /// What to tell the operator.
    pub reports: Vec<Report>,
}

#[derive(Debug)]
struct Held {
    offset: i64,
    raw: Result<RawRecord, Refusal>,
    /// Already released ahead of its place.
    injected: bool,
}

/// The verifier.
#[derive(Debug)]
pub struct Verifier {
    certifier: Certifier,
    sequences: Sequences,
    resume_from: i64,
    held: VecDeque<Held>,
    parked: VecDeque<(i64, Result<RawRecord, Refusal>)>,
    gap: Option<Gap>,
    reported: HashSet<i64>,
    prime_below: i64,
}

impl Verifier {
    /// A verifier for `package` from `state`; records below `prime_below`
    /// (the caller's own position) are read only for their proofs.
    pub fn new(package: Address, state: State, prime_below: i64) -> Self {
        Self {
            certifier: Certifier::new(package, Committees::from_known(state.committees)),
            sequences: state.sequences,
            resume_from: state.resume_from,
            held: VecDeque::new(),
            parked: VecDeque::new(),
            gap: None,
            reported: HashSet::new(),
            prime_below,
        }
    }

    /// The newest checkpoint certified so far (as in [`State`]).
    pub fn last_verified(&self) -> Option<(u64, String)> {
        self.certifier.last_verified()
    }

    /// Every committee reached, by epoch.
    pub fn committees(&self) -> &std::collections::BTreeMap<u64, ValidatorCommittee> {
        self.certifier.committees.known()
    }

    /// The state once every item returned so far is applied.
    pub fn state(&self) -> State {
        self.state_at(&self.mark())
    }

    /// The state once the item carrying `mark` is applied.
    pub fn state_at(&self, mark: &Mark) -> State {
        State {
            committees: self.certifier.committees.known().clone(),
            sequences: mark.sequences.clone(),
            last_verified: self.certifier.last_verified(),
            resume_from: mark.resume_from,
        }
    }

    /// The open gap, if any.
    pub fn gap(&self) -> Option<&Gap> {
        self.gap.as_ref()
    }

    /// Records held behind the gap.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Summary signatures checked so far.
    pub fn signatures(&self) -> u64 {
        self.certifier.signatures
    }

    /// The newest epoch whose committee is known.
    pub fn epoch(&self) -> u64 {
        self.certifier.committees.current_epoch()
    }

    /// The committee of `epoch`, if reached.
    pub fn committee(&self, epoch: u64) -> Option<&ValidatorCommittee> {
        self.certifier.committees.known().get(&epoch)
    }

    fn mark(&self) -> Mark {
        // A restart must read parked records again.
        let parked = self.parked.front().map_or(i64::MAX, |p| p.0);
        Mark {
            sequences: self.sequences.clone(),
            resume_from: self.resume_from.min(parked),
        }
    }

    /// Records waiting aside for their proofs.
    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    /// Takes the next records (offset, bytes) of the log, in order.
    pub fn push(&mut self, records: Vec<(i64, Vec<u8>)>) -> Output {
        for (offset, bytes) in records {
            let raw = RawRecord::decode(&bytes);
            if offset < self.prime_below {
                self.prime(offset, raw);
            } else {
                self.held.push_back(Held {
                    offset,
                    raw,
                    injected: false,
                });
            }
        }
        let mut out = Output::default();
        self.release(&mut out);
        out
    }

    /// Whether the caller should stop reading until the gap closes.
    pub fn is_full(&self) -> bool {
        self.held.len() >= MAX_HELD
    }

    /// A record before the caller's position: already applied. Its proofs
    /// are read, and its stream counted as passed (which changes nothing
    /// when the stored state already counted it).
    /// Records the stored state has not counted (parked before the
    /// restart) are parked again.
    fn prime(&mut self, offset: i64, raw: Result<RawRecord, Refusal>) {
        let certs = self.certifier.certify(&[(offset, &raw)]);
        let park = match certs.first() {
            // Entries without a stream (types this reader does not know)
            // before the position count as applied.
            Some(Certified::Entry(e)) => {
                crate::sequence::stream_of(e).is_some()
                    && self.sequences.order(e) != Order::Duplicate
            }
            Some(Certified::Refused(r)) => missing_proof(r),
            _ => false,
        };
        if park {
            self.parked.push_back((offset, raw));
        }
    }

    /// Releases parked records that are now certified and next of their
    /// stream, ahead of their place; drops the ones already applied or
    /// refused for another reason. Whether any was released.
    fn unpark(&mut self, out: &mut Output) -> bool {
        let mut released = false;
        loop {
            let view: Vec<(i64, &Result<RawRecord, Refusal>)> =
                self.parked.iter().map(|(o, r)| (*o, r)).collect();
            let certs = self.certifier.certify(&view);
            let mut keep = VecDeque::new();
            let mut progress = false;
            for ((offset, raw), cert) in std::mem::take(&mut self.parked).into_iter().zip(certs) {
                match cert {
                    Certified::Entry(e) => match self.sequences.order(&e) {
                        Order::Next => {
                            progress = true;
                            self.inject(*e, out);
                        }
                        Order::Duplicate => {}
                        Order::Gap { .. } => keep.push_back((offset, raw)),
                    },
                    Certified::Refused(r) if !missing_proof(&r) => {
                        self.report_refusal(offset, r, out)
                    }
                    Certified::EpochChange(_) => {}
                    Certified::Refused(_) | Certified::NeedsEpoch(_) => {
                        keep.push_back((offset, raw))
                    }
                }
            }
            self.parked = keep;
            released |= progress;
            if !progress {
                return released;
            }
        }
    }

    /// Releases `entry` ahead of its place.
    fn inject(&mut self, entry: LogEntry, out: &mut Output) {
        if self.sequences.advance(&entry) {
            out.reports.push(Report::Late(entry.position));
        }
        out.items.push(Item {
            offset: None,
            verdict: Verdict::Apply(Box::new(entry)),
            mark: self.mark(),
        });
    }

    /// Puts the front held record aside until its proof comes.
    fn park(&mut self, out: &mut Output) {
        let Some(front) = self.held.front() else {
            return;
        };
        out.reports.push(Report::Parked(front.offset));
        self.parked.push_back((front.offset, front.raw.clone()));
        while self.parked.len() > MAX_PARKED {
            if let Some((offset, raw)) = self.parked.pop_front() {
                let r = match raw {
                    Ok(r) => Refusal::NoCheckpointProof(r.position.checkpoint),
                    Err(r) => r,
                };
                self.report_refusal(offset, r, out);
            }
        }
    }

    /// Releases what can be released; fills gaps from held records.
    fn release(&mut self, out: &mut Output) {
        loop {
            self.unpark(out);
            let view: Vec<(i64, &Result<RawRecord, Refusal>)> =
                self.held.iter().map(|h| (h.offset, &h.raw)).collect();
            let epoch_before = self.epoch();
            let certs = self.certifier.certify(&view);
            let Some((rest, gap)) = self.walk(certs, out) else {
                if self.unpark(out) {
                    continue;
                }
                if self.gap.take().is_some() {
                    out.reports.push(Report::GapFilled);
                }
                return;
            };
            if self.fill(&gap, rest, out, epoch_before) || self.unpark(out) {
                continue;
            }
            if self.gap.as_ref() != Some(&gap) {
                out.reports.push(Report::Gap(gap.clone()));
                self.gap = Some(gap);
            }
            return;
        }
    }

    /// Releases held records from the front until one cannot be; returns
    /// the certifications of the rest and the gap, or `None` when all went.
    fn walk(&mut self, certs: Vec<Certified>, out: &mut Output) -> Option<(Vec<Certified>, Gap)> {
        let mut certs = certs.into_iter();
        while let Some(cert) = certs.next() {
            let Some(front) = self.held.front() else {
                break;
            };
            let offset = front.offset;
            let verdict = if front.injected {
                Verdict::Skip(Skip::Duplicate)
            } else if matches!(&cert, Certified::Refused(r) if missing_proof(r)) {
                self.park(out);
                Verdict::Skip(Skip::Parked)
            } else {
                match self.judge(cert, offset, out) {
                    Ok(v) => v,
                    Err(gap) => {
                        // Aligned with `self.held`: the front stays held (it
                        // opened the gap, so it cannot fill it).
                        let mut rest = vec![Certified::NeedsEpoch(0)];
                        rest.extend(certs);
                        return Some((rest, gap));
                    }
                }
            };
            let held = self.held.pop_front()?;
            self.reported.remove(&held.offset);
            self.resume_after(&held);
            out.items.push(Item {
                offset: Some(held.offset),
                verdict,
                mark: self.mark(),
            });
        }
        None
    }

    /// The verdict on the front record, or the gap it opens.
    fn judge(&mut self, cert: Certified, offset: i64, out: &mut Output) -> Result<Verdict, Gap> {
        match cert {
            Certified::Refused(r) => {
                self.report_refusal(offset, r.clone(), out);
                Ok(Verdict::Quarantine(r))
            }
            Certified::EpochChange(_) => Ok(Verdict::Skip(Skip::EpochChange)),
            Certified::NeedsEpoch(_) => Err(Gap::Epoch {
                ended: self.epoch(),
                offset,
            }),
            Certified::Entry(e) => match self.sequences.order(&e) {
                Order::Next => {
                    if self.sequences.advance(&e) {
                        out.reports.push(Report::Late(e.position));
                    }
                    Ok(Verdict::Apply(e))
                }
                Order::Duplicate => {
                    out.reports.push(Report::Duplicate(offset));
                    Ok(Verdict::Skip(Skip::Duplicate))
                }
                Order::Gap {
                    stream,
                    expected,
                    found,
                } => Err(Gap::Stream {
                    stream,
                    expected,
                    found,
                    offset,
                }),
            },
        }
    }

    fn report_refusal(&mut self, offset: i64, refusal: Refusal, out: &mut Output) {
        if self.reported.insert(offset) {
            let position = self
                .held
                .iter()
                .find(|h| h.offset == offset)
                .and_then(|h| h.raw.as_ref().ok())
                .map(|r| r.position);
            out.reports.push(Report::Quarantined {
                offset,
                position,
                refusal,
            });
        }
    }

    /// Where a restart must read from once `held` is applied: the record
    /// that carried its checkpoint's proof. A record with no certified
    /// checkpoint (refused, parked) leaves it where it was, so the records
    /// after it in the same checkpoint still find their proof after a restart.
    fn resume_after(&mut self, held: &Held) {
        let proof = held
            .raw
            .as_ref()
            .ok()
            .and_then(|r| self.certifier.proof_offset(r.position.checkpoint));
        if let Some(proof) = proof {
            self.resume_from = proof.min(held.offset + 1);
        }
    }

    /// Looks for the record `gap` waits for among the held ones (`rest`,
    /// aligned with `self.held`); releases it ahead of its place when found.
    fn fill(
        &mut self,
        gap: &Gap,
        rest: Vec<Certified>,
        out: &mut Output,
        epoch_before: u64,
    ) -> bool {
        match gap {
            // The certifier took every certifiable epoch change among the
            // held records already: progress if the committee moved on.
            Gap::Epoch { .. } => self.epoch() > epoch_before,
            Gap::Stream {
                stream, expected, ..
            } => {
                if !rest.iter().any(
                    |c| matches!(c, Certified::Entry(e) if Sequences::fills(e, stream, *expected)),
                ) {
                    return false;
                }
                self.release_in_chain_order(rest, out)
            }
        }
    }

    /// The record a gap waits for is among the held ones: releases the
    /// held entries that come before the gap's front in chain order, in
    /// chain order, ahead of their places, while each is the next of its
    /// stream (so records of other streams keep their order around it).
    fn release_in_chain_order(&mut self, rest: Vec<Certified>, out: &mut Output) -> bool {
        let front = self
            .held
            .front()
            .and_then(|h| h.raw.as_ref().ok())
            .map(|r| r.position);
        let mut candidates: Vec<(usize, LogEntry)> = rest
            .into_iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Certified::Entry(e) if !self.held.get(i).is_some_and(|h| h.injected) => {
                    Some((i, *e))
                }
                _ => None,
            })
            .filter(|(_, e)| front.is_none_or(|f| e.position < f))
            .collect();
        candidates.sort_by_key(|(_, e)| e.position);
        let mut released = false;
        for (i, entry) in candidates {
            match self.sequences.order(&entry) {
                Order::Next => {
                    if let Some(h) = self.held.get_mut(i) {
                        h.injected = true;
                    }
                    self.inject(entry, out);
                    released = true;
                }
                Order::Duplicate => {}
                Order::Gap { .. } => break,
            }
        }
        released
    }
}

/// A refusal that a later record may lift: the proof was not before it.
fn missing_proof(r: &Refusal) -> bool {
    matches!(
        r,
        Refusal::NoCheckpointProof(_) | Refusal::NoTransactionProof(_)
    )
}
