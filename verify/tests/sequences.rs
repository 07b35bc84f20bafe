//! Completeness: a dropped record holds everything after it until it
//! arrives; swapped records are applied in chain order; an old record
//! replayed is a duplicate.

use daas_domain::{Address, Event, events::StakeDeposited};
use daas_testkit::certified::{Chain, Ev, PACKAGE, encode, tx};
use daas_verify::{
    State, Verifier,
    verifier::{Report, Skip, Verdict},
};

fn deposit(seq: u64) -> Ev {
    let e = Event::StakeDeposited(StakeDeposited {
        staker: Address([seq as u8; 32]),
        role: 0,
        amount: 1_000 + seq,
        total_after: 1_000 + seq,
        epoch: 0,
        timestamp_ms: 1,
        seq,
    });
    Ev::ours("staking", "StakeDeposited", e.to_bcs())
}

/// Five checkpoints, one deposit each: pool stream numbers 0..5.
fn chain() -> Chain {
    let mut c = Chain::new(4);
    for n in 0..5u8 {
        c.checkpoint(vec![tx(n + 1, 0, vec![deposit(u64::from(n))])], false);
        // A checkpoint without our events between them: no hash links.
        c.checkpoint(vec![tx(100 + n, 0, vec![])], false);
    }
    c
}

fn records(c: &Chain, order: &[usize]) -> Vec<daas_proto::v1::LogRecord> {
    order.iter().flat_map(|&n| c.records(2 * n)).collect()
}

/// The stream numbers applied, in order, and the offsets of the items.
fn applied(items: &[daas_verify::Item]) -> Vec<(u64, Option<i64>)> {
    items
        .iter()
        .filter_map(|i| match &i.verdict {
            Verdict::Apply(e) => match &e.body {
                daas_domain::Body::Event(ev) => Some((ev.seq(), i.offset)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn verifier(c: &Chain) -> Verifier {
    Verifier::new(PACKAGE, State::genesis(c.genesis()), 0)
}

#[test]
fn a_dropped_record_holds_everything_after_it_until_it_arrives() {
    let c = chain();
    let mut v = verifier(&c);
    let out = v.push(encode(&records(&c, &[0, 1, 3, 4]), 0));
    assert_eq!(applied(&out.items), vec![(0, Some(0)), (1, Some(1))]);
    assert_eq!(v.held(), 2);
    let gap = v.gap().expect("a gap").to_string();
    assert!(gap.contains("stream pool: record 2 is missing"), "{gap}");
    assert!(matches!(out.reports.last(), Some(Report::Gap(_))));
    // Nothing more comes, nothing more is released.
    let out = v.push(vec![]);
    assert!(out.items.is_empty());
    // The missing record arrives later in the log: it is released first,
    // without an offset, then the held ones, then its own place is skipped.
    let out = v.push(encode(&records(&c, &[2]), 4));
    assert_eq!(
        applied(&out.items),
        vec![(2, None), (3, Some(2)), (4, Some(3))]
    );
    assert_eq!(
        out.items.last().map(|i| (i.offset, i.verdict.clone())),
        Some((Some(4), Verdict::Skip(Skip::Duplicate)))
    );
    assert!(v.gap().is_none());
}

#[test]
fn swapped_records_are_applied_in_chain_order() {
    let c = chain();
    let out = verifier(&c).push(encode(&records(&c, &[0, 2, 1, 3]), 0));
    assert_eq!(
        applied(&out.items).iter().map(|a| a.0).collect::<Vec<_>>(),
        vec![0, 1, 2, 3]
    );
}

#[test]
fn an_old_record_replayed_at_the_end_is_a_duplicate() {
    let c = chain();
    let mut v = verifier(&c);
    let out = v.push(encode(&records(&c, &[0, 1, 2, 1]), 0));
    assert_eq!(applied(&out.items).len(), 3);
    assert_eq!(out.items[3].verdict, Verdict::Skip(Skip::Duplicate));
    assert!(out.reports.contains(&Report::Duplicate(3)));
}

#[test]
fn a_restart_resumes_from_the_stored_state() {
    let c = chain();
    let bytes = encode(&records(&c, &[0, 1, 2, 3, 4]), 0);
    let mut v = verifier(&c);
    let out = v.push(bytes[..2].to_vec());
    let state = v.state_at(&out.items[1].mark);
    // Stored, read back against the pinned committee, resumed at offset 2.
    let state = State::decode(&state.encode(), &c.genesis()).expect("state reads back");
    let mut v = Verifier::new(PACKAGE, state, 2);
    let out = v.push(bytes[2..].to_vec());
    assert_eq!(
        applied(&out.items).iter().map(|a| a.0).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    // Another chain's committee does not read it.
    let other = Chain::new(4);
    assert!(State::decode(&v.state().encode(), &other.genesis()).is_err());
}

#[test]
fn records_before_their_proof_wait_aside_and_are_released_when_it_comes() {
    let mut c = Chain::new(4);
    c.checkpoint(
        (0..3u8)
            .map(|n| tx(n + 1, 0, vec![deposit(u64::from(n))]))
            .collect(),
        false,
    );
    let records = c.records(0);
    let mut v = verifier(&c);
    // The records after the first come first: no proof of their checkpoint yet.
    let out = v.push(encode(&records[1..], 1));
    assert!(applied(&out.items).is_empty());
    assert!(
        out.items
            .iter()
            .all(|i| i.verdict == Verdict::Skip(Skip::Parked))
    );
    assert_eq!(v.parked(), 2);
    assert!(v.gap().is_none(), "parked records block nothing");
    // A restart now would read them again.
    assert!(out.items.last().is_some_and(|i| i.mark.resume_from <= 1));
    // The proof-carrying record comes: it, then the parked ones, in order.
    let out = v.push(encode(&records[..1], 3));
    assert_eq!(
        applied(&out.items),
        vec![(0, Some(3)), (1, None), (2, None)]
    );
    assert_eq!(v.parked(), 0);
}
