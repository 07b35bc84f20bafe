//! Any string (NUL, control characters, look-alike escapes, any length) in
//! any field of any event, any amount: the processor's rows are storable or
//! the record is quarantined with a reason, and it never panics. No database:
//! rows are checked against Postgres's own limits, written out here.

use daas_domain::{Address, Bytes, Event, LogEntry, LogPosition, events::*};
use daas_projector::{
    processor::{AccessRow, Processor, Rows},
    storable,
};
use daas_testkit::workload::record;
use proptest::prelude::*;

/// Postgres refuses a B-tree entry over 2,704 bytes ("index row size exceeds
/// btree version 4 maximum 2704"); `requests_by_namespace` holds two text keys.
const BTREE_MAX_ENTRY: usize = 2704;

const CLUSTER: Address = Address([0xc1; 32]);
const TENANT: Address = Address([0x7e; 32]);
const OPERATOR: Address = Address([0x0b; 32]);
const SUI: u64 = 1_000_000_000;

fn request(verb: &str, kind: &str, namespace: &str, name: &str, manifest: &[u8]) -> Event {
    Event::K8sApiRequest(K8sApiRequest {
        cluster_id: CLUSTER,
        request_id: 0,
        sender: TENANT,
        verb: verb.into(),
        api_version: "v1".into(),
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
        manifest: Bytes(manifest.to_vec()),
        stake: 10 * SUI,
        timestamp_ms: 1,
        seq: 0,
    })
}

/// Every event type with `s` in every string field, and `amount` staked.
fn events(s: &str, amount: u64) -> Vec<Event> {
    let all = Event::K8sApiRequest(K8sApiRequest {
        api_version: s.into(),
        ..match request(s, s, s, s, s.as_bytes()) {
            Event::K8sApiRequest(r) => r,
            _ => unreachable!("built as a request"),
        }
    });
    vec![
        Event::ClusterCreated(ClusterCreated {
            cluster_id: CLUSTER,
            name: s.into(),
            admin: TENANT,
            timestamp_ms: 1,
        }),
        Event::StakeDeposited(StakeDeposited {
            staker: TENANT,
            role: 0,
            amount,
            total_after: amount,
            epoch: 1,
            timestamp_ms: 1,
            seq: 0,
        }),
        Event::StakeDeposited(StakeDeposited {
            staker: OPERATOR,
            role: 1,
            amount: 10 * SUI,
            total_after: 10 * SUI,
            epoch: 1,
            timestamp_ms: 1,
            seq: 0,
        }),
        request("create", "Namespace", "", s, b"{}"),
        all,
        request("create", "ConfigMap", s, s, b"{}"),
        Event::NodeRegistered(NodeRegistered {
            operator: OPERATOR,
            node_name: s.into(),
            public_key: Bytes(vec![1; 32]),
            endpoint: s.into(),
            timestamp_ms: 1,
            seq: 0,
        }),
        Event::NamespaceGranted(NamespaceGranted {
            cluster_id: CLUSTER,
            namespace: s.into(),
            grantee: OPERATOR,
            role: 1,
            granted_by: TENANT,
            timestamp_ms: 1,
            seq: 0,
        }),
        Event::NamespaceRevoked(NamespaceRevoked {
            cluster_id: CLUSTER,
            namespace: s.into(),
            grantee: OPERATOR,
            revoked_by: TENANT,
            timestamp_ms: 1,
            seq: 0,
        }),
        Event::StakeSlashed(StakeSlashed {
            staker: TENANT,
            role: 0,
            amount: 1,
            total_after: amount.saturating_sub(1),
            reason: s.into(),
            slashed_by: CLUSTER,
            epoch: 1,
            timestamp_ms: 1,
            seq: 0,
        }),
        Event::NodeDeregistered(NodeDeregistered {
            operator: OPERATOR,
            node_name: s.into(),
            timestamp_ms: 1,
            seq: 0,
        }),
    ]
}

/// The records of [`events`], then one whose event type holds `s`.
fn records(s: &str, amount: u64) -> Vec<Vec<u8>> {
    let mut out: Vec<_> = events(s, amount)
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let p = LogPosition::new(1 + i as u64, 0, 0);
            record(p, [i as u8; 32], 1_767_225_600_000, TENANT, e)
        })
        .collect();
    out.push(
        LogEntry::from_chain(
            LogPosition::new(99, 0, 0),
            [9; 32],
            1,
            format!("0xda45::gateway::{s}"),
            TENANT,
            vec![],
        )
        .encode(),
    );
    out
}

