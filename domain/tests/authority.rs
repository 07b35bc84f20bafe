//! Cluster authority (decision 0009): granted by the cluster's creator and
//! bonded with the admin-role minimum stake, never bought with a stake alone.

use daas_domain::{
    Address, Event, Ledger,
    admission::Decision,
    events::*,
    ledger::{Change, Denied},
    roles::{NamespaceRole, Verb},
};
use proptest::prelude::*;

#[path = "support/requests.rs"]
mod requests;
use requests::Target;

const CLUSTER: Address = Address([0xc1; 32]);
const CREATOR: Address = Address([0xad; 32]);
const ALICE: Address = Address([0xa1; 32]);
const CAROL: Address = Address([0xca; 32]);
const SUI: u64 = 1_000_000_000;

fn created() -> Event {
    Event::ClusterCreated(ClusterCreated {
        cluster_id: CLUSTER,
        name: "c".into(),
        admin: CREATOR,
        timestamp_ms: 0,
    })
}

fn stake(who: Address, role: u8, total_after: u64) -> Event {
    Event::StakeDeposited(StakeDeposited {
        staker: who,
        role,
        amount: total_after,
        total_after,
        epoch: 1,
        timestamp_ms: 1,
        seq: 0,
    })
}

fn slash_to(who: Address, total_after: u64) -> Event {
    Event::StakeSlashed(StakeSlashed {
        staker: who,
        role: 2,
        amount: 1,
        total_after,
        reason: "abuse".into(),
        slashed_by: CREATOR,
        epoch: 1,
        timestamp_ms: 1,
        seq: 0,
    })
}

fn grant_admin(who: Address) -> Event {
    Event::NamespaceGranted(NamespaceGranted {
        cluster_id: CLUSTER,
        namespace: "*".into(),
        grantee: who,
        role: 2,
        granted_by: CREATOR,
        timestamp_ms: 1,
        seq: 0,
    })
}

fn revoke_admin(who: Address) -> Event {
    Event::NamespaceRevoked(NamespaceRevoked {
        cluster_id: CLUSTER,
        namespace: "*".into(),
        grantee: who,
        revoked_by: CREATOR,
        timestamp_ms: 1,
        seq: 0,
    })
}

