//! Properties of the ledger over generated event sequences.

use daas_domain::{
    Address, Bytes, Event, Ledger, Role,
    events::*,
    ledger::{Applied, Change},
};
use proptest::prelude::*;

#[path = "support/requests.rs"]
mod requests;
use requests::Target;

const CLUSTER: Address = Address([0xc1; 32]);
const ADMIN: Address = Address([0xad; 32]);

fn who() -> impl Strategy<Value = Address> {
    (0u8..4).prop_map(|i| Address([i + 1; 32]))
}

/// Amounts that sit on both sides of every minimum and tier.
fn amount() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(499_999_999),
        Just(500_000_000),
        Just(999_999_999),
        Just(1_000_000_000),
        Just(5_000_000_000),
        Just(10_000_000_000),
        1u64..20_000_000_000,
    ]
}

fn node_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("node-1".to_string()),
        Just("node-2".to_string()),
        Just("node-3".to_string())
    ]
}

fn kind() -> impl Strategy<Value = (&'static str, &'static str)> {
    prop_oneof![
        Just(("Namespace", "v1")),
        Just(("ConfigMap", "v1")),
        Just(("Pod", "v1")),
        Just(("Deployment", "apps/v1")),
        Just(("Secret", "v1")),
        Just(("Widget", "example.com/v1")),
    ]
}

fn request() -> impl Strategy<Value = Event> {
    (
        who(),
        prop_oneof![
            Just("create"),
            Just("apply"),
            Just("replace"),
            Just("delete"),
            Just("get")
        ],
        kind(),
        prop_oneof![Just("team-a"), Just("team-b"), Just("default")],
        prop_oneof![Just("web"), Just("api"), Just("Bad_Name")],
        any::<bool>(),
        0u64..1000,
    )
        .prop_map(|(sender, verb, (kind, api), ns, name, valid, id)| {
            let (namespace, name) = if kind == "Namespace" {
                ("", ns)
            } else {
                (ns, name)
            };
            let manifest = if valid {
                requests::manifest(api, kind, namespace, name)
            } else {
                "{not: [valid".to_string()
            };
            let target = Target {
                cluster: CLUSTER,
                sender,
                verb,
                api,
                kind,
                namespace,
                name,
            };
            requests::request(target, id, manifest)
        })
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        3 => (who(), 0u8..3, amount(), amount()).prop_map(|(staker, role, amount, total_after)| {
            Event::StakeDeposited(StakeDeposited { staker, role, amount, total_after, epoch: 1, timestamp_ms: 1, seq: 0 })
        }),
        1 => (who(), 0u8..3, amount(), amount()).prop_map(|(staker, role, amount, total_after)| {
            Event::StakeWithdrawn(StakeWithdrawn { staker, role, amount, total_after, epoch: 1, timestamp_ms: 1, seq: 0 })
        }),
        2 => (who(), 0u8..3, amount(), amount()).prop_map(|(staker, role, amount, total_after)| {
            Event::StakeSlashed(StakeSlashed {
                staker, role, amount, total_after, reason: "r".into(), slashed_by: ADMIN, epoch: 1, timestamp_ms: 1, seq: 0,
            })
        }),
        2 => (who(), node_name()).prop_map(|(operator, node_name)| {
            Event::NodeRegistered(NodeRegistered {
                operator, node_name, public_key: Bytes(vec![7; 32]), endpoint: "e".into(), timestamp_ms: 1, seq: 0,
            })
        }),
        1 => (who(), node_name()).prop_map(|(operator, node_name)| {
            Event::NodeDeregistered(NodeDeregistered { operator, node_name, timestamp_ms: 1, seq: 0 })
        }),
        1 => (who(), prop_oneof![Just("team-a"), Just("team-b")], 0u8..2).prop_map(|(grantee, ns, role)| {
            Event::NamespaceGranted(NamespaceGranted {
                cluster_id: CLUSTER, namespace: ns.into(), grantee, role, granted_by: ADMIN, timestamp_ms: 1, seq: 0,
            })
        }),
        1 => who().prop_map(|grantee| {
            Event::NamespaceGranted(NamespaceGranted {
                cluster_id: CLUSTER, namespace: "*".into(), grantee, role: 2, granted_by: ADMIN, timestamp_ms: 1, seq: 0,
            })
        }),
        1 => (who(), prop_oneof![Just("team-a"), Just("team-b"), Just("*")]).prop_map(|(grantee, ns)| {
            Event::NamespaceRevoked(NamespaceRevoked {
                cluster_id: CLUSTER, namespace: ns.into(), grantee, revoked_by: ADMIN, timestamp_ms: 1, seq: 0,
            })
        }),
        1 => sealing_key(),
        1 => enclave(),
        5 => request(),
    ]
}

