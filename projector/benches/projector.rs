//! Projector benchmarks, each next to its raw baseline measured in the same run:
//!
//! (a) write path: records in memory → processor → batched commits into
//!     Postgres, against a raw `COPY` of the same rows (pre-formatted) into
//!     index-free copies of the same tables on the same server;
//! (b) end to end: the same records read from the broker and projected,
//!     against a raw `rdkafka` consume of the same topic;
//! (c) verification (decision 0019): the same records in a certified chain
//!     (`testkit::certified`), projected end to end verified against
//!     `--insecure-no-verify`, and the restore at the end of the log
//!     (reopening the projection) verified against unverified.
//!
//! `scripts/stack up && cargo bench -p daas-projector --bench projector`
//! (`PROJECTOR_BENCH_RECORDS` sets the number of records, default 100,000;
//! `PROJECTOR_BENCH_RUNS` the repetitions, default 2;
//! `PROJECTOR_BENCH_VERIFY_ONLY=1` runs (c) alone).

use std::time::Instant;

use daas_projector::{
    committer::{CommitError, Cursor, Positions, commit},
    copy::CopyText,
    metrics::Metrics,
    pipeline::{LogArgs, Projector, Until},
    processor::{AccessRow, Processor, Rows},
    store,
};
use daas_testkit::{
    Stack, TestDb, TestTopic, certified, produce, raw_consume_rate, workload::Workload,
};
use daas_verify::{Setup, VerifyArgs};
use sqlx::types::chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

const BATCH: usize = 5_000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let env = daas_testkit::bench_param;
    let n = env("PROJECTOR_BENCH_RECORDS", 100_000);
    let runs = env("PROJECTOR_BENCH_RUNS", 2);
    let stack = Stack::from_env()?;
    let records = Workload::new(42, 1_000).records(n);
    let bytes: usize = records.iter().map(Vec::len).sum();
    eprintln!("{n} records, {} bytes on average", bytes / n.max(1));
    let start = Instant::now();
    let mut p = Processor::default();
    let mut rows = Rows::default();
    for (i, r) in records.iter().enumerate() {
        p.process(i as i64, r, &mut rows);
    }
    println!(
        "processor alone (pure, no I/O): {:.0} records/s",
        n as f64 / start.elapsed().as_secs_f64()
    );
    drop(rows);
    if std::env::var_os("PROJECTOR_BENCH_PROCESSOR_ONLY").is_some() {
        return Ok(());
    }
    if std::env::var_os("PROJECTOR_BENCH_VERIFY_ONLY").is_some() {
        return verification(&stack, &records, runs).await;
    }
    // (a) first, before any broker client exists: librdkafka's threads would
    // take CPU from both sides of this comparison.
    for run in 1..=runs {
        let db = TestDb::empty(&stack).await?;
        let ours = write_path(&db.url, &records).await?;
        let copy = raw_copy(&db.url, &records).await?;
        println!(
            "run {run} (a) write path: {:.0} records/s; raw COPY of the same rows: {:.0} records/s; ratio {:.2}",
            ours,
            copy,
            ours / copy
        );
    }
    if std::env::var_os("PROJECTOR_BENCH_WRITE_ONLY").is_some() {
        return Ok(());
    }

    // (b) end to end from the broker vs raw consume.
    let topic = TestTopic::new(&stack).await?;
    produce(&stack.kafka_brokers, &topic.name, &records).await?;

    for run in 1..=runs {
        let consume = raw_consume_rate(&stack.kafka_brokers, &topic.name, n).await?;
        let db = TestDb::empty(&stack).await?;
        let (e2e, _) = end_to_end(&db.url, &stack.kafka_brokers, &topic.name, n, None).await?;
        println!(
            "run {run} (b) end to end: {:.0} records/s; raw rdkafka consume: {:.0} records/s; ratio {:.2}",
            e2e,
            consume,
            e2e / consume
        );
    }
    verification(&stack, &records, runs).await
}

