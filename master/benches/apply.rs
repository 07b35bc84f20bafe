//! Master benchmark, next to its raw baseline in the same run:
//!
//! - requests/s applied into etcd by the engine from records in memory, and by
//!   a replay reading the same records from the broker (`master replay`);
//! - raw etcd Txns of 100 puts of the same objects (the values the replay
//!   wrote, five rounds), objects/s;
//! - the state's authentication (decision 0017) beside the engine's apply
//!   time in the same run: the MAC work of every write of the master's own
//!   keys the engine run made (a tag and a multiset element per ledger or
//!   eviction write, a tag per outcome batch and position), redone on the
//!   values it stored, per record, as a ratio; and the check opening makes
//!   (`state_mac::load`) beside the unchecked read of position and ledger.
//!
//! `scripts/stack up && cargo bench -p daas-master --bench apply`
//! (`MASTER_BENCH_RECORDS`, default 30,000; `MASTER_BENCH_RUNS`, default 2).

use std::time::Instant;

use daas_domain::{Body, Event, LogEntry};
use daas_master::{
    apply::{Config, Engine, Incoming},
    encryption::SecretKey,
    metrics::Metrics,
    pipeline::{LogArgs, drain},
    replay::replay,
    sealing_keys::{KeyRingHandle, SealingKeys},
    state::{self, Layout},
    state_mac,
};
use daas_testkit::{
    Stack, TestEtcd, TestTopic, produce, raw_consume_rate,
    workload::{CLUSTER, Workload},
};
use etcd_client::{Txn, TxnOp};
use tokio_util::sync::CancellationToken;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let env = daas_testkit::bench_param;
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
    let key = SecretKey::parse("key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")?;
    let etcd = TestEtcd::new(&stack).await?;
    let cfg = |p: &str| Config {
        layout: Layout::new(
            &etcd.key(&format!("{p}/registry")),
            &etcd.key(&format!("{p}/daas")),
        ),
        cluster: CLUSTER,
        secret_key: Some(key.clone()),
        sealing: std::sync::Arc::new(KeyRingHandle::fixed(SealingKeys::new(
            daas_testkit::sealing::keyring(),
        ))),
        outcomes_kept: 10_000,
        access: None,
        state_key: daas_master::state_mac::StateKey::from_bytes(&[0x5a; 32]),
    };

    // The engine from memory first, before any broker client exists:
    // librdkafka's threads would take CPU from both sides of the comparison.
    // One untimed pass first warms what both sides share (the connection's
    // HTTP/2 windows, etcd's pages): otherwise the first run alone pays it.
    {
        let mut engine = Engine::open(etcd.client.clone(), cfg("warm")).await?;
        let mut buffer: std::collections::VecDeque<Incoming> =
            records.iter().map(|r| Incoming::unverified(r)).collect();
        drain(&mut engine, &mut buffer, &Metrics::default(), None, None).await?;
    }
    for run in 1..=runs {
        let mut engine = Engine::open(etcd.client.clone(), cfg(&format!("mem{run}"))).await?;
        let metrics = Metrics::default();
        let mut buffer: std::collections::VecDeque<Incoming> =
            records.iter().map(|r| Incoming::unverified(r)).collect();
        let start = Instant::now();
        drain(&mut engine, &mut buffer, &metrics, None, None).await?;
        let mem = requests as f64 / start.elapsed().as_secs_f64();
        anyhow::ensure!(engine.next_offset() == n as i64);
        let per_record = start.elapsed().as_secs_f64() / n as f64;
        let (raw, objects, avg) = raw_puts(&etcd, &format!("mem{run}"), run).await?;
        let c = cfg(&format!("mem{run}"));
        mac_cost(&etcd, &c, per_record, metrics.txns.get(), run).await?;
        println!(
            "run {run}: engine {mem:.0} requests/s ({} Txns); raw etcd Txns of 100 puts of the same \
             {objects} objects ({avg} bytes avg): {raw:.0} objects/s; ratio {:.2}",
            metrics.txns.get(),
            mem / raw
        );
    }

    // Replay from the broker, as `master replay` does.
    let log = TestTopic::new(&stack).await?;
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    let args = LogArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: log.name.clone(),
        outcome_topic: String::new(),
        read_ahead: 2_000,
        batch_ms: 20,
        verify: daas_master::verification::VerifyArgs::off(),
    };
    for run in 1..=runs {
        let target = format!("replay{run}");
        let start = Instant::now();
        let r = replay(
            etcd.client.clone(),
            cfg(&target),
            &args,
            n as i64,
            &CancellationToken::new(),
        )
        .await?;
        let replayed = requests as f64 / start.elapsed().as_secs_f64();
        anyhow::ensure!(r.complete);
        let (raw, _, _) = raw_puts(&etcd, &target, runs + run).await?;
        // The replay reads every record, so the broker's read rate bounds it.
        let consume = raw_consume_rate(&stack.kafka_brokers, &log.name, n).await?;
        let records_per_s = replayed * n as f64 / requests as f64;
        println!(
            "run {run}: replay from the broker {replayed:.0} requests/s ({records_per_s:.0} records/s); \
             raw etcd Txns of 100 puts: {raw:.0} objects/s, ratio {:.2}; raw rdkafka consume of \
             the log: {consume:.0} records/s, ratio {:.2}",
            replayed / raw,
            records_per_s / consume
        );
    }
    Ok(())
}

