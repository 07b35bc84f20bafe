//! Restarting the dev chain, or the broker, while the indexer follows the
//! chain live loses and duplicates nothing.

use std::{
    net::SocketAddr,
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
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
    consumer::{BaseConsumer, Consumer},
};
use sui_crypto::ed25519::Ed25519PrivateKey;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

struct Chain {
    node: Arc<Node>,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<()>,
    checkpoints: tokio::task::JoinHandle<()>,
}

async fn start_chain(dir: &std::path::Path, addr: SocketAddr) -> anyhow::Result<Chain> {
    let node = Node::open(NodeConfig {
        data_dir: dir.to_path_buf(),
        checkpoint_interval: Duration::from_millis(50),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
    })?;
    let listener = TcpListener::bind(addr).await?;
    let shutdown = CancellationToken::new();
    let (n, s) = (node.clone(), shutdown.clone());
    let server = tokio::spawn(async move {
        let _ = rpc::serve(listener, n, s).await;
    });
    let (n, s) = (node.clone(), shutdown.clone());
    let checkpoints = tokio::spawn(async move {
        let _ = n.run_checkpoints(s).await;
    });
    Ok(Chain {
        node,
        shutdown,
        server,
        checkpoints,
    })
}

impl Chain {
    async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.server.await;
        let _ = self.checkpoints.await;
    }
}

/// `n` new stakes, one event each, from fresh accounts.
fn stakes(node: &Node, n: usize) {
    let ids = node.read(|c| c.world.ids.clone());
    for _ in 0..n {
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        let who = key.public_key().derive_address();
        node.faucet(who, 2_000_000_000).expect("faucet");
        let gas = node.read(|c| c.largest_coin(&who)).expect("coin");
        let (tx, sig) = calls::stake(&key, &ids, gas, 500_000_000, 0);
        node.execute(tx, vec![sig]).expect("stake");
    }
}

fn events(node: &Node) -> Vec<(LogPosition, Vec<u8>)> {
    node.read(|c| {
        c.events
            .iter()
            .map(|e| {
                (
                    LogPosition::new(e.checkpoint, e.transaction_index, u64::from(e.event_index)),
                    e.event.contents.clone(),
                )
            })
            .collect()
    })
}

fn high_watermark(brokers: &str, topic: &str) -> anyhow::Result<i64> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    Ok(c.fetch_watermarks(topic, 0, Duration::from_secs(5))?.1)
}

fn read_all(brokers: &str, topic: &str) -> anyhow::Result<Vec<(LogPosition, Vec<u8>)>> {
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
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while out.len() < n && std::time::Instant::now() < deadline {
        if let Some(m) = c.poll(Duration::from_millis(200)) {
            let e = LogEntry::decode(m?.payload().unwrap_or_default())?;
            out.push((e.position, e.bcs));
        }
    }
    Ok(out)
}

fn indexer(node_url: &str, brokers: &str, topic: &str) -> std::io::Result<Child> {
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
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
}

async fn wait_count(brokers: &str, topic: &str, n: usize) -> anyhow::Result<()> {
    wait_for("the log to catch up", Duration::from_secs(90), || {
        let (b, t) = (brokers.to_owned(), topic.to_owned());
        async move { Ok((high_watermark(&b, &t)? >= n as i64).then_some(())) }
    })
    .await
}

fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_chain_restart_mid_stream_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let dir = tempfile::tempdir()?;
    let addr = free_addr()?;
    let chain = start_chain(dir.path(), addr).await?;
    let mut child = indexer(&format!("http://{addr}"), &stack.kafka_brokers, &topic.name)?;

    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || stakes(&node, 100)).await?;
    let half = events(&chain.node).len();
    wait_count(&stack.kafka_brokers, &topic.name, half).await?;

    chain.stop().await;
    let chain = start_chain(dir.path(), addr).await?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || stakes(&node, 100)).await?;
    chain.node.seal()?;
    let expected = events(&chain.node);
    wait_count(&stack.kafka_brokers, &topic.name, expected.len()).await?;
    child.kill()?;
    child.wait()?;

    assert_eq!(read_all(&stack.kafka_brokers, &topic.name)?, expected);
    chain.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_restart_mid_stream_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let tansu = std::env::var("DAAS_TANSU_BIN").or_else(|_| {
        std::fs::read_to_string(stack.dir.join("env"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .find_map(|l| l.strip_prefix("DAAS_TANSU_BIN=").map(str::to_owned))
            })
            .ok_or(std::env::VarError::NotPresent)
    })?;
    // A broker of our own, so killing it disturbs no other test.
    let broker_dir = tempfile::tempdir()?;
    let broker_addr = free_addr()?;
    let start_broker = || -> std::io::Result<Child> {
        let url = format!("tcp://{broker_addr}");
        Command::new(&tansu)
            .current_dir(broker_dir.path())
            .args([
                "broker",
                "--storage-engine",
                "sqlite://tansu.db",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    };
    let mut broker = start_broker()?;
    let brokers = broker_addr.to_string();
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()?;
    let topic = "restart-test";
    wait_for("the private broker", Duration::from_secs(30), || {
        let admin = &admin;
        async move {
            let r = admin
                .create_topics(
                    &[NewTopic::new(topic, 1, TopicReplication::Fixed(1))],
                    &AdminOptions::new(),
                )
                .await;
            Ok(r.is_ok_and(|v| v.iter().all(Result::is_ok)).then_some(()))
        }
    })
    .await?;

    let dir = tempfile::tempdir()?;
    let addr = free_addr()?;
    let chain = start_chain(dir.path(), addr).await?;
    let mut child = indexer(&format!("http://{addr}"), &brokers, topic)?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || stakes(&node, 100)).await?;
    wait_count(&brokers, topic, events(&chain.node).len()).await?;

    broker.kill()?; // SIGKILL the broker
    broker.wait()?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || stakes(&node, 100)).await?;
    let mut broker = start_broker()?;
    chain.node.seal()?;
    let expected = events(&chain.node);
    wait_count(&brokers, topic, expected.len()).await?;
    child.kill()?;
    child.wait()?;

    assert_eq!(read_all(&brokers, topic)?, expected);
    broker.kill()?;
    broker.wait()?;
    chain.stop().await;
    Ok(())
}
