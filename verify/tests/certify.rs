//! The verifier against a hand-built certified chain: honest records pass,
//! every kind of tampering is refused or held, never applied.

mod common;

use common::applied;
use daas_testkit::certified::{Chain, Ev, PACKAGE, encode, tx};
use daas_verify::{Refusal, State, Verdict, Verifier, verifier::Report};
use prost::Message;

fn unknown_event(n: u8) -> Ev {
    // An event type of ours the domain does not know: no stream, so the
    // order is by position only (the sequence tests use real events).
    Ev::ours("gateway", "FutureEvent", vec![n; 8])
}

fn verifier(chain: &Chain) -> Verifier {
    Verifier::new(PACKAGE, State::genesis(chain.genesis()), 0)
}

fn refusals(items: &[daas_verify::Item]) -> Vec<&'static str> {
    items
        .iter()
        .filter_map(|i| match &i.verdict {
            Verdict::Quarantine(r) => Some(r.label()),
            _ => None,
        })
        .collect()
}

/// Three checkpoints: 0 (two txs, three events), 1 (empty of ours), 2 (one tx).
fn three() -> Chain {
    let mut c = Chain::new(4);
    c.checkpoint(
        vec![
            tx(1, 0, vec![unknown_event(1), unknown_event(2)]),
            tx(2, 0, vec![unknown_event(3)]),
        ],
        false,
    );
    c.checkpoint(vec![tx(3, 0, vec![])], false);
    c.checkpoint(vec![tx(4, 0, vec![unknown_event(4)])], false);
    c
}

fn log(c: &Chain, cps: &[usize]) -> Vec<daas_proto::v1::LogRecord> {
    cps.iter().flat_map(|&i| c.records(i)).collect()
}

#[test]
fn an_honest_log_is_applied_from_the_certified_bytes() {
    let c = three();
    let mut v = verifier(&c);
    let out = v.push(encode(&log(&c, &[0, 2]), 0));
    assert_eq!(
        applied(&out.items),
        vec![
            (0, 0, 0, vec![1; 8]),
            (0, 0, 1, vec![2; 8]),
            (0, 1, 0, vec![3; 8]),
            (2, 0, 0, vec![4; 8]),
        ]
    );
    assert!(out.reports.is_empty(), "{:?}", out.reports);
    assert_eq!(v.state().last_verified.map(|l| l.0), Some(2));
    // Checkpoints 0 and 2 are not consecutive: one signature each.
    assert_eq!(v.signatures(), 2);
}

#[test]
fn consecutive_checkpoints_cost_one_signature_per_batch() {
    let mut c = Chain::new(4);
    for n in 0..20 {
        c.checkpoint(vec![tx(n + 1, 0, vec![unknown_event(n)])], false);
    }
    let mut v = verifier(&c);
    let out = v.push(encode(&log(&c, &(0..20).collect::<Vec<_>>()), 0));
    assert_eq!(applied(&out.items).len(), 20);
    assert_eq!(v.signatures(), 1);
}

#[test]
fn a_changed_copy_is_ignored_the_certified_event_is_applied() {
    let c = three();
    let mut records = log(&c, &[0]);
    records[1].bcs = b"changed manifest".to_vec();
    records[1].event_type = "0x1::gateway::K8sAPIRequest".into();
    let out = verifier(&c).push(encode(&records, 0));
    assert_eq!(applied(&out.items)[1], (0, 0, 1, vec![2; 8]));
}

#[test]
fn changed_events_in_a_proof_are_refused() {
    let c = three();
    let mut records = log(&c, &[0]);
    let mut events = c.checkpoints[0].txs[0].events.clone();
    events.0[1].contents = b"changed manifest".to_vec();
    records[0]
        .transaction_proof
        .as_mut()
        .expect("test data")
        .events_bcs = bcs::to_bytes(&events).expect("test data");
    let out = verifier(&c).push(encode(&records, 0));
    // The record with the bad proof is refused; the next record of that
    // transaction waits aside for a proof; the other tx is applied.
    assert_eq!(refusals(&out.items), vec!["events_digest"]);
    assert!(matches!(
        out.items[1].verdict,
        Verdict::Skip(daas_verify::verifier::Skip::Parked)
    ));
    assert_eq!(applied(&out.items), vec![(0, 1, 0, vec![3; 8])]);
}