/// The MAC work of the engine run into `cfg` (see the header), timed on the
/// values it stored: per ledger and eviction key, one tag and one multiset
/// element per write it had (its etcd version); per Txn, a tag of its
/// outcome batch (those stored) and of the position. Printed beside the
/// engine's seconds per record; then a reopen's check beside a plain read.
async fn mac_cost(
    etcd: &TestEtcd,
    cfg: &Config,
    engine_per_record: f64,
    txns: u64,
    run: usize,
) -> anyhow::Result<()> {
    let mut c = etcd.client.clone();
    let layout = &cfg.layout;
    let kvs = state::range(&mut c, &layout.state_prefix()).await?;
    let mac = &cfg.state_key;
    let mut set = state_mac::StateSet::default();
    let mut writes = 0i64;
    let start = Instant::now();
    for kv in &kvs {
        let key = String::from_utf8_lossy(kv.key());
        let value = state_mac::payload(kv.value());
        let times = if key.starts_with(&layout.outcomes_prefix()) {
            1
        } else {
            kv.version()
        };
        for _ in 0..times {
            std::hint::black_box(mac.seal(&key, value));
            if !key.starts_with(&layout.outcomes_prefix()) {
                set.put(mac, &key, value);
            }
        }
        writes += times;
    }
    let position = kvs
        .iter()
        .find(|kv| kv.key() == layout.position().as_bytes())
        .map(|kv| state_mac::payload(kv.value()).to_vec())
        .unwrap_or_default();
    for _ in 0..txns {
        std::hint::black_box(mac.seal(&layout.position(), &position));
    }
    let mac_secs = start.elapsed().as_secs_f64();
    let records = state::load_position(&mut c, layout).await?;
    let per_record = mac_secs / records.max(1) as f64;
    println!(
        "run {run}: state MAC work {:.2} µs per record ({writes} key writes, {txns} positions) vs \
         engine {:.1} µs per record: ratio {:.3}",
        per_record * 1e6,
        engine_per_record * 1e6,
        per_record / engine_per_record
    );
    // What opening read before the state was authenticated.
    let start = Instant::now();
    state::load_cursor(&mut c, layout).await?;
    state::load_ledger(&mut c, layout).await?;
    let read = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let loaded = state_mac::load(&mut c, layout, mac).await?;
    let checked = start.elapsed().as_secs_f64();
    anyhow::ensure!(matches!(loaded, state_mac::Loaded::Authentic(_)));
    println!(
        "run {run}: opening's check of {} state keys (tags, commitment, ledger parsed) {:.1} ms \
         vs the unchecked read of position and ledger {:.1} ms: ratio {:.2}",
        kvs.len(),
        checked * 1e3,
        read * 1e3,
        checked / read
    );
    Ok(())
}

/// Raw baseline: the objects written under `from`, put again in Txns of 100
/// (five rounds into fresh prefixes: one round is too short to time).
/// Returns objects/s, the object count and their average size.
async fn raw_puts(etcd: &TestEtcd, from: &str, tag: usize) -> anyhow::Result<(f64, usize, usize)> {
    let mut c = etcd.client.clone();
    let objects = state::range(&mut c, &etcd.key(&format!("{from}/registry/"))).await?;
    let start = Instant::now();
    for round in 0..5 {
        for chunk in objects.chunks(100) {
            let ops: Vec<TxnOp> = chunk
                .iter()
                .map(|kv| {
                    let k = String::from_utf8_lossy(kv.key())
                        .replace(&format!("/{from}/"), &format!("/raw{tag}-{round}/"));
                    TxnOp::put(k, kv.value().to_vec(), None)
                })
                .collect();
            c.txn(Txn::new().and_then(ops)).await?;
        }
    }
    let raw = 5.0 * objects.len() as f64 / start.elapsed().as_secs_f64();
    let avg = objects.iter().map(|kv| kv.value().len()).sum::<usize>() / objects.len().max(1);
    Ok((raw, objects.len(), avg))
}
