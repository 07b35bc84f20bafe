//! `indexer`: streams our package's events from a Sui full node into the log topic.

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_indexer::{
    pipeline::{self, Metrics},
    sink::{BrokerArgs, check_log_topic},
    source::SourceArgs,
};
use daas_service::{LogArgs, shutdown_on_signals, spawn_http};

/// Streams k3s-daas events from a Sui full node (gRPC sui.rpc.v2) into the one
/// ordered Kafka log topic, each exactly once, in chain order.
#[derive(Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  # Index the local dev chain into the local stack's log (settings from the env file):
  set -a; . .stack/env; set +a
  indexer run --node-url http://127.0.0.1:9000

  # Backfill from checkpoint 1200000 of a real full node, then follow it live:
  indexer run --node-url https://fullnode.testnet.sui.io:443 --package 0x<package id> --start-checkpoint 1200000

  # Check that the broker answers and the log topic has the expected shape:
  indexer check --brokers 127.0.0.1:9092 --topic daas.log.v1";

#[derive(Subcommand, Debug)]
enum Command {
    /// Index: resume after the log's last record, backfill, then follow the chain live.
    Run {
        #[command(flatten)]
        source: SourceArgs,
        #[command(flatten)]
        broker: BrokerArgs,
        /// Prometheus metrics (`GET /metrics`) and health (`GET /healthz`: 200, or 503 naming the problem) listen address.
        #[arg(
            long,
            env = "DAAS_INDEXER_METRICS_LISTEN",
            default_value = "127.0.0.1:9185"
        )]
        metrics_listen: SocketAddr,
        /// Records the producer may hold unacknowledged (memory bound under a slow broker).
        #[arg(long, default_value_t = 10_000)]
        max_in_flight: usize,
    },
    /// Check the broker and the log topic, print what was found, exit non-zero on a problem.
    Check(BrokerArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Check(broker) => {
            let report = check_log_topic(&broker).await.context("indexer check")?;
            println!("indexer: {report}");
        }
        Command::Run {
            source,
            broker,
            metrics_listen,
            max_in_flight,
        } => {
            let shutdown = shutdown_on_signals()?;
            let metrics = Metrics::default();
            let mut registry = prometheus_client::registry::Registry::default();
            metrics.register(&mut registry);
            let metrics_task = spawn_http(
                metrics_listen,
                registry,
                metrics.health.router(),
                shutdown.clone(),
            )
            .await?;
            let result = pipeline::run(
                &source,
                &broker,
                max_in_flight.max(1),
                metrics,
                shutdown.clone(),
            )
            .await;
            shutdown.cancel();
            let _ = metrics_task.await;
            result.context("indexer")?;
        }
    }
    Ok(())
}
