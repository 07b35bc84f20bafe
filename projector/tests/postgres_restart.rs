//! A Postgres crash and restart in the middle of a run loses and duplicates
//! nothing: the projector restarts from the stored positions by itself.
//! Uses a private server: the stack's is shared by every test.

mod support;

use daas_projector::store;
use daas_testkit::{
    PrivatePostgres, Stack, TestTopic, produce,
    workload::{self, Workload},
};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_crash_mid_run_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let pg = PrivatePostgres::start()?;
    let records = Workload::new(31, 50).records(20_000);
    let outcomes = workload::outcomes(&records);
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    produce(&stack.kafka_brokers, &out.name, &outcomes).await?;

    let mut p = projector(&pg.url, &stack.kafka_brokers, &log.name, &out.name)?;
    {
        let pool = store::connect_schema(&pg.url, "daas").await?;
        wait_positions(&pool, &log.name, 5_000, &out.name, 0).await?;
        pool.close().await;
    }
    pg.crash()?;
    // The projector keeps running through the outage.
    assert!(p.try_wait()?.is_none(), "the projector survived the crash");
    pg.restart()?;
    let pool = store::connect_schema(&pg.url, "daas").await?;
    let at_restart = position(&pool, &log.name).await;
    assert!(
        at_restart < 20_000,
        "the crash happened mid-run ({at_restart})"
    );
    wait_positions(&pool, &log.name, 20_000, &out.name, outcomes.len() as i64).await?;
    assert!(terminate(&mut p)?.success());

    let want = expected(&pg.url, "clean", &log.name, &records, &out.name, &outcomes).await?;
    assert_same(&store::dump(&pool).await?, &want);
    Ok(())
}
