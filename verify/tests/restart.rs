//! Exactly once across restarts: a verifier stopped after any record and
//! restarted from the state stored with it (reading again from its resume
//! point) applies the same entries, in the same order, as one that never
//! stopped.

mod common;

use common::{Applied, applied, assert_same};
use daas_testkit::{certified, workload::Workload};
use daas_verify::{State, Verifier};

/// Applies `log` stopping once after the item at offset `cut - 1` (as the
/// engine would after committing it) and restarting from the stored state.
fn with_restart(log: &[(i64, Vec<u8>)], genesis: &State, cut: i64) -> Vec<Applied> {
    let mut v = Verifier::new(certified::PACKAGE, genesis.clone(), 0);
    let out = v.push(log.to_vec());
    // The engine commits items in order; stop after the last item that
    // moves the position to `cut` or less.
    let stop = out
        .items
        .iter()
        .rposition(|i| i.offset.is_some_and(|o| o < cut))
        .unwrap_or(0);
    let position = out.items[stop].offset.map_or(0, |o| o + 1);
    let mut before = applied(&out.items[..=stop]);
    let stored = v.state_at(&out.items[stop].mark).encode();
    let state = State::decode(&stored, &genesis.committees[&0]).expect("stored state");
    let from = state.resume_from.min(position);
    let mut v = Verifier::new(certified::PACKAGE, state, position);
    let out = v.push(log[from as usize..].to_vec());
    before.extend(applied(&out.items));
    before
}

#[test]
fn a_restart_after_any_record_applies_the_same_entries_in_the_same_order() {
    let records = Workload::new(7, 40).records(3_000);
    let log = certified::certify(&records, 4, 50);
    let genesis = State::genesis(log.chain.genesis());
    let bytes = certified::encode_bytes(&log.records, 0);
    let mut v = Verifier::new(certified::PACKAGE, genesis.clone(), 0);
    let once = applied(&v.push(bytes.clone()).items);
    // The same log in small pushes, as a reader delivers it.
    let mut v = Verifier::new(certified::PACKAGE, genesis.clone(), 0);
    let mut chunked = Vec::new();
    for chunk in bytes.chunks(137) {
        chunked.extend(applied(&v.push(chunk.to_vec()).items));
    }
    assert_same("small pushes", &chunked, &once);
    assert!(once.len() > 2_000, "{} applied", once.len());
    for cut in (1..bytes.len() as i64).step_by(97) {
        let restarted = with_restart(&bytes, &genesis, cut);
        assert_same(&format!("restart after offset {cut}"), &restarted, &once);
    }
}
