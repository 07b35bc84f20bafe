//! What the projector's integration tests share.

#![allow(dead_code)] // each test binary uses its own subset

use std::{collections::BTreeMap, process::Child, time::Duration};

mod batch;

pub use batch::batch;
use daas_projector::{
    committer::{commit, load_position},
    pipeline::CONSUMER,
    store,
};
use daas_testkit::wait_for;
use sqlx::PgPool;

/// Starts the projector binary on `url` (schema `daas`), without
/// verification (hand-made logs carry no proofs).
pub fn projector(url: &str, brokers: &str, log: &str, outcomes: &str) -> std::io::Result<Child> {
    run_command(url, brokers, log, outcomes)
        .arg("--insecure-no-verify")
        .spawn()
}

/// Starts the projector binary on `url` (schema `daas`), verifying the log
/// from the genesis committee in the file `genesis`.
pub fn projector_verified(
    url: &str,
    brokers: &str,
    log: &str,
    outcomes: &str,
    genesis: &std::path::Path,
) -> std::io::Result<Child> {
    run_command(url, brokers, log, outcomes)
        .arg("--genesis-committee")
        .arg(genesis)
        .spawn()
}

fn run_command(url: &str, brokers: &str, log: &str, outcomes: &str) -> std::process::Command {
    let mut c = daas_testkit::service(env!("CARGO_BIN_EXE_projector"));
    c.args(["run", "--database-url", url, "--brokers", brokers])
        .args(["--topic", log, "--outcome-topic", outcomes])
        .args(["--batch-records", "2000", "--batch-ms", "50"])
        .args(["--metrics-listen", "127.0.0.1:0"]);
    c
}

/// Waits until the stored log and outcome positions reach `log` and `outcomes`.
pub async fn wait_positions(
    pool: &PgPool,
    log_topic: &str,
    log: i64,
    outcome_topic: &str,
    outcomes: i64,
) -> anyhow::Result<()> {
    wait_for(
        "the projection to reach its positions",
        Duration::from_secs(240),
        || async move {
            let l = position(pool, log_topic).await;
            let o = position(pool, outcome_topic).await;
            Ok((l >= log && o >= outcomes).then_some(()))
        },
    )
    .await
}

/// The stored position of `topic` (0 when there is none yet, or the schema
/// does not exist yet).
pub async fn position(pool: &PgPool, topic: &str) -> i64 {
    load_position(pool, CONSUMER, topic).await.unwrap_or(0)
}

/// The tables the pure processor computes over `records` then `outcomes`,
/// committed in one transaction into `schema` of `url`, dumped.
pub async fn expected(
    url: &str,
    schema: &str,
    log_topic: &str,
    records: &[Vec<u8>],
    outcome_topic: &str,
    outcomes: &[Vec<u8>],
) -> anyhow::Result<BTreeMap<&'static str, Vec<String>>> {
    let pool = store::connect_schema(url, schema).await?;
    store::MIGRATOR.run(&pool).await?;
    let (rows, positions) = batch((log_topic, records), Some((outcome_topic, outcomes)));
    commit(&pool, &rows, &positions).await?;
    let dump = store::dump(&pool).await?;
    pool.close().await;
    Ok(dump)
}

/// Asserts two dumps are equal, table by table, showing the first difference.
pub fn assert_same(
    got: &BTreeMap<&'static str, Vec<String>>,
    want: &BTreeMap<&'static str, Vec<String>>,
) {
    for (table, want_rows) in want {
        let got_rows = &got[table];
        if let Some(i) =
            (0..got_rows.len().max(want_rows.len())).find(|&i| got_rows.get(i) != want_rows.get(i))
        {
            panic!(
                "{table}: {} rows vs {} expected; first difference at row {i}:\n got  {:?}\n want {:?}",
                got_rows.len(),
                want_rows.len(),
                got_rows.get(i),
                want_rows.get(i)
            );
        }
    }
}

#[allow(unused_imports)] // each test binary uses its own subset
pub use daas_testkit::{kill9, terminate};
