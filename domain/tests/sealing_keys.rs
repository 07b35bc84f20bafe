//! The ledger's sealing keys: what it answers after registrations, and the
//! stored form of `Change::SealingKey` (JSON, as the master keeps it in etcd),
//! checked against hand-written values.

use daas_domain::{Address, Bytes, Event, Ledger, events::SealingKeyRegistered, ledger::Change};

const A: Address = Address([0xc1; 32]);
const B: Address = Address([0xc2; 32]);

fn registered(cluster: Address, version: u64, key: Vec<u8>) -> Event {
    Event::SealingKeyRegistered(SealingKeyRegistered {
        cluster_id: cluster,
        version,
        public_key: Bytes(key),
        registered_by: Address([9; 32]),
        timestamp_ms: 1,
        seq: 0,
    })
}

#[test]
fn every_version_is_kept_and_the_highest_is_current_per_cluster() {
    let mut ledger = Ledger::default();
    assert_eq!(ledger.current_sealing_key(A), None);
    let first = ledger.apply(&registered(A, 1, vec![0x11; 32]));
    assert_eq!(
        first.changes,
        vec![Change::SealingKey {
            cluster: A,
            version: 1,
            public_key: [0x11; 32]
        }]
    );
    assert!(first.decision.is_none());
    ledger.apply(&registered(A, 2, vec![0x22; 32]));
    ledger.apply(&registered(B, 1, vec![0x33; 32]));

    assert_eq!(ledger.current_sealing_key(A), Some((2, &[0x22; 32])));
    assert_eq!(
        ledger.sealing_key(A, 1),
        Some(&[0x11; 32]),
        "rotation keeps the old key"
    );
    assert_eq!(ledger.sealing_key(A, 3), None);
    assert_eq!(ledger.current_sealing_key(B), Some((1, &[0x33; 32])));
    assert_eq!(ledger.sealing_key(B, 2), None, "versions are per cluster");
    assert_eq!(ledger.current_sealing_key(Address([0xc3; 32])), None);
}

#[test]
fn a_key_the_chain_never_emits_changes_nothing() {
    let mut ledger = Ledger::default();
    ledger.apply(&registered(A, 1, vec![0x11; 32]));
    let before = ledger.clone();
    for bad in [
        registered(A, 2, vec![0x22; 31]),
        registered(A, 2, vec![0x22; 33]),
        registered(A, 0, vec![0x22; 32]),
        registered(A, u64::from(u32::MAX) + 1, vec![0x22; 32]),
    ] {
        assert!(ledger.apply(&bad).changes.is_empty());
        assert_eq!(ledger, before);
    }
}

#[test]
fn the_stored_change_is_keyed_by_cluster_and_version_and_reads_back() {
    let change = Change::SealingKey {
        cluster: A,
        version: 7,
        public_key: [0xab; 32],
    };
    let a = format!("0x{}", "c1".repeat(32));
    assert_eq!(change.store_key(), Some(format!("sealing_key/{a}/7")));
    assert!(!change.is_removal());
    let json = format!(
        r#"{{"SealingKey":{{"cluster":"{a}","version":7,"public_key":"0x{}"}}}}"#,
        "ab".repeat(32)
    );
    assert_eq!(serde_json::to_string(&change).expect("json"), json);
    let back: Change = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, change);

    let mut restored = Ledger::default();
    restored.restore(&back);
    assert_eq!(restored.current_sealing_key(A), Some((7, &[0xab; 32])));
}

#[test]
fn a_stored_key_of_another_size_or_a_version_over_u32_is_refused() {
    let a = format!("0x{}", "c1".repeat(32));
    for (version, key) in [
        ("7".to_owned(), "ab".repeat(31)),
        ("7".to_owned(), "ab".repeat(33)),
        ("7".to_owned(), "zz".repeat(32)),
        ("4294967296".to_owned(), "ab".repeat(32)),
    ] {
        let json = format!(
            r#"{{"SealingKey":{{"cluster":"{a}","version":{version},"public_key":"0x{key}"}}}}"#
        );
        assert!(
            serde_json::from_str::<Change>(&json).is_err(),
            "{version} {key}"
        );
    }
}
