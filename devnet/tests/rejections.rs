//! Transactions the dev chain must refuse or abort, emitting nothing: a bad
//! signature, a foreign gas coin, a stale object version, a stake below the
//! tier, and a call into another package.

use std::time::Duration;

use daas_devnet::{
    calls,
    executor::Rejected,
    node::{Node, NodeConfig, NodeError},
};
use sui_crypto::{SuiSigner, ed25519::Ed25519PrivateKey};
use sui_sdk_types::{Address, ExecutionError, ExecutionStatus, ObjectReference};

fn node(dir: &std::path::Path) -> std::sync::Arc<Node> {
    Node::open(NodeConfig {
        data_dir: dir.to_path_buf(),
        checkpoint_interval: Duration::from_millis(250),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
        validators: daas_devnet::committee::DEFAULT_VALIDATORS,
        nitro_root: daas_devnet::node::TrustedRoot::aws_nitro(),
    })
    .expect("open")
}

fn funded(node: &Node) -> (Ed25519PrivateKey, Address) {
    let key = Ed25519PrivateKey::generate(rand_core::OsRng);
    let who = key.public_key().derive_address();
    node.faucet(who, 20_000_000_000).expect("faucet");
    (key, who)
}

fn gas_of(node: &Node, owner: Address) -> ObjectReference {
    node.read(|c| c.largest_coin(&owner))
        .expect("a funded account has a coin")
}

fn event_count(node: &Node) -> usize {
    node.seal().expect("seal");
    node.read(|c| c.events.len())
}

#[test]
fn a_bad_signature_is_refused_and_emits_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node(dir.path());
    let (key, who) = funded(&node);
    let ids = node.read(|c| c.world.ids.clone());
    let before = event_count(&node);
    let (tx, _) = calls::stake(&key, &ids, gas_of(&node, who), 500_000_000, 0);
    let impostor = Ed25519PrivateKey::generate(rand_core::OsRng);
    let forged = impostor.sign_transaction(&tx).expect("sign");
    let err = node.execute(tx.clone(), vec![forged]).expect_err("forged");
    assert!(
        matches!(err, NodeError::Rejected(Rejected::Signature(_))),
        "{err}"
    );

    // A signature by the sender over other bytes is refused too.
    let (other, _) = calls::stake(&key, &ids, gas_of(&node, who), 600_000_000, 0);
    let wrong = key.sign_transaction(&other).expect("sign");
    assert!(matches!(
        node.execute(tx, vec![wrong]),
        Err(NodeError::Rejected(Rejected::Signature(_)))
    ));
    assert_eq!(event_count(&node), before);
}

#[test]
fn a_foreign_gas_coin_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node(dir.path());
    let (key, _) = funded(&node);
    let (_, victim) = funded(&node);
    let ids = node.read(|c| c.world.ids.clone());
    let before = event_count(&node);
    let (tx, sig) = calls::stake(&key, &ids, gas_of(&node, victim), 500_000_000, 0);
    let err = node.execute(tx, vec![sig]).expect_err("foreign gas");
    assert!(
        matches!(err, NodeError::Rejected(Rejected::NotOwned { .. })),
        "{err}"
    );
    assert_eq!(event_count(&node), before);
}

#[test]
fn a_stale_object_version_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node(dir.path());
    let (key, who) = funded(&node);
    let ids = node.read(|c| c.world.ids.clone());
    let stale = gas_of(&node, who);
    let (tx, sig) = calls::stake(&key, &ids, stale.clone(), 500_000_000, 0);
    node.execute(tx, vec![sig]).expect("first use of the coin");
    let before = event_count(&node);
    let (tx, sig) = calls::stake(&key, &ids, stale, 500_000_000, 2);
    let err = node.execute(tx, vec![sig]).expect_err("stale");
    assert!(
        matches!(err, NodeError::Rejected(Rejected::StaleObject { .. })),
        "{err}"
    );
    assert_eq!(event_count(&node), before);
}

#[test]
fn a_request_above_the_tier_aborts_with_the_contract_code_and_emits_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node(dir.path());
    let (key, who) = funded(&node);
    let (ids, cluster) = node.read(|c| (c.world.ids.clone(), c.default_cluster.expect("cluster")));
    let cluster_version = node.read(|c| {
        c.world
            .objects
            .get(&cluster)
            .and_then(|o| o.initial_shared_version())
            .expect("shared")
    });
    let (tx, sig) = calls::stake(&key, &ids, gas_of(&node, who), 1_000_000_000, 0);
    node.execute(tx, vec![sig]).expect("stake 1 SUI");
    let before = event_count(&node);
    let balance_before = node.read(|c| c.world.objects.balance_of(&who));

    let (tx, sig) = calls::submit_request(
        &key,
        &ids,
        gas_of(&node, who),
        (cluster, cluster_version),
        "apply",
        "apps/v1",
        "Deployment",
        "team-a",
        "web",
        b"kind: Deployment",
    );
    let done = node
        .execute(tx, vec![sig])
        .expect("included with a failure status");
    match done.effects.status() {
        ExecutionStatus::Failure {
            error: ExecutionError::MoveAbort { location, code },
            ..
        } => {
            assert_eq!(*code, 101, "gateway::EInsufficientStake");
            assert_eq!(location.module.as_str(), "gateway");
        }
        other => panic!("expected a Move abort, got {other:?}"),
    }
    assert!(done.events.is_empty());
    assert_eq!(event_count(&node), before);
    let charged = balance_before - node.read(|c| c.world.objects.balance_of(&who));
    assert_eq!(
        charged, 1_000_000,
        "a failed transaction still pays for gas"
    );
}

#[test]
fn a_call_into_another_package_fails_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = node(dir.path());
    let (key, who) = funded(&node);
    let mut ids = node.read(|c| c.world.ids.clone());
    ids.package = Address::from_static("0xbad");
    let (tx, sig) = calls::stake(&key, &ids, gas_of(&node, who), 500_000_000, 0);
    let done = node.execute(tx, vec![sig]).expect("included");
    assert!(matches!(
        done.effects.status(),
        ExecutionStatus::Failure {
            error: ExecutionError::FunctionNotFound,
            ..
        }
    ));
}
