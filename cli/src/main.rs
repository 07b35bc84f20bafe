//! `daas`: the k3s-daas command line.

use std::path::PathBuf;

use anyhow::Context;
use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;
use daas_cli::{
    config::{self, ConfigArgs},
    keystore::{self, Keystore},
    session::Session,
    stake::{self, RoleArg, parse_sui},
    stats, write,
};
use daas_service::LogArgs;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::Address;

/// The k3s-daas command line: submit kubectl intents as Sui transactions,
/// manage keys and stake, query the analysts' views.
#[derive(Parser, Debug)]
#[command(name = "daas", version, after_help = EXAMPLES)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples (the local stack: `scripts/demo` starts it and writes .stack/daas/config.toml):
  export DAAS_CONFIG=.stack/daas/config.toml
  daas keys new alice && daas faucet --key alice
  daas stake user --amount 5 --key alice
  daas apply -f examples/web.yaml --key alice
  daas status 3
  daas stats top-stakers";

const INIT_EXAMPLES: &str = "\
Examples:
  # A configuration for the local dev chain (ids from its devnet.json):
  daas init --devnet .stack/devnet --master-url http://127.0.0.1:9187
  # Somewhere else than ~/.config/daas/config.toml:
  daas --config /tmp/daas.toml init --devnet .stack/devnet";

const KEYS_EXAMPLES: &str = "\
Examples:
  daas keys new alice
  daas keys import devnet-admin --file .stack/devnet/admin.key
  daas keys list
  daas keys export alice            # suiprivkey1…, importable by `sui keytool import`
  # Use the sui CLI's keystore directly:
  daas --keystore ~/.sui/sui_config/sui.keystore keys list";

const STAKE_EXAMPLES: &str = "\
Examples:
  daas stake user --amount 5 --key alice        # a tenant's first stake: tier 5 SUI
  daas stake node --amount 1 --key operator
  daas stake add user --amount 5 --key alice    # top up
  daas stake show --key alice                   # from the projection (DAAS_PG_URL)
  daas stake show 0x8f2c…";

const WRITE_EXAMPLES: &str = "\
Examples:
  daas apply -f examples/web.yaml --key alice
  daas apply -f examples/ -n team-a --key alice
  cat web.yaml | daas apply -f - --key alice --no-wait
  daas create -f examples/namespace.yaml --key alice";

const DELETE_EXAMPLES: &str = "\
Examples:
  daas delete deployment web -n team-a --key alice
  daas delete namespace team-a --key alice";

const STATUS_EXAMPLES: &str = "\
Examples:
  daas status 3                                             # by request id
  daas status 7ryvQ3YQnbDf4ZtDvpgZV9mJbE9kLe2kH8e8a6Bj6dXb  # by transaction digest";

const NODE_EXAMPLES: &str = "\
Examples:
  worker key new --key /tmp/node-1.key && worker key show --key /tmp/node-1.key
  daas node register worker-1 --public-key <hex from worker key show> --endpoint 10.0.0.7:10250 --key operator
  daas node deregister worker-1 --key operator";

const ADMIN_EXAMPLES: &str = "\
Examples (signed by the AdminCap's owner; on the dev chain its genesis admin):
  daas keys import devnet-admin --file .stack/devnet/admin.key
  daas admin slash 0x8f2c… --role node --amount 1 --reason 'double signing' --key devnet-admin
  daas admin grant team-a 0x41d0… --editor --key devnet-admin";

const FAUCET_EXAMPLES: &str = "\
Examples:
  daas faucet --key alice                 # 10 SUI from the dev chain's faucet
  daas faucet 0x41d0… --amount 50         # any address; --amount works on our dev chain";

