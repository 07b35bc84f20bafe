//! Certifying summaries: one signature check per run of linked summaries.
//!
//! A run is a stretch of summaries with consecutive sequence numbers in one
//! epoch, ending at the latest at an end-of-epoch summary. The last summary
//! of a run is checked by signature (about a millisecond); each earlier one
//! is certified by the next one's `previous_digest`, which the certified
//! next summary vouches for. A broken link or a failed signature falls back
//! to a signature check of the summary before it. An end-of-epoch summary
//! always ends its run, so the next epoch's committee is taken only from a
//! summary its own epoch's committee signed.

use crate::{Refusal, committee::Committees, proof::ParsedCheckpoint};

/// What became of one summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cert {
    /// Certified by signature or by a link from a certified summary.
    Certified,
    /// Refused.
    Refused(Refusal),
    /// Of an epoch whose committee is not known yet: wait for its change.
    NeedsEpoch(u64),
}

/// Certifies `summaries` (in log order), advancing `committees` at every
/// certified end-of-epoch summary of the newest known epoch. Returns one
/// result per summary and how many signatures it checked.
pub fn certify(committees: &mut Committees, summaries: &[&ParsedCheckpoint]) -> (Vec<Cert>, usize) {
    let mut out = Vec::with_capacity(summaries.len());
    let mut signatures = 0;
    let mut i = 0;
    while i < summaries.len() {
        let j = run_end(summaries, i);
        let run = &summaries[i..j];
        let epoch = run[0].summary.epoch;
        if committees.knows(epoch) {
            let (certs, n) = certify_run(committees, run);
            signatures += n;
            let last = run.len() - 1;
            if certs[last] == Cert::Certified
                && run[last].summary.end_of_epoch_data.is_some()
                && epoch == committees.current_epoch()
            {
                // Refusals here leave the committee as it was; the next
                // epoch's summaries then wait for a good epoch change.
                let _ = committees.advance(&run[last].summary);
            }
            out.extend(certs);
        } else if epoch > committees.current_epoch() {
            out.extend(run.iter().map(|_| Cert::NeedsEpoch(epoch)));
        } else {
            out.extend(run.iter().map(|p| {
                Cert::Refused(Refusal::BadSignature {
                    checkpoint: p.summary.sequence_number,
                    epoch,
                    reason: "that epoch's committee is not known".into(),
                })
            }));
        }
        i = j;
    }
    (out, signatures)
}

/// The end (exclusive) of the run starting at `i`.
fn run_end(s: &[&ParsedCheckpoint], i: usize) -> usize {
    let mut j = i + 1;
    while j < s.len()
        && s[j - 1].summary.end_of_epoch_data.is_none()
        && s[j].summary.epoch == s[i].summary.epoch
        && Some(s[j].summary.sequence_number) == s[j - 1].summary.sequence_number.checked_add(1)
    {
        j += 1;
    }
    j
}

/// Certifies one run from its end backwards.
fn certify_run(committees: &mut Committees, run: &[&ParsedCheckpoint]) -> (Vec<Cert>, usize) {
    let mut certs: Vec<Option<Cert>> = vec![None; run.len()];
    let mut signatures = 0;
    let mut tail = run.len();
    while tail > 0 {
        let k = tail - 1;
        signatures += 1;
        match committees.verify(&run[k].summary, &run[k].signature) {
            Err(r) => {
                certs[k] = Some(Cert::Refused(r));
                tail = k;
            }
            Ok(()) => {
                certs[k] = Some(Cert::Certified);
                let mut m = k;
                while m > 0 && run[m].summary.previous_digest == Some(run[m - 1].digest) {
                    certs[m - 1] = Some(Cert::Certified);
                    m -= 1;
                }
                tail = m;
            }
        }
    }
    let certs = certs
        .into_iter()
        .map(|c| c.unwrap_or(Cert::NeedsEpoch(0)))
        .collect();
    (certs, signatures)
}
