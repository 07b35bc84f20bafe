//! A commit Postgres refuses is reported at once, not when the next batch
//! comes: `/healthz` turns 503 naming it and `daas_healthy` 0, the projector
//! stays up retrying, and once Postgres accepts again it recovers by itself,
//! with its position metric and lag current although the log is quiet.

mod support;

use std::{net::SocketAddr, time::Duration};

use daas_projector::store;
use daas_testkit::{
    Stack, TestDb, TestTopic, free_addr, produce, wait_for,
    workload::{self, Workload},
};
use support::*;

async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, String)> {
    let r = reqwest::get(format!("http://{addr}{path}")).await?;
    Ok((r.status().as_u16(), r.text().await?))
}

/// The value of an unlabelled sample `name` in the metrics text.
fn sample(metrics: &str, name: &str) -> Option<i64> {
    metrics.lines().find_map(|l| {
        let (n, v) = l.split_once(' ')?;
        (n == name).then(|| v.trim().parse().ok())?
    })
}

/// Polls `/healthz` and `/metrics` until `want` holds of them.
async fn wait_http(
    addr: SocketAddr,
    what: &str,
    want: impl Fn(u16, &str, &str) -> bool,
) -> anyhow::Result<(u16, String, String)> {
    wait_for(what, Duration::from_secs(120), || {
        let want = &want;
        async move {
            let (Ok((status, health)), Ok((_, metrics))) =
                (get(addr, "/healthz").await, get(addr, "/metrics").await)
            else {
                return Ok(None); // not listening yet
            };
            Ok(want(status, &health, &metrics).then_some((status, health, metrics)))
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_commit_turns_healthz_503_until_postgres_accepts_again() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let log = TestTopic::new(&stack).await?;
    let db = TestDb::empty(&stack).await?;
    let pool = store::connect_schema(&db.url, "daas").await?;
    store::MIGRATOR.run(&pool).await?;
    // This test's own database refuses every request row, as a full disk or
    // a revoked privilege would.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON requests FOR EACH ROW EXECUTE FUNCTION refuse();",
    )
    .execute(&pool)
    .await?;
    let records = Workload::new(5, 10).records(300);
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    let addr = free_addr()?;
    let mut p = daas_testkit::service(env!("CARGO_BIN_EXE_projector"))
        .args([
            "run",
            "--database-url",
            &db.url,
            "--brokers",
            &stack.kafka_brokers,
        ])
        .args(["--topic", &log.name, "--outcome-topic", ""])
        .args(["--batch-records", "100", "--batch-ms", "50"])
        .args(["--metrics-listen", &addr.to_string()])
        .arg("--insecure-no-verify")
        .spawn()?;

    let (_, health, metrics) =
        wait_http(addr, "/healthz to report the refused commit", |s, h, _| {
            s == 503 && h.contains("commit:")
        })
        .await?;
    assert!(health.contains("refused by the test"), "{health}");
    assert_eq!(sample(&metrics, "daas_healthy"), Some(0), "{metrics}");
    assert_eq!(position(&pool, &log.name).await, 0, "nothing committed");
    assert!(p.try_wait()?.is_none(), "still running");

    sqlx::raw_sql("DROP TRIGGER refuse ON requests")
        .execute(&pool)
        .await?;
    let n = records.len() as i64;
    let (_, health, metrics) = wait_http(addr, "recovery with current metrics", |s, _, m| {
        s == 200
            && sample(m, "projector_next_offset") == Some(n)
            && sample(m, "projector_lag") == Some(0)
    })
    .await?;
    assert_eq!(health, "ok\n");
    assert_eq!(sample(&metrics, "daas_healthy"), Some(1));
    assert_eq!(position(&pool, &log.name).await, n);
    let requests: i64 = sqlx::query_scalar("SELECT count(*) FROM requests")
        .fetch_one(&pool)
        .await?;
    let want = workload::outcomes(&records).len() as i64;
    assert_eq!(requests, want, "every request row, once");
    assert!(terminate(&mut p)?.success(), "SIGTERM exits 0");
    Ok(())
}
