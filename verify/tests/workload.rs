//! A workload's records wrapped by `testkit::certified` pass the verifier:
//! every certified record is applied with the meaning it had, every junk
//! record is quarantined, and the committees ratchet to the chain's last.

use daas_domain::LogEntry;
use daas_testkit::{certified, workload::Workload};
use daas_verify::{State, Verdict, Verifier};

#[test]
fn a_certified_workload_verifies_record_for_record() {
    let records = Workload::new(3, 40).records(600);
    let log = certified::certify(&records, 4, 20);
    assert_eq!(log.records.len(), records.len());
    assert!(log.chain.epoch >= 2, "epochs: {}", log.chain.epoch);
    let mut v = Verifier::new(certified::PACKAGE, State::genesis(log.chain.genesis()), 0);
    let out = v.push(certified::encode_bytes(&log.records, 0));
    assert!(v.gap().is_none(), "{:?}", v.gap());
    assert_eq!(out.items.len(), records.len());
    let mut applied = 0;
    for item in &out.items {
        let i = item.offset.expect("no gap: every item is in place") as usize;
        let original = LogEntry::decode(&records[i]);
        match &item.verdict {
            Verdict::Apply(e) => {
                applied += 1;
                let original = original.expect("a certified record was a record");
                assert_eq!(e.body, original.body, "record {i}");
                assert_eq!(e.sender, original.sender, "record {i}");
                assert_eq!(e.bcs, original.bcs, "record {i}");
            }
            Verdict::Quarantine(r) => {
                assert_eq!(log.records[i], records[i], "record {i} refused: {r}");
            }
            Verdict::Skip(s) => panic!("record {i} skipped: {s:?}"),
        }
    }
    assert_eq!(applied, log.certified);
    assert!(log.certified < records.len(), "the workload has junk");
    assert_eq!(v.epoch(), log.chain.epoch);
    let last = log.chain.checkpoints.len() as u64 - 1;
    assert_eq!(v.state().last_verified.map(|(s, _)| s), Some(last));
}
