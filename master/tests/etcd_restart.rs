//! An etcd crash and restart mid-run loses and duplicates nothing: the
//! master reopens from etcd by itself and ends at the clean run's state root.
//! Uses a private etcd: the stack's is shared by every test.

mod support;

use daas_master::state_root::state_root;
use daas_testkit::{PrivateEtcd, Stack, TestEtcd, TestTopic, produce, workload::Workload};
use etcd_client::Client;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_etcd_crash_mid_run_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let records = Workload::new(77, 60).records(10_000);
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    let mut private = PrivateEtcd::start().await?;
    let client = Client::connect([private.endpoint.clone()], None).await?;

    let mut m = master(
        &private.endpoint,
        "/",
        &stack.kafka_brokers,
        &log.name,
        &out.name,
    )?;
    wait_position(&client, "/", 3_000).await?;
    private.kill()?;
    assert!(m.try_wait()?.is_none(), "the master survives the outage");
    private.restart().await?;
    let at = position(&client, "/").await;
    assert!(at < 10_000, "the crash happened mid-run ({at})");
    wait_position(&client, "/", 10_000).await?;
    assert!(terminate(&mut m)?.success());

    let clean = TestEtcd::new(&stack).await?;
    let args = log_args(&stack.kafka_brokers, &log.name, &out.name);
    apply_to(&clean.client, &clean.prefix, &args, 10_000).await?;
    let key = config("/").secret_key;
    let (a, _) = state_root(&mut client.clone(), &layout("/"), key.as_ref()).await?;
    let (b, _) = state_root(
        &mut clean.client.clone(),
        &layout(&clean.prefix),
        key.as_ref(),
    )
    .await?;
    assert_eq!(a, b);
    Ok(())
}
