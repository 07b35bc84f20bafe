//! The projector consumes real topics into real tables, stops, and resumes
//! from its stored positions with the ledger restored; outcomes that arrive
//! ahead of their requests wait for them.

mod support;

use daas_projector::{
    metrics::Metrics,
    pipeline::{self, LogArgs},
    store,
};
use daas_testkit::{
    Stack, TestDb, TestTopic, produce,
    workload::{self, Workload},
};
use sqlx::PgPool;
use support::*;
use tokio_util::sync::CancellationToken;

fn args(stack: &Stack, log: &TestTopic, outcomes: &TestTopic) -> LogArgs {
    LogArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: log.name.clone(),
        outcome_topic: outcomes.name.clone(),
        batch_records: 97,
        batch_ms: 50,
        verify: daas_verify::VerifyArgs::off(),
    }
}

/// Runs the pipeline in-process until the positions reach the given offsets.
async fn project_until(
    pool: &PgPool,
    args: &LogArgs,
    log: i64,
    outcomes: i64,
) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let task = {
        let (pool, args, stop) = (pool.clone(), args.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run(&pool, &args, &Metrics::default(), stop).await })
    };
    wait_positions(pool, &args.topic, log, &args.outcome_topic, outcomes).await?;
    stop.cancel();
    task.await??;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumes_then_resumes_from_its_positions() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let db = TestDb::empty(&stack).await?;
    let pool = store::connect_schema(&db.url, "daas").await?;
    let args = args(&stack, &log, &out);
    let records = Workload::new(11, 20).records(3_000);
    let outcomes = workload::outcomes(&records);
    let (first, second) = records.split_at(1_000);
    let first_outcomes = workload::outcomes(first);

    produce(&stack.kafka_brokers, &log.name, first).await?;
    produce(&stack.kafka_brokers, &out.name, &first_outcomes).await?;
    project_until(&pool, &args, 1_000, first_outcomes.len() as i64).await?;
    produce(&stack.kafka_brokers, &log.name, second).await?;
    produce(
        &stack.kafka_brokers,
        &out.name,
        &outcomes[first_outcomes.len()..],
    )
    .await?;
    project_until(&pool, &args, 3_000, outcomes.len() as i64).await?;

    let want = expected(&db.url, "clean", &log.name, &records, &out.name, &outcomes).await?;
    assert_same(&store::dump(&pool).await?, &want);

    // Every kind of unusable record is quarantined with its reason, and the
    // consumer moved on past it (the position is at the end).
    let reasons: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT split_part(reason, ':', 1) FROM quarantine ORDER BY 1")
            .fetch_all(&pool)
            .await?;
    for want in ["not a log record", "undecodable event"] {
        assert!(reasons.iter().any(|r| r == want), "{want} in {reasons:?}");
    }
    assert!(
        reasons.iter().any(|r| r.starts_with("unknown event type")),
        "{reasons:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_ahead_of_the_log_wait_for_their_requests() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let db = TestDb::empty(&stack).await?;
    let pool = store::connect_schema(&db.url, "daas").await?;
    let args = args(&stack, &log, &out);
    let records = Workload::new(12, 10).records(2_000);
    let outcomes = workload::outcomes(&records);

    // Every outcome is on its topic before the first log record.
    produce(&stack.kafka_brokers, &out.name, &outcomes).await?;
    produce(&stack.kafka_brokers, &log.name, &records[..500]).await?;
    let stop = CancellationToken::new();
    let task = {
        let (pool, args, stop) = (pool.clone(), args.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run(&pool, &args, &Metrics::default(), stop).await })
    };
    wait_positions(&pool, &log.name, 500, &out.name, 0).await?;
    let orphans: i64 = sqlx::query_scalar("SELECT count(*) FROM quarantine")
        .fetch_one(&pool)
        .await?;
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM requests WHERE status = 'admitted'")
            .fetch_one(&pool)
            .await?;
    let applied_outcomes = position(&pool, &out.name).await;
    let requests_so_far: i64 = sqlx::query_scalar("SELECT count(*) FROM requests")
        .fetch_one(&pool)
        .await?;
    assert!(
        applied_outcomes <= requests_so_far,
        "no outcome applied before its request: {applied_outcomes} outcomes, {requests_so_far} requests"
    );
    assert!(pending <= requests_so_far);
    assert!(
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM quarantine WHERE reason LIKE 'outcome for a request%'"
        )
        .fetch_one(&pool)
        .await?
            == 0,
        "{orphans} quarantined, none of them an outcome"
    );
    produce(&stack.kafka_brokers, &log.name, &records[500..]).await?;
    wait_positions(&pool, &log.name, 2_000, &out.name, outcomes.len() as i64).await?;
    stop.cancel();
    task.await??;

    let want = expected(&db.url, "clean", &log.name, &records, &out.name, &outcomes).await?;
    assert_same(&store::dump(&pool).await?, &want);
    Ok(())
}
