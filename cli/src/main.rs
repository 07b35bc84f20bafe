//! `daas`: the k3s-daas command line.

use std::path::Path;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use daas_cli::{
    args::{
        AdminCommand, BenchCommand, Cli, Command, EnclaveCommand, KeysCommand, NodeCommand,
        StakeCommand,
    },
    chain::Chain,
    config::{self, ConfigArgs},
    enclave::show,
    keystore::{self, Keystore},
    kubectl, seal,
    session::Session,
    stake::{self, RoleArg},
    stats, write,
};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::Address;

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
    let allow_dev = cli.allow_dev_attestation;
    match cli.command {
        Command::Init {
            devnet,
            master_url,
            force,
        } => init(args, &devnet, &master_url, force)?,
        Command::Keys(k) => keys(args, k)?,
        Command::Faucet { address, amount } => {
            let settings = args.load()?;
            let to = address_or_own(&settings, address)?;
            let url =
                settings.need(&settings.config.faucet_url, "faucet_url", "DAAS_FAUCET_URL")?;
            daas_cli::faucet::request(&url, to, amount).await?;
        }
        Command::Stake(s) => stake_command(args, s).await?,
        Command::Unstake { role, amount } => {
            stake::unstake(&mut Session::open(args).await?, role, amount).await?;
        }
        Command::Apply { files, wait } => {
            write_files(args, "apply", &files, &wait, allow_dev).await?
        }
        Command::Create { files, wait } => {
            write_files(args, "create", &files, &wait, allow_dev).await?
        }
        Command::Replace { files, wait } => {
            write_files(args, "replace", &files, &wait, allow_dev).await?
        }
        Command::Seal {
            files,
            output,
            public_key,
            key_version,
        } => {
            let offline = public_key.as_deref().zip(key_version);
            seal_files(args, &files, output, offline, allow_dev).await?
        }
        Command::Delete {
            kind,
            name,
            namespace,
            wait,
        } => {
            let doc = write::delete_doc(&kind, &name, namespace.as_deref())?;
            let mut s = Session::open(args).await?;
            write::run(&mut s, "delete", &[doc], &wait, allow_dev).await?;
        }
        Command::Status {
            what,
            verify,
            from_file,
        } => {
            let status = write::StatusArgs {
                what: what.as_deref(),
                verify,
                from_file: from_file.as_deref(),
                allow_dev,
            };
            write::status(&args.load()?, status).await?;
        }
        Command::Enclave(EnclaveCommand::Show { json }) => enclave_show(args, json).await?,
        Command::Node(n) => node(args, n).await?,
        Command::Admin(a) => admin(args, a).await?,
        Command::Stats { projection, view } => {
            print!("{}", stats::run(&view, &projection).await?);
        }
        Command::Bench(BenchCommand::Latency { count, namespace }) => {
            let mut s = Session::open(args).await?;
            daas_cli::bench::latency(&mut s, &namespace, count).await?;
        }
        Command::Completions { shell } => completions(shell)?,
        Command::Token {
            audience,
            lifetime_secs,
            no_cache,
            cache_dir,
        } => {
            let cache = (!no_cache).then(|| cache_dir.unwrap_or_else(kubectl::default_cache_dir));
            kubectl::token_command(&args.load()?, &audience, lifetime_secs, cache.as_deref())?
        }
        Command::Kubeconfig(k) => kubectl::kubeconfig_command(&args.load()?, k)?,
    }
    Ok(())
}

fn init(args: &ConfigArgs, devnet: &Path, master_url: &str, force: bool) -> anyhow::Result<()> {
    let path = args.path();
    anyhow::ensure!(
        force || !path.exists(),
        "{} exists; --force overwrites it",
        path.display()
    );
    let c = config::from_devnet(devnet, master_url)?;
    config::write(&path, &c)?;
    println!("wrote {}", path.display());
    print!("{}", toml::to_string_pretty(&c)?);
    Ok(())
}

async fn stake_command(args: &ConfigArgs, command: StakeCommand) -> anyhow::Result<()> {
    match command {
        StakeCommand::Show { address, schema } => {
            let settings = args.load()?;
            let who = address_or_own(&settings, address)?;
            let url =
                settings.need(&settings.config.database_url, "database_url", "DAAS_PG_URL")?;
            print!("{}", stake::show(&url, &schema, who).await?);
            Ok(())
        }
        StakeCommand::User { amount } => stake_in(args, RoleArg::User, amount, false).await,
        StakeCommand::Node { amount } => stake_in(args, RoleArg::Node, amount, false).await,
        StakeCommand::Admin { amount } => stake_in(args, RoleArg::Admin, amount, false).await,
        StakeCommand::Add { role, amount } => stake_in(args, role, amount, true).await,
    }
}

