//! `daas`: the k3s-daas command line.

mod stats;

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;
use daas_service::LogArgs;

/// The k3s-daas command line: submit kubectl intents as Sui transactions,
/// manage stake and keys, query the analysts' views.
#[derive(Parser, Debug)]
#[command(name = "daas", version, after_help = EXAMPLES)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  # The analysts' views of the local stack's projection:
  set -a; . .stack/env; set +a
  daas stats top-stakers --limit 10
  daas stats rejections

  # Shell completions:
  daas completions bash > /etc/bash_completion.d/daas
  daas completions zsh > \"${fpath[1]}/_daas\"";

const STATS_EXAMPLES: &str = "\
Examples:
  set -a; . .stack/env; set +a      # the local stack's DAAS_PG_URL
  daas stats top-stakers --limit 10
  daas stats stake-by-role --days 30
  daas stats slashing
  daas stats requests -n team-a --days 7
  daas stats rejections --format csv > rejections.csv";

#[derive(Subcommand, Debug)]
enum Command {
    /// Query the stake projection's views (top stakers, stake by role,
    /// slashing, requests per namespace, rejection reasons).
    #[command(after_help = STATS_EXAMPLES)]
    Stats {
        #[command(flatten)]
        projection: stats::ProjectionArgs,
        #[command(subcommand)]
        view: stats::Stats,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Stats { projection, view } => {
            print!("{}", stats::run(&view, &projection).await?);
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "daas", &mut std::io::stdout());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
