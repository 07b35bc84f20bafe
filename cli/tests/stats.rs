//! `daas stats …` prints the analysts' views of a real projection.

#[path = "../../projector/tests/support/batch.rs"]
mod batch;

use std::process::Command;

use batch::batch;
use daas_projector::{committer::commit, store};
use daas_testkit::{Stack, TestDb, workload::Workload};

#[tokio::test]
async fn every_view_prints_as_a_table() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let db = TestDb::empty(&stack).await?;
    let pool = store::connect_schema(&db.url, "daas").await?;
    store::MIGRATOR.run(&pool).await?;
    let records = Workload::new(5, 20).records(3_000);
    let (rows, positions) = batch(("log", &records), None);
    commit(&pool, &rows, &positions).await?;
    let top: (String, i64) =
        sqlx::query_as("SELECT staker, total_mist::int8 FROM top_stakers LIMIT 1")
            .fetch_one(&pool)
            .await?;

    let daas = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(env!("CARGO_BIN_EXE_daas"))
            .args(["stats"])
            .args(args)
            .env("DAAS_PG_URL", &db.url)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "daas stats {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8(out.stdout)?)
    };
    let t = daas(&["top-stakers", "--limit", "3"])?;
    let lines: Vec<_> = t.lines().collect();
    assert_eq!(lines.len(), 4, "{t}");
    assert!(
        lines[0].starts_with("STAKER") && lines[0].contains("TOTAL_SUI"),
        "{t}"
    );
    assert!(lines[1].starts_with(&top.0), "{t}");
    let sui = top.1 as f64 / 1e9;
    assert_eq!(
        lines[1]
            .split_whitespace()
            .nth(1)
            .map(str::parse::<f64>)
            .transpose()?,
        Some(sui),
        "{t}"
    );
    let csv = daas(&["top-stakers", "--limit", "1", "--format", "csv"])?;
    assert_eq!(
        csv,
        format!(
            "staker,total_mist,roles\n{},{},{}\n",
            top.0,
            top.1,
            lines[1].split_whitespace().nth(2).unwrap_or("?")
        )
    );
    for view in [
        &["stake-by-role"][..],
        &["slashing"],
        &["requests", "-n", "team-1"],
        &["rejections"],
    ] {
        let t = daas(view)?;
        assert!(t.lines().count() >= 2, "{view:?}: {t}");
        assert!(!t.contains("(no rows)"), "{view:?} has rows: {t}");
    }
    let r = daas(&["rejections"])?;
    assert!(
        r.contains("insufficient_stake") && r.contains("malformed_manifest"),
        "{r}"
    );

    let missing = Command::new(env!("CARGO_BIN_EXE_daas"))
        .args(["stats", "rejections", "--schema", "nothing_here"])
        .env("DAAS_PG_URL", &db.url)
        .output()?;
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("is the projector running"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
    Ok(())
}
