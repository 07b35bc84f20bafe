//! Reopen time against history length: what `master run` does at start and
//! after every failure or conflict (`Publisher::resume`, then `Engine::open`),
//! after 10,000 and after 1,000,000 outcomes, in the same run; the figure is
//! their ratio (goal: the 1M reopen within 2x of the 10k one).
//!
//! Both histories are made the way the master makes them: small requests
//! (rejected: no stake, so the engine writes only outcome batches and the
//! position) applied by the engine and published to an outcome topic with
//! acks=all, the engine pruning acknowledged batches beyond the kept window
//! (10,000 records, the default) as it goes. A reopen therefore reads what a
//! real one reads: the topic's last outcome, the stored batches, the
//! position and the ledger.
//!
//! `scripts/stack up && cargo bench -p daas-master --bench reopen`
//! (`MASTER_BENCH_REOPEN_SIZES`, default `10000,1000000`; `MASTER_BENCH_RUNS`, default 5).

use std::{collections::VecDeque, time::Instant};

use daas_domain::{Address, Bytes, Event, LogPosition, events::*};
use daas_master::{
    apply::{Config, Engine, Incoming},
    metrics::Metrics,
    outcomes::Publisher,
    pipeline::drain,
    sealing_keys::{KeyRingHandle, SealingKeys},
    state::{self, Layout},
};
use daas_testkit::{Stack, TestEtcd, TestTopic, workload::CLUSTER};

const KEPT: i64 = 10_000;
/// Records applied per publisher flush (`master run` reads ahead 2,000).
const CHUNK: usize = 2_000;

fn record(n: u64, event: &Event) -> Vec<u8> {
    let mut digest = [0u8; 32];
    digest[..8].copy_from_slice(&n.to_be_bytes());
    daas_testkit::workload::record(
        LogPosition::new(n + 1, 0, 0),
        digest,
        1_767_225_600_000 + n,
        Address([1; 32]),
        event,
    )
}

/// Record `n` of the history: the cluster first, then small requests.
fn history(n: u64) -> Vec<u8> {
    if n == 0 {
        return record(
            0,
            &Event::ClusterCreated(ClusterCreated {
                cluster_id: CLUSTER,
                name: "bench".into(),
                admin: Address([9; 32]),
                timestamp_ms: 1,
            }),
        );
    }
    record(
        n,
        &Event::K8sApiRequest(K8sApiRequest {
            cluster_id: CLUSTER,
            request_id: n,
            sender: Address([7; 32]),
            verb: "create".into(),
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: "default".into(),
            name: format!("cm-{n}"),
            manifest: Bytes(b"{}".to_vec()),
            stake: 0,
            timestamp_ms: 1,
            seq: 0,
        }),
    )
}

/// Applies and publishes `n` records as `master run` does.
async fn build(stack: &Stack, cfg: &Config, topic: &str, n: usize) -> anyhow::Result<()> {
    let mut publisher = Publisher::new(&stack.kafka_brokers, topic)?;
    let mut engine = Engine::open(etcd_client(stack).await?, cfg.clone()).await?;
    let metrics = Metrics::default();
    let mut from = 0;
    while from < n {
        let to = (from + CHUNK).min(n);
        let mut buffer: VecDeque<Incoming> = (from..to)
            .map(|i| Incoming::unverified(&history(i as u64)))
            .collect();
        drain(
            &mut engine,
            &mut buffer,
            &metrics,
            Some(&mut publisher),
            None,
        )
        .await?;
        publisher.flush().await?;
        engine.outcomes_durable_before(engine.next_offset());
        from = to;
    }
    anyhow::ensure!(engine.next_offset() == n as i64);
    Ok(())
}

async fn etcd_client(stack: &Stack) -> anyhow::Result<etcd_client::Client> {
    Ok(etcd_client::Client::connect(&stack.etcd_endpoints, None).await?)
}

