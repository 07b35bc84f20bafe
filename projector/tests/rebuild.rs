//! `rebuild` produces tables identical to the live ones, readers querying
//! during a rebuild always see a complete projection, and a projector still
//! running on the old schema carries on in the new one.

mod support;

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use daas_projector::{
    metrics::Metrics,
    pipeline::{self, LogArgs},
    rebuild::rebuild,
    store::{self, DatabaseArgs},
};
use daas_testkit::{
    Stack, TestDb, TestTopic, produce,
    workload::{self, Workload},
};
use sqlx::PgPool;
use support::*;
use tokio_util::sync::CancellationToken;

/// What a reader sees in one statement: requests, history rows, log position.
async fn snapshot(pool: &PgPool, topic: &str) -> Result<(i64, i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM requests), (SELECT count(*) FROM stake_history),
                (SELECT next_offset FROM consumer_positions WHERE topic = $1)",
    )
    .bind(topic)
    .fetch_one(pool)
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_swaps_in_an_identical_projection_and_readers_never_see_half() -> anyhow::Result<()>
{
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let db = TestDb::empty(&stack).await?;
    let args = LogArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: log.name.clone(),
        outcome_topic: out.name.clone(),
        batch_records: 1_000,
        batch_ms: 50,
        verify: daas_verify::VerifyArgs::off(),
    };
    let db_args = DatabaseArgs {
        database_url: db.url.clone(),
        schema: "daas".into(),
    };
    let mut w = Workload::new(21, 100);
    let first = w.records(15_000);
    let first_outcomes = workload::outcomes(&first);
    produce(&stack.kafka_brokers, &log.name, &first).await?;
    produce(&stack.kafka_brokers, &out.name, &first_outcomes).await?;

    // The live projector, running throughout.
    let live = store::connect(&db_args).await?;
    let stop = CancellationToken::new();
    let task = {
        let (pool, args, stop) = (live.clone(), args.clone(), stop.clone());
        tokio::spawn(async move { pipeline::run(&pool, &args, &Metrics::default(), stop).await })
    };
    wait_positions(
        &live,
        &log.name,
        15_000,
        &out.name,
        first_outcomes.len() as i64,
    )
    .await?;
    let complete = snapshot(&live, &log.name).await?;
    let before = store::dump(&live).await?;

    // Readers: every statement must see the complete projection.
    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicU64::new(0));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (done, reads, topic) = (done.clone(), reads.clone(), log.name.clone());
            let url = db.url.clone();
            tokio::spawn(async move {
                let pool = store::connect_schema(&url, "daas").await?;
                while !done.load(Ordering::Relaxed) {
                    let seen = snapshot(&pool, &topic).await?;
                    anyhow::ensure!(seen == complete, "a reader saw {seen:?}, not {complete:?}");
                    reads.fetch_add(1, Ordering::Relaxed);
                }
                anyhow::Ok(())
            })
        })
        .collect();

    let report = rebuild(
        &db_args,
        &args,
        true,
        &Metrics::default(),
        CancellationToken::new(),
    )
    .await?;
    let reads_during = reads.load(Ordering::Relaxed);
    assert!(report.swapped);
    assert_eq!(report.log_records, 15_000);
    assert_eq!(report.previous.as_deref(), Some("daas__previous"));
    // A second rebuild, dropping the replaced schema this time.
    let report = rebuild(
        &db_args,
        &args,
        false,
        &Metrics::default(),
        CancellationToken::new(),
    )
    .await?;
    assert!(report.swapped && report.previous.is_none());
    done.store(true, Ordering::Relaxed);
    for r in readers {
        r.await??;
    }
    assert!(
        reads_during > 10,
        "readers queried during the rebuild ({reads_during} reads)"
    );

    let after = store::dump(&live).await?;
    assert_same(&after, &before);
    let gone: bool = sqlx::query_scalar(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname IN ('daas__previous', 'daas__rebuild'))",
    )
    .fetch_one(&live)
    .await?;
    assert!(gone, "no leftover schemas");

    // The live projector carries on, now writing into the rebuilt schema.
    let second = w.records(3_000);
    let all: Vec<_> = first.iter().chain(&second).cloned().collect();
    let all_outcomes = workload::outcomes(&all);
    produce(&stack.kafka_brokers, &log.name, &second).await?;
    produce(
        &stack.kafka_brokers,
        &out.name,
        &all_outcomes[first_outcomes.len()..],
    )
    .await?;
    wait_positions(
        &live,
        &log.name,
        18_000,
        &out.name,
        all_outcomes.len() as i64,
    )
    .await?;
    stop.cancel();
    task.await??;
    let want = expected(&db.url, "clean", &log.name, &all, &out.name, &all_outcomes).await?;
    assert_same(&store::dump(&live).await?, &want);
    Ok(())
}
