//! The projector consumes a real topic into real tables, stops, and resumes
//! from its stored position with the ledger restored.

use std::time::Duration;

use daas_domain::{Address, Event, LogEntry, LogPosition, events::*};
use daas_projector::{
    committer::load_position,
    pipeline::{self, CONSUMER, LogArgs},
    store::DatabaseArgs,
};
use daas_testkit::{Stack, TestDb, TestTopic, wait_for};
use rdkafka::{
    ClientConfig,
    producer::{FutureProducer, FutureRecord},
};
use tokio_util::sync::CancellationToken;

fn record(n: u64, staker: u8) -> Vec<u8> {
    let e = Event::StakeDeposited(StakeDeposited {
        staker: Address([staker; 32]),
        role: 0,
        amount: 500_000_000,
        total_after: 500_000_000 * n,
        epoch: 1,
        timestamp_ms: 1,
    });
    let (m, name) = e.move_type();
    LogEntry::from_chain(
        LogPosition::new(n, 0, 0),
        [1; 32],
        1_700_000_000_000,
        format!("0xda45::{m}::{name}"),
        Address([1; 32]),
        e.to_bcs(),
    )
    .encode()
}

async fn produce(brokers: &str, topic: &str, range: std::ops::Range<u64>) -> anyhow::Result<()> {
    let p: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    for n in range {
        p.send(
            FutureRecord::to(topic)
                .key("k")
                .payload(&record(n, (n % 5) as u8)),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)?;
    }
    Ok(())
}

async fn project_until(db: &TestDb, args: &LogArgs, offset: i64) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    let task = {
        let (db_args, args, stop) = (
            DatabaseArgs {
                database_url: db.url.clone(),
            },
            args.clone(),
            stop.clone(),
        );
        tokio::spawn(async move { pipeline::run(&db_args, &args, stop).await })
    };
    wait_for("the projection to reach the offset", Duration::from_secs(60), || {
        let pool = db.pool.clone();
        let topic = args.topic.clone();
        async move { Ok((load_position(&pool, CONSUMER, &topic).await? >= offset).then_some(())) }
    })
    .await?;
    stop.cancel();
    task.await??;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumes_then_resumes_from_its_position() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let topic = TestTopic::new(&stack).await?;
    let db = TestDb::new(&stack).await?;
    let args = LogArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: topic.name.clone(),
        batch_records: 7,
        batch_ms: 50,
    };

    produce(&stack.kafka_brokers, &topic.name, 1..31).await?;
    project_until(&db, &args, 30).await?;
    produce(&stack.kafka_brokers, &topic.name, 31..61).await?;
    project_until(&db, &args, 60).await?;

    let history: i64 = sqlx::query_scalar("SELECT count(*) FROM stake_history")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(history, 60, "each record once, across a restart");
    let stakers: i64 = sqlx::query_scalar("SELECT count(*) FROM stakes")
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(stakers, 5);
    let last: i64 = sqlx::query_scalar("SELECT amount_mist FROM stakes WHERE staker = $1")
        .bind(Address([0; 32]).to_string())
        .fetch_one(&db.pool)
        .await?;
    assert_eq!(
        last,
        500_000_000 * 60,
        "the chain's total_after of the last record"
    );
    Ok(())
}
