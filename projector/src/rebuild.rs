//! `projector rebuild`: the whole projection again from offset 0, into a
//! fresh schema, swapped in atomically.
//!
//! Readers keep querying the live schema while the new one is built under
//! `<schema>__rebuild`. The swap is one transaction that renames the live
//! schema away and the new one into its place (and drops the old one unless
//! asked to keep it), under the lock every batch commit takes, so no reader
//! and no writer ever sees a half-built projection. A projector still running
//! on the old schema finds its stored position moved at its next commit and
//! restarts from the new one.

use tokio_util::sync::CancellationToken;

use crate::{
    committer::lock_projection,
    metrics::Metrics,
    pipeline::{LogArgs, Projector, ProjectorError, Until, ends},
    store::{self, DatabaseArgs, MIGRATOR, StoreError},
};

/// What a rebuild did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Log records projected.
    pub log_records: i64,
    /// Outcome records projected.
    pub outcome_records: i64,
    /// Where the replaced projection now lives, when kept.
    pub previous: Option<String>,
    /// False when shutdown interrupted it (nothing swapped).
    pub swapped: bool,
}

/// Rebuilds `db.schema` from the topics in `log`.
pub async fn rebuild(
    db: &DatabaseArgs,
    log: &LogArgs,
    keep_previous: bool,
    metrics: &Metrics,
    shutdown: CancellationToken,
) -> Result<Report, ProjectorError> {
    let live = db.schema.as_str();
    let fresh = format!("{live}__rebuild");
    let previous = format!("{live}__previous");
    store::check_schema_name(&fresh)?;

    let admin = store::connect(db).await?;
    MIGRATOR.run(&admin).await.map_err(StoreError::from)?;
    // A leftover of an interrupted rebuild is only a partial copy: start over.
    drop_schema(&admin, &fresh).await?;
    let pool = store::connect_schema(&db.database_url, &fresh).await?;
    MIGRATOR.run(&pool).await.map_err(StoreError::from)?;

    let setup = log.verify.setup()?;
    let (log_end, outcomes_end) = ends(log)?;
    tracing::info!(schema = %fresh, log_end, outcomes_end, "rebuilding");
    let (bar, ticker) =
        daas_service::progress::records_bar("rebuild", log_end as u64, shutdown.clone());

    let mut p = Projector::open(&pool, log, setup.as_ref(), metrics, &shutdown).await?;
    p.run_until(
        &Until::Reached {
            log: log_end,
            outcomes: outcomes_end,
        },
        Some(&bar),
    )
    .await?;
    // Catch up with what arrived meanwhile, so the swap replaces the live
    // projection with one about as recent.
    let (log_end, outcomes_end) = ends(log)?;
    bar.set_length(log_end as u64);
    p.run_until(
        &Until::Reached {
            log: log_end,
            outcomes: outcomes_end,
        },
        Some(&bar),
    )
    .await?;
    let (log_records, outcome_records) = p.committed();
    // Records held behind a gap at the end were read but not projected:
    // the live projector would hold them too.
    let read = p.read();
    drop(p);
    ticker.abort();
    bar.finish_and_clear();
    pool.close().await;
    if shutdown.is_cancelled() || read < log_end {
        return Ok(Report {
            log_records,
            outcome_records,
            previous: None,
            swapped: false,
        });
    }

    drop_schema(&admin, &previous).await?;
    // The swap itself renames only: renaming takes no table locks, so it never
    // waits for (or deadlocks with) readers in the middle of a query.
    let mut tx = admin.begin().await?;
    lock_projection(&mut tx, live).await?;
    sqlx::query(&format!("ALTER SCHEMA \"{live}\" RENAME TO \"{previous}\""))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("ALTER SCHEMA \"{fresh}\" RENAME TO \"{live}\""))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    if !keep_previous {
        drop_schema(&admin, &previous).await?;
    }
    admin.close().await;
    tracing::info!(
        log_records,
        outcome_records,
        schema = live,
        "rebuilt projection swapped in"
    );
    Ok(Report {
        log_records,
        outcome_records,
        previous: keep_previous.then_some(previous),
        swapped: true,
    })
}

/// Drops `schema` if it exists. Dropping locks every table in it; a reader
/// still finishing a query on the old tables could deadlock with that, so the
/// drop gives up quickly (before Postgres's deadlock detector would pick a
/// victim, possibly the reader) and tries again.
async fn drop_schema(pool: &sqlx::PgPool, schema: &str) -> Result<(), sqlx::Error> {
    let mut attempt = 0;
    loop {
        let mut tx = pool.begin().await?;
        sqlx::query("SET LOCAL lock_timeout = '200ms'")
            .execute(&mut *tx)
            .await?;
        let dropped = sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
            .execute(&mut *tx)
            .await;
        match dropped {
            Ok(_) => return tx.commit().await,
            // 55P03 lock_not_available, 40P01 deadlock_detected.
            Err(sqlx::Error::Database(e))
                if attempt < 100 && matches!(e.code().as_deref(), Some("55P03" | "40P01")) =>
            {
                attempt += 1;
                tracing::debug!(schema, attempt, "schema busy; dropping it again");
            }
            Err(e) => return Err(e),
        }
    }
}
