//! Backfill benchmark: events/s from the dev chain into the broker through the
//! indexer, next to a raw `rdkafka` produce of the same records with the same
//! producer settings into the same broker, in the same run.
//!
//! `scripts/stack up && cargo bench -p daas-indexer --bench backfill`
//! (`BACKFILL_EVENTS` sets the number of events, default 50,000).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use daas_devnet::{
    calls,
    node::{Node, NodeConfig},
    rpc,
};
use daas_domain::LogEntry;
use daas_indexer::{
    pipeline,
    sink::{BrokerArgs, Sink},
    source::SourceArgs,
};
use daas_testkit::{Stack, TestTopic};
use rdkafka::{
    ClientConfig,
    consumer::{BaseConsumer, Consumer},
};
use sui_crypto::ed25519::Ed25519PrivateKey;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

fn fill(node: &Node, n: usize) {
    let ids = node.read(|c| c.world.ids.clone());
    let accounts = 200;
    let mut keys = Vec::new();
    for _ in 0..accounts {
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        node.faucet(key.public_key().derive_address(), 100_000_000_000)
            .expect("faucet");
        let gas = node
            .read(|c| c.largest_coin(&key.public_key().derive_address()))
            .expect("coin");
        keys.push((key, gas, true));
    }
    for i in 0..n {
        let (key, gas, first) = &mut keys[i % accounts];
        let (tx, sig) = if *first {
            calls::stake(key, &ids, gas.clone(), 500_000_000, 0)
        } else {
            calls::top_up(key, &ids, gas.clone(), 1, 0)
        };
        *first = false;
        let done = node.execute(tx, vec![sig]).expect("execute");
        *gas = calls::gas_after(&done.effects).expect("gas");
        if i % 2_000 == 0 {
            node.seal().expect("seal");
        }
    }
    node.seal().expect("seal");
}

fn high_watermark(brokers: &str, topic: &str) -> i64 {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .expect("consumer");
    c.fetch_watermarks(topic, 0, Duration::from_secs(10))
        .map(|w| w.1)
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::var("BACKFILL_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let stack = Stack::from_env()?;
    let dir = tempfile::tempdir()?;
    let node = Node::open(NodeConfig {
        data_dir: dir.path().to_path_buf(),
        checkpoint_interval: Duration::from_millis(250),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
    })?;
    eprintln!("filling the dev chain with {n} events…");
    let filler = node.clone();
    tokio::task::spawn_blocking(move || fill(&filler, n)).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let node_url = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(rpc::serve(listener, Arc::clone(&node), shutdown.clone()));

    // The exact records the indexer will write, for the raw baseline.
    let records: Vec<LogEntry> = node.read(|c| {
        c.events
            .iter()
            .map(|e| {
                let ts = c.checkpoints[e.checkpoint as usize].summary.timestamp_ms;
                LogEntry::from_chain(
                    daas_domain::LogPosition::new(
                        e.checkpoint,
                        e.transaction_index,
                        u64::from(e.event_index),
                    ),
                    e.transaction_digest.into_inner(),
                    ts,
                    e.event.type_.to_string(),
                    daas_domain::Address(e.event.sender.into_inner()),
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
        node_url,
        package: daas_devnet::chain::PACKAGE_ID.to_string(),
        start_checkpoint: 0,
    };
    let stop = CancellationToken::new();
    let start = Instant::now();
    let task = {
        let (stop, broker, source) = (stop.clone(), broker.clone(), source.clone());
        tokio::spawn(async move {
            pipeline::run(&source, &broker, 10_000, pipeline::Metrics::default(), stop).await
        })
    };
    loop {
        if high_watermark(&stack.kafka_brokers, &topic.name) >= total as i64 {
            break;
        }
        if task.is_finished() {
            task.await??;
            anyhow::bail!("the indexer stopped early");
        }
        tokio::time::sleep(Duration::from_millis(20)).await; // polling the broker's count; not synchronisation of the code under test
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
    shutdown.cancel();
    let _ = server.await;
    Ok(())
}
