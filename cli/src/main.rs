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
Examples (after `scripts/demo`, whose run leaves alice owning namespace team-a):
  export PATH=$PWD/target/debug:$PATH; set -a; . .stack/demo/env; set +a
  daas keys new carol && daas faucet --key carol
  daas stake user --amount 5 --key carol
  daas apply -f examples/web.yaml --key alice
  daas status 1
  daas stats top-stakers";

const INIT_EXAMPLES: &str = "\
Examples:
  # A configuration for the demo's dev chain (ids from its devnet.json):
  daas --config /tmp/daas.toml init --devnet .stack/demo/devnet --master-url $DAAS_MASTER_URL
  # The default place, ~/.config/daas/config.toml:
  daas init --devnet .stack/demo/devnet";

const KEYS_EXAMPLES: &str = "\
Examples:
  daas keys new carol
  daas keys list
  daas keys export carol > /tmp/carol.key          # suiprivkey1…, what `sui keytool import` takes
  daas --keystore /tmp/elsewhere/sui.keystore keys import carol --file /tmp/carol.key
  daas --keystore ~/.sui/sui_config/sui.keystore keys list      # the sui CLI's own keystore";

const STAKE_EXAMPLES: &str = "\
Examples:
  daas faucet --key carol
  daas stake user --amount 5 --key carol         # a tenant's first stake: tier 5 SUI
  daas stake add user --amount 1 --key carol     # top up
  daas stake show --key carol                    # from the projection (DAAS_PG_URL, DAAS_PG_SCHEMA)
  daas unstake user --amount 1 --key carol       # after the lock: 10 epochs (10 min on the dev chain)";

const WRITE_EXAMPLES: &str = "\
Examples:
  daas apply -f examples/web.yaml --key alice
  daas apply -f examples/app/ --key alice              # every *.yaml, *.yml, *.json in the folder
  cat examples/web.yaml | daas apply -f - --key alice --no-wait
  daas create -f examples/team-b.yaml --key alice
  daas replace -f examples/web.yaml --key alice";

const DELETE_EXAMPLES: &str = "\
Examples:
  daas delete service web -n team-a --key alice
  daas delete deployment.apps web -n team-a --key alice";

const STATUS_EXAMPLES: &str = "\
Examples:
  daas status 1                     # by request id (daas apply prints it)
  daas status <tx digest>           # every request of a transaction, by its base58 digest";

const NODE_EXAMPLES: &str = "\
Examples (the demo's operator was slashed below the node minimum: top up first):
  daas stake add node --amount 1 --key operator
  worker key new --key /tmp/node-2.key
  daas node register worker-2 --endpoint 10.0.0.8:10250 --key operator \\
      --public-key $(worker key show --key /tmp/node-2.key | awk '/public key/ {print $3}')
  daas node deregister worker-2 --key operator";

const ADMIN_EXAMPLES: &str = "\
Examples (signed by the AdminCap's owner: on the dev chain its genesis admin, devnet-admin in the demo):
  daas admin grant team-a $(daas keys list | awk '$1 == \"bob\" {print $2}') --editor --key devnet-admin
  daas admin slash $(daas keys list | awk '$1 == \"bob\" {print $2}') --role user --amount 0.1 \\
      --reason spam --key devnet-admin";

const FAUCET_EXAMPLES: &str = "\
Examples:
  daas faucet --key alice                 # 10 SUI from the dev chain's faucet
  daas faucet --key alice --amount 50     # any amount: our dev chain's extension";

const BENCH_EXAMPLES: &str = "\
Examples (after scripts/demo, which leaves alice owning team-a):
  daas bench latency --count 100 -n team-a --key alice";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  daas completions bash > /etc/bash_completion.d/daas
  daas completions zsh > \"${fpath[1]}/_daas\"";

const STATS_EXAMPLES: &str = "\
Examples:
  set -a; . .stack/demo/env; set +a      # the demo's DAAS_PG_URL and DAAS_PG_SCHEMA
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
    #[command(after_help = COMPLETIONS_EXAMPLES)]
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
            let to = address_or_own(&settings, address)?;
            let url =
                settings.need(&settings.config.faucet_url, "faucet_url", "DAAS_FAUCET_URL")?;
            daas_cli::faucet::request(&url, to, amount).await?;
        }
        Command::Stake(StakeCommand::Show { address, schema }) => {
            let settings = args.load()?;
            let who = address_or_own(&settings, address)?;
            let url =
                settings.need(&settings.config.database_url, "database_url", "DAAS_PG_URL")?;
            print!("{}", stake::show(&url, &schema, who).await?);
        }
        Command::Stake(StakeCommand::User { amount }) => {
            stake_in(args, RoleArg::User, amount, false).await?;
        }
        Command::Stake(StakeCommand::Node { amount }) => {
            stake_in(args, RoleArg::Node, amount, false).await?;
        }
        Command::Stake(StakeCommand::Admin { amount }) => {
            stake_in(args, RoleArg::Admin, amount, false).await?;
        }
        Command::Stake(StakeCommand::Add { role, amount }) => {
            stake_in(args, role, amount, true).await?;
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
            // Into a buffer first: clap_complete panics on a closed stdout (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "daas", &mut script);
            use std::io::Write as _;
            match std::io::stdout().write_all(&script) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
        }
    }
    Ok(())
}

async fn stake_in(
    args: &ConfigArgs,
    role: RoleArg,
    amount: u64,
    top_up: bool,
) -> anyhow::Result<()> {
    stake::stake(&mut Session::open(args).await?, role, amount, top_up).await
}

/// `address`, or the signing key's when none is given.
fn address_or_own(
    settings: &config::Settings,
    address: Option<Address>,
) -> anyhow::Result<Address> {
    match address {
        Some(a) => Ok(a),
        None => Ok(daas_cli::session::signing_key(settings)?
            .public_key()
            .derive_address()),
    }
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