#[test]
fn a_forged_record_without_proof_is_refused() {
    let c = three();
    let mut records = log(&c, &[0]);
    let mut forged = records[2].clone();
    forged.position.as_mut().expect("test data").checkpoint = 7;
    forged.checkpoint_proof = None;
    forged.transaction_proof = None;
    records.push(forged);
    let mut v = verifier(&c);
    let out = v.push(encode(&records, 0));
    // Kept aside (a proof for checkpoint 7 could still come), never applied,
    // and it blocks nothing.
    assert_eq!(applied(&out.items).len(), 3);
    assert!(matches!(
        out.items[3].verdict,
        Verdict::Skip(daas_verify::verifier::Skip::Parked)
    ));
    assert_eq!(v.parked(), 1);
    assert!(v.gap().is_none());
}

#[test]
fn a_forged_transaction_in_a_real_checkpoint_is_refused() {
    let c = three();
    let mut records = log(&c, &[0]);
    let fake = tx(9, 0, vec![unknown_event(9)]);
    let mut forged = records[2].clone();
    forged
        .position
        .as_mut()
        .expect("test data")
        .transaction_index = 2;
    forged.transaction_digest = fake.digest.inner().to_vec();
    forged.transaction_proof = Some(daas_proto::v1::TransactionProof {
        effects_bcs: bcs::to_bytes(&fake.effects).expect("test data"),
        events_bcs: bcs::to_bytes(&fake.events).expect("test data"),
    });
    records.push(forged);
    let out = verifier(&c).push(encode(&records, 0));
    assert_eq!(refusals(&out.items), vec!["not_in_checkpoint"]);
    assert_eq!(applied(&out.items).len(), 3);
}

#[test]
fn a_summary_without_quorum_is_refused() {
    let mut c = Chain::new(4);
    let t = tx(1, 0, vec![unknown_event(1)]);
    let summary = c.summary(std::slice::from_ref(&t), None);
    let two = c.validators[0].sign(&summary, &[0, 1]);
    c.push(summary, two, vec![t], None);
    let out = verifier(&c).push(encode(&log(&c, &[0]), 0));
    assert_eq!(refusals(&out.items), vec!["bad_signature"]);
    // With three of four it is certified.
    let mut c = Chain::new(4);
    let t = tx(1, 0, vec![unknown_event(1)]);
    let summary = c.summary(std::slice::from_ref(&t), None);
    let three = c.validators[0].sign(&summary, &[0, 2, 3]);
    c.push(summary, three, vec![t], None);
    let out = verifier(&c).push(encode(&log(&c, &[0]), 0));
    assert_eq!(applied(&out.items).len(), 1);
}

#[test]
fn another_chain_is_refused() {
    let c = three();
    let other = three();
    let mut v = Verifier::new(PACKAGE, State::genesis(other.genesis()), 0);
    let out = v.push(encode(&log(&c, &[0]), 0));
    assert!(applied(&out.items).is_empty());
    assert_eq!(refusals(&out.items)[0], "bad_signature");
}

#[test]
fn another_package_is_refused() {
    let mut c = Chain::new(4);
    let mut ev = unknown_event(1);
    ev.package = sui_sdk_types::Address::new([7; 32]);
    c.checkpoint(vec![tx(1, 0, vec![ev])], false);
    let out = verifier(&c).push(encode(&log(&c, &[0]), 0));
    assert_eq!(refusals(&out.items), vec!["other_package"]);
}

/// Epoch 0 ends at checkpoint 1 (none of our events); checkpoint 2 is in epoch 1.
fn two_epochs() -> Chain {
    let mut c = Chain::new(4);
    c.checkpoint(vec![tx(1, 0, vec![unknown_event(1)])], false);
    c.checkpoint(vec![tx(2, 0, vec![])], true);
    c.checkpoint(vec![tx(3, 1, vec![unknown_event(3)])], false);
    c
}

