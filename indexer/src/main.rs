//! `indexer`: streams our package's events from a Sui full node into the log topic.

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_indexer::sink::{BrokerArgs, check_log_topic};
use daas_service::LogArgs;

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
  # Check that the broker answers and the log topic has the expected shape
  # (settings from the local stack's env file):
  set -a; . .stack/env; set +a
  indexer check

  # The same against another broker:
  indexer check --brokers 10.0.0.5:9092 --topic daas.log.v1";

#[derive(Subcommand, Debug)]
enum Command {
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
    }
    Ok(())
}