/// Median seconds of `runs` reopens, and of their etcd reads alone (the
/// stored outcome batches, the position and the ledger: the part that grew
/// with history before pruning; the rest is the broker round trips).
async fn reopen(
    stack: &Stack,
    cfg: &Config,
    topic: &str,
    runs: usize,
) -> anyhow::Result<(f64, f64)> {
    let (mut times, mut etcd_times) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let start = Instant::now();
        let mut client = etcd_client(stack).await?;
        let mut publisher = Publisher::new(&stack.kafka_brokers, topic)?;
        let republished = publisher
            .resume(&mut client, &cfg.layout, &cfg.state_key)
            .await?;
        let engine = Engine::open(client.clone(), cfg.clone()).await?;
        times.push(start.elapsed().as_secs_f64());
        anyhow::ensure!(republished == 0 && engine.next_offset() > 0);
        let start = Instant::now();
        state::range(&mut client, &cfg.layout.outcomes_prefix()).await?;
        Engine::open(client, cfg.clone()).await?;
        etcd_times.push(start.elapsed().as_secs_f64());
    }
    Ok((median(times), median(etcd_times)))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = std::env::var("MASTER_BENCH_REOPEN_SIZES")
        .unwrap_or_else(|_| "10000,1000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs = std::env::var("MASTER_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let stack = Stack::from_env()?;
    let etcd = TestEtcd::new(&stack).await?;
    // The baseline: a history whose batches are never pruned (as before),
    // at a size that stays within the shared etcd's comfort.
    let unpruned: usize = std::env::var("MASTER_BENCH_REOPEN_UNPRUNED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut results = Vec::new();
    for (n, kept) in sizes
        .into_iter()
        .map(|n| (n, KEPT))
        .chain((unpruned > 0).then_some((unpruned, i64::MAX)))
    {
        let topic = TestTopic::new(&stack).await?;
        let p = format!("h{n}-{kept}");
        let cfg = Config {
            layout: Layout::new(
                &etcd.key(&format!("{p}/registry")),
                &etcd.key(&format!("{p}/daas")),
            ),
            cluster: CLUSTER,
            secret_key: None,
            sealing: std::sync::Arc::new(KeyRingHandle::fixed(SealingKeys::new(
                daas_testkit::sealing::keyring(),
            ))),
            outcomes_kept: kept,
            access: None,
            state_key: daas_master::state_mac::StateKey::from_bytes(&[0x5a; 32]),
        };
        let start = Instant::now();
        build(&stack, &cfg, &topic.name, n).await?;
        let built = start.elapsed().as_secs_f64();
        let mut c = etcd.client.clone();
        let stored = state::range(&mut c, &cfg.layout.outcomes_prefix()).await?;
        let bytes: usize = stored.iter().map(|kv| kv.value().len()).sum();
        let (t, te) = reopen(&stack, &cfg, &topic.name, runs).await?;
        let what = if kept == KEPT {
            "pruned"
        } else {
            "never pruned (baseline)"
        };
        println!(
            "{n} records ({what}) applied and published in {built:.1} s; etcd keeps {} outcome batches \
             ({bytes} bytes); reopen (resume + open), median of {runs}: {:.1} ms, of which \
             its etcd reads {:.1} ms",
            stored.len(),
            t * 1e3,
            te * 1e3
        );
        results.push((n, t, te));
    }
    if let Some(baseline) = results.pop().filter(|_| unpruned > 0) {
        let (n, t, te) = baseline;
        if let Some((_, tp, tep)) = results.first() {
            println!(
                "never pruned at {n}: reopen {:.2}x, its etcd reads {:.2}x the pruned reopen at {}",
                t / tp,
                te / tep,
                results[0].0
            );
        }
    }
    if let [(a, ta, tea), .., (b, tb, teb)] = results.as_slice() {
        println!(
            "reopen after {b} vs after {a} records: ratio {:.2} (goal ≤ 2); its etcd reads \
             alone: ratio {:.2}",
            tb / ta,
            teb / tea
        );
    }
    Ok(())
}