/// Attested enclaves: a few keys, registered again with newer documents.
fn enclave() -> impl Strategy<Value = Event> {
    (0u8..3, 1u64..4, any::<u8>(), 0u64..1_000).prop_map(|(key, version, seal, at)| {
        Event::EnclaveRegistered(EnclaveRegistered {
            cluster_id: CLUSTER,
            pcr_version: 1,
            public_key: Bytes(vec![key; 32]),
            sealing_key_version: version,
            sealing_public_key: Bytes(vec![seal; 32]),
            module_id: Bytes(b"k3s-daas-dev-enclave".to_vec()),
            attestation_timestamp_ms: at,
            registered_by: ADMIN,
            timestamp_ms: 1,
            seq: 0,
        })
    })
}

/// Sealing keys of versions 1..=3 (re-registrations included), and some the
/// chain never emits (version 0 or over u32::MAX, a 31-byte key), which the
/// ledger ignores.
fn sealing_key() -> impl Strategy<Value = Event> {
    let version = prop_oneof![
        4 => 1u64..4,
        1 => Just(0u64),
        1 => Just(u64::from(u32::MAX)),
        1 => Just(u64::from(u32::MAX) + 1),
    ];
    let len = prop_oneof![4 => Just(32usize), 1 => Just(31usize)];
    (version, len, any::<u8>()).prop_map(|(version, len, b)| {
        Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id: CLUSTER,
            version,
            public_key: Bytes(vec![b; len]),
            registered_by: ADMIN,
            timestamp_ms: 1,
            seq: 0,
        })
    })
}

/// Every sequence starts with the cluster being created.
fn sequence() -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec(event(), 0..80).prop_map(|mut events| {
        events.insert(
            0,
            Event::ClusterCreated(ClusterCreated {
                cluster_id: CLUSTER,
                name: "c".into(),
                admin: ADMIN,
                timestamp_ms: 0,
            }),
        );
        events
    })
}

