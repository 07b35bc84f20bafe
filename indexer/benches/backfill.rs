//! Backfill benchmark: events/s from the dev chain into the broker through the
//! indexer, next to a raw `rdkafka` produce of the same records with the same
//! producer settings into the same broker, in the same run.
//!
//! `scripts/stack up && cargo bench -p daas-indexer --bench backfill`
//! (`BACKFILL_EVENTS` sets the number of events, default 50,000).

use std::time::{Duration, Instant};

use daas_domain::{Address, LogEntry, LogPosition};
use daas_indexer::{
    pipeline,
    sink::{BrokerArgs, Sink},
    source::SourceArgs,
};
use daas_testkit::{Stack, TestChain, TestTopic, fill, free_addr, high_watermark};
use tokio_util::sync::CancellationToken;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("BACKFILL_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let stack = Stack::from_env()?;
    let dir = tempfile::tempdir()?;
    let chain = TestChain::start(dir.path(), free_addr()?, 250, 0).await?;
    eprintln!("filling the dev chain with {n} events…");
    let filler = chain.node.clone();
    tokio::task::spawn_blocking(move || fill(&filler, n, 200)).await?;

    // The exact records the indexer will write, for the raw baseline.
    let records: Vec<LogEntry> = chain.node.read(|c| {
        c.events
            .iter()
            .map(|e| {
                LogEntry::from_chain(
                    LogPosition::new(e.checkpoint, e.transaction_index, u64::from(e.event_index)),
                    e.transaction_digest.into_inner(),
                    c.checkpoints[e.checkpoint as usize].summary.timestamp_ms,
                    e.event.type_.to_string(),
                    Address(e.event.sender.into_inner()),
                    e.event.contents.clone(),
                )
            })
            .collect()
    });
    let total = records.len();

    // Baseline: raw produce of the same records, same producer settings.
    let raw_topic = TestTopic::new(&stack).await?;
    let raw = BrokerArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: raw_topic.name.clone(),
    };
    let mut sink = Sink::new(&raw, 10_000, pipeline::Metrics::default().produce_latency)?;
    let start = Instant::now();
    for r in &records {
        sink.send(r, &pipeline::key(r)).await?;
    }
    sink.flush().await?;
    let raw_rate = total as f64 / start.elapsed().as_secs_f64();

    // The indexer: from an empty log, backfill everything from the node.
    let topic = TestTopic::new(&stack).await?;
    let broker = BrokerArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: topic.name.clone(),
    };
    let source = SourceArgs {
        node_url: chain.url.clone(),
        package: daas_devnet::chain::PACKAGE_ID.to_string(),
        start_checkpoint: 0,
    };
    let stop = CancellationToken::new();
    let start = Instant::now();
    let task = {
        let stop = stop.clone();
        tokio::spawn(async move {
            pipeline::run(&source, &broker, 10_000, pipeline::Metrics::default(), stop).await
        })
    };
    while high_watermark(&stack.kafka_brokers, &topic.name)? < total as i64 {
        if task.is_finished() {
            task.await??;
            anyhow::bail!("the indexer stopped early");
        }
        // Polling the broker's record count: this measures, it does not synchronise.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let indexer_rate = total as f64 / start.elapsed().as_secs_f64();
    stop.cancel();
    task.await??;

    println!(
        "backfill of {total} events (records of ~{} bytes)",
        records[total / 2].encode().len()
    );
    println!("  raw rdkafka produce: {raw_rate:>9.0} records/s");
    println!(
        "  indexer backfill:    {indexer_rate:>9.0} events/s   ratio {:.2}",
        indexer_rate / raw_rate
    );
    chain.stop().await;
    Ok(())
}
