//! `worker`: the node operator's agent.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_service::LogArgs;
use daas_worker::{
    check_master::{self, RootArg},
    node_key::NodeKey,
};

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
  worker key show --key /tmp/node-1.key
  # Before trusting a master: its attestation, with a fresh nonce, to the AWS Nitro root:
  worker check-master --master-url http://10.0.0.5:9187
  # The local stack's master attests with a dev CA (`master dev-ca init` made root.der):
  worker check-master --master-url $DAAS_MASTER_URL --root dev:.stack/dev-nitro-ca/root.der \
      --allow-dev-attestation";

const CHECK_MASTER_EXAMPLES: &str = "\
Examples:
  worker check-master --master-url http://10.0.0.5:9187                # AWS Nitro root, built in
  worker check-master --master-url http://127.0.0.1:9187 \
      --root dev:/var/lib/daas/sealing-keys/dev-nitro-ca/root.der --allow-dev-attestation
Exit status: 0 when the document verifies (chain, time, signature, nonce, key, user_data), 1 otherwise.";

#[derive(Subcommand, Debug)]
enum Command {
    /// The node's Ed25519 identity.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Check a master's attestation (a fresh document for a random nonce):
    /// exit 1 if it does not verify, or is a dev one without
    /// --allow-dev-attestation.
    #[command(after_help = CHECK_MASTER_EXAMPLES)]
    CheckMaster {
        /// The master's API.
        #[arg(long, env = "DAAS_MASTER_URL")]
        master_url: String,
        /// The root the document must chain to: `aws` (the AWS Nitro root)
        /// or `dev:PATH` (a dev CA's root.der).
        #[arg(long, default_value = "aws", value_name = "aws|dev:PATH")]
        root: RootArg,
        /// Accept a dev document (made by a local test CA, not an enclave).
        #[arg(
            long,
            env = "DAAS_ALLOW_DEV_ATTESTATION",
            value_parser = clap::builder::BoolishValueParser::new(),
            action = clap::ArgAction::SetTrue
        )]
        allow_dev_attestation: bool,
    },
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
        Command::CheckMaster {
            master_url,
            root,
            allow_dev_attestation,
        } => check_master_cmd(&master_url, &root, allow_dev_attestation)?,
    }
    Ok(())
}

fn check_master_cmd(url: &str, root: &RootArg, allow_dev: bool) -> anyhow::Result<()> {
    let root = root.load()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let checked = runtime
        .block_on(check_master::run(url, &root, allow_dev))
        .with_context(|| format!("the master at {url}"))?;
    let d = &checked.document;
    if checked.dev {
        eprintln!(
            "warning: DEV attestation: the master at {url} is not an AWS Nitro enclave \
             (module_id {:?}); accepted because of --allow-dev-attestation",
            d.module_id
        );
    }
    println!(
        "attestation: verified (root sha256 {})",
        hex::encode(root.fingerprint())
    );
    println!("  module_id:   {}", d.module_id.escape_debug());
    println!("  timestamp:   {} ms", d.timestamp_ms);
    println!(
        "  enclave key: {}",
        hex::encode(d.public_key.as_deref().unwrap_or_default())
    );
    println!(
        "  cluster:     0x{}",
        hex::encode(checked.user_data.cluster_id)
    );
    println!(
        "  sealing key: version {} {}",
        checked.user_data.sealing_key_version,
        hex::encode(checked.user_data.sealing_public_key)
    );
    for (i, v) in d.pcrs.range(0..3) {
        println!("  PCR{i}:        {}", hex::encode(v));
    }
    Ok(())
}

fn print_identity(node: &NodeKey) {
    println!("public key: {}", node.public_key_hex());
    println!("address:    {}", node.address());
}
