//! `projector`: the log topic → Postgres tables for analysts.

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_projector::{
    pipeline,
    store::{self, DatabaseArgs},
};
use daas_service::{LogArgs, shutdown_on_signals};

/// Projects the k3s-daas log into Postgres tables (stake, nodes, permissions,
/// requests) for analysts, exactly once.
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
  # Project the local stack's log into its database (settings from the env file):
  set -a; . .stack/env; set +a
  projector run

  # Check the database and apply pending migrations (local stack settings):
  set -a; . .stack/env; set +a
  projector check

  # Against another server:
  projector check --database-url postgres://daas:secret@db.internal:5432/daas";

#[derive(Subcommand, Debug)]
enum Command {
    /// Consume the log from the stored position and keep the tables up to date.
    Run {
        #[command(flatten)]
        db: DatabaseArgs,
        #[command(flatten)]
        log: pipeline::LogArgs,
    },
    /// Connect, apply pending migrations, print the server and schema version.
    Check(DatabaseArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Run { db, log } => {
            let shutdown = shutdown_on_signals()?;
            pipeline::run(&db, &log, shutdown)
                .await
                .context("projector run")?;
        }
        Command::Check(db) => {
            let report = store::check(&db).await.context("projector check")?;
            println!("projector: {report}");
        }
    }
    Ok(())
}
