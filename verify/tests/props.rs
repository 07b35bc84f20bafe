//! Properties over hostile bytes: whatever a writer of the topic changes,
//! the verifier never panics and never releases an entry the chain did not
//! certify.

use std::collections::HashSet;

use daas_testkit::certified::{Chain, Ev, PACKAGE, encode, tx};
use daas_verify::{State, Verdict, Verifier};
use proptest::prelude::*;
use prost::Message;

fn chain() -> Chain {
    let mut c = Chain::new(4);
    for n in 0..3u8 {
        c.checkpoint(
            vec![
                tx(
                    2 * n + 1,
                    0,
                    vec![Ev::ours("gateway", "Future", vec![n; 16])],
                ),
                tx(
                    2 * n + 2,
                    0,
                    vec![Ev::ours("gateway", "Future", vec![n + 10; 16]); 2],
                ),
            ],
            false,
        );
    }
    c
}

/// What the honest log certifies: (position, contents) pairs.
fn certified(c: &Chain) -> HashSet<((u64, u64, u64), Vec<u8>)> {
    let mut v = Verifier::new(PACKAGE, State::genesis(c.genesis()), 0);
    let bytes = encode(&(0..3).flat_map(|i| c.records(i)).collect::<Vec<_>>(), 0);
    v.push(bytes)
        .items
        .into_iter()
        .filter_map(|i| match i.verdict {
            Verdict::Apply(e) => Some((
                (
                    e.position.checkpoint,
                    e.position.transaction_index,
                    e.position.event_index,
                ),
                e.bcs,
            )),
            _ => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(records in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20)) {
        let c = Chain::new(4);
        let mut v = Verifier::new(PACKAGE, State::genesis(c.genesis()), 0);
        let out = v.push(records.into_iter().enumerate().map(|(i, r)| (i as i64, r)).collect());
        prop_assert!(out.items.iter().all(|i| !matches!(i.verdict, Verdict::Apply(_))));
    }

    #[test]
    fn changed_bytes_never_release_what_the_chain_did_not_certify(
        flips in prop::collection::vec((0usize..9, any::<prop::sample::Index>(), 1u8..=255), 1..4),
    ) {
        let c = chain();
        let honest = certified(&c);
        prop_assert_eq!(honest.len(), 9);
        let mut records: Vec<Vec<u8>> = (0..3)
            .flat_map(|i| c.records(i))
            .map(|r| r.encode_to_vec())
            .collect();
        for (r, at, x) in flips {
            let bytes = &mut records[r];
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        let mut v = Verifier::new(PACKAGE, State::genesis(c.genesis()), 0);
        let out = v.push(records.into_iter().enumerate().map(|(i, r)| (i as i64, r)).collect());
        for item in out.items {
            if let Verdict::Apply(e) = item.verdict {
                let key = ((e.position.checkpoint, e.position.transaction_index, e.position.event_index), e.bcs);
                prop_assert!(honest.contains(&key), "released an uncertified entry {:?}", key);
            }
        }
    }
}
