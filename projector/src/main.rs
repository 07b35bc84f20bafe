//! `projector`: the log topic → Postgres tables for analysts.

use std::{net::SocketAddr, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_projector::{
    metrics::Metrics,
    pipeline::{self, LogArgs},
    rebuild,
    store::{self, DatabaseArgs},
};
use daas_service::{metrics::track_lag, shutdown_on_signals, spawn_http};
use rdkafka::consumer::{BaseConsumer, Consumer};

/// Projects the k3s-daas log into Postgres tables (stake, nodes, permissions,
/// requests) for analysts, exactly once.
#[derive(Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Cli {
    #[command(flatten)]
    log: daas_service::LogArgs,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  # Project the local stack's log into its database, verifying every record
  # against the dev chain's validators (settings from the env file):
  set -a; . .stack/env; set +a
  projector run --genesis-committee ./devnet-data/genesis-committee.json

  # Rebuild every table from offset 0 into a fresh schema (verified the
  # same way; this also replaces a projection made without verification):
  set -a; . .stack/env; set +a
  projector rebuild --genesis-committee ./devnet-data/genesis-committee.json

  # A log written without proofs (hand-made, tests), projected as it is (warned):
  projector run --topic daas.log.handmade --outcome-topic '' --insecure-no-verify

  # Check the database and apply pending migrations (local stack settings):
  set -a; . .stack/env; set +a
  projector check

  # Against another server and schema:
  projector check --database-url postgres://daas:secret@db.internal:5432/daas --schema analytics";

#[derive(Subcommand, Debug)]
enum Command {
    /// Consume the log and outcomes from the stored positions and keep the tables up to date.
    Run {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
        /// Prometheus metrics (`GET /metrics`) and health (`GET /healthz`: 200, or 503 naming the problem) listen address.
        #[arg(
            long,
            env = "DAAS_PROJECTOR_METRICS_LISTEN",
            default_value = "127.0.0.1:9186"
        )]
        metrics_listen: SocketAddr,
    },
    /// Rebuild every table from offset 0 into a fresh schema, then swap it in atomically.
    Rebuild {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        log: LogArgs,
        /// Keep the replaced projection as `<schema>__previous` instead of dropping it.
        #[arg(long)]
        keep_previous: bool,
    },
    /// Connect, apply pending migrations, print the server and schema version.
    Check(DatabaseArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Run {
            db,
            log,
            metrics_listen,
        } => {
            let shutdown = shutdown_on_signals()?;
            let metrics = Metrics::default();
            let mut registry = prometheus_client::registry::Registry::default();
            metrics.register(&mut registry);
            let health = metrics.health.clone();
            let metrics_task =
                spawn_http(metrics_listen, registry, health.router(), shutdown.clone()).await?;
            let lag_task = tokio::spawn(track_lag(
                log_end(&log)?,
                metrics.next_offset.clone(),
                metrics.lag.clone(),
                health.clone(),
                shutdown.clone(),
            ));
            let pool = store::connect(&db).await.context("projector run")?;
            let result = pipeline::run(&pool, &log, &metrics, shutdown.clone()).await;
            shutdown.cancel();
            let _ = tokio::join!(metrics_task, lag_task);
            result.context("projector run")?;
        }
        Command::Rebuild {
            db,
            log,
            keep_previous,
        } => {
            let shutdown = shutdown_on_signals()?;
            let report = rebuild::rebuild(&db, &log, keep_previous, &Metrics::default(), shutdown)
                .await
                .context("projector rebuild")?;
            if !report.swapped {
                anyhow::bail!(
                    "projector rebuild: interrupted after {} records; the live projection is unchanged",
                    report.log_records
                );
            }
            println!(
                "projector: rebuilt {}.* from {} log records and {} outcomes; swapped in{}",
                db.schema,
                report.log_records,
                report.outcome_records,
                report
                    .previous
                    .map(|p| format!(", previous projection kept as {p}"))
                    .unwrap_or_default()
            );
        }
        Command::Check(db) => {
            let report = store::check(&db).await.context("projector check")?;
            println!("projector: {report}");
        }
    }
    Ok(())
}

/// Reads the log topic's high watermark, through one client made here.
fn log_end(log: &LogArgs) -> anyhow::Result<impl Fn() -> Option<i64> + Send + Sync + 'static> {
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .create()
        .context("kafka client for the lag gauge")?;
    let topic = log.topic.clone();
    Ok(move || {
        c.fetch_watermarks(&topic, 0, Duration::from_secs(10))
            .ok()
            .map(|w| w.1)
    })
}
