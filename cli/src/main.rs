//! `daas`: the k3s-daas command line.

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
  # Shell completions:
  daas completions bash > /etc/bash_completion.d/daas
  daas completions zsh > \"${fpath[1]}/_daas\"";

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
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
