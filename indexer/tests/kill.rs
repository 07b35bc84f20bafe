//! Kill test: the indexer is SIGKILLed at random points during a backfill of
//! 20,000+ events and restarted; the topic then holds each of the chain's
//! events exactly once, in chain order, byte for byte.

use std::{
    hash::{BuildHasher, RandomState},
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use daas_devnet::{
    calls,
    node::{Node, NodeConfig},
    rpc,
};
use daas_domain::{LogEntry, LogPosition};
use daas_testkit::{Stack, TestTopic, wait_for};
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
};
use sui_crypto::ed25519::Ed25519PrivateKey;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const EVENTS: usize = 20_000;

fn random(below: u64) -> u64 {
    RandomState::new().hash_one(std::time::SystemTime::now()) % below.max(1)
}

/// Fills the chain with `n` events (stakes, then top-ups), straight into the node.
fn fill(node: &Node, n: usize) {
    let ids = node.read(|c| c.world.ids.clone());
    let accounts = 100;
    let mut keys = Vec::new();
    for _ in 0..accounts {
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        node.faucet(key.public_key().derive_address(), 10_000_000_000)
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
    }
    node.seal().expect("seal");
}

fn high_watermark(brokers: &str, topic: &str) -> anyhow::Result<i64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    Ok(c.fetch_watermarks(topic, 0, Duration::from_secs(10))?.1)
}

/// Every record of the topic (up to its high watermark now).
fn read_all(brokers: &str, topic: &str) -> anyhow::Result<Vec<LogEntry>> {
    let n = high_watermark(brokers, topic)? as usize;
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", topic)
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(0))?;
    c.assign(&tpl)?;
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while out.len() < n && std::time::Instant::now() < deadline {
        if let Some(m) = c.poll(Duration::from_millis(200)) {
            out.push(LogEntry::decode(m?.payload().unwrap_or_default())?);
        }
    }
    Ok(out)
}

fn spawn_indexer(node_url: &str, brokers: &str, topic: &str) -> std::io::Result<Child> {
    Command::new(env!("CARGO_BIN_EXE_indexer"))
        .args([
            "run",
            "--node-url",
            node_url,
            "--brokers",
            brokers,
            "--topic",
            topic,
        ])
        .args(["--metrics-listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit()) // a failing indexer says why in the test output
        .spawn()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let dir = tempfile::tempdir()?;
    let node = Node::open(NodeConfig {
        data_dir: dir.path().to_path_buf(),
        checkpoint_interval: Duration::from_millis(100),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
    })?;
    let filler = node.clone();
    tokio::task::spawn_blocking(move || fill(&filler, EVENTS)).await?;
    let expected: Vec<(LogPosition, Vec<u8>)> = node.read(|c| {
        c.events
            .iter()
            .map(|e| {
                (
                    LogPosition::new(e.checkpoint, e.transaction_index, u64::from(e.event_index)),
                    e.event.contents.clone(),
                )
            })
            .collect()
    });
    assert!(
        expected.len() > EVENTS,
        "the genesis cluster plus {EVENTS} events"
    );

    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let node_url = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(rpc::serve(listener, Arc::clone(&node), shutdown.clone()));

    // Kill at random record counts, several times, then let it finish.
    let total = expected.len() as i64;
    for _ in 0..5 {
        let mut child = spawn_indexer(&node_url, &stack.kafka_brokers, &topic.name)?;
        let now = high_watermark(&stack.kafka_brokers, &topic.name)?;
        let target = now + 1 + random((total - now).max(1) as u64 / 3) as i64;
        wait_for(
            "the indexer to make progress",
            Duration::from_secs(120),
            || {
                let (b, t) = (stack.kafka_brokers.clone(), topic.name.clone());
                async move { Ok((high_watermark(&b, &t)? >= target.min(total)).then_some(())) }
            },
        )
        .await?;
        child.kill()?; // SIGKILL
        child.wait()?;
    }
    let mut child = spawn_indexer(&node_url, &stack.kafka_brokers, &topic.name)?;
    wait_for(
        "the whole chain in the log",
        Duration::from_secs(180),
        || {
            let (b, t) = (stack.kafka_brokers.clone(), topic.name.clone());
            async move { Ok((high_watermark(&b, &t)? >= total).then_some(())) }
        },
    )
    .await?;
    child.kill()?;
    child.wait()?;

    let log = read_all(&stack.kafka_brokers, &topic.name)?;
    let got: Vec<(LogPosition, Vec<u8>)> = log.into_iter().map(|e| (e.position, e.bcs)).collect();
    assert_eq!(
        got.len(),
        expected.len(),
        "exactly once: no loss, no duplicate"
    );
    assert!(
        got == expected,
        "the log equals the chain's events, in order, byte for byte"
    );

    shutdown.cancel();
    let _ = server.await;
    Ok(())
}
