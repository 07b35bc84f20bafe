//! A node that no longer has the checkpoint the log needs makes the indexer
//! exit non-zero, naming the checkpoint and the node's lowest one.

use std::{process::Command, sync::Arc, time::Duration};

use daas_devnet::{
    node::{Node, NodeConfig},
    rpc,
};
use daas_testkit::{Stack, TestTopic};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pruned_node_is_a_clear_non_zero_exit() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let dir = tempfile::tempdir()?;
    let node = Node::open(NodeConfig {
        data_dir: dir.path().to_path_buf(),
        checkpoint_interval: Duration::from_millis(100),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 1,
    })?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let node_url = format!("http://{}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(rpc::serve(listener, Arc::clone(&node), shutdown.clone()));

    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_indexer"))
            .args([
                "run",
                "--node-url",
                &node_url,
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
    shutdown.cancel();
    let _ = server.await;
    Ok(())
}
