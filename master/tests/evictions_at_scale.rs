//! An operator with 200 nodes crossing the node minimum: more changes than
//! one etcd Txn holds (128 operations, 1.5 MiB). The record is applied across
//! several Txns, every node is cordoned and tainted, the requests after it
//! are served, and a restart between those Txns ends where one clean run
//! ends. etcd's own refusal of an oversized Txn is not retried as transient.

mod support;

use std::{collections::BTreeMap, time::Duration};

use daas_domain::{Address, Bytes, Event, LogPosition, events::*, roles::Role};
use daas_master::{
    apply::{EVICTION_TAINT, Engine, EngineError, Incoming, commit},
    metrics::Metrics,
    pipeline::{MasterError, drain},
    state::{self, Cursor},
    state_root::state_root,
};
use daas_testkit::{
    Stack, TestEtcd, TestTopic, free_addr, produce, read_outcomes, wait_for,
    workload::{CLUSTER, Rng, test_seed},
};
use etcd_client::{Client, Txn, TxnOp};
use serde_json::json;
use support::*;

const NODES: usize = 200;
const OPERATOR: Address = Address([0x0b; 32]);
const TENANT: Address = Address([0x0c; 32]);
const SUI: u64 = 1_000_000_000;

fn record(n: u64, event: Event) -> Vec<u8> {
    let mut digest = [0xd1; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    daas_testkit::workload::record(
        LogPosition::new(n, 0, 0),
        digest,
        1_767_225_600_000 + n * 250,
        Address([1; 32]),
        &event,
    )
}

fn stake(n: u64, who: Address, role: Role, total: u64) -> Vec<u8> {
    record(
        n,
        Event::StakeDeposited(StakeDeposited {
            staker: who,
            role: role.to_move(),
            amount: total,
            total_after: total,
            epoch: 1,
            timestamp_ms: 1,
            seq: 0,
        }),
    )
}

fn request(n: u64, id: u64, kind: &str, namespace: &str, name: &str) -> Vec<u8> {
    let manifest = daas_testkit::workload::manifest(kind, "v1", name, namespace, id);
    record(
        n,
        daas_testkit::workload::create_request(TENANT, id, kind, namespace, name, manifest),
    )
}

fn node_name(i: usize) -> String {
    format!("node-{i:03}")
}

/// The log: a cluster, an operator registering 200 nodes, a tenant with a
/// namespace, the operator slashed below the node minimum (offset returned),
/// then 20 of the tenant's requests (ids returned).
fn log() -> (Vec<Vec<u8>>, usize, Vec<u64>) {
    let mut records = vec![
        record(
            1,
            Event::ClusterCreated(ClusterCreated {
                cluster_id: CLUSTER,
                name: "c".into(),
                admin: Address([9; 32]),
                timestamp_ms: 1,
            }),
        ),
        stake(2, OPERATOR, Role::Node, SUI),
    ];
    for i in 0..NODES {
        records.push(record(
            3 + i as u64,
            Event::NodeRegistered(NodeRegistered {
                operator: OPERATOR,
                node_name: node_name(i),
                public_key: Bytes(vec![1; 32]),
                endpoint: format!("10.0.{}.{}:10250", i / 250, i % 250),
                timestamp_ms: 1,
                seq: 0,
            }),
        ));
    }
    let n = records.len() as u64 + 1;
    records.push(stake(n, TENANT, Role::User, 10 * SUI));
    records.push(request(n + 1, 1, "Namespace", "", "team-a"));
    let slash = records.len();
    records.push(record(
        n + 2,
        Event::StakeSlashed(StakeSlashed {
            staker: OPERATOR,
            role: Role::Node.to_move(),
            amount: 1,
            total_after: SUI - 1,
            reason: "downtime".into(),
            slashed_by: Address([9; 32]),
            epoch: 1,
            timestamp_ms: 1,
            seq: 0,
        }),
    ));
    let ids: Vec<u64> = (0..20).map(|i| 100 + i).collect();
    for (i, id) in ids.iter().enumerate() {
        records.push(request(
            n + 3 + i as u64,
            *id,
            "ConfigMap",
            "team-a",
            &format!("cm-{i}"),
        ));
    }
    (records, slash, ids)
}

/// What a kubelet registered: a Node with a taint of its own and ~6 KiB of
/// status, so 200 of them are also over a Txn's byte budget.
fn kubelet_node(i: usize) -> serde_json::Value {
    kubelet_node_with(i, 40)
}

fn kubelet_node_with(i: usize, images: usize) -> serde_json::Value {
    let images: Vec<_> = (0..images)
        .map(|j| json!({"names": [format!("registry.example.com/team/image-{j:03}@sha256:{:064}", j)], "sizeBytes": 1000 + j}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": node_name(i)},
           "spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}]},
           "status": {"images": images}})
}

async fn register_nodes(client: &Client, prefix: &str) -> anyhow::Result<()> {
    register_nodes_with(client, prefix, 40).await
}

async fn register_nodes_with(client: &Client, prefix: &str, images: usize) -> anyhow::Result<()> {
    let l = layout(prefix);
    let mut c = client.clone();
    for chunk in (0..NODES).collect::<Vec<_>>().chunks(50) {
        let ops = chunk
            .iter()
            .map(|i| {
                let node = kubelet_node_with(*i, images).to_string();
                TxnOp::put(l.minion(&node_name(*i)), node, None)
            })
            .collect::<Vec<_>>();
        c.txn(Txn::new().and_then(ops)).await?;
    }
    Ok(())
}

/// How many nodes are cordoned and tainted exactly as expected (the
/// kubelet's taint kept, ours after it); fails on any other shape.
async fn evicted(client: &Client, prefix: &str) -> anyhow::Result<usize> {
    let l = layout(prefix);
    let mut c = client.clone();
    let mut n = 0;
    for i in 0..NODES {
        let r = c.get(l.minion(&node_name(i)), None).await?;
        let kv = r
            .kvs()
            .first()
            .ok_or_else(|| anyhow::anyhow!("node {i} is gone"))?;
        let node: serde_json::Value = serde_json::from_slice(kv.value())?;
        let mut want = kubelet_node(i);
        if node["spec"].get("unschedulable").is_some() {
            want["spec"] = json!({"unschedulable": true, "taints": [
                {"key": "gpu", "effect": "NoSchedule"}, {"key": EVICTION_TAINT, "effect": "NoExecute"}]});
            n += 1;
        }
        anyhow::ensure!(node == want, "node {i}: {node}");
    }
    Ok(n)
}

/// Every key under the test's prefixes but the position and outcome
/// batches (whose keys depend on how records were grouped), named without
/// the prefix; the master's own values without their tag (it covers the
/// full key, so it differs between prefixes).
async fn contents(client: &Client, prefix: &str) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let l = layout(prefix);
    let mut c = client.clone();
    Ok(state::range(&mut c, prefix)
        .await?
        .into_iter()
        .map(|kv| {
            (
                String::from_utf8_lossy(kv.key()).into_owned(),
                kv.value().to_vec(),
            )
        })
        .filter(|(k, _)| *k != l.position() && !k.starts_with(&l.outcomes_prefix()))
        .map(|(k, v)| match k.starts_with(&l.state_prefix()) {
            true => (k, daas_master::state_mac::payload(&v).to_vec()),
            false => (k, v),
        })
        .map(|(k, v)| (k[prefix.len()..].to_owned(), v))
        .collect())
}

