//! A node whose operator is slashed below the node minimum is cordoned and
//! tainted, the eviction recorded; a new deposit lifts both.

mod support;

use daas_domain::{Bytes, Event, LogPosition, events::*};
use daas_master::{apply::EVICTION_TAINT, state::Layout};
use daas_testkit::{Stack, TestEtcd, TestTopic, produce, workload::CLUSTER};
use serde_json::json;
use support::*;

fn record(n: u64, event: Event) -> Vec<u8> {
    daas_testkit::workload::record(
        LogPosition::new(n, 0, 0),
        [n as u8; 32],
        1_767_225_600_000 + n * 250,
        daas_domain::Address([1; 32]),
        &event,
    )
}

fn cluster_created(n: u64) -> Vec<u8> {
    record(
        n,
        Event::ClusterCreated(ClusterCreated {
            cluster_id: CLUSTER,
            name: "c".into(),
            admin: daas_domain::Address([9; 32]),
            timestamp_ms: 1,
        }),
    )
}

fn node_registered(n: u64, operator: daas_domain::Address) -> Vec<u8> {
    record(
        n,
        Event::NodeRegistered(NodeRegistered {
            operator,
            node_name: "node-1".into(),
            public_key: Bytes(vec![1; 32]),
            endpoint: "10.0.0.1:10250".into(),
            timestamp_ms: 1,
            seq: 0,
        }),
    )
}

/// `operator`'s node stake becomes `total`, by a slash or a deposit.
fn node_stake(n: u64, operator: daas_domain::Address, total: u64, slash: bool) -> Vec<u8> {
    let role = 1;
    let event = if slash {
        Event::StakeSlashed(StakeSlashed {
            staker: operator,
            role,
            amount: 1,
            total_after: total,
            reason: "downtime".into(),
            slashed_by: daas_domain::Address([9; 32]),
            epoch: 1,
            timestamp_ms: 1,
            seq: 0,
        })
    } else {
        Event::StakeDeposited(StakeDeposited {
            staker: operator,
            role,
            amount: total,
            total_after: total,
            epoch: 1,
            timestamp_ms: 1,
            seq: 0,
        })
    };
    record(n, event)
}

async fn node(etcd: &TestEtcd, l: &Layout) -> anyhow::Result<serde_json::Value> {
    let r = etcd.client.clone().get(l.minion("node-1"), None).await?;
    let kv = r
        .kvs()
        .first()
        .ok_or_else(|| anyhow::anyhow!("no node object"))?;
    Ok(serde_json::from_slice(kv.value())?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slashed_nodes_are_cordoned_and_tainted() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let l = layout(&etcd.prefix);
    let op = daas_domain::Address([0x0b; 32]);
    let stake = |n, total, slash| node_stake(n, op, total, slash);
    let records = vec![
        cluster_created(1),
        stake(2, 1_000_000_000, false),
        node_registered(3, op),
        stake(4, 999_999_999, true),
    ];
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    // The kubelet registered its Node object, with a taint of its own.
    etcd.client.clone().put(l.minion("node-1"), json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": "node-1"}, "spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}]}}).to_string(), None).await?;
    let args = log_args(&stack.kafka_brokers, &log.name, &out.name);
    apply_to(&etcd.client, &etcd.prefix, &args, 4).await?;

    let n = node(&etcd, &l).await?;
    assert_eq!(n["spec"]["unschedulable"], true, "{n}");
    assert_eq!(
        n["spec"]["taints"],
        json!([{"key": "gpu", "effect": "NoSchedule"}, {"key": EVICTION_TAINT, "effect": "NoExecute"}])
    );
    let ev = etcd.client.clone().get(l.eviction("node-1"), None).await?;
    assert_eq!(ev.kvs().len(), 1, "the eviction is recorded");

    // Topped up again: both lifted, the kubelet's own taint kept.
    produce(
        &stack.kafka_brokers,
        &log.name,
        &[stake(5, 2_000_000_000, false)],
    )
    .await?;
    apply_to(&etcd.client, &etcd.prefix, &args, 5).await?;
    let n = node(&etcd, &l).await?;
    assert!(n["spec"].get("unschedulable").is_none(), "{n}");
    assert_eq!(
        n["spec"]["taints"],
        json!([{"key": "gpu", "effect": "NoSchedule"}])
    );
    assert_eq!(
        etcd.client
            .clone()
            .get(l.eviction("node-1"), None)
            .await?
            .kvs()
            .len(),
        0
    );
    Ok(())
}

/// The engine read `node-1`'s Node object while it was absent (the node
/// registered before its kubelet wrote it) and kept that in its cache; the
/// kubelet then registers it; the slash that follows must still taint it.
/// Before the absent read was guarded, the Txn skipped the Node silently
/// (seen in the end-to-end scenario, intermittently).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_registered_after_the_engine_read_it_absent_is_still_evicted() -> anyhow::Result<()>
{
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let l = layout(&etcd.prefix);
    let op = daas_domain::Address([0x0c; 32]);
    let first = vec![
        cluster_created(1),
        node_stake(2, op, 1_000_000_000, false),
        node_registered(3, op),
    ];
    produce(&stack.kafka_brokers, &log.name, &first).await?;
    let args = log_args(&stack.kafka_brokers, &log.name, &out.name);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let metrics = daas_master::metrics::Metrics::default();
    let engine =
        daas_master::apply::Engine::open(etcd.client.clone(), config(&etcd.prefix)).await?;
    let engine = daas_master::pipeline::apply_log(
        engine,
        &args,
        &metrics,
        None,
        daas_master::pipeline::Until::Offset(3),
        None,
        &shutdown,
    )
    .await?;
    assert!(node(&etcd, &l).await.is_err(), "no Node object yet");

    // The kubelet registers its Node; then the operator is slashed.
    etcd.client
        .clone()
        .put(
            l.minion("node-1"),
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node-1"}}).to_string(),
            None,
        )
        .await?;
    let slash = node_stake(4, op, 999_999_999, true);
    produce(&stack.kafka_brokers, &log.name, &[slash]).await?;
    let resumed = daas_master::pipeline::apply_log(
        engine,
        &args,
        &metrics,
        None,
        daas_master::pipeline::Until::Offset(4),
        None,
        &shutdown,
    )
    .await;
    // The guard on the absent read fails that Txn; `master run` then reopens
    // from etcd, as here, and plans the record again on fresh reads.
    let err = resumed.err().expect("the stale absent read conflicts");
    assert!(err.is_transient(), "a conflict is retried: {err}");
    apply_to(&etcd.client, &etcd.prefix, &args, 4).await?;
    let n = node(&etcd, &l).await?;
    assert_eq!(n["spec"]["unschedulable"], true, "{n}");
    assert_eq!(
        n["spec"]["taints"],
        json!([{"key": EVICTION_TAINT, "effect": "NoExecute"}])
    );
    Ok(())
}