/// Every text value of `rows` with whether it is in an index.
fn texts(rows: &Rows) -> Vec<(&str, bool)> {
    let mut t = Vec::new();
    for r in &rows.stakes {
        t.push((r.staker.as_str(), true));
    }
    for r in &rows.history {
        t.extend([(r.staker.as_str(), true)]);
        t.extend(r.reason.as_deref().map(|v| (v, false)));
    }
    for r in &rows.nodes {
        t.extend([
            (r.name.as_str(), true),
            (r.endpoint.as_str(), false),
            (r.operator.as_str(), false),
        ]);
    }
    for r in &rows.access {
        match r {
            AccessRow::Namespace {
                namespace, owner, ..
            } => {
                t.push((namespace.as_str(), true));
                t.extend(owner.as_deref().map(|v| (v, false)));
            }
            AccessRow::Grant {
                namespace, grantee, ..
            } => {
                t.extend([(namespace.as_str(), true), (grantee.as_str(), true)]);
            }
        }
    }
    for r in &rows.requests {
        t.extend([
            (r.verb.as_str(), true),
            (r.namespace.as_str(), true),
            (r.kind.as_str(), false),
        ]);
        t.extend([
            (r.api_version.as_str(), false),
            (r.name.as_str(), false),
            (r.sender.as_str(), false),
        ]);
        t.extend(r.reason.as_deref().map(|v| (v, false)));
    }
    for r in &rows.quarantine {
        t.push((r.reason.as_str(), false));
    }
    t
}

/// What Postgres would refuse: NUL in text, an index entry over its limit.
fn assert_storable(rows: &Rows) {
    for (v, key) in texts(rows) {
        assert!(!v.contains('\0'), "NUL reaches a text column: {v:?}");
        assert!(
            !key || v.len() <= BTREE_MAX_ENTRY / 2,
            "key of {} bytes",
            v.len()
        );
    }
    for r in &rows.requests {
        assert!(r.namespace.len() + r.verb.len() + 8 < BTREE_MAX_ENTRY);
    }
}

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?s).{0,40}",
        "[\\x00-\\x1f\\\\x0N.a\u{202e}]{0,40}",
        (1_000usize..70_000, "[\\x00\\\\ab]").prop_map(|(n, c)| c.repeat(n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_string_and_any_amount_give_storable_rows_or_a_quarantine_reason(
        s in hostile_string(),
        amount in prop_oneof![1..100 * SUI, (i64::MAX as u64)..=u64::MAX],
    ) {
        let records = records(&s, amount);
        let mut p = Processor::default();
        let mut rows = Rows::default();
        for (offset, r) in records.iter().enumerate() {
            p.process(offset as i64, r, &mut rows);
        }
        assert_storable(&rows);
        let reason = |offset: i64| {
            rows.quarantine.iter().find(|q| q.offset == offset).map(|q| q.reason.clone())
        };
        // The request with `s` everywhere keeps its row (id, sender, status)
        // and its values, losslessly unless shortened.
        let r = rows.requests.iter().find(|r| r.position.0 == 5).expect("the request row");
        prop_assert_eq!(&r.sender, &TENANT.to_string());
        prop_assert_eq!(storable::unescape(&r.name), s.clone());
        if s.contains('\0') {
            let why = reason(4).expect("a NUL is noted");
            prop_assert!(why.contains("requests.name holds NUL"), "{}", why);
        }
        if storable::escape(&s).len() > storable::MAX_KEY_BYTES {
            let why = reason(4).expect("a shortened key is noted");
            prop_assert!(why.contains("requests.namespace is"), "{}", why);
        }
        // An amount beyond BIGINT: the deposit is quarantined, not clamped.
        if amount > i64::MAX as u64 {
            let why = reason(1).expect("the deposit is quarantined");
            prop_assert!(why.contains("beyond BIGINT"), "{}", why);
            prop_assert!(rows.history.iter().all(|h| h.position.0 != 2));
        } else {
            prop_assert_eq!(reason(1), None);
        }
        // The event type holding `s` is a type nobody knows (or not one at all).
        prop_assert!(reason(records.len() as i64 - 1).is_some());
    }
}