async fn write_files(
    args: &ConfigArgs,
    verb: &str,
    files: &write::FileArgs,
    wait: &write::WaitArgs,
    allow_dev: bool,
) -> anyhow::Result<()> {
    let docs = write::docs(files)?;
    daas_cli::warnings::print(&docs);
    let mut s = Session::open(args).await?;
    let cluster = s.cluster()?;
    let chain = &mut s.chain;
    let docs = seal::seal_docs(docs, seal::object_id(cluster), || {
        seal::fetch_attested_key(chain, cluster, allow_dev)
    })
    .await?;
    write::run(&mut s, verb, &docs, wait, allow_dev).await
}

/// `daas enclave show`: read with the configuration's node and ids (no key).
async fn enclave_show(args: &ConfigArgs, json: bool) -> anyhow::Result<()> {
    let settings = args.load()?;
    let (mut chain, cluster) = daas_cli::enclave::reader(&settings).await?;
    let registry = show::read(&mut chain, cluster).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&registry.to_json())?);
    } else {
        print!("{}", registry.to_text());
    }
    Ok(())
}

/// `daas seal`: Secrets sealed to the cluster's current key on chain, or to
/// `--public-key` (offline), printed.
async fn seal_files(
    args: &ConfigArgs,
    files: &write::FileArgs,
    output: seal::Output,
    offline: Option<(&str, u32)>,
    allow_dev: bool,
) -> anyhow::Result<()> {
    let docs = write::docs(files)?;
    daas_cli::warnings::print(&docs);
    let settings = args.load()?;
    let cluster = settings.need_id(
        &settings.config.cluster_id,
        "cluster_id",
        "--cluster-id / DAAS_CLUSTER_ID",
    )?;
    let id = seal::object_id(cluster);
    let sealed = match offline {
        Some((key, version)) => {
            let key = seal::ClusterKey {
                cluster: id,
                version,
                public_key: seal::public_key_arg(key)?,
            };
            seal::seal_docs(docs, id, || async { Ok(key) }).await?
        }
        None => {
            let package =
                settings.need_id(&settings.config.package_id, "package_id", "DAAS_PACKAGE_ID")?;
            let url = settings.node_url()?;
            // Connected only when a Secret needs the key.
            let key = || async move {
                let mut chain = Chain::connect(&url, package).await?;
                seal::fetch_attested_key(&mut chain, cluster, allow_dev).await
            };
            seal::seal_docs(docs, id, key).await?
        }
    };
    print!("{}", seal::render(&sealed, output)?);
    Ok(())
}

async fn node(args: &ConfigArgs, command: NodeCommand) -> anyhow::Result<()> {
    let mut s = Session::open(args).await?;
    match command {
        NodeCommand::Register {
            name,
            public_key,
            endpoint,
        } => stake::register_node(&mut s, &name, &public_key, &endpoint).await,
        NodeCommand::Deregister { name } => stake::deregister_node(&mut s, &name).await,
    }
}

async fn admin(args: &ConfigArgs, command: AdminCommand) -> anyhow::Result<()> {
    let mut s = Session::open(args).await?;
    let cap = s.settings.need_id(
        &s.settings.config.admin_cap_id,
        "admin_cap_id",
        "DAAS_ADMIN_CAP",
    )?;
    match command {
        AdminCommand::Slash {
            staker,
            role,
            amount,
            reason,
        } => stake::slash(&mut s, cap, staker, role, amount, &reason).await,
        AdminCommand::Grant {
            namespace,
            grantee,
            editor,
        } => stake::grant(&mut s, cap, &namespace, grantee, editor).await,
        AdminCommand::GrantAdmin { grantee } => {
            stake::cluster_admin(&mut s, cap, grantee, true).await
        }
        AdminCommand::RevokeAdmin { grantee } => {
            stake::cluster_admin(&mut s, cap, grantee, false).await
        }
        AdminCommand::RegisterPcrs {
            pcr0,
            pcr1,
            pcr2,
            eif_json,
            debug_zeros,
        } => {
            let hex = match (&pcr0, &pcr1, &pcr2) {
                (Some(a), Some(b), Some(c)) => Some([a.as_str(), b.as_str(), c.as_str()]),
                _ => None,
            };
            let pcrs = show::pcrs_arg(hex, eif_json.as_deref(), debug_zeros)?;
            let set = show::register_pcrs(&mut s, cap, pcrs).await?;
            println!(
                "registered PCR set version {} (pcr0 {}, pcr1 {}, pcr2 {})",
                set.version,
                hex::encode(&set.pcr0.0),
                hex::encode(&set.pcr1.0),
                hex::encode(&set.pcr2.0)
            );
            Ok(())
        }
        AdminCommand::RegisterSealingKey { public_key } => {
            let key = seal::public_key_arg(&public_key)?;
            seal::register(&mut s, cap, key).await.map(|_| ())
        }
    }
}

fn completions(shell: clap_complete::Shell) -> anyhow::Result<()> {
    // Into a buffer first: clap_complete panics on a closed stdout (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "daas", &mut script);
    use std::io::Write as _;
    match std::io::stdout().write_all(&script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
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
