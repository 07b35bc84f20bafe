//! The node's chain: genesis, the default cluster, the faucet, checkpoints
//! chained by digest, and replay of its log after a restart.

use std::time::Duration;

use daas_devnet::node::{Node, NodeConfig};
use sui_sdk_types::Address;

fn config(dir: &std::path::Path) -> NodeConfig {
    NodeConfig {
        data_dir: dir.to_path_buf(),
        checkpoint_interval: Duration::from_millis(250),
        epoch_duration_ms: 60_000,
        lowest_available_checkpoint: 0,
        validators: daas_devnet::committee::DEFAULT_VALIDATORS,
        nitro_root: daas_devnet::node::TrustedRoot::aws_nitro(),
    }
}

#[test]
fn a_fresh_chain_has_a_default_cluster_and_replays_identically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::open(config(dir.path())).expect("open");
    let (height, cluster, chain_id) =
        node.read(|c| (c.checkpoint_height(), c.default_cluster, c.chain_id()));
    assert_eq!(
        height, 1,
        "genesis, then the checkpoint with the cluster's creation"
    );
    assert!(cluster.is_some());

    let alice = Address::from_static("0xa11ce");
    let paid = node.faucet(alice, 7_000_000_000).expect("faucet");
    assert_eq!(
        paid.effects.status(),
        &sui_sdk_types::ExecutionStatus::Success
    );
    node.seal().expect("seal");
    let balance = node.read(|c| c.world.objects.balance_of(&alice));
    assert_eq!(balance, 7_000_000_000);

    // Checkpoints chain by digest.
    node.read(|c| {
        for pair in c.checkpoints.windows(2) {
            assert_eq!(pair[1].summary.previous_digest, Some(pair[0].digest));
        }
    });
    let before: Vec<_> = node.read(|c| c.checkpoints.iter().map(|cp| cp.digest).collect());
    drop(node);

    let again = Node::open(config(dir.path())).expect("reopen");
    let after: Vec<_> = again.read(|c| c.checkpoints.iter().map(|cp| cp.digest).collect());
    assert_eq!(after, before, "replay gives the same checkpoints");
    assert_eq!(again.read(|c| c.chain_id()), chain_id);
    assert_eq!(
        again.read(|c| c.world.objects.balance_of(&alice)),
        7_000_000_000
    );
}
