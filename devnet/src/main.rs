//! `devnet`: the local Sui-API-compatible dev chain.

use std::{io::Write, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Parser, Subcommand};
use daas_devnet::{
    bench::{self, BenchArgs},
    chain::PACKAGE_ID,
    committee::{self, DEFAULT_VALIDATORS, GENESIS_COMMITTEE_FILE, Validators},
    faucet::{self, FaucetRequest, FaucetResponse},
    loadgen::{self, LoadArgs},
    node::{Node, NodeConfig},
    rpc,
};
use daas_service::{
    LogArgs,
    nitro_root::{self, NitroRootSpec},
    shutdown_on_signals,
};
use tokio::net::TcpListener;

/// A single-process dev chain that serves Sui's gRPC API (`sui.rpc.v2`) and runs
/// the k3s-daas Move package natively, so the whole product works offline. Point
/// any `sui-rpc` client at it; point the same client at a real full node later.
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
  # Start a chain in ./devnet-data (created on first start), gRPC on 9000, faucet on 9123:
  devnet run --data-dir ./devnet-data

  # Start over from a fresh genesis, one checkpoint per second, 1-minute epochs:
  devnet run --data-dir ./devnet-data --reset --checkpoint-interval-ms 1000 --epoch-duration-ms 60000

  # A chain that verifies enclave attestations against a local dev CA's root
  # (`master dev-ca init --dir DIR` makes it) instead of AWS's:
  devnet run --data-dir ./devnet-data --nitro-root dev:./dev-nitro-ca/root.der

  # A chain certified by 7 validators (a quorum is 5 of them; 3 of the default 4), 30-second epochs:
  devnet run --data-dir ./devnet-data --reset --validators 7 --epoch-duration-ms 30000

  # The epoch-0 committee verifiers pin (the same JSON as ./devnet-data/genesis-committee.json):
  devnet committee --data-dir ./devnet-data

  # Epoch 3's committee (each epoch has new keys, derived from ./devnet-data/validators.seed):
  devnet committee --data-dir ./devnet-data --epoch 3

  # Send 5 SUI to an address:
  devnet faucet 0x8c5a4e7f1a0d3e9b2c6f4a1e0d9c8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170 5000000000

  # What a running chain is (package id, default cluster, admin):
  cat ./devnet-data/devnet.json

  # 20,000 signed transactions from 200 accounts against a running chain:
  devnet loadgen --node-url http://127.0.0.1:9000 --faucet-url http://127.0.0.1:9123 --transactions 20000

  # Benchmark (build with --release first): execution and event streaming, with baselines:
  devnet bench --transactions 20000";

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the chain: gRPC API, faucet, checkpoints.
    Run(RunArgs),
    /// Ask a running chain's faucet for SUI.
    Faucet {
        /// Recipient address.
        address: String,
        /// MIST to send (1 SUI = 1,000,000,000 MIST).
        amount: u64,
        /// The faucet's URL.
        #[arg(long, env = "DAAS_FAUCET_URL", default_value = "http://127.0.0.1:9123")]
        faucet_url: String,
    },
    /// Submit many signed transactions from many accounts, as fast as the node takes them.
    Loadgen(LoadArgs),
    /// Benchmark a fresh in-process chain: tx/s and streamed events/s, with baselines.
    Bench(BenchArgs),
    /// Print a chain's validator committee of an epoch as JSON (epoch 0: what verifiers pin).
    Committee(CommitteeArgs),
}

#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  # The genesis committee (what `--genesis-committee FILE` of the master and projector pins):
  devnet committee --data-dir ./devnet-data > genesis-committee.json

  # The committee that signs epoch 2's checkpoints:
  devnet committee --data-dir ./devnet-data --epoch 2")]
