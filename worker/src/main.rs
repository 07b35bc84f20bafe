//! `worker`: the node operator's agent.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_service::LogArgs;
use daas_worker::node_key::NodeKey;

/// The k3s-daas node agent. A node operator stakes as a node, registers the
/// node's Ed25519 key on chain, and runs this agent beside the k3s agent.
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
  # Make the node's identity (once per node) and show what to register on chain:
  worker key new --key /tmp/node-1.key
  worker key show --key /tmp/node-1.key";

#[derive(Subcommand, Debug)]
enum Command {
    /// The node's Ed25519 identity.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// Make a new key file (refuses to overwrite one).
    New {
        /// Where to write the key (`suiprivkey1…`, mode 0600).
        #[arg(long, env = "DAAS_NODE_KEY")]
        key: PathBuf,
    },
    /// Print the public key and address of a key file.
    Show {
        /// The key file.
        #[arg(long, env = "DAAS_NODE_KEY")]
        key: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Key(KeyCommand::New { key }) => {
            let node = NodeKey::generate();
            node.save(&key).context("worker key new")?;
            println!("wrote {}", key.display());
            print_identity(&node);
        }
        Command::Key(KeyCommand::Show { key }) => {
            print_identity(&NodeKey::load(&key).context("worker key show")?);
        }
    }
    Ok(())
}

fn print_identity(node: &NodeKey) {
    println!("public key: {}", node.public_key_hex());
    println!("address:    {}", node.address());
}
