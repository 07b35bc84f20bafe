//! Restarting the dev chain, or the broker, while the indexer follows the
//! chain live loses and duplicates nothing.

mod support;

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use daas_testkit::{Stack, TestChain, TestTopic, fill, free_addr, wait_for};
use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
};
use support::{indexer, log_of, wait_count};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_chain_restart_mid_stream_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let dir = tempfile::tempdir()?;
    let chain = TestChain::start(dir.path(), free_addr()?, 50, 0).await?;
    let mut child = indexer(&chain.url, &stack.kafka_brokers, &topic.name)?;

    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || fill(&node, 100, 100)).await?;
    wait_count(&stack.kafka_brokers, &topic.name, chain.events().len()).await?;

    let addr = chain.addr;
    chain.stop().await;
    let chain = TestChain::start(dir.path(), addr, 50, 0).await?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || fill(&node, 100, 100)).await?;
    let expected = chain.events();
    wait_count(&stack.kafka_brokers, &topic.name, expected.len()).await?;
    child.kill()?;
    child.wait()?;

    assert_eq!(log_of(&stack.kafka_brokers, &topic.name)?, expected);
    let log = daas_testkit::read_log(&stack.kafka_brokers, &topic.name)?;
    assert_eq!(
        support::proofs::check_log(&log, &chain.validators())?.events,
        expected.len()
    );
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
    let chain = TestChain::start(dir.path(), free_addr()?, 50, 0).await?;
    let mut child = indexer(&chain.url, &brokers, topic)?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || fill(&node, 100, 100)).await?;
    wait_count(&brokers, topic, chain.events().len()).await?;

    broker.kill()?; // SIGKILL the broker
    broker.wait()?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || fill(&node, 100, 100)).await?;
    let mut broker = start_broker()?;
    let expected = chain.events();
    wait_count(&brokers, topic, expected.len()).await?;
    child.kill()?;
    child.wait()?;

    assert_eq!(log_of(&brokers, topic)?, expected);
    broker.kill()?;
    broker.wait()?;
    chain.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_flushes_and_exits_zero() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let dir = tempfile::tempdir()?;
    let chain = TestChain::start(dir.path(), free_addr()?, 50, 0).await?;
    let mut child = indexer(&chain.url, &stack.kafka_brokers, &topic.name)?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || fill(&node, 300, 30)).await?;
    let expected = chain.events();
    wait_count(&stack.kafka_brokers, &topic.name, expected.len()).await?;

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait()).await??;
    assert!(exit.success(), "SIGTERM is a clean shutdown: {exit}");
    assert_eq!(log_of(&stack.kafka_brokers, &topic.name)?, expected);
    chain.stop().await;
    Ok(())
}
