//! Exactly once across restarts: a verifier stopped after any record and
//! restarted from the state stored with it (reading again from its resume
//! point) applies the same entries, in the same order, as one that never
//! stopped.

use daas_testkit::{certified, workload::Workload};
use daas_verify::{State, Verdict, Verifier};

type Applied = Vec<((u64, u64, u64), Vec<u8>)>;

fn applied(items: &[daas_verify::Item]) -> Applied {
    items
        .iter()
        .filter_map(|i| match &i.verdict {
            Verdict::Apply(e) => Some((
                (
                    e.position.checkpoint,
                    e.position.transaction_index,
                    e.position.event_index,
                ),
                e.bcs.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// Applies `log` stopping once after the item at offset `cut - 1` (as the
/// engine would after committing it) and restarting from the stored state.
fn with_restart(log: &[(i64, Vec<u8>)], genesis: &State, cut: i64) -> Applied {
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
    if chunked != once {
        let first = chunked
            .iter()
            .zip(&once)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        panic!(
            "chunked: {} vs {}; first difference {first}: {:?} vs {:?}",
            chunked.len(),
            once.len(),
            chunked.get(first).map(|a| a.0),
            once.get(first).map(|a| a.0)
        );
    }
    assert!(once.len() > 2_000, "{} applied", once.len());
    for cut in (1..bytes.len() as i64).step_by(97) {
        let restarted = with_restart(&bytes, &genesis, cut);
        if restarted != once {
            let first = restarted
                .iter()
                .zip(&once)
                .position(|(a, b)| a != b)
                .unwrap_or(restarted.len().min(once.len()));
            panic!(
                "restart after offset {cut}: {} applied vs {}; first difference at entry {first}: {:?} vs {:?}",
                restarted.len(),
                once.len(),
                restarted.get(first).map(|a| a.0),
                once.get(first).map(|a| a.0)
            );
        }
    }
}
