//! The indexer's `/healthz` and `daas_healthy`: healthy while it follows the
//! chain; 503 naming the `chain` problem while the node is down, with the
//! process still up; healthy again once the node is back.

mod support;

use std::{net::SocketAddr, time::Duration};

use daas_testkit::{Stack, TestChain, TestTopic, fill, free_addr, wait_for};
use support::{indexer_on, wait_count};

/// `/healthz`'s status and body, and `daas_healthy` from `/metrics`.
async fn health(addr: SocketAddr) -> Option<(u16, String, Option<String>)> {
    let h = reqwest::get(format!("http://{addr}/healthz")).await.ok()?;
    let status = h.status().as_u16();
    let body = h.text().await.ok()?;
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let healthy = metrics
        .lines()
        .find_map(|l| l.strip_prefix("daas_healthy ").map(str::to_owned));
    Some((status, body, healthy))
}

async fn wait_health(
    addr: SocketAddr,
    what: &str,
    want: impl Fn(u16, &str) -> bool,
) -> anyhow::Result<(u16, String, Option<String>)> {
    wait_for(what, Duration::from_secs(60), || {
        let want = &want;
        async move { Ok(health(addr).await.filter(|(s, b, _)| want(*s, b))) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_names_a_node_that_is_down_and_recovers() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let dir = tempfile::tempdir()?;
    let chain = TestChain::start(dir.path(), free_addr()?, 50, 0).await?;
    let listen = free_addr()?;
    let mut child = indexer_on(
        &chain.url,
        &stack.kafka_brokers,
        &topic.name,
        &listen.to_string(),
    )?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || fill(&node, 50, 10)).await?;
    wait_count(&stack.kafka_brokers, &topic.name, chain.events().len()).await?;
    let (_, body, healthy) =
        wait_health(listen, "healthy while following", |s, _| s == 200).await?;
    assert_eq!((body.as_str(), healthy.as_deref()), ("ok\n", Some("1")));

    let addr = chain.addr;
    chain.stop().await;
    let (_, body, healthy) = wait_health(listen, "the chain problem", |s, b| {
        s == 503 && b.contains("chain:")
    })
    .await?;
    assert!(body.contains("does not answer"), "{body}");
    assert_eq!(healthy.as_deref(), Some("0"));
    assert!(
        child.try_wait()?.is_none(),
        "still running while the node is down"
    );

    let chain = TestChain::start(dir.path(), addr, 50, 0).await?;
    wait_health(listen, "recovery", |s, _| s == 200).await?;
    child.kill()?;
    child.wait()?;
    chain.stop().await;
    Ok(())
}