fn request(sender: Address, verb: &str, kind: &str, namespace: &str, name: &str) -> Event {
    let api = if kind == "Deployment" {
        "apps/v1"
    } else {
        "v1"
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
    requests::request(target, 0, requests::manifest(api, kind, namespace, name))
}

/// A cluster where alice (5 SUI tenant) owns team-a with a ConfigMap in it.
fn alice_owns_team_a() -> Ledger {
    let mut l = Ledger::default();
    for e in [
        created(),
        stake(ALICE, 0, 6 * SUI),
        request(ALICE, "apply", "Namespace", "", "team-a"),
        request(ALICE, "apply", "ConfigMap", "team-a", "mine"),
    ] {
        l.apply(&e);
    }
    assert_eq!(l.namespace_owner(CLUSTER, "team-a"), Some(ALICE));
    l
}

fn admitted(l: &mut Ledger, e: &Event) -> bool {
    matches!(l.apply(e).decision, Some(Decision::Admitted(_)))
}

#[test]
fn an_admin_role_stake_alone_is_not_admin() {
    let mut l = alice_owns_team_a();
    l.apply(&stake(CAROL, 2, 10 * SUI));
    assert!(!l.is_admin(CLUSTER, CAROL));
    assert!(matches!(
        l.may(CLUSTER, CAROL, Verb::Apply, "ConfigMap", "team-a"),
        Err(Denied::NotYours { owner: ALICE })
    ));
    // What was seen in issue 13: a ConfigMap into alice's namespace, her objects deleted.
    assert!(!admitted(
        &mut l,
        &request(CAROL, "apply", "ConfigMap", "team-a", "x")
    ));
    assert!(!admitted(
        &mut l,
        &request(CAROL, "delete", "ConfigMap", "team-a", "mine")
    ));
    assert!(!admitted(
        &mut l,
        &request(CAROL, "apply", "ConfigMap", "kube-system", "x")
    ));
}

#[test]
fn granted_and_bonded_is_admin_everywhere() {
    let mut l = alice_owns_team_a();
    l.apply(&stake(CAROL, 2, 10 * SUI));
    let out = l.apply(&grant_admin(CAROL));
    assert_eq!(
        out.changes,
        vec![Change::Grant {
            cluster: CLUSTER,
            namespace: "*".into(),
            grantee: CAROL,
            role: Some(NamespaceRole::ClusterAdmin),
        }]
    );
    assert!(l.is_admin(CLUSTER, CAROL));
    assert!(admitted(
        &mut l,
        &request(CAROL, "apply", "ConfigMap", "team-a", "x")
    ));
    assert!(admitted(
        &mut l,
        &request(CAROL, "apply", "ConfigMap", "kube-system", "x")
    ));
}

#[test]
fn granted_but_unbonded_is_not_admin() {
    let mut l = alice_owns_team_a();
    l.apply(&stake(CAROL, 0, 10 * SUI)); // a user stake is not the bond
    l.apply(&grant_admin(CAROL));
    assert!(l.is_cluster_admin_granted(CLUSTER, CAROL));
    assert!(!l.is_admin(CLUSTER, CAROL));
    assert!(!admitted(
        &mut l,
        &request(CAROL, "apply", "ConfigMap", "team-a", "x")
    ));
}

#[test]
fn a_slash_below_the_bond_ends_the_rights_and_a_top_up_restores_them() {
    let mut l = alice_owns_team_a();
    l.apply(&stake(CAROL, 2, 10 * SUI));
    l.apply(&grant_admin(CAROL));
    l.apply(&slash_to(CAROL, 10 * SUI - 1));
    assert!(!l.is_admin(CLUSTER, CAROL));
    assert!(!admitted(
        &mut l,
        &request(CAROL, "apply", "ConfigMap", "team-a", "x")
    ));
    l.apply(&stake(CAROL, 2, 11 * SUI));
    assert!(
        l.is_admin(CLUSTER, CAROL),
        "the grant stands; the bond is back"
    );
}

#[test]
fn a_revoke_ends_the_rights() {
    let mut l = alice_owns_team_a();
    l.apply(&stake(CAROL, 2, 10 * SUI));
    l.apply(&grant_admin(CAROL));
    l.apply(&revoke_admin(CAROL));
    assert!(!l.is_admin(CLUSTER, CAROL));
    assert!(!admitted(
        &mut l,
        &request(CAROL, "apply", "ConfigMap", "team-a", "x")
    ));
}

#[test]
fn the_readers_snapshot_sees_namespaces_and_groups_as_the_ledger() {
    let mut l = alice_owns_team_a();
    l.apply(&stake(ALICE, 0, SUI));
    let access = l.access(CLUSTER);
    assert_eq!(
        access.groups(ALICE),
        vec!["daas:stake:0.5".to_owned(), "daas:stake:1".to_owned()]
    );
    assert_eq!(
        access.namespaces_for(ALICE, Verb::List, "ConfigMap"),
        Ok(vec!["team-a".to_owned()])
    );
    assert!(matches!(
        access.namespaces_for(ALICE, Verb::List, "Secret"),
        Err(Denied::Tier { .. })
    ));
    assert_eq!(
        access.namespaces_for(CAROL, Verb::List, "ConfigMap"),
        Err(Denied::Tier {
            need: SUI / 2,
            have: 0
        })
    );
    assert!(access.groups(CAROL).is_empty());
    assert!(
        access
            .namespaces()
            .any(|(ns, owner)| ns == "team-a" && owner == ALICE)
    );
    // Another cluster's snapshot knows nothing of this one.
    let other = l.access(Address([0xc2; 32]));
    assert_eq!(other.namespaces().count(), 0);
    assert!(!other.is_cluster_admin(CREATOR));
}

#[test]
fn the_creator_is_admin_without_a_bond() {
    let l = alice_owns_team_a();
    assert!(l.is_admin(CLUSTER, CREATOR));
    assert!(
        !l.is_admin(Address([0xc2; 32]), CREATOR),
        "only in its own cluster"
    );
}

#[test]
fn a_grant_of_another_cluster_gives_nothing_here() {
    let mut l = alice_owns_team_a();
    l.apply(&stake(CAROL, 2, 10 * SUI));
    let mut other = grant_admin(CAROL);
    if let Event::NamespaceGranted(g) = &mut other {
        g.cluster_id = Address([0xc2; 32]);
    }
    l.apply(&other);
    assert!(!l.is_admin(CLUSTER, CAROL));
}

#[test]
fn a_cluster_admin_role_outside_the_marker_is_ignored() {
    // Decoding refuses it; a record that got past (an older log) changes nothing.
    let mut l = alice_owns_team_a();
    l.apply(&stake(CAROL, 2, 10 * SUI));
    let out = l.apply(&Event::NamespaceGranted(NamespaceGranted {
        cluster_id: CLUSTER,
        namespace: "team-a".into(),
        grantee: CAROL,
        role: 2,
        granted_by: CREATOR,
        timestamp_ms: 1,
        seq: 0,
    }));
    assert!(out.changes.is_empty());
    assert!(!l.is_admin(CLUSTER, CAROL));
    assert_eq!(l.grant(CLUSTER, "team-a", CAROL), None);
}

/// One step of an authority history for the model below.
#[derive(Clone, Debug)]
enum Step {
    Bond(u64),
    Slash(u64),
    Grant,
    Revoke,
}

fn step() -> impl Strategy<Value = Step> {
    let amount = prop_oneof![
        Just(0u64),
        Just(10 * SUI - 1),
        Just(10 * SUI),
        Just(20 * SUI),
        0..30 * SUI
    ];
    prop_oneof![
        amount.clone().prop_map(Step::Bond),
        amount.prop_map(Step::Slash),
        Just(Step::Grant),
        Just(Step::Revoke),
    ]
}

proptest! {
    /// Against a model written from the rule itself: admin exactly when the
    /// last grant/revoke was a grant and the current admin stake is >= 10 SUI.
    #[test]
    fn admin_exactly_when_granted_and_bonded(steps in prop::collection::vec(step(), 0..40)) {
        let mut l = Ledger::default();
        l.apply(&created());
        let (mut granted, mut bond) = (false, 0u64);
        for s in steps {
            let e = match s {
                Step::Bond(v) => { bond = v; stake(CAROL, 2, v) }
                Step::Slash(v) => { bond = v; slash_to(CAROL, v) }
                Step::Grant => { granted = true; grant_admin(CAROL) }
                Step::Revoke => { granted = false; revoke_admin(CAROL) }
            };
            l.apply(&e);
            prop_assert_eq!(l.is_admin(CLUSTER, CAROL), granted && bond >= 10 * SUI);
            prop_assert!(l.is_admin(CLUSTER, CREATOR));
            // The readers' snapshot answers as the ledger does.
            let access = l.access(CLUSTER);
            prop_assert_eq!(access.is_cluster_admin(CAROL), l.is_admin(CLUSTER, CAROL));
            prop_assert_eq!(
                access.groups(CAROL).contains(&"daas:cluster-admin".to_owned()),
                l.is_admin(CLUSTER, CAROL)
            );
            for verb in [Verb::Get, Verb::List, Verb::Apply] {
                for kind in ["ConfigMap", "Secret", "Deployment", "CronJob"] {
                    for ns in ["", "default", "kube-system", "nowhere"] {
                        prop_assert_eq!(
                            access.may(CAROL, verb, kind, ns),
                            l.may(CLUSTER, CAROL, verb, kind, ns)
                        );
                    }
                }
            }
        }
    }
}