struct CommitteeArgs {
    /// The chain's data folder (holds `validators.seed` and `genesis-committee.json`).
    #[arg(long, env = "DAAS_DEVNET_DIR", default_value = ".stack/devnet")]
    data_dir: PathBuf,
    /// Which epoch's committee (derived from the seed, also for epochs the chain has not reached).
    #[arg(long, default_value_t = 0)]
    epoch: u64,
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// Where the chain's log, keys and `devnet.json` live.
    #[arg(long, env = "DAAS_DEVNET_DIR", default_value = ".stack/devnet")]
    data_dir: PathBuf,
    /// gRPC listen address.
    #[arg(long, env = "DAAS_DEVNET_LISTEN", default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// Faucet (HTTP) listen address.
    #[arg(long, env = "DAAS_FAUCET_LISTEN", default_value = "127.0.0.1:9123")]
    faucet_listen: SocketAddr,
    /// Time between checkpoints, ms.
    #[arg(long, default_value_t = 250)]
    checkpoint_interval_ms: u64,
    /// Prometheus metrics listen address (`GET /metrics`).
    #[arg(
        long,
        env = "DAAS_DEVNET_METRICS_LISTEN",
        default_value = "127.0.0.1:9184"
    )]
    metrics_listen: SocketAddr,
    /// Epoch length, ms (fixed at genesis: takes effect with a new chain).
    #[arg(long, default_value_t = 60_000)]
    epoch_duration_ms: u64,
    /// Act as a pruned node: report this as the lowest available checkpoint and
    /// serve nothing older (to test readers against missing history).
    #[arg(long, default_value_t = 0)]
    lowest_available_checkpoint: u64,
    /// Delete the chain in `--data-dir` and start from a new genesis.
    #[arg(long)]
    reset: bool,
    /// Validators in every epoch's committee; all of them sign every checkpoint
    /// (fixed at genesis: takes effect with a new chain).
    #[arg(long, default_value_t = DEFAULT_VALIDATORS, value_parser = parse_validators)]
    validators: usize,
    /// The root `0x2::nitro_attestation::load_nitro_attestation` verifies enclave
    /// attestation documents against: `aws` (AWS's Nitro root, as on Sui) or
    /// `dev:PATH` (a dev CA's root certificate, DER). Fixed for a chain's life
    /// (pinned in `nitro-root.der` beside its log).
    #[arg(long, env = "DAAS_DEVNET_NITRO_ROOT", default_value = "aws")]
    nitro_root: NitroRootSpec,
}

fn parse_validators(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    committee::check_count(n)
}

/// Epoch `epoch`'s committee of the chain in `dir`: its size from the genesis
/// committee file, its keys from the seed (checked against that file).
fn print_committee(args: &CommitteeArgs) -> anyhow::Result<()> {
    let path = args.data_dir.join(GENESIS_COMMITTEE_FILE);
    let genesis = committee::read_committee(&path)
        .with_context(|| format!("is {} a dev chain's folder?", args.data_dir.display()))?;
    let validators = Validators::load(&args.data_dir, genesis.members.len())?;
    anyhow::ensure!(
        validators.committee(0) == genesis,
        "{} does not match the seed beside it",
        path.display()
    );
    let json = serde_json::to_string_pretty(&validators.committee(args.epoch))?;
    // A reader that stops early (`| head`) is not an error.
    match writeln!(std::io::stdout().lock(), "{json}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written.context("writing the committee to stdout"),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Run(args) => run(args).await,
        Command::Faucet {
            address,
            amount,
            faucet_url,
        } => {
            let body = FaucetRequest::FixedAmountRequest {
                recipient: address.clone(),
                amount: Some(amount),
            };
            let resp: FaucetResponse = reqwest::Client::new()
                .post(format!("{}/v2/gas", faucet_url.trim_end_matches('/')))
                .json(&body)
                .send()
                .await
                .with_context(|| format!("faucet at {faucet_url} did not answer"))?
                .json()
                .await
                .context("faucet answer")?;
            match resp.coins_sent {
                Some(coins) => {
                    for c in coins {
                        println!(
                            "sent {} MIST to {address}: coin {} (tx {})",
                            c.amount, c.id, c.transfer_tx_digest
                        );
                    }
                    Ok(())
                }
                None => anyhow::bail!("faucet refused: {}", resp.status),
            }
        }
        Command::Bench(args) => {
            println!("{}", bench::run(&args).await?);
            Ok(())
        }
        Command::Committee(args) => print_committee(&args),
        Command::Loadgen(args) => {
            let report = loadgen::run(&args).await?;
            println!("{report}");
            Ok(())
        }
    }
}

