//! `master`: the log topic → Kubernetes objects in etcd.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use daas_domain::Address;
use daas_master::{
    api,
    apply::Config,
    encryption::SecretKey,
    lookup::OutcomeIndex,
    metrics::Metrics,
    pipeline::{self, LogArgs},
    replay,
    state::Layout,
    state_root::state_root,
    store::{self, EtcdArgs},
};
use daas_service::{Health, metrics::track_lag, shutdown_on_signals, spawn_http};
use rdkafka::consumer::{BaseConsumer, Consumer};

/// The k3s-daas control plane: applies tenants' requests from the ordered log
/// to Kubernetes objects in etcd, authorised by a ledger derived from the same log.
#[derive(Parser, Debug)]
#[command(version, after_help = EXAMPLES)]
struct Cli {
    #[command(flatten)]
    log: daas_service::LogArgs,
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  # Apply the local stack's log to its etcd (settings from the env file; the
  # cluster id is the dev chain's default cluster, in .stack/devnet/devnet.json):
  set -a; . .stack/env; set +a
  master run --cluster-id 0x5f3c…

  # Replay the whole log into a fresh prefix and print its state root:
  master replay --cluster-id 0x5f3c… --prefix /replay-1/registry --state-prefix /replay-1/daas

  # The state root of the live state, to compare with a replay:
  master state-root

  # Check etcd:
  master check --etcd https://etcd-0:2379,https://etcd-1:2379";

/// Outcomes the status API remembers (older ones: the projection's `requests`).
const OUTCOMES_KEPT: usize = 1_000_000;

/// Where and what the master applies.
#[derive(Args, Clone, Debug)]
struct StateArgs {
    #[command(flatten)]
    etcd: EtcdArgs,
    /// Root of the master's own keys (position, ledger, outcomes, evictions).
    #[arg(long, env = "DAAS_ETCD_STATE_PREFIX", default_value = "/daas")]
    state_prefix: String,
}

impl StateArgs {
    fn layout(&self) -> Layout {
        Layout::new(&self.etcd.prefix, &self.state_prefix)
    }
}

#[derive(Args, Clone, Debug)]
struct ClusterArgs {
    /// The cluster this master serves (0x… object id); requests for others are not applied.
    #[arg(long, env = "DAAS_CLUSTER_ID")]
    cluster_id: Address,
    /// Key for Secrets at rest, `NAME:BASE64(32 bytes)` as in kube's
    /// EncryptionConfiguration (aesgcm). Without it Secrets are stored as plain JSON.
    #[arg(long, env = "DAAS_MASTER_ENCRYPTION_KEY", hide_env_values = true)]
    encryption_key: Option<String>,
}

impl ClusterArgs {
    fn config(&self, layout: Layout) -> anyhow::Result<Config> {
        Ok(Config {
            layout,
            cluster: self.cluster_id,
            secret_key: self
                .encryption_key
                .as_deref()
                .filter(|k| !k.is_empty())
                .map(SecretKey::parse)
                .transpose()
                .context("--encryption-key")?,
        })
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Apply the log from the position stored in etcd; publish outcomes.
    Run {
        #[command(flatten)]
        state: StateArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        #[command(flatten)]
        log: LogArgs,
        /// Listen address of `GET /metrics` (Prometheus) and the status API
        /// (`GET /v1/requests/{id}`, `GET /v1/transactions/{digest}`), which
        /// `daas apply` waits on (its `master_url`).
        #[arg(
            long,
            env = "DAAS_MASTER_METRICS_LISTEN",
            default_value = "127.0.0.1:9187"
        )]
        metrics_listen: SocketAddr,
    },
    /// Replay the log from offset 0 into a fresh etcd or prefix; print the state root.
    Replay {
        #[command(flatten)]
        state: StateArgs,
        #[command(flatten)]
        cluster: ClusterArgs,
        #[command(flatten)]
        log: LogArgs,
    },
    /// Print the state root of the state under the prefixes.
    StateRoot {
        #[command(flatten)]
        state: StateArgs,
        /// The Secrets' key (`NAME:BASE64`): the root counts Secrets by their plaintext.
        #[arg(long, env = "DAAS_MASTER_ENCRYPTION_KEY", hide_env_values = true)]
        encryption_key: Option<String>,
    },
    /// Connect to etcd, print its version, revision and key count under the prefix.
    Check(EtcdArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    cli.log.init();
    match cli.command {
        Command::Run {
            state,
            cluster,
            log,
            metrics_listen,
        } => {
            let cfg = cluster.config(state.layout())?;
            let shutdown = shutdown_on_signals()?;
            let metrics = Metrics::default();
            let mut registry = prometheus_client::registry::Registry::default();
            metrics.register(&mut registry);
            let health = Health::new();
            health.register(&mut registry);
            let index = Arc::new(OutcomeIndex::new(OUTCOMES_KEPT));
            let metrics_task = spawn_http(
                metrics_listen,
                registry,
                api::routes(index.clone()).merge(health.router()),
                shutdown.clone(),
            )
            .await?;
            let lag_task = tokio::spawn(track_lag(
                log_end(&log)?,
                metrics.next_offset.clone(),
                metrics.lag.clone(),
                health.clone(),
                shutdown.clone(),
            ));
            let client = store::connect(&state.etcd).await.context("master run")?;
            let result = pipeline::run(client, cfg, &log, &metrics, index, shutdown.clone()).await;
            shutdown.cancel();
            let _ = tokio::join!(metrics_task, lag_task);
            result.context("master run")?;
        }
        Command::Replay {
            state,
            cluster,
            log,
        } => {
            let cfg = cluster.config(state.layout())?;
            let shutdown = shutdown_on_signals()?;
            let end = {
                let end = log_end(&log)?;
                tokio::task::spawn_blocking(end)
                    .await?
                    .context("reading the log's end")?
            };
            let client = store::connect(&state.etcd).await.context("master replay")?;
            let report = replay::replay(client, cfg, &log, end, &shutdown)
                .await
                .context("master replay")?;
            anyhow::ensure!(
                report.complete,
                "master replay: interrupted after {} of {end} records",
                report.records
            );
            println!(
                "master: replayed {} records into {} and {}; state root {} ({} entries)",
                report.records, state.etcd.prefix, state.state_prefix, report.root, report.entries
            );
        }
        Command::StateRoot {
            state,
            encryption_key,
        } => {
            let key = encryption_key
                .as_deref()
                .map(SecretKey::parse)
                .transpose()
                .context("--encryption-key")?;
            let mut client = store::connect(&state.etcd)
                .await
                .context("master state-root")?;
            let (root, entries) = state_root(&mut client, &state.layout(), key.as_ref())
                .await
                .context("master state-root")?;
            println!(
                "{root}  ({entries} entries under {} and {})",
                state.etcd.prefix, state.state_prefix
            );
        }
        Command::Check(etcd) => {
            let report = store::check(&etcd).await.context("master check")?;
            println!("master: {report}");
        }
    }
    Ok(())
}

/// Reads the log topic's high watermark, through one client made here.
fn log_end(log: &LogArgs) -> anyhow::Result<impl Fn() -> Option<i64> + Send + Sync + 'static> {
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .create()
        .context("kafka client")?;
    let topic = log.topic.clone();
    Ok(move || {
        c.fetch_watermarks(&topic, 0, Duration::from_secs(10))
            .ok()
            .map(|w| w.1)
    })
}
