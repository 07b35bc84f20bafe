//! Admission scenarios: each rejection reason is distinct and changes nothing;
//! ownership, grants and admin rights work as documented in `ledger`.

use daas_domain::{
    Address, Event, Ledger,
    admission::{Action, Decision, RejectCode},
    events::*,
    ledger::Change,
    roles::MIST_PER_SUI,
};

#[path = "support/requests.rs"]
mod requests;
use requests::Target;

const CLUSTER: Address = Address([0xc1; 32]);
const ADMIN: Address = Address([0xad; 32]);
const ALICE: Address = Address([0xa1; 32]);
const BOB: Address = Address([0xb0; 32]);

fn staked(who: Address, role: u8, mist: u64) -> Event {
    Event::StakeDeposited(StakeDeposited {
        staker: who,
        role,
        amount: mist,
        total_after: mist,
        epoch: 1,
        timestamp_ms: 1,
        seq: 0,
    })
}

fn ledger() -> Ledger {
    let mut l = Ledger::default();
    l.apply(&Event::ClusterCreated(ClusterCreated {
        cluster_id: CLUSTER,
        name: "default".into(),
        admin: ADMIN,
        timestamp_ms: 0,
    }));
    l.apply(&staked(ALICE, 0, 5 * MIST_PER_SUI));
    l.apply(&staked(BOB, 0, 5 * MIST_PER_SUI));
    l
}

fn req(sender: Address, verb: &str, kind: &str, ns: &str, name: &str, manifest: &str) -> Event {
    let api = match kind {
        "Deployment" => "apps/v1",
        _ => "v1",
    };
    let target = Target {
        cluster: CLUSTER,
        sender,
        verb,
        api,
        kind,
        namespace: ns,
        name,
    };
    requests::request(target, 0, manifest.to_owned())
}

fn granted(namespace: &str, grantee: Address, role: u8) -> Event {
    Event::NamespaceGranted(NamespaceGranted {
        cluster_id: CLUSTER,
        namespace: namespace.into(),
        grantee,
        role,
        granted_by: ADMIN,
        timestamp_ms: 1,
        seq: 0,
    })
}

fn ns_manifest(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n")
}

fn cm_manifest(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  k: v\n"
    )
}

fn action(l: &mut Ledger, e: &Event) -> Action {
    match l.apply(e).decision {
        Some(Decision::Admitted(a)) => a.action,
        other => panic!("expected admission, got {other:?}"),
    }
}

/// Applies `e`, asserts it is rejected with `code` and that nothing changed.
fn rejected(l: &mut Ledger, e: &Event, code: RejectCode) -> String {
    let before = l.clone();
    let out = l.apply(e);
    assert!(out.changes.is_empty(), "a rejection must change nothing");
    assert_eq!(*l, before);
    match out.decision {
        Some(Decision::Rejected(r)) => {
            assert_eq!(r.code, code, "{}", r.message);
            r.message
        }
        other => panic!("expected {code:?}, got {other:?}"),
    }
}

#[test]
fn the_creator_owns_a_namespace_and_others_need_a_grant() {
    let mut l = ledger();
    assert_eq!(
        action(
            &mut l,
            &req(
                ALICE,
                "create",
                "Namespace",
                "",
                "team-a",
                &ns_manifest("team-a")
            )
        ),
        Action::Create
    );
    assert_eq!(l.namespace_owner(CLUSTER, "team-a"), Some(ALICE));
    assert_eq!(
        action(
            &mut l,
            &req(
                ALICE,
                "apply",
                "ConfigMap",
                "team-a",
                "cfg",
                &cm_manifest("team-a", "cfg")
            )
        ),
        Action::Create
    );
    assert_eq!(
        action(
            &mut l,
            &req(
                ALICE,
                "apply",
                "ConfigMap",
                "team-a",
                "cfg",
                &cm_manifest("team-a", "cfg")
            )
        ),
        Action::Update
    );

    let msg = rejected(
        &mut l,
        &req(
            BOB,
            "apply",
            "ConfigMap",
            "team-a",
            "cfg",
            &cm_manifest("team-a", "cfg"),
        ),
        RejectCode::NamespaceForbidden,
    );
    assert!(msg.contains("belongs to"), "{msg}");

    l.apply(&granted("team-a", BOB, 0));
    rejected(
        &mut l,
        &req(
            BOB,
            "apply",
            "ConfigMap",
            "team-a",
            "cfg",
            &cm_manifest("team-a", "cfg"),
        ),
        RejectCode::NamespaceForbidden,
    );
    l.apply(&granted("team-a", BOB, 1));
    assert_eq!(
        action(
            &mut l,
            &req(BOB, "delete", "ConfigMap", "team-a", "cfg", "")
        ),
        Action::Delete
    );
}

#[test]
fn admins_act_everywhere_and_own_the_system_namespaces() {
    let mut l = ledger();
    l.apply(&staked(ADMIN, 2, 10 * MIST_PER_SUI));
    assert_eq!(l.namespace_owner(CLUSTER, "default"), Some(ADMIN));
    action(
        &mut l,
        &req(
            ALICE,
            "create",
            "Namespace",
            "",
            "team-a",
            &ns_manifest("team-a"),
        ),
    );
    assert_eq!(
        action(
            &mut l,
            &req(
                ADMIN,
                "apply",
                "ConfigMap",
                "team-a",
                "x",
                &cm_manifest("team-a", "x")
            )
        ),
        Action::Create
    );
    rejected(
        &mut l,
        &req(
            ALICE,
            "apply",
            "ConfigMap",
            "default",
            "x",
            &cm_manifest("default", "x"),
        ),
        RejectCode::NamespaceForbidden,
    );
}