async fn run(args: RunArgs) -> anyhow::Result<()> {
    if args.reset && args.data_dir.exists() {
        std::fs::remove_dir_all(&args.data_dir)
            .with_context(|| format!("removing {}", args.data_dir.display()))?;
    }
    let nitro_root = args.nitro_root.load()?;
    let node = Node::open(NodeConfig {
        data_dir: args.data_dir.clone(),
        checkpoint_interval: Duration::from_millis(args.checkpoint_interval_ms.max(1)),
        epoch_duration_ms: args.epoch_duration_ms,
        lowest_available_checkpoint: args.lowest_available_checkpoint,
        validators: args.validators,
        nitro_root: nitro_root.clone(),
    })
    .with_context(|| format!("opening the chain in {}", args.data_dir.display()))?;
    let grpc = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding gRPC on {}", args.listen))?;
    let faucet_listener = TcpListener::bind(args.faucet_listen)
        .await
        .with_context(|| format!("binding the faucet on {}", args.faucet_listen))?;
    let info = node.read(|c| {
        serde_json::json!({
            "chain_id": c.chain_id().to_string(),
            "package": PACKAGE_ID.to_string(),
            "pool": c.world.ids.pool.to_string(),
            "node_registry": c.world.ids.node_registry.to_string(),
            "enclave_registry": c.world.ids.enclave_registry.to_string(),
            "admin_cap": c.world.ids.admin_cap.to_string(),
            "default_cluster": c.default_cluster.map(|a| a.to_string()),
            "default_cluster_initial_version": c.default_cluster
                .and_then(|a| c.world.objects.get(&a))
                .and_then(|o| o.initial_shared_version()),
            "admin": c.genesis.admin.to_string(),
            "admin_key_file": args.data_dir.join("admin.key"),
            "validators": c.validators().len(),
            "genesis_committee_file": args.data_dir.join(GENESIS_COMMITTEE_FILE),
            "faucet": c.genesis.faucet.to_string(),
            "grpc_url": format!("http://{}", args.listen),
            "faucet_url": format!("http://{}", args.faucet_listen),
            "nitro_root": nitro_root::describe(&nitro_root),
        })
    });
    let info_path = args.data_dir.join("devnet.json");
    std::fs::write(&info_path, serde_json::to_string_pretty(&info)?)
        .with_context(|| format!("writing {}", info_path.display()))?;
    tracing::info!(
        package = %PACKAGE_ID,
        default_cluster = %info["default_cluster"],
        admin = %info["admin"],
        grpc = %args.listen,
        faucet = %args.faucet_listen,
        info = %info_path.display(),
        nitro_root = %info["nitro_root"],
        "dev chain up"
    );

    let metrics_listener = TcpListener::bind(args.metrics_listen)
        .await
        .with_context(|| format!("binding metrics on {}", args.metrics_listen))?;
    let mut registry = prometheus_client::registry::Registry::default();
    node.metrics.register(&mut registry);

    let shutdown = shutdown_on_signals()?;
    let metrics_task = tokio::spawn(daas_service::serve_metrics(
        metrics_listener,
        std::sync::Arc::new(registry),
        axum::Router::new(),
        shutdown.clone(),
    ));
    let checkpoints = tokio::spawn(node.clone().run_checkpoints(shutdown.clone()));
    let faucet_task = tokio::spawn(faucet::serve(
        faucet_listener,
        node.clone(),
        shutdown.clone(),
    ));
    rpc::serve(grpc, node.clone(), shutdown.clone())
        .await
        .context("gRPC server")?;
    shutdown.cancel();
    checkpoints.await??;
    faucet_task.await??;
    metrics_task.await??;
    Ok(())
}
