//! What the verifier's tests share.

#![allow(dead_code)] // each test binary uses its own subset

use daas_verify::{Item, Verdict};

/// An applied entry: (checkpoint, transaction index, event index, contents).
pub type Applied = (u64, u64, u64, Vec<u8>);

/// The entries `items` apply, in order.
pub fn applied(items: &[Item]) -> Vec<Applied> {
    items
        .iter()
        .filter_map(|i| match &i.verdict {
            Verdict::Apply(e) => Some((
                e.position.checkpoint,
                e.position.transaction_index,
                e.position.event_index,
                e.bcs.clone(),
            )),
            _ => None,
        })
        .collect()
}

/// Fails, naming the first entry where `got` and `want` differ.
pub fn assert_same(what: &str, got: &[Applied], want: &[Applied]) {
    if got == want {
        return;
    }
    let first = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let at = |v: &[Applied]| v.get(first).map(|a| (a.0, a.1, a.2));
    panic!(
        "{what}: {} applied vs {}; first difference at entry {first}: {:?} vs {:?}",
        got.len(),
        want.len(),
        at(got),
        at(want)
    );
}