const BENCH_EXAMPLES: &str = "\
Examples (after scripts/demo, which leaves alice owning team-a):
  set -a; . .stack/demo/env; set +a
  daas bench latency --count 100 -n team-a --key alice";

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
    /// Write a configuration file (node, package, cluster, master).
    #[command(after_help = INIT_EXAMPLES)]
    Init {
        /// The dev chain's data folder (holds devnet.json).
        #[arg(long)]
        devnet: PathBuf,
        /// The master's status API.
        #[arg(long, default_value = "http://127.0.0.1:9187")]
        master_url: String,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Keys, in Sui's keystore and suiprivkey formats.
    #[command(subcommand, after_help = KEYS_EXAMPLES)]
    Keys(KeysCommand),
    /// Ask a faucet for SUI.
    #[command(after_help = FAUCET_EXAMPLES)]
    Faucet {
        /// Who gets it [default: the signing key's address].
        address: Option<Address>,
        /// SUI to ask for (our dev chain's extension; Sui's faucets send a fixed amount).
        #[arg(long, value_parser = parse_sui)]
        amount: Option<u64>,
    },
    /// Stake SUI in a role, top up, or show stakes.
    #[command(subcommand, after_help = STAKE_EXAMPLES)]
    Stake(StakeCommand),
    /// Withdraw stake (after its lock period).
    #[command(after_help = STAKE_EXAMPLES)]
    Unstake {
        /// The role.
        #[arg(value_enum)]
        role: RoleArg,
        /// SUI to withdraw.
        #[arg(long, value_parser = parse_sui)]
        amount: u64,
    },
    /// Create or update objects (kubectl apply), one transaction each.
    #[command(after_help = WRITE_EXAMPLES)]
    Apply {
        #[command(flatten)]
        files: write::FileArgs,
        #[command(flatten)]
        wait: write::WaitArgs,
    },
    /// Create objects; fails for ones that exist.
    #[command(after_help = WRITE_EXAMPLES)]
    Create {
        #[command(flatten)]
        files: write::FileArgs,
        #[command(flatten)]
        wait: write::WaitArgs,
    },
    /// Replace objects; fails for ones that do not exist.
    #[command(after_help = WRITE_EXAMPLES)]
    Replace {
        #[command(flatten)]
        files: write::FileArgs,
        #[command(flatten)]
        wait: write::WaitArgs,
    },
    /// Delete an object.
    #[command(after_help = DELETE_EXAMPLES)]
    Delete {
        /// Kind (`deployment`, `deployments`, `Deployment`, `deployment.apps`).
        kind: String,
        /// Name.
        name: String,
        /// Namespace [default: default].
        #[arg(short = 'n', long)]
        namespace: Option<String>,
        #[command(flatten)]
        wait: write::WaitArgs,
    },
    /// What the master decided for a request id or a transaction digest.
    #[command(after_help = STATUS_EXAMPLES)]
    Status {
        /// A request id or a base58 transaction digest.
        what: String,
    },
    /// Register or deregister a worker node.
    #[command(subcommand, after_help = NODE_EXAMPLES)]
    Node(NodeCommand),
    /// Administrator actions (need the AdminCap).
    #[command(subcommand, after_help = ADMIN_EXAMPLES)]
    Admin(AdminCommand),
    /// Query the stake projection's views (top stakers, stake by role,
    /// slashing, requests per namespace, rejection reasons).
    #[command(after_help = STATS_EXAMPLES)]
    Stats {
        #[command(flatten)]
        projection: stats::ProjectionArgs,
        #[command(subcommand)]
        view: stats::Stats,
    },
    /// Measure: how long a tenant waits for an outcome (median, p99).
    #[command(subcommand, after_help = BENCH_EXAMPLES)]
    Bench(BenchCommand),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Sequential ConfigMap applies: submit → final, and digest → outcome visible.
    Latency {
        /// How many applies.
        #[arg(long, default_value_t = 50)]
        count: usize,
        /// A namespace the signing key may write in.
        #[arg(short = 'n', long)]
        namespace: String,
    },
}

#[derive(Subcommand, Debug)]
enum KeysCommand {
    /// Make a new Ed25519 key under an alias.
    New {
        /// Its alias.
        alias: String,
    },
    /// Import a `suiprivkey1…` key (from `sui keytool export` or a file).
    Import {
        /// Its alias.
        alias: String,
        /// The key; omit it to use --file (or standard input).
        suiprivkey: Option<String>,
        /// A file holding the key.
        #[arg(long, conflicts_with = "suiprivkey")]
        file: Option<PathBuf>,
    },
    /// List keys: alias, address, scheme.
    List,
    /// Print a key as `suiprivkey1…`.
    Export {
        /// Alias or address.
        alias: String,
    },
}

