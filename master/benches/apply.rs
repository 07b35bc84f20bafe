//! Master benchmark, next to its raw baseline in the same run:
//!
//! - requests/s applied into etcd by the engine from records in memory, and by
//!   a replay reading the same records from the broker (`master replay`);
//! - raw etcd Txns of 100 puts of the same objects (the values the replay
//!   wrote, five rounds), objects/s.
//!
//! `scripts/stack up && cargo bench -p daas-master --bench apply`
//! (`MASTER_BENCH_RECORDS`, default 30,000; `MASTER_BENCH_RUNS`, default 2).

use std::time::Instant;

use daas_domain::{Body, Event, LogEntry};
use daas_master::{
    apply::{Config, Engine},
    encryption::SecretKey,
    metrics::Metrics,
    pipeline::LogArgs,
    replay::replay,
    state::{self, Layout},
};
use daas_testkit::{
    Stack, TestEtcd, TestTopic, produce,
    workload::{CLUSTER, Workload},
};
use etcd_client::{Txn, TxnOp};
use tokio_util::sync::CancellationToken;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n = env("MASTER_BENCH_RECORDS", 30_000);
    let runs = env("MASTER_BENCH_RUNS", 2);
    let stack = Stack::from_env()?;
    let records = Workload::new(9, 500).records(n);
    let requests = records
        .iter()
        .filter_map(|r| LogEntry::decode(r).ok())
        .filter(|e| matches!(e.body, Body::Event(Event::K8sApiRequest(_))))
        .count();
    eprintln!("{n} records, {requests} requests");
    let log = TestTopic::new(&stack).await?;
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    let args = LogArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: log.name.clone(),
        outcome_topic: String::new(),
        read_ahead: 2_000,
        batch_ms: 20,
    };
    let key = SecretKey::parse("key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
    for run in 1..=runs {
        let etcd = TestEtcd::new(&stack).await?;
        let cfg = |p: &str| Config {
            layout: Layout::new(
                &etcd.key(&format!("{p}/registry")),
                &etcd.key(&format!("{p}/daas")),
            ),
            cluster: CLUSTER,
            secret_key: Some(key.clone()),
        };

        // Engine from memory.
        let mut engine = Engine::open(etcd.client.clone(), cfg("mem")).await?;
        let metrics = Metrics::default();
        let start = Instant::now();
        let mut i = 0;
        while i < records.len() {
            i += engine.apply(&records[i..], &metrics).await?.consumed;
        }
        let mem = requests as f64 / start.elapsed().as_secs_f64();
        eprintln!("engine: {} Txns for {n} records", metrics.txns.get());

        // Replay from the broker.
        let start = Instant::now();
        let r = replay(
            etcd.client.clone(),
            cfg("replay"),
            &args,
            n as i64,
            &CancellationToken::new(),
        )
        .await?;
        let replayed = requests as f64 / start.elapsed().as_secs_f64();
        anyhow::ensure!(r.complete);

        // Raw: the objects the replay wrote, Txns of 100 puts.
        let mut c = etcd.client.clone();
        let objects = state::range(&mut c, &etcd.key("replay/registry/")).await?;
        // Five rounds (into five prefixes): one round is too short to time.
        let start = Instant::now();
        for round in 0..5 {
            for chunk in objects.chunks(100) {
                let ops: Vec<TxnOp> = chunk
                    .iter()
                    .map(|kv| {
                        let k = String::from_utf8_lossy(kv.key())
                            .replace("/replay/", &format!("/raw{round}/"));
                        TxnOp::put(k, kv.value().to_vec(), None)
                    })
                    .collect();
                c.txn(Txn::new().and_then(ops)).await?;
            }
        }
        let raw = 5.0 * objects.len() as f64 / start.elapsed().as_secs_f64();
        let avg = objects.iter().map(|kv| kv.value().len()).sum::<usize>() / objects.len().max(1);
        println!(
            "run {run}: engine {mem:.0} requests/s, replay from the broker {replayed:.0} requests/s; \
             raw etcd Txns of 100 puts: {raw:.0} objects/s ({} objects, {avg} bytes avg); ratios {:.2} and {:.2}",
            objects.len(),
            mem / raw,
            replayed / raw
        );
    }
    Ok(())
}