#[test]
fn a_certified_epoch_change_moves_the_committee() {
    let c = two_epochs();
    let mut records = log(&c, &[0]);
    records.push(c.epoch_change(1));
    records.extend(log(&c, &[2]));
    let mut v = verifier(&c);
    let out = v.push(encode(&records, 0));
    assert_eq!(applied(&out.items).len(), 2);
    assert_eq!(v.epoch(), 1);
    assert_eq!(v.committee(1), Some(&c.validators[1].committee));
}

#[test]
fn a_committee_change_the_old_committee_did_not_sign_is_refused() {
    let mut c = Chain::new(4);
    c.checkpoint(vec![tx(1, 0, vec![unknown_event(1)])], false);
    // Checkpoint 1 claims to end epoch 0 with a committee of the forger's,
    // and is signed by that new committee only.
    let forged = daas_testkit::certified::Validators::new(1, 4);
    let summary = c.summary(&[tx(2, 0, vec![])], Some(&forged));
    let sig = forged.sign(&summary, &[0, 1, 2, 3]);
    c.push(summary, sig, vec![tx(2, 0, vec![])], Some(forged));
    c.checkpoint(vec![tx(3, 1, vec![unknown_event(3)])], false);
    let mut records = log(&c, &[0]);
    records.push(c.epoch_change(1));
    records.extend(log(&c, &[2]));
    let mut v = verifier(&c);
    let out = v.push(encode(&records, 0));
    assert_eq!(refusals(&out.items), vec!["bad_signature"]);
    assert_eq!(applied(&out.items).len(), 1);
    assert_eq!(v.epoch(), 0);
    // The next epoch's record is held, not applied and not refused.
    assert_eq!(v.held(), 1);
    assert!(matches!(out.reports.last(), Some(Report::Gap(_))));
}

#[test]
fn a_missing_epoch_change_holds_until_it_arrives() {
    let c = two_epochs();
    let mut v = verifier(&c);
    let out = v.push(encode(&log(&c, &[0, 2]), 0));
    assert_eq!(applied(&out.items).len(), 1);
    assert_eq!(v.held(), 1);
    assert!(v.gap().is_some());
    // The epoch change arrives later in the log.
    let out = v.push(encode(&[c.epoch_change(1)], 2));
    assert_eq!(applied(&out.items), vec![(2, 0, 0, vec![3; 8])]);
    assert_eq!(
        out.items.len(),
        2,
        "the held record, then the epoch change record"
    );
    assert!(v.gap().is_none());
    assert!(out.reports.contains(&Report::GapFilled));
}

#[test]
fn records_before_the_position_only_prime_the_proofs() {
    let c = three();
    let bytes = encode(&log(&c, &[0]), 0);
    // Restart after offset 1 was applied: read from the checkpoint's first
    // record (its proof), release from offset 2.
    let mut v = Verifier::new(PACKAGE, State::genesis(c.genesis()), 2);
    let out = v.push(bytes);
    assert_eq!(applied(&out.items), vec![(0, 1, 0, vec![3; 8])]);
    assert_eq!(out.items[0].offset, Some(2));
    assert_eq!(out.items[0].mark.resume_from, 0);
}

#[test]
fn hostile_bytes_are_refused_not_panicked_on() {
    let c = three();
    let mut records = encode(&log(&c, &[0]), 0);
    records.push((3, vec![0xff; 40]));
    let mut bad_proof = log(&c, &[2]);
    bad_proof[0]
        .checkpoint_proof
        .as_mut()
        .expect("test data")
        .summary_bcs = vec![1, 2, 3];
    records.push((4, bad_proof[0].encode_to_vec()));
    let out = verifier(&c).push(records);
    assert_eq!(refusals(&out.items), vec!["malformed", "malformed_proof"]);
    assert!(matches!(
        out.reports.last(),
        Some(Report::Quarantined {
            refusal: Refusal::MalformedProof(_),
            ..
        })
    ));
}