/// (c): verified against unverified, end to end and restore.
async fn verification(stack: &Stack, records: &[Vec<u8>], runs: usize) -> anyhow::Result<()> {
    let log = certified::certify(records, 4, 100);
    let n = log.records.len();
    let dir = tempfile::tempdir()?;
    let genesis = dir.path().join("genesis-committee.json");
    log.chain.write_genesis(&genesis)?;
    let setup = VerifyArgs::pinned(genesis).setup()?;
    let topic = TestTopic::new(stack).await?;
    produce(&stack.kafka_brokers, &topic.name, &log.records).await?;
    for run in 1..=runs {
        let mut rates = vec![];
        for setup in [None, setup.as_ref()] {
            let db = TestDb::empty(stack).await?;
            rates.push(end_to_end(&db.url, &stack.kafka_brokers, &topic.name, n, setup).await?);
        }
        let ((plain, plain_restore), (verified, verified_restore)) = (rates[0], rates[1]);
        println!(
            "run {run} (c) certified log, end to end verified: {verified:.0} records/s; unverified: {plain:.0} records/s; ratio {:.2}",
            verified / plain
        );
        println!(
            "run {run} (c) restore at the end of the log, verified: {verified_restore:.0} records/s; unverified: {plain_restore:.0} records/s; ratio {:.2}",
            verified_restore / plain_restore
        );
    }
    Ok(())
}

/// Records in memory → processor → commits, overlapped as in the pipeline
/// (batch i is processed while batch i-1 commits).
async fn write_path(url: &str, records: &[Vec<u8>]) -> anyhow::Result<f64> {
    let pool = store::connect_schema(url, "daas").await?;
    store::MIGRATOR.run(&pool).await?;
    let start = Instant::now();
    let mut p = Processor::default();
    let mut in_flight: Option<tokio::task::JoinHandle<Result<(), CommitError>>> = None;
    for (i, chunk) in records.chunks(BATCH).enumerate() {
        let mut rows = Rows::default();
        let from = (i * BATCH) as i64;
        for (j, r) in chunk.iter().enumerate() {
            p.process(from + j as i64, r, &mut rows);
        }
        let positions = Positions {
            consumer: "bench".into(),
            log: Cursor {
                topic: "log".into(),
                from,
                to: from + chunk.len() as i64,
            },
            outcomes: None,
            verifier: None,
        };
        if let Some(h) = in_flight.take() {
            h.await??;
        }
        let pool = pool.clone();
        in_flight = Some(tokio::spawn(async move {
            commit(&pool, &rows, &positions).await
        }));
    }
    if let Some(h) = in_flight.take() {
        h.await??;
    }
    let rate = records.len() as f64 / start.elapsed().as_secs_f64();
    pool.close().await;
    Ok(rate)
}

/// The same rows as COPY text (escaped by the projector's own `CopyText`),
/// per table, per batch: formatted before timing.
fn copy_batches(records: &[Vec<u8>]) -> Vec<Vec<(&'static str, CopyText)>> {
    let mut p = Processor::default();
    records
        .chunks(BATCH)
        .enumerate()
        .map(|(i, chunk)| {
            let mut rows = Rows::default();
            for (j, r) in chunk.iter().enumerate() {
                p.process((i * BATCH + j) as i64, r, &mut rows);
            }
            copy_rows(&rows)
        })
        .collect()
}

