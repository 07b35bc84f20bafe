//! SIGKILL the projector at random points while it consumes 50,000 records
//! and their outcomes; after the restarts its tables equal, row for row, the
//! ones the pure ledger computes over the same records in one pass.

mod support;

use std::collections::BTreeMap;

use daas_domain::{Body, Event, LogEntry};
use daas_projector::{storable, store};
use daas_testkit::{
    Stack, TestDb, TestTopic, produce,
    workload::{self, Rng, Workload},
};
use sqlx::PgPool;
use support::*;

const RECORDS: usize = 50_000;
const KILLS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_and_duplicates_nothing() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let (log, outcome_topic) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let seed = daas_testkit::workload::test_seed("workload");
    let started = std::time::Instant::now();
    let mut w = Workload::new(seed, 300);
    let records = w.records(RECORDS);
    let outcomes = workload::outcomes(&records);
    eprintln!("{:?}: workload generated", started.elapsed());
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    produce(&stack.kafka_brokers, &outcome_topic.name, &outcomes).await?;

    eprintln!(
        "{:?}: {} records and {} outcomes produced",
        started.elapsed(),
        records.len(),
        outcomes.len()
    );
    let db = TestDb::empty(&stack).await?;
    let pool = store::connect_schema(&db.url, "daas").await?;
    let mut rng = Rng::new(seed);
    let mut targets: Vec<i64> = (0..KILLS)
        .map(|_| 1 + rng.below(RECORDS as u64 - 1) as i64)
        .collect();
    targets.sort();
    for target in targets {
        let mut p = projector(
            &db.url,
            &stack.kafka_brokers,
            &log.name,
            &outcome_topic.name,
        )?;
        wait_positions(&pool, &log.name, target, &outcome_topic.name, 0).await?;
        kill9(&mut p)?;
        eprintln!(
            "{:?}: killed at log position ≥ {target}: {}",
            started.elapsed(),
            position(&pool, &log.name).await
        );
    }
    let mut p = projector(
        &db.url,
        &stack.kafka_brokers,
        &log.name,
        &outcome_topic.name,
    )?;
    wait_positions(
        &pool,
        &log.name,
        records.len() as i64,
        &outcome_topic.name,
        outcomes.len() as i64,
    )
    .await?;
    assert!(terminate(&mut p)?.success(), "SIGTERM exits 0");
    eprintln!("{:?}: projected everything", started.elapsed());

    let got = store::dump(&pool).await?;
    let want = expected(
        &db.url,
        "clean",
        &log.name,
        &records,
        &outcome_topic.name,
        &outcomes,
    )
    .await?;
    assert_same(&got, &want);
    eprintln!(
        "{:?}: tables equal the one-pass projection",
        started.elapsed()
    );

    assert_hostile_handled(&pool, &log.name, &records, w.hostile()).await?;

    // And against the ledger itself, not only the processor's rows.
    let ledger = w.ledger();
    let mut stakes: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT staker, role, amount_mist FROM stakes ORDER BY 1, 2")
            .fetch_all(&pool)
            .await?;
    stakes.sort();
    let mut want_stakes: Vec<(String, String, i64)> = ledger
        .stakes()
        .filter(|(_, _, amount)| *amount > 0)
        .map(|(who, role, amount)| (who.to_string(), role.as_str().to_owned(), amount as i64))
        .collect();
    want_stakes.sort();
    assert_eq!(stakes, want_stakes);
    let sum: i64 = sqlx::query_scalar("SELECT COALESCE(sum(amount_mist), 0)::int8 FROM stakes")
        .fetch_one(&pool)
        .await?;
    assert_eq!(sum as u128, ledger.total_stake());
    let nodes: i64 =
        sqlx::query_scalar("SELECT count(*) FROM nodes WHERE status <> 'deregistered'")
            .fetch_one(&pool)
            .await?;
    assert_eq!(nodes as usize, ledger.nodes().len());
    let active: i64 = sqlx::query_scalar("SELECT count(*) FROM nodes WHERE status = 'active'")
        .fetch_one(&pool)
        .await?;
    assert_eq!(
        active as usize,
        ledger
            .nodes()
            .keys()
            .filter(|n| ledger.is_node_active(n))
            .count()
    );
    let requests = records
        .iter()
        .filter_map(|r| LogEntry::decode(r).ok())
        .filter(|e| matches!(e.body, daas_domain::Body::Event(Event::K8sApiRequest(_))))
        .count();
    let (rows, waiting): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE status = 'admitted') FROM requests",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(rows as usize, requests, "one row per request");
    assert_eq!(waiting, 0, "every request has its outcome");
    let quarantined: i64 = sqlx::query_scalar("SELECT count(*) FROM quarantine")
        .fetch_one(&pool)
        .await?;
    assert!(
        quarantined > 0,
        "the workload's junk records are quarantined"
    );
    Ok(())
}

/// Each hostile record of the workload, checked against what it holds (not
/// against the processor): an unusable one is quarantined with its reason; a
/// request keeps its row (id, sender) with its strings stored losslessly, and
/// one holding NUL has a quarantine row saying which column was escaped.
async fn assert_hostile_handled(
    pool: &PgPool,
    topic: &str,
    records: &[Vec<u8>],
    hostile: &[u64],
) -> anyhow::Result<()> {
    assert!(hostile.len() > 50, "{} hostile records", hostile.len());
    let quarantine: BTreeMap<i64, String> =
        sqlx::query_as("SELECT kafka_offset, reason FROM quarantine WHERE topic = $1")
            .bind(topic)
            .fetch_all(pool)
            .await?
            .into_iter()
            .collect();
    let requests: BTreeMap<i64, (String, String, String)> =
        sqlx::query_as("SELECT request_id, sender, name, status FROM requests")
            .fetch_all(pool)
            .await?
            .into_iter()
            .map(
                |(id, sender, name, status): (i64, String, String, String)| {
                    (id, (sender, name, status))
                },
            )
            .collect();
    for &i in hostile {
        let reason = quarantine.get(&(i as i64)).map(String::as_str);
        let event = match LogEntry::decode(&records[i as usize]).map(|e| e.body) {
            Err(_) => Err("not a log record"),
            Ok(Body::Poison(_)) => Err("undecodable event"),
            Ok(Body::Unknown | Body::EpochChange { .. }) => Err("unknown event type"),
            Ok(Body::Event(e)) => Ok(e),
        };
        let r = match event {
            Err(want) => {
                assert!(
                    reason.is_some_and(|r| r.starts_with(want)),
                    "record {i}: {reason:?}"
                );
                continue;
            }
            Ok(Event::K8sApiRequest(r)) => r,
            Ok(_) => continue,
        };
        let (sender, name, status) = &requests[&(r.request_id as i64)];
        assert_eq!(sender, &r.sender.to_string(), "record {i}");
        assert_eq!(
            storable::unescape(name),
            r.name,
            "record {i}: name stored losslessly"
        );
        assert!(["admitted", "applied", "rejected"].contains(&status.as_str()));
        let texts = [&r.verb, &r.api_version, &r.kind, &r.namespace, &r.name];
        if texts.iter().any(|t| t.contains('\0')) {
            assert!(
                reason.is_some_and(|r| r.contains("holds NUL")),
                "record {i}: {reason:?}"
            );
        }
    }
    Ok(())
}
