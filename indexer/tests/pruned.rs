//! A node that no longer has the checkpoint the log needs makes the indexer
//! exit non-zero, naming the checkpoint and the node's lowest one.

use std::process::Command;

use daas_testkit::{Stack, TestChain, TestTopic, free_addr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pruned_node_is_a_clear_non_zero_exit() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let dir = tempfile::tempdir()?;
    let chain = TestChain::start(dir.path(), free_addr()?, 100, 1).await?;
    let url = chain.url.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_indexer"))
            .args([
                "run",
                "--node-url",
                &url,
                "--brokers",
                &stack.kafka_brokers,
                "--topic",
                &topic.name,
            ])
            .args(["--metrics-listen", "127.0.0.1:0", "--start-checkpoint", "0"])
            .env("RUST_BACKTRACE", "0")
            .output()
    })
    .await??;
    assert!(!output.status.success(), "must exit non-zero");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("lowest available checkpoint is 1")
            && stderr.contains("needs checkpoint 0"),
        "the reason names both checkpoints: {stderr}"
    );
    chain.stop().await;
    Ok(())
}
