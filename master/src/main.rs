//! `master`: the log topic → Kubernetes objects in etcd.

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_master::store::{self, EtcdArgs};
use daas_service::LogArgs;

/// The k3s-daas control plane: applies tenants' requests from the ordered log
/// to Kubernetes objects in etcd, authorised by a ledger derived from the same log.
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
  # Check etcd (local stack settings):
  set -a; . .stack/env; set +a
  master check

  # Against a k3s server's etcd:
  master check --etcd https://etcd-0:2379,https://etcd-1:2379";

#[derive(Subcommand, Debug)]
enum Command {
    /// Connect to etcd, print its version, revision and key count under the prefix.
    Check(EtcdArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Check(etcd) => {
            let report = store::check(&etcd).await.context("master check")?;
            println!("master: {report}");
        }
    }
    Ok(())
}
