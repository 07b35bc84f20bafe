//! `projector`: the log topic → Postgres tables for analysts.

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_projector::store::{self, DatabaseArgs};
use daas_service::LogArgs;

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
  # Check the database and apply pending migrations (local stack settings):
  set -a; . .stack/env; set +a
  projector check

  # Against another server:
  projector check --database-url postgres://daas:secret@db.internal:5432/daas";

#[derive(Subcommand, Debug)]
enum Command {
    /// Connect, apply pending migrations, print the server and schema version.
    Check(DatabaseArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Check(db) => {
            let report = store::check(&db).await.context("projector check")?;
            println!("projector: {report}");
        }
    }
    Ok(())
}
