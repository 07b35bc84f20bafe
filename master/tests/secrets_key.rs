//! `master run`, `replay` and `state-root` need a Secrets key, read the same
//! way: none, an empty one or a malformed one is refused before anything
//! starts; `--insecure-plaintext-secrets` runs without one, warned in the log
//! and exported as `master_insecure_plaintext_secrets 1`.

mod support;

use std::{process::Command, time::Duration};

use daas_testkit::{Stack, TestEtcd, TestTopic, free_addr, terminate, wait_for, workload};
use support::KEY;

fn master(args: &[&str], key_env: Option<&str>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_master"));
    c.args(args).env_remove("DAAS_MASTER_ENCRYPTION_KEY");
    if let Some(k) = key_env {
        c.env("DAAS_MASTER_ENCRYPTION_KEY", k);
    }
    c
}

#[test]
fn every_subcommand_refuses_a_missing_empty_or_malformed_key() -> anyhow::Result<()> {
    let cluster = workload::CLUSTER.to_string();
    // Nothing listens here: the refusal must come before any connection.
    let etcd = ["--etcd", "http://127.0.0.1:9"];
    let keys = support::sealing_key_dir();
    let applying = |sub| {
        vec![
            sub,
            "--cluster-id",
            &cluster,
            "--brokers",
            "127.0.0.1:9",
            "--sealing-key-dir",
            &keys,
        ]
    };
    let subcommands: [Vec<&str>; 3] = [applying("run"), applying("replay"), vec!["state-root"]];
    for sub in &subcommands {
        let args: Vec<&str> = sub.iter().copied().chain(etcd).collect();
        let cases: [(Vec<&str>, Option<&str>, &str); 5] = [
            (vec![], None, "--encryption-key"),
            (vec![], Some(""), "empty"),
            (vec!["--encryption-key", ""], None, "empty"),
            (vec!["--encryption-key", "key1:AAAA"], None, "32 bytes"),
            (
                vec!["--encryption-key", KEY, "--insecure-plaintext-secrets"],
                None,
                "cannot be used with",
            ),
        ];
        for (extra, env, says) in cases {
            let all: Vec<&str> = args.iter().copied().chain(extra.iter().copied()).collect();
            let out = master(&all, env).output()?;
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{all:?} env {env:?}: {stderr}");
            assert!(stderr.contains(says), "{all:?} env {env:?}: {stderr}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_plaintext_secrets_is_warned_and_exported() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let l = support::layout(&etcd.prefix);
    let addr = free_addr()?;
    let logs = std::env::temp_dir().join(daas_testkit::unique_name("master-insecure"));
    let cluster = workload::CLUSTER.to_string();
    let endpoints = stack.etcd_endpoints.join(",");
    let mut child = master(
        &[
            "run",
            "--insecure-no-verify",
            "--insecure-plaintext-secrets",
            "--sealing-key-dir",
            &support::sealing_key_dir(),
            "--cluster-id",
            &cluster,
            "--etcd",
            &endpoints,
            "--prefix",
            &l.registry,
            "--state-prefix",
            &l.state,
            "--brokers",
            &stack.kafka_brokers,
            "--topic",
            &log.name,
            "--outcome-topic",
            &out.name,
            "--metrics-listen",
            &addr.to_string(),
        ],
        None,
    )
    .env("RUST_LOG", "warn")
    .stderr(std::fs::File::create(&logs)?)
    .stdout(std::process::Stdio::null())
    .spawn()?;
    let url = format!("http://{addr}/metrics");
    let metrics = wait_for("metrics", Duration::from_secs(30), || {
        let url = url.clone();
        async move {
            Ok(match reqwest::get(&url).await {
                Ok(r) => r.text().await.ok(),
                Err(_) => None,
            })
        }
    })
    .await?;
    assert!(
        metrics.contains("master_insecure_plaintext_secrets 1"),
        "{metrics}"
    );
    assert!(terminate(&mut child)?.success());
    let log_text = std::fs::read_to_string(&logs)?;
    let _ = std::fs::remove_file(&logs);
    assert!(
        log_text.contains("WITHOUT encryption"),
        "warned at start: {log_text}"
    );
    Ok(())
}