async fn get(url: &str) -> anyhow::Result<(u16, String)> {
    let resp = reqwest::get(url).await?;
    Ok((resp.status().as_u16(), resp.text().await?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_with_200_nodes_is_evicted_and_later_requests_are_served() -> anyhow::Result<()>
{
    let stack = Stack::from_env()?;
    let (log_topic, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let (records, _, ids) = log();
    produce(&stack.kafka_brokers, &log_topic.name, &records).await?;
    let prefix = etcd.key("live/");
    register_nodes(&etcd.client, &prefix).await?;
    let addr = free_addr()?;
    let mut m = master_at(
        &stack.etcd_endpoints.join(","),
        &prefix,
        &stack.kafka_brokers,
        &log_topic.name,
        &out.name,
        &addr.to_string(),
    )?;
    wait_position(&etcd.client, &prefix, records.len() as i64).await?;

    assert_eq!(
        evicted(&etcd.client, &prefix).await?,
        NODES,
        "every node evicted"
    );
    let l = layout(&prefix);
    let evictions =
        state::range(&mut etcd.client.clone(), &format!("{}/evictions/", l.state)).await?;
    assert_eq!(evictions.len(), NODES, "every eviction recorded");
    // The tenant's requests after the slash are decided and served.
    for id in &ids {
        let url = format!("http://{addr}/v1/requests/{id}");
        let body = wait_for("the request's outcome", Duration::from_secs(30), || {
            let url = url.clone();
            async move {
                Ok(get(&url)
                    .await
                    .ok()
                    .filter(|(c, _)| *c == 200)
                    .map(|(_, b)| b))
            }
        })
        .await?;
        let v: serde_json::Value = serde_json::from_str(&body)?;
        assert_eq!(v["action"], "created", "request {id}: {v}");
    }
    let (code, health) = get(&format!("http://{addr}/healthz")).await?;
    assert_eq!((code, health.as_str()), (200, "ok\n"));
    let (_, metrics) = get(&format!("http://{addr}/metrics")).await?;
    assert!(
        !metrics.contains("master_apply_failures_total{"),
        "no failure: {metrics}"
    );
    assert!(terminate(&mut m)?.success());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_between_the_txns_of_one_record_ends_as_a_clean_run() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let etcd = TestEtcd::new(&stack).await?;
    let (records, slash, _) = log();
    let seed = test_seed("restart part");
    let mut rng = Rng::new(seed);
    let metrics = Metrics::default();

    // The clean run.
    let clean = etcd.key("clean/");
    register_nodes(&etcd.client, &clean).await?;
    let mut engine = Engine::open(etcd.client.clone(), config(&clean)).await?;
    drain(
        &mut engine,
        &mut records.iter().map(|r| Incoming::unverified(r)).collect(),
        &metrics,
        None,
        None,
    )
    .await?;
    assert_eq!(engine.next_offset(), records.len() as i64);

    // Up to the slash, then some of its Txns, then "crash".
    let live = etcd.key("live/");
    register_nodes(&etcd.client, &live).await?;
    let mut engine = Engine::open(etcd.client.clone(), config(&live)).await?;
    drain(
        &mut engine,
        &mut records[..slash]
            .iter()
            .map(|r| Incoming::unverified(r))
            .collect(),
        &metrics,
        None,
        None,
    )
    .await?;
    let parts = 1 + rng.below(3);
    for _ in 0..parts {
        let mut planned = engine
            .plan(
                &records[slash..]
                    .iter()
                    .map(|r| Incoming::unverified(r))
                    .collect::<Vec<_>>(),
                &metrics,
            )
            .await?;
        assert_eq!(
            planned.consumed(),
            0,
            "the slash needs more than {parts} Txns"
        );
        let txn = planned
            .take_txn()
            .ok_or_else(|| anyhow::anyhow!("no txn"))?;
        let revision = commit(engine.client(), txn).await?;
        engine.finish(planned, revision);
    }
    let mut c = etcd.client.clone();
    let stored = state::load_cursor(&mut c, &layout(&live)).await?;
    eprintln!("stopped after {parts} Txns of the slash at {stored:?}");
    assert_eq!(stored.offset, slash as i64);
    assert!(
        stored.units_done > 0 && stored.units_done < NODES,
        "{stored:?}"
    );
    assert_eq!(
        evicted(&etcd.client, &live).await?,
        stored.units_done,
        "exactly the applied units are evicted"
    );
    let ledger = state::load_ledger(&mut c, &layout(&live)).await?;
    assert_eq!(
        ledger.stake_of(OPERATOR, Role::Node),
        SUI,
        "the slash's ledger write waits for its last Txn"
    );
    drop(engine);

    let mut engine = Engine::open(etcd.client.clone(), config(&live)).await?;
    assert_eq!(engine.cursor(), stored, "reopened at the stored part");
    drain(
        &mut engine,
        &mut records[slash..]
            .iter()
            .map(|r| Incoming::unverified(r))
            .collect(),
        &metrics,
        None,
        None,
    )
    .await?;
    assert_eq!(engine.next_offset(), records.len() as i64);
    assert_eq!(
        state::load_cursor(&mut c, &layout(&live)).await?,
        Cursor {
            offset: records.len() as i64,
            units_done: 0
        }
    );

    assert_eq!(evicted(&etcd.client, &live).await?, NODES);
    let (a, b) = (
        contents(&etcd.client, &live).await?,
        contents(&etcd.client, &clean).await?,
    );
    assert!(a.len() > 2 * NODES, "{} keys", a.len());
    assert!(a == b, "the restarted run's keys equal the clean run's");
    let key = config(&live).secret_key;
    let (ra, _) = state_root(&mut c, &layout(&live), key.as_ref()).await?;
    let (rb, _) = state_root(&mut c, &layout(&clean), key.as_ref()).await?;
    assert_eq!(ra, rb);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_txn_etcd_refuses_for_its_size_is_not_transient() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let etcd = TestEtcd::new(&stack).await?;
    let too_many = (0..200)
        .map(|i| TxnOp::put(etcd.key(&format!("k{i}")), "v", None))
        .collect::<Vec<_>>();
    let too_large = vec![TxnOp::put(etcd.key("big"), vec![b'x'; 2 << 20], None)];
    for ops in [too_many, too_large] {
        let e = commit(etcd.client.clone(), Txn::new().and_then(ops))
            .await
            .expect_err("etcd refuses it");
        assert!(matches!(e, EngineError::Refused(_)), "{e:?}");
        let e = MasterError::from(e);
        assert!(!e.is_transient(), "{e}");
        assert_eq!(e.kind(), "refused");
    }
    Ok(())
}

/// The operator's stake flaps across the node minimum 20 times (each flap a
/// record of 4+ Txns), tenant requests between; the master is SIGKILLed at
/// seeded points while a record is half applied. It ends with every key a
/// clean run has, and one outcome per request on the topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_a_record_is_half_applied_ends_as_a_clean_run() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log_topic, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let (mut records, slash, mut ids) = log();
    let mut n = records.len() as u64 + 10;
    for flap in 0..40u64 {
        let total = if flap % 2 == 0 { SUI } else { SUI - 1 };
        records.push(record(
            n,
            Event::StakeWithdrawn(StakeWithdrawn {
                staker: OPERATOR,
                role: Role::Node.to_move(),
                amount: 1,
                total_after: total,
                epoch: 1,
                timestamp_ms: 1,
                seq: 0,
            }),
        ));
        let id = 1_000 + flap;
        records.push(request(
            n + 1,
            id,
            "ConfigMap",
            "team-a",
            &format!("flap-{flap}"),
        ));
        ids.push(id);
        n += 2;
    }
    produce(&stack.kafka_brokers, &log_topic.name, &records).await?;
    let seed = test_seed("kill mid-record");
    let mut rng = Rng::new(seed);
    let live = etcd.key("live/");
    register_nodes_with(&etcd.client, &live, 0).await?;
    let endpoint = stack.etcd_endpoints.join(",");
    let end = records.len() as i64;
    let start = || {
        master(
            &endpoint,
            &live,
            &stack.kafka_brokers,
            &log_topic.name,
            &out.name,
        )
    };
    let mut mid_record = 0;
    // Kill points from the slash on, where records span several Txns.
    let mut targets: Vec<i64> = (0..5)
        .map(|_| slash as i64 + rng.below((end - slash as i64) as u64) as i64)
        .collect();
    targets.sort();
    let mut c = etcd.client.clone();
    for target in targets {
        let before = state::load_cursor(&mut c, &layout(&live)).await?;
        let mut m = start()?;
        // Poll the cursor tightly (a part Txn takes milliseconds) until this
        // master has moved it into a record at or past the target.
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            let at = state::load_cursor(&mut c, &layout(&live))
                .await
                .unwrap_or_default();
            let inside = at.offset >= target && at.units_done > 0 && at != before;
            if inside || at.offset >= end {
                break;
            }
            anyhow::ensure!(
                std::time::Instant::now() < deadline,
                "no progress past {at:?}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        kill9(&mut m)?;
        let at = state::load_cursor(&mut c, &layout(&live)).await?;
        eprintln!("target {target}: killed at {at:?}");
        mid_record += usize::from(at.units_done > 0);
    }
    assert!(mid_record > 0, "no kill landed inside a record");
    let mut m = start()?;
    wait_position(&etcd.client, &live, end).await?;
    wait_for(
        "every outcome on the topic",
        Duration::from_secs(60),
        || {
            let (b, t) = (stack.kafka_brokers.clone(), out.name.clone());
            let want = ids.len() + 1;
            async move { Ok((read_outcomes(&b, &t)?.len() >= want).then_some(())) }
        },
    )
    .await?;
    assert!(terminate(&mut m)?.success());
    let got: Vec<u64> = read_outcomes(&stack.kafka_brokers, &out.name)?
        .iter()
        .map(|o| o.request_id)
        .collect();
    let mut want = vec![1];
    want.extend(&ids);
    assert_eq!(got, want, "one outcome per request, in order");

    let clean = etcd.key("clean/");
    register_nodes_with(&etcd.client, &clean, 0).await?;
    let args = log_args(&stack.kafka_brokers, &log_topic.name, &out.name);
    apply_to(&etcd.client, &clean, &args, end).await?;
    let (a, b) = (
        contents(&etcd.client, &live).await?,
        contents(&etcd.client, &clean).await?,
    );
    assert!(a.len() > 2 * NODES, "{} keys", a.len());
    assert!(a == b, "the killed run's keys equal the clean run's");
    Ok(())
}