#[test]
fn each_reason_is_distinct() {
    let mut l = ledger();
    action(
        &mut l,
        &req(
            ALICE,
            "create",
            "Namespace",
            "",
            "team-a",
            &ns_manifest("team-a"),
        ),
    );

    let poor = Address([0x99; 32]);
    let msg = rejected(
        &mut l,
        &req(
            poor,
            "create",
            "ConfigMap",
            "team-a",
            "x",
            &cm_manifest("team-a", "x"),
        ),
        RejectCode::InsufficientStake,
    );
    assert!(msg.contains("needs a stake of 1 SUI"), "{msg}");
    rejected(
        &mut l,
        &req(
            ALICE,
            "create",
            "Secret",
            "team-a",
            "s",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n",
        ),
        RejectCode::InsufficientStake,
    );
    rejected(
        &mut l,
        &req(ALICE, "create", "ConfigMap", "team-a", "x", "{not yaml"),
        RejectCode::MalformedManifest,
    );
    rejected(
        &mut l,
        &req(
            ALICE,
            "create",
            "ConfigMap",
            "team-a",
            "x",
            &cm_manifest("team-a", "y"),
        ),
        RejectCode::MalformedManifest,
    );
    rejected(
        &mut l,
        &req(
            ALICE,
            "create",
            "ConfigMap",
            "team-a",
            "Bad_Name",
            &cm_manifest("team-a", "Bad_Name"),
        ),
        RejectCode::InvalidName,
    );
    let huge = format!("{}{}", cm_manifest("team-a", "x"), "#".repeat(70_000));
    rejected(
        &mut l,
        &req(ALICE, "create", "ConfigMap", "team-a", "x", &huge),
        RejectCode::Oversize,
    );
    rejected(
        &mut l,
        &req(ALICE, "create", "Widget", "team-a", "x", ""),
        RejectCode::UnsupportedKind,
    );
    rejected(
        &mut l,
        &req(ALICE, "get", "ConfigMap", "team-a", "x", ""),
        RejectCode::UnsupportedVerb,
    );
    rejected(
        &mut l,
        &req(ALICE, "patch", "ConfigMap", "team-a", "x", ""),
        RejectCode::UnsupportedVerb,
    );
    rejected(
        &mut l,
        &req(
            ALICE,
            "replace",
            "ConfigMap",
            "team-a",
            "x",
            &cm_manifest("team-a", "x"),
        ),
        RejectCode::Conflict,
    );
    rejected(
        &mut l,
        &req(
            ALICE,
            "create",
            "Namespace",
            "",
            "team-a",
            &ns_manifest("team-a"),
        ),
        RejectCode::Conflict,
    );
    rejected(
        &mut l,
        &req(
            ALICE,
            "create",
            "ConfigMap",
            "team-z",
            "x",
            &cm_manifest("team-z", "x"),
        ),
        RejectCode::NamespaceNotFound,
    );

    let mut other = req(
        ALICE,
        "create",
        "ConfigMap",
        "team-a",
        "x",
        &cm_manifest("team-a", "x"),
    );
    if let Event::K8sApiRequest(r) = &mut other {
        r.cluster_id = Address([0xee; 32]);
    }
    rejected(&mut l, &other, RejectCode::WrongCluster);
}

#[test]
fn deleting_a_namespace_deletes_what_was_in_it() {
    let mut l = ledger();
    action(
        &mut l,
        &req(
            ALICE,
            "create",
            "Namespace",
            "",
            "team-a",
            &ns_manifest("team-a"),
        ),
    );
    action(
        &mut l,
        &req(
            ALICE,
            "create",
            "ConfigMap",
            "team-a",
            "x",
            &cm_manifest("team-a", "x"),
        ),
    );
    let out = l.apply(&req(ALICE, "delete", "Namespace", "", "team-a", ""));
    let gone: Vec<_> = out
        .changes
        .iter()
        .filter(|c| matches!(c, Change::Object { exists: false, .. }))
        .collect();
    assert_eq!(
        gone.len(),
        2,
        "the namespace object and the config map: {:?}",
        out.changes
    );
    assert_eq!(l.namespace_owner(CLUSTER, "team-a"), None);
    rejected(
        &mut l,
        &req(
            ALICE,
            "create",
            "ConfigMap",
            "team-a",
            "x",
            &cm_manifest("team-a", "x"),
        ),
        RejectCode::NamespaceNotFound,
    );
    // And the name is free to be taken by someone else.
    action(
        &mut l,
        &req(
            BOB,
            "create",
            "Namespace",
            "",
            "team-a",
            &ns_manifest("team-a"),
        ),
    );
    assert_eq!(l.namespace_owner(CLUSTER, "team-a"), Some(BOB));
}

#[test]
fn a_cluster_scoped_object_is_named_without_the_requests_namespace_field() {
    // The gateway lets a sender fill `namespace` for any kind; a Namespace
    // is still one object, found again whatever that field said.
    let mut l = ledger();
    let create = req(
        ALICE,
        "apply",
        "Namespace",
        "stray",
        "team-x",
        &ns_manifest("team-x"),
    );
    assert_eq!(action(&mut l, &create), Action::Create);
    let again = req(
        ALICE,
        "apply",
        "Namespace",
        "",
        "team-x",
        &ns_manifest("team-x"),
    );
    assert_eq!(action(&mut l, &again), Action::Update);
    let delete = req(ALICE, "delete", "Namespace", "other", "team-x", "");
    let out = l.apply(&delete);
    assert!(
        out.changes.iter().any(
            |c| matches!(c, Change::Object { key, exists: false, .. } if key.name == "team-x")
        ),
        "the delete removes the object the create recorded: {:?}",
        out.changes
    );
}
