//! Bounded history: outcome batches leave etcd once the outcome topic holds
//! them and they are older than the kept window, so a reopen reads a bounded
//! amount; the topic still has every outcome exactly once, and a reopened
//! publisher republishes nothing and knows the recent outcomes.

mod support;

use std::{collections::BTreeSet, sync::Arc};

use daas_master::{
    apply::Engine,
    lookup::OutcomeIndex,
    metrics::Metrics,
    outcomes::Publisher,
    pipeline::{Until, apply_log},
    state,
};
use daas_testkit::{Stack, TestEtcd, TestTopic, produce, workload::Workload};
use support::*;
use tokio_util::sync::CancellationToken;

const RECORDS: usize = 8_000;
const KEPT: i64 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_outcome_batches_are_pruned_beyond_the_window() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let records = Workload::new(31, 30).records(RECORDS);
    let requests = request_ids(&records);
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    let prefix = etcd.key("live/");
    let cfg = daas_master::apply::Config {
        outcomes_kept: KEPT,
        access: None,
        ..config(&prefix)
    };
    let args = log_args(&stack.kafka_brokers, &log.name, &out.name);

    let mut publisher = Publisher::new(&stack.kafka_brokers, &out.name)?;
    let mut engine = Engine::open(etcd.client.clone(), cfg.clone()).await?;
    engine.outcomes_durable_before(engine.next_offset());
    let engine = apply_log(
        engine,
        &args,
        &Metrics::default(),
        Some(&mut publisher),
        Until::Offset(RECORDS as i64),
        None,
        &CancellationToken::new(),
    )
    .await?;
    assert_eq!(engine.next_offset(), RECORDS as i64);

    // What is left in etcd: only recent batches.
    let mut c = etcd.client.clone();
    let l = layout(&prefix);
    let stored = state::range(&mut c, &l.outcomes_prefix()).await?;
    let firsts: Vec<i64> = stored
        .iter()
        .map(|kv| {
            l.outcome_batch_offset(&String::from_utf8_lossy(kv.key()))
                .unwrap_or(-1)
        })
        .collect();
    let oldest = firsts.iter().copied().min().unwrap_or(-1);
    // Pruned up to at most: the window, one prune step, one drain not yet
    // acknowledged when the last prune was planned, one Txn of records.
    let bound = RECORDS as i64 - KEPT - 1_000 - args.read_ahead as i64 - 256;
    assert!(
        oldest >= bound,
        "oldest stored batch {oldest}, bound {bound}"
    );
    assert!(
        firsts.iter().all(|f| *f >= 0),
        "every key is a batch: {firsts:?}"
    );

    // The topic has every outcome once, in order.
    let ids: Vec<u64> = read_outcomes(&stack.kafka_brokers, &out.name)?
        .iter()
        .map(|o| o.request_id)
        .collect();
    assert_eq!(ids, requests);
    assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), requests.len());

    // A reopen: nothing to republish; the index holds what etcd kept.
    let index = Arc::new(OutcomeIndex::new(1_000_000));
    let mut publisher = Publisher::new(&stack.kafka_brokers, &out.name)?.with_index(index.clone());
    assert_eq!(publisher.resume(&mut c, &l, &cfg.state_key).await?, 0);
    let last = requests.last().copied().unwrap_or_default();
    assert!(
        index.by_request(last).is_some(),
        "the newest outcome is known"
    );
    assert!(
        index.by_request(requests[0]).is_none(),
        "the oldest was pruned"
    );
    assert!(
        index.len() < requests.len() / 2,
        "{} outcomes read back",
        index.len()
    );
    Ok(())
}

/// Outcome batches can hold hundreds of KiB each: a range over them is read
/// in pages small enough for the client's 4 MiB response limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_over_the_response_limit_are_read_in_smaller_pages() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let etcd = TestEtcd::new(&stack).await?;
    let mut c = etcd.client.clone();
    let value = vec![b'o'; 400 * 1024];
    for i in 0..20 {
        c.put(etcd.key(&format!("big/{i:02}")), value.clone(), None)
            .await?;
    }
    let kvs = state::range(&mut c, &etcd.key("big/")).await?;
    assert_eq!(kvs.len(), 20, "8 MiB read back");
    assert!(kvs.iter().all(|kv| kv.value() == value.as_slice()));
    let keys: Vec<String> = kvs
        .iter()
        .map(|kv| String::from_utf8_lossy(kv.key()).into_owned())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "in key order");
    Ok(())
}