#[derive(Subcommand, Debug)]
enum StakeCommand {
    /// First stake as a tenant.
    User {
        /// SUI to stake.
        #[arg(long, value_parser = parse_sui)]
        amount: u64,
    },
    /// First stake as a node operator.
    Node {
        /// SUI to stake.
        #[arg(long, value_parser = parse_sui)]
        amount: u64,
    },
    /// First stake as an administrator.
    Admin {
        /// SUI to stake.
        #[arg(long, value_parser = parse_sui)]
        amount: u64,
    },
    /// Add to an existing stake.
    Add {
        /// The role.
        #[arg(value_enum)]
        role: RoleArg,
        /// SUI to add.
        #[arg(long, value_parser = parse_sui)]
        amount: u64,
    },
    /// An address's stakes and nodes, from the projection.
    Show {
        /// The address [default: the signing key's].
        address: Option<Address>,
        /// Schema holding the projection.
        #[arg(long, env = "DAAS_PG_SCHEMA", default_value = "daas")]
        schema: String,
    },
}

#[derive(Subcommand, Debug)]
enum NodeCommand {
    /// Register a node operated by the signing key (needs a node stake).
    Register {
        /// The node's name (its kubelet's node name).
        name: String,
        /// The node's Ed25519 public key, hex (`worker key show`).
        #[arg(long)]
        public_key: String,
        /// Where the node can be reached.
        #[arg(long)]
        endpoint: String,
    },
    /// Deregister a node.
    Deregister {
        /// The node's name.
        name: String,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCommand {
    /// Slash a staker.
    Slash {
        /// The staker.
        staker: Address,
        /// The role slashed.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// SUI to slash.
        #[arg(long, value_parser = parse_sui)]
        amount: u64,
        /// Why (recorded on chain).
        #[arg(long)]
        reason: String,
    },
    /// Grant an address a role in a namespace of the cluster.
    Grant {
        /// The namespace.
        namespace: String,
        /// Who.
        grantee: Address,
        /// Editor (may write); without it, viewer.
        #[arg(long)]
        editor: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    cli.log.init();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Errors are for people: one line with its causes, no backtrace.
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let args = &cli.config;
    match cli.command {
        Command::Init {
            devnet,
            master_url,
            force,
        } => {
            let path = args.path();
            anyhow::ensure!(
                force || !path.exists(),
                "{} exists; --force overwrites it",
                path.display()
            );
            let c = config::from_devnet(&devnet, &master_url)?;
            config::write(&path, &c)?;
            println!("wrote {}", path.display());
            print!("{}", toml::to_string_pretty(&c)?);
        }
        Command::Keys(k) => keys(args, k)?,
        Command::Faucet { address, amount } => {
            let settings = args.load()?;
            let to = match address {
                Some(a) => a,
                None => daas_cli::session::signing_key(&settings)?
                    .public_key()
                    .derive_address(),
            };
            let url =
                settings.need(&settings.config.faucet_url, "faucet_url", "DAAS_FAUCET_URL")?;
            daas_cli::faucet::request(&url, to, amount).await?;
        }
        Command::Stake(StakeCommand::Show { address, schema }) => {
            let settings = args.load()?;
            let who = match address {
                Some(a) => a,
                None => daas_cli::session::signing_key(&settings)?
                    .public_key()
                    .derive_address(),
            };
            let url =
                settings.need(&settings.config.database_url, "database_url", "DAAS_PG_URL")?;
            print!("{}", stake::show(&url, &schema, who).await?);
        }
        Command::Stake(s) => {
            let mut session = Session::open(args).await?;
            let (role, amount, top_up) = match s {
                StakeCommand::User { amount } => (RoleArg::User, amount, false),
                StakeCommand::Node { amount } => (RoleArg::Node, amount, false),
                StakeCommand::Admin { amount } => (RoleArg::Admin, amount, false),
                StakeCommand::Add { role, amount } => (role, amount, true),
                StakeCommand::Show { .. } => unreachable!("handled above"),
            };
            stake::stake(&mut session, role, amount, top_up).await?;
        }
        Command::Unstake { role, amount } => {
            stake::unstake(&mut Session::open(args).await?, role, amount).await?;
        }
        Command::Apply { files, wait } => {
            let docs = write::docs(&files)?;
            write::run(&mut Session::open(args).await?, "apply", &docs, &wait).await?;
        }
        Command::Create { files, wait } => {
            let docs = write::docs(&files)?;
            write::run(&mut Session::open(args).await?, "create", &docs, &wait).await?;
        }
        Command::Replace { files, wait } => {
            let docs = write::docs(&files)?;
            write::run(&mut Session::open(args).await?, "replace", &docs, &wait).await?;
        }
        Command::Delete {
            kind,
            name,
            namespace,
            wait,
        } => {
            let doc = write::delete_doc(&kind, &name, namespace.as_deref())?;
            write::run(&mut Session::open(args).await?, "delete", &[doc], &wait).await?;
        }
        Command::Status { what } => {
            let settings = args.load()?;
            write::status(&settings.master_url()?, &what).await?;
        }
        Command::Node(n) => {
            let mut s = Session::open(args).await?;
            match n {
                NodeCommand::Register {
                    name,
                    public_key,
                    endpoint,
                } => stake::register_node(&mut s, &name, &public_key, &endpoint).await?,
                NodeCommand::Deregister { name } => stake::deregister_node(&mut s, &name).await?,
            }
        }
        Command::Admin(a) => {
            let mut s = Session::open(args).await?;
            let cap = s.settings.need_id(
                &s.settings.config.admin_cap_id,
                "admin_cap_id",
                "DAAS_ADMIN_CAP",
            )?;
            match a {
                AdminCommand::Slash {
                    staker,
                    role,
                    amount,
                    reason,
                } => stake::slash(&mut s, cap, staker, role, amount, &reason).await?,
                AdminCommand::Grant {
                    namespace,
                    grantee,
                    editor,
                } => stake::grant(&mut s, cap, &namespace, grantee, editor).await?,
            }
        }
        Command::Stats { projection, view } => {
            print!("{}", stats::run(&view, &projection).await?);
        }
        Command::Bench(BenchCommand::Latency { count, namespace }) => {
            let mut s = Session::open(args).await?;
            daas_cli::bench::latency(&mut s, &namespace, count).await?;
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "daas", &mut std::io::stdout());
        }
    }
    Ok(())
}

fn keys(args: &ConfigArgs, command: KeysCommand) -> anyhow::Result<()> {
    let settings = args.load()?;
    let path = settings.keystore();
    let mut ks = Keystore::open(&path)?;
    match command {
        KeysCommand::New { alias } => {
            let key = Ed25519PrivateKey::generate(rand_core::OsRng);
            let address = ks.add(&alias, &key)?;
            println!("{alias}: {address} (ed25519) in {}", path.display());
        }
        KeysCommand::Import {
            alias,
            suiprivkey,
            file,
        } => {
            let text = match (suiprivkey, file) {
                (Some(k), _) => k,
                (None, Some(f)) => std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?,
                (None, None) => std::io::read_to_string(std::io::stdin())
                    .context("reading the key from standard input")?,
            };
            let key = keystore::parse_suiprivkey(&text)?;
            let address = ks.add(&alias, &key)?;
            println!("{alias}: {address} imported into {}", path.display());
        }
        KeysCommand::List => {
            println!("{:<16} {:<68} scheme", "alias", "address");
            for k in ks.list() {
                let address = k.address.map_or_else(|| "-".to_owned(), |a| a.to_string());
                println!("{:<16} {address:<68} {}", k.alias, k.scheme);
            }
        }
        KeysCommand::Export { alias } => {
            let key = ks.get(&alias)?;
            println!(
                "{}",
                key.to_suiprivkey()
                    .map_err(|e| anyhow::anyhow!("encoding the key: {e}"))?
            );
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
