//! A master that cannot apply says so: with its etcd down while records
//! wait, `/healthz` turns 503 naming the `apply` problem and
//! `master_apply_failures_total` counts the failures; once etcd is back the
//! master applies the waiting records and `/healthz` is 200 again.
//! Uses a private etcd: the stack's is shared by every test.

mod support;

use std::time::Duration;

use daas_testkit::{
    PrivateEtcd, Stack, TestTopic, free_addr, produce, wait_for, workload::Workload,
};
use etcd_client::Client;
use support::*;

async fn get(url: &str) -> Option<(u16, String)> {
    let resp = reqwest::get(url).await.ok()?;
    Some((resp.status().as_u16(), resp.text().await.ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_is_503_while_etcd_refuses_and_200_once_it_is_back() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let records = Workload::new(5, 20).records(2_000);
    produce(&stack.kafka_brokers, &log.name, &records[..1_000]).await?;
    let mut private = PrivateEtcd::start().await?;
    let client = Client::connect([private.endpoint.clone()], None).await?;
    let addr = free_addr()?;
    let base = format!("http://{addr}");
    let mut m = master_at(
        &private.endpoint,
        "/",
        &stack.kafka_brokers,
        &log.name,
        &out.name,
        &addr.to_string(),
    )?;
    wait_position(&client, "/", 1_000).await?;
    let healthy = |want: u16| {
        let url = format!("{base}/healthz");
        wait_for(
            "/healthz to answer as expected",
            Duration::from_secs(60),
            move || {
                let url = url.clone();
                async move { Ok(get(&url).await.filter(|(code, _)| *code == want)) }
            },
        )
    };
    assert_eq!(healthy(200).await?.1, "ok\n");

    // etcd goes away while records wait.
    private.kill()?;
    produce(&stack.kafka_brokers, &log.name, &records[1_000..]).await?;
    let (_, body) = healthy(503).await?;
    assert!(body.starts_with("apply: applying keeps failing"), "{body}");
    let (_, metrics) = get(&format!("{base}/metrics"))
        .await
        .ok_or_else(|| anyhow::anyhow!("no metrics"))?;
    let failures: f64 = metrics
        .lines()
        .find(|l| l.starts_with("master_apply_failures_total{error=\"etcd\"}"))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no etcd failures counted:\n{metrics}"))?;
    assert!(failures >= 3.0, "{failures}");
    assert!(metrics.contains("daas_healthy 0"), "{metrics}");
    assert!(m.try_wait()?.is_none(), "the master stays up");

    // Back: the waiting records are applied and the problem clears.
    private.restart().await?;
    wait_position(&client, "/", 2_000).await?;
    assert_eq!(healthy(200).await?.1, "ok\n");
    assert!(terminate(&mut m)?.success());
    Ok(())
}