fn run(ledger: &mut Ledger, events: &[Event]) -> Vec<Applied> {
    events.iter().map(|e| ledger.apply(e)).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn resuming_from_any_snapshot_equals_one_run(events in sequence(), split in any::<prop::sample::Index>()) {
        let k = split.index(events.len() + 1);
        let mut whole = Ledger::default();
        let all = run(&mut whole, &events);

        let mut first = Ledger::default();
        let mut resumed_out = run(&mut first, &events[..k]);
        let snapshot = bcs::to_bytes(&first).expect("snapshot");
        let mut resumed: Ledger = bcs::from_bytes(&snapshot).expect("restore");
        resumed_out.extend(run(&mut resumed, &events[k..]));

        prop_assert_eq!(&resumed, &whole);
        prop_assert_eq!(resumed_out, all);
    }

    #[test]
    fn stored_changes_restore_the_same_ledger(events in sequence()) {
        // What a store keeps: the latest change per key as JSON (as the
        // master's etcd keys do), keys deleted on removal.
        let mut ledger = Ledger::default();
        let mut store = std::collections::BTreeMap::new();
        for applied in run(&mut ledger, &events) {
            for c in applied.changes {
                let Some(key) = c.store_key() else { continue };
                if c.is_removal() {
                    store.remove(&key);
                } else {
                    store.insert(key, serde_json::to_vec(&c).expect("a change is JSON"));
                }
            }
        }
        let mut restored = Ledger::default();
        for json in store.values() {
            let c: Change = serde_json::from_slice(json).expect("a stored change reads back");
            restored.restore(&c);
        }
        prop_assert_eq!(restored, ledger);
    }

    #[test]
    fn the_current_sealing_key_is_the_highest_version_registered(events in sequence()) {
        let mut ledger = Ledger::default();
        let mut registered = std::collections::BTreeMap::new();
        for e in &events {
            ledger.apply(e);
            if let Event::SealingKeyRegistered(k) = e
                && (1..=u64::from(u32::MAX)).contains(&k.version)
                && k.public_key.len() == 32
            {
                registered.insert(k.version as u32, k.public_key.0.clone());
            }
        }
        let current = ledger.current_sealing_key(CLUSTER).map(|(v, k)| (v, k.to_vec()));
        prop_assert_eq!(current, registered.last_key_value().map(|(v, k)| (*v, k.clone())));
        for (v, k) in &registered {
            prop_assert_eq!(ledger.sealing_key(CLUSTER, *v).map(|k| k.to_vec()), Some(k.clone()));
        }
        prop_assert_eq!(ledger.sealing_key(CLUSTER, 0), None);
        prop_assert_eq!(ledger.current_sealing_key(ADMIN), None, "another cluster has none");
    }

    #[test]
    fn total_stake_is_the_sum_and_matches_the_chain(events in sequence()) {
        let mut ledger = Ledger::default();
        let mut last = std::collections::BTreeMap::new();
        for e in &events {
            ledger.apply(e);
            let (staker, role, total) = match e {
                Event::StakeDeposited(s) => (s.staker, s.role, s.total_after),
                Event::StakeWithdrawn(s) => (s.staker, s.role, s.total_after),
                Event::StakeSlashed(s) => (s.staker, s.role, s.total_after),
                _ => continue,
            };
            last.insert((staker, role), total);
        }
        let sum: u128 = ledger.stakes().map(|(_, _, v)| u128::from(v)).sum();
        prop_assert_eq!(ledger.total_stake(), sum);
        for ((staker, role), total) in last {
            let role = Role::from_move(role).expect("generated roles are valid");
            prop_assert_eq!(ledger.stake_of(staker, role), total, "the chain's total_after is authoritative");
        }
        // Zero stakes are not kept: "no stake" and "stake 0" are one state.
        prop_assert!(ledger.stakes().all(|(_, _, v)| v > 0));
    }

    #[test]
    fn a_node_slashed_below_the_minimum_is_inactive(events in sequence(), operator in who(), name in node_name()) {
        let mut ledger = Ledger::default();
        run(&mut ledger, &events);
        ledger.apply(&Event::NodeRegistered(NodeRegistered {
            operator, node_name: name.clone(), public_key: Bytes(vec![1; 32]), endpoint: "e".into(), timestamp_ms: 2, seq: 0,
        }));
        let was_active = ledger.is_node_active(&name);
        let out = ledger.apply(&Event::StakeSlashed(StakeSlashed {
            staker: operator, role: 1, amount: 1, total_after: Role::Node.min_stake() - 1,
            reason: "offline".into(), slashed_by: ADMIN, epoch: 2, timestamp_ms: 2, seq: 0,
        }));
        prop_assert!(!ledger.is_node_active(&name));
        let flipped = out.changes.iter().any(|c| matches!(c,
            Change::NodeActivity { name: n, active: false, .. } if *n == name));
        prop_assert_eq!(flipped, was_active, "an eviction is recorded exactly when the node was active");
    }

    #[test]
    fn rejected_requests_change_nothing(events in sequence(), req in request()) {
        let mut ledger = Ledger::default();
        run(&mut ledger, &events);
        let before = ledger.clone();
        let out = ledger.apply(&req);
        if matches!(out.decision, Some(daas_domain::admission::Decision::Rejected(_))) {
            prop_assert!(out.changes.is_empty());
            prop_assert_eq!(ledger, before);
        }
    }
}

#[test]
fn an_enclave_registration_is_kept_by_key_and_the_newest_one_counts() {
    let mut ledger = Ledger::default();
    let registered = |at: u64, version: u64| {
        Event::EnclaveRegistered(EnclaveRegistered {
            cluster_id: CLUSTER,
            pcr_version: 2,
            public_key: Bytes(vec![0xd0; 32]),
            sealing_key_version: version,
            sealing_public_key: Bytes(vec![0x55; 32]),
            module_id: Bytes(b"k3s-daas-dev-enclave".to_vec()),
            attestation_timestamp_ms: at,
            registered_by: ADMIN,
            timestamp_ms: at + 1,
            seq: 0,
        })
    };
    assert_eq!(ledger.enclave(&[0xd0; 32]), None);
    ledger.apply(&registered(1_000, 1));
    let applied = ledger.apply(&registered(2_000, 2));
    let [change] = applied.changes.as_slice() else {
        panic!("one change: {:?}", applied.changes);
    };
    assert_eq!(
        change.store_key(),
        Some(format!("enclave/{}", "d0".repeat(32)))
    );
    let entry = ledger.enclave(&[0xd0; 32]).expect("registered");
    assert_eq!(
        (entry.cluster, entry.pcr_version, entry.sealing_key_version),
        (CLUSTER, 2, 2)
    );
    assert_eq!(entry.attestation_timestamp_ms, 2_000);
    assert_eq!(entry.module_id.as_ref(), b"k3s-daas-dev-enclave");
}