fn ts(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn copy_rows(rows: &Rows) -> Vec<(&'static str, CopyText)> {
    let mut t: Vec<(&'static str, CopyText)> = [
        "stakes",
        "stake_history",
        "nodes",
        "namespaces",
        "grants",
        "requests",
        "quarantine",
    ]
    .into_iter()
    .map(|name| (name, CopyText::new()))
    .collect();
    for r in &rows.stakes {
        let c = &mut t[0].1;
        c.text(&r.staker)
            .text(r.role)
            .int(r.amount_mist.max(1))
            .time(ts(r.at_ms));
        c.end();
    }
    for r in &rows.history {
        let c = &mut t[1].1;
        c.int(r.position.0).int(r.position.1).int(r.position.2);
        c.text(&r.staker).text(r.role).text(r.change);
        c.int(r.amount_mist)
            .int(r.total_after_mist)
            .opt(r.reason.as_deref());
        c.int(r.epoch).time(ts(r.at_ms));
        c.end();
    }
    for r in &rows.nodes {
        let c = &mut t[2].1;
        c.text(&r.name)
            .text(&r.operator)
            .text(&r.public_key)
            .text(&r.endpoint);
        c.text(r.status).time(ts(r.at_ms));
        c.end();
    }
    for r in &rows.access {
        match r {
            AccessRow::Namespace {
                cluster_id,
                namespace,
                owner,
                at_ms,
            } => {
                let c = &mut t[3].1;
                c.text(cluster_id)
                    .text(namespace)
                    .text(owner.as_deref().unwrap_or_default());
                c.time(ts(*at_ms)).end();
            }
            AccessRow::Grant {
                cluster_id,
                namespace,
                grantee,
                role,
                at_ms,
            } => {
                let c = &mut t[4].1;
                c.text(cluster_id).text(namespace).text(grantee);
                c.text(role.unwrap_or("viewer")).time(ts(*at_ms)).end();
            }
        }
    }
    for r in &rows.requests {
        let c = &mut t[5].1;
        c.text(&r.cluster_id).int(r.request_id);
        c.int(r.position.0).int(r.position.1).int(r.position.2);
        c.text(&r.tx_digest)
            .text(&r.sender)
            .text(&r.verb)
            .text(&r.api_version);
        c.text(&r.kind)
            .text(&r.namespace)
            .text(&r.name)
            .text(&r.manifest_sha256);
        c.int(i64::from(r.manifest_bytes))
            .int(r.stake_mist)
            .time(ts(r.at_ms));
        c.text(r.status).opt(r.reason_code).opt(r.reason.as_deref());
        c.opt(None).opt(None).end();
    }
    for r in &rows.quarantine {
        let c = &mut t[6].1;
        c.text("log")
            .int(r.offset)
            .text(&r.reason)
            .bytes(&r.raw)
            .end();
    }
    t
}

async fn raw_copy(url: &str, records: &[Vec<u8>]) -> anyhow::Result<f64> {
    let pool = store::connect_schema(url, "raw").await?;
    for table in store::TABLES {
        if table == "consumer_positions" {
            continue;
        }
        // Same columns; the append-only tables keep their keys and indexes.
        // The upserted ones cannot (COPY does not upsert, and a key repeats
        // across batches), which only makes the baseline faster.
        let including = match table {
            "stake_history" | "requests" | "quarantine" => "INCLUDING ALL",
            _ => "",
        };
        sqlx::query(&format!(
            "CREATE TABLE raw.{table} (LIKE daas.{table} {including})"
        ))
        .execute(&pool)
        .await?;
    }
    let batches = copy_batches(records);
    let start = Instant::now();
    for batch in &batches {
        let mut tx = pool.begin().await?;
        for (table, text) in batch {
            if text.is_empty() {
                continue;
            }
            let text = text.as_bytes();
            let cols = if *table == "stakes" {
                "(staker, role, amount_mist, updated_at)".to_owned()
            } else {
                String::new()
            };
            let mut copy = tx
                .copy_in_raw(&format!("COPY raw.{table} {cols} FROM STDIN"))
                .await?;
            copy.send(text).await?;
            copy.finish().await?;
        }
        tx.commit().await?;
    }
    let rate = records.len() as f64 / start.elapsed().as_secs_f64();
    pool.close().await;
    Ok(rate)
}

/// Records per second projecting `n` records from the topic (verified with
/// `setup`), then restoring at their end (reopening the projection).
async fn end_to_end(
    url: &str,
    brokers: &str,
    topic: &str,
    n: usize,
    setup: Option<&Setup>,
) -> anyhow::Result<(f64, f64)> {
    let pool = store::connect_schema(url, "daas").await?;
    store::MIGRATOR.run(&pool).await?;
    let args = LogArgs {
        brokers: brokers.to_owned(),
        topic: topic.to_owned(),
        outcome_topic: String::new(),
        batch_records: BATCH,
        batch_ms: 200,
        verify: VerifyArgs::off(),
    };
    let (metrics, shutdown) = (Metrics::default(), CancellationToken::new());
    let start = Instant::now();
    let mut p = Projector::open(&pool, &args, setup, &metrics, &shutdown).await?;
    p.run_until(
        &Until::Reached {
            log: n as i64,
            outcomes: 0,
        },
        None,
    )
    .await?;
    let rate = n as f64 / start.elapsed().as_secs_f64();
    anyhow::ensure!(p.committed().0 == n as i64, "projected {:?}", p.committed());
    drop(p);
    let start = Instant::now();
    let p = Projector::open(&pool, &args, setup, &metrics, &shutdown).await?;
    let restore = n as f64 / start.elapsed().as_secs_f64();
    anyhow::ensure!(p.committed().0 == n as i64, "restored {:?}", p.committed());
    pool.close().await;
    Ok((rate, restore))
}
