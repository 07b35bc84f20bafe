//! `master`: the log topic → Kubernetes objects in etcd.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use daas_domain::Address;
use daas_master::{
    access::AccessPublisher,
    api,
    apply::Config,
    attestation::{self, AttestationService, Attester, DevAttester, DevCaStore, NsmAttester},
    encryption::SecretKey,
    kube_api::{KubeApiMetrics, args::KubeApiArgs},
    ledger_root,
    lookup::OutcomeIndex,
    metrics::Metrics,
    pipeline::{self, LogArgs},
    receipts::ReceiptSigner,
    replay,
    sealing_keys::{FileKeyStore, KeyRingHandle, KeyStore, SealingKeys},
    state::Layout,
    state_mac::StateKey,
    state_root::state_root,
    store::{self, EtcdArgs},
};
use daas_service::{metrics::track_lag, shutdown_on_signals, spawn_http};
use rdkafka::consumer::{BaseConsumer, Consumer};

mod check;

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
  # cluster id is the dev chain's default cluster, in .stack/devnet/devnet.json;
  # the sealing keys' directory is made, with version 1, on first start;
  # every record is checked against checkpoints certified from the pinned
  # genesis committee, which the dev chain writes to its data folder):
  set -a; . .stack/env; set +a
  export DAAS_MASTER_SEALING_KEY_DIR=/var/lib/daas/sealing-keys
  master run --cluster-id 0x5f3c… --encryption-key key1:$(head -c 32 /dev/urandom | base64) \
    --genesis-committee ./devnet-data/genesis-committee.json

  # A throwaway development master that stores Secrets unencrypted and applies
  # a log without proofs (both warned):
  master run --cluster-id 0x5f3c… --insecure-plaintext-secrets --sealing-key-dir ./keys \
    --insecure-no-verify

  # The sealing key tenants' Secrets are sealed to, and its registration on
  # chain by the cluster's admin:
  master sealing-key show --sealing-key-dir /var/lib/daas/sealing-keys
  daas admin register-sealing-key --public-key $(master sealing-key show --public-key-only)

  # A new sealing key version (older versions stay, to open older Secrets);
  # then register it as above:
  master sealing-key rotate

  # Replay the whole log into a fresh prefix and print its state root (with
  # the same sealing keys: old sealed Secrets are opened again):
  master replay --cluster-id 0x5f3c… --prefix /replay-1/registry --state-prefix /replay-1/daas

  # The state root of the live state, to compare with a replay:
  master state-root --encryption-key \"$DAAS_MASTER_ENCRYPTION_KEY\"

  # Check etcd, and that the master's state there is authentic (its tags
  # and commitment, under the state key in the key directory):
  master check --etcd https://etcd-0:2379,https://etcd-1:2379 --sealing-key-dir /var/lib/daas/sealing-keys

  # The pinned committee, the epoch the verifier reached, the last verified
  # checkpoint, the streams' next numbers and the resume offset:
  master check --genesis-committee /etc/daas/genesis-committee.json

  # What the running master waits for: its epoch, last verified checkpoint,
  # and the missing record when a gap holds the log back:
  master check --api http://127.0.0.1:9187

  # Outside a Nitro enclave (DEV attestation, loudly marked), registering
  # itself on chain once its API is up:
  master dev-ca init --dir /var/lib/daas/sealing-keys/dev-nitro-ca
  master run --cluster-id 0x5f3c… --attestation dev --register-config ~/.config/daas/config.toml

  # Its attestation document, with a nonce, and the ledger root receipts carry:
  curl \"http://127.0.0.1:9187/v1/attestation?nonce=$(head -c 32 /dev/urandom | xxd -p -c 64)\"
  master state-root --ledger";

const STATE_ROOT_EXAMPLES: &str = "\
Examples:
  # The state root of the live state (Secrets counted by their plaintext):
  master state-root --encryption-key \"$DAAS_MASTER_ENCRYPTION_KEY\"

  # The ledger root, to compare with the last receipt's (`daas status ID
  # --verify` prints root@offset) once the master has caught up:
  master state-root --ledger --state-prefix /daas

  # The same for a replay's prefix:
  master state-root --ledger --state-prefix /replay-1/daas";

const SEALING_KEY_EXAMPLES: &str = "\
Examples:
  # The current version and public key (version 1 is made when there is none):
  master sealing-key show --sealing-key-dir /var/lib/daas/sealing-keys

  # Register it on chain (the cluster's admin):
  export DAAS_MASTER_SEALING_KEY_DIR=/var/lib/daas/sealing-keys
  daas admin register-sealing-key --public-key $(master sealing-key show --public-key-only)

  # A new version; a running master picks it up when the chain registers it:
  master sealing-key rotate --json";

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

/// How Secrets are stored: one struct for `run`, `replay` and `state-root`,
/// so all three read the key the same way.
#[derive(Args, Clone, Debug)]
struct SecretsArgs {
    /// Key for Secrets at rest, `NAME:BASE64(32 bytes)` as in kube's
    /// EncryptionConfiguration (aesgcm); generate one with
    /// `echo key1:$(head -c 32 /dev/urandom | base64)`. Required unless
    /// --insecure-plaintext-secrets; an empty value is an error.
    #[arg(
        long,
        env = "DAAS_MASTER_ENCRYPTION_KEY",
        hide_env_values = true,
        value_parser = parse_secret_key,
        required_unless_present = "insecure_plaintext_secrets"
    )]
    encryption_key: Option<SecretKey>,
    /// Store Secrets as plain JSON, without a key (development only; logged
    /// as a warning and exported as `master_insecure_plaintext_secrets 1`).
    #[arg(long, conflicts_with = "encryption_key")]
    insecure_plaintext_secrets: bool,
}

impl SecretsArgs {
    /// The key, or `None` when plaintext was explicitly asked for (warned here).
    fn key(&self, metrics: Option<&Metrics>) -> Option<SecretKey> {
        if self.insecure_plaintext_secrets {
            tracing::warn!(
                "--insecure-plaintext-secrets: Secrets are stored in etcd WITHOUT encryption \
                 (development only)"
            );
            if let Some(m) = metrics {
                m.insecure_plaintext_secrets.set(1);
            }
        }
        self.encryption_key.clone()
    }
}

/// `--encryption-key`'s parser: an empty value is an error, never "no key".
fn parse_secret_key(value: &str) -> Result<SecretKey, String> {
    if value.trim().is_empty() {
        return Err(
            "empty; pass NAME:BASE64(32 bytes), or --insecure-plaintext-secrets \
                    for development"
                .into(),
        );
    }
    SecretKey::parse(value).map_err(|e| e.to_string())
}

/// Where the sealing keys live: one struct for `run`, `replay` and
/// `sealing-key`.
#[derive(Args, Clone, Debug)]
struct SealingArgs {
    /// Directory of the private keys that open tenants' sealed Secrets, one
    /// file per version (`sealing-key-v<N>`, mode 0600; the directory 0700,
    /// created when missing). Version 1 is generated when it holds none.
    /// Keep it with etcd's backups: a replay opens every Secret ever sealed,
    /// so it needs every version ever registered. It also holds `state-key`
    /// (made on first start), which authenticates the master's own keys in
    /// etcd; without it the master rebuilds its state from the log.
    #[arg(long, env = "DAAS_MASTER_SEALING_KEY_DIR")]
    sealing_key_dir: PathBuf,
}

impl SealingArgs {
    fn store(&self) -> FileKeyStore {
        FileKeyStore::new(&self.sealing_key_dir)
    }

    /// The key that authenticates the master's state in etcd: `state-key`
    /// in the same directory, made on first start (decision 0017).
    fn state_key(&self) -> anyhow::Result<StateKey> {
        StateKey::load_or_make(&self.store())
            .with_context(|| format!("state key in {}", self.sealing_key_dir.display()))
    }

    /// The store's keys, version 1 made first when it holds none.
    fn keys(&self, metrics: Option<&Metrics>) -> anyhow::Result<Arc<KeyRingHandle>> {
        let store = self.store();
        let dir = self.sealing_key_dir.display();
        if store
            .create_first()
            .with_context(|| format!("sealing keys in {dir}"))?
        {
            tracing::info!(dir = %dir, "created sealing key version 1");
        }
        let keys = KeyRingHandle::load(Arc::new(store))
            .with_context(|| format!("sealing keys in {dir}"))?;
        let held = keys.snapshot();
        if let Some((version, public_key)) = held.current() {
            tracing::info!(
                dir = %dir,
                versions = ?held.versions(),
                current = version,
                public_key = %hex::encode(public_key.0),
                "sealing keys loaded"
            );
        }
        if let Some(m) = metrics {
            m.sealing_keys_held.set(held.versions().len() as i64);
        }
        Ok(Arc::new(keys))
    }
}

#[derive(Args, Clone, Debug)]
struct ClusterArgs {
    /// The cluster this master serves (0x… object id); requests for others are not applied.
    #[arg(long, env = "DAAS_CLUSTER_ID")]
    cluster_id: Address,
    #[command(flatten)]
    secrets: SecretsArgs,
    #[command(flatten)]
    sealing: SealingArgs,
    /// Log records whose outcome batches stay in etcd once the outcome topic
    /// holds them: a restarted master's status API answers these; older
    /// batches are deleted (reopening reads at most this many records' worth).
    #[arg(long, env = "DAAS_MASTER_OUTCOMES_KEPT", default_value_t = 10_000)]
    outcomes_kept: i64,
}

impl ClusterArgs {
    fn config(&self, layout: Layout, metrics: Option<&Metrics>) -> anyhow::Result<Config> {
        Ok(Config {
            layout,
            cluster: self.cluster_id,
            secret_key: self.secrets.key(metrics),
            sealing: self.sealing.keys(metrics)?,
            outcomes_kept: self.outcomes_kept.max(0),
            state_key: self.sealing.state_key()?,
            access: None,
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
        #[command(flatten)]
        attestation: AttestArgs,
        #[command(flatten)]
        kube_api: Box<KubeApiArgs>,
        /// Register this master on chain once its API is up (retried for
        /// 60 s; a failure is logged, the master keeps running): the `daas`
        /// configuration file whose key pays (see `master register`).
        #[arg(long, env = "DAAS_MASTER_REGISTER_CONFIG")]
        register_config: Option<PathBuf>,
        /// With --register-config: the paying key's alias in that
        /// configuration's keystore (default: its `key`).
        #[arg(long, env = "DAAS_MASTER_REGISTER_KEY", requires = "register_config")]
        register_key: Option<String>,
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
    /// Print the state root of the state under the prefixes (it counts
    /// Secrets by their plaintext, so it needs their key); with --ledger,
    /// the ledger root instead (decision 0021: what receipts carry; no key
    /// needed).
    #[command(after_help = STATE_ROOT_EXAMPLES)]
    StateRoot {
        #[command(flatten)]
        state: StateArgs,
        /// Print the ledger root (the hash of `<state>/ledger/` and
        /// `<state>/evictions/` that every receipt carries) instead of the
        /// state root.
        #[arg(long)]
        ledger: bool,
        #[command(flatten)]
        secrets: SecretsArgs,
    },
    /// Connect to etcd, print its version, revision and key count under the
    /// prefix; with --sealing-key-dir, also check the master's state in etcd
    /// against its state key (exits non-zero when it is not authentic).
    Check(check::CheckArgs),
    /// Fetch the running master's attestation document (with a random
    /// nonce), check it, and register the enclave on chain (paid by a
    /// `daas` configuration's key); prints the `EnclaveRegistered` event.
    #[command(after_help = REGISTER_EXAMPLES)]
    Register {
        /// The master's status API.
        #[arg(long, env = "DAAS_MASTER_URL", default_value = "http://127.0.0.1:9187")]
        api: String,
        /// The `daas` configuration file (node URL, package, cluster, key).
        #[arg(long, env = "DAAS_CONFIG")]
        config: PathBuf,
        /// The paying key's alias in that configuration's keystore
        /// (default: the configuration's `key`).
        #[arg(long)]
        key: Option<String>,
        /// The root the document must chain to: `aws` (the AWS Nitro root,
        /// pinned) or `dev:PATH` (a dev CA's root.der).
        #[arg(long, default_value = "aws")]
        root: String,
    },
    /// The local dev CA that signs attestation documents in dev mode
    /// (outside a Nitro enclave): make it, or show its root's SHA-256.
    #[command(name = "dev-ca", after_help = DEV_CA_EXAMPLES)]
    DevCa {
        #[command(subcommand)]
        command: DevCaCommand,
    },
    /// Show or rotate the sealing key: the X25519 key tenants' Secrets are
    /// sealed to (its public half registered on chain by the cluster admin).
    #[command(after_help = SEALING_KEY_EXAMPLES)]
    SealingKey {
        #[command(subcommand)]
        command: SealingKeyCommand,
    },
}

#[derive(Subcommand, Debug)]
enum DevCaCommand {
    /// Make the dev CA in DIR when it holds none (idempotent) and print its
    /// root certificate's SHA-256 (hex).
    Init {
        /// The CA's directory (made 0700; files root.der, root.key,
        /// intermediate.der, intermediate.key, 0600).
        #[arg(long)]
        dir: PathBuf,
    },
    /// Print the root certificate's SHA-256 of the dev CA in DIR (it must
    /// exist), and optionally write the root certificate (DER) to a file
    /// (what `devnet --nitro-root dev:FILE` and `--root dev:FILE` take).
    Show {
        /// The CA's directory.
        #[arg(long)]
        dir: PathBuf,
        /// Also write the root certificate (DER) here.
        #[arg(long)]
        root_der: Option<PathBuf>,
    },
}

const REGISTER_EXAMPLES: &str = "\
Examples:
  # Inside AWS (document chained to the pinned AWS Nitro root), paid by the
  # operator key of a daas configuration:
  master register --api http://127.0.0.1:9187 --config ~/.config/daas/config.toml --key operator

  # On the local stack (dev attestation, the dev CA's root):
  master register --api http://127.0.0.1:9187 --config .stack/daas/config.toml \
    --root dev:.stack/master/dev-nitro-ca/root.der

  # Or let `master run` register itself once its API is up:
  master run … --attestation dev --register-config .stack/daas/config.toml --register-key admin";

const DEV_CA_EXAMPLES: &str = "\
Examples:
  # Make the dev CA once (prints the root's SHA-256), then start the dev chain
  # pinned to it and the master attesting with it:
  master dev-ca init --dir .stack/master/dev-nitro-ca
  devnet --nitro-root dev:.stack/master/dev-nitro-ca/root.der
  master run --attestation dev --dev-ca-dir .stack/master/dev-nitro-ca …

  # The fingerprint again, and a copy of the root certificate:
  master dev-ca show --dir .stack/master/dev-nitro-ca --root-der /tmp/dev-root.der";

/// How the master attests (decision 0020).
#[derive(Args, Clone, Debug)]
struct AttestArgs {
    /// Who signs attestation documents: `nsm` (the Nitro Secure Module,
    /// /dev/nsm, inside an enclave), `dev` (a local test CA: loudly
    /// marked, refused by `daas` and `worker` unless
    /// --allow-dev-attestation), or `auto` (nsm when /dev/nsm exists,
    /// else dev).
    #[arg(
        long,
        env = "DAAS_MASTER_ATTESTATION",
        value_enum,
        default_value = "auto"
    )]
    attestation: AttestMode,
    /// The dev CA's directory (made on first use, 0700, keys 0600); default
    /// `<sealing-key-dir>/dev-nitro-ca`.
    #[arg(long, env = "DAAS_MASTER_DEV_CA_DIR")]
    dev_ca_dir: Option<PathBuf>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum AttestMode {
    Auto,
    Nsm,
    Dev,
}

impl AttestArgs {
    /// The attester asked for; dev mode is announced with a banner and
    /// `master_attestation_dev_mode 1`.
    fn attester(
        &self,
        sealing_dir: &std::path::Path,
        metrics: &Metrics,
    ) -> anyhow::Result<Box<dyn Attester>> {
        let nsm = match self.attestation {
            AttestMode::Nsm => true,
            AttestMode::Dev => false,
            AttestMode::Auto => std::path::Path::new(NsmAttester::DEVICE).exists(),
        };
        if nsm {
            tracing::info!("attestation: Nitro Secure Module ({})", NsmAttester::DEVICE);
            return Ok(Box::new(NsmAttester::open()?));
        }
        let dir = self.ca_dir(sealing_dir);
        let (ca, made) = DevCaStore::new(&dir)
            .load_or_make()
            .with_context(|| format!("dev CA in {}", dir.display()))?;
        let fp = attestation::fingerprint(&ca);
        tracing::warn!(
            "DEV ATTESTATION: this master is NOT in a Nitro enclave; its documents are signed by a local test CA"
        );
        tracing::warn!(dev_ca_sha256 = %fp, dir = %dir.display(), made, "DEV ATTESTATION: dev CA root SHA-256 {fp}");
        tracing::warn!(
            "DEV ATTESTATION: receipts and documents prove nothing about the code running; `daas` and `worker` refuse them without --allow-dev-attestation"
        );
        metrics.attestation_dev_mode.set(1);
        Ok(Box::new(DevAttester(ca)))
    }
}

impl AttestArgs {
    /// The dev CA's directory: --dev-ca-dir, or `<sealing dir>/dev-nitro-ca`.
    fn ca_dir(&self, sealing_dir: &std::path::Path) -> PathBuf {
        self.dev_ca_dir
            .clone()
            .unwrap_or_else(|| sealing_dir.join("dev-nitro-ca"))
    }

    /// The root this master's own documents chain to: the dev CA's in dev
    /// mode, else AWS's.
    fn root(
        &self,
        sealing_dir: &std::path::Path,
        dev: bool,
    ) -> anyhow::Result<daas_attestation::TrustedRoot> {
        if !dev {
            return Ok(daas_attestation::TrustedRoot::aws_nitro());
        }
        let dir = self.ca_dir(sealing_dir);
        let ca = DevCaStore::new(&dir)
            .load()?
            .with_context(|| format!("no dev CA in {}", dir.display()))?;
        Ok(ca.root())
    }
}

/// Serves the Kubernetes API when `--kube-api-listen` is given.
async fn spawn_kube_api(
    args: &KubeApiArgs,
    cfg: &daas_master::apply::Config,
    etcd: etcd_client::Client,
    access: daas_master::access::AccessReader,
    sealing_dir: PathBuf,
    metrics: KubeApiMetrics,
    shutdown: tokio_util::sync::CancellationToken,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(listen) = args.kube_api_listen else {
        return Ok(None);
    };
    let api = args.api(
        etcd,
        &cfg.layout.registry,
        cfg.cluster,
        access,
        cfg.secret_key.clone(),
        metrics,
    );
    let tls_dir = args.tls_dir(&sealing_dir);
    if args.kube_api_insecure_http {
        tracing::warn!(
            "the Kubernetes API is served over plain HTTP (--kube-api-insecure-http): tokens travel in clear"
        );
    }
    let tls = (!args.kube_api_insecure_http).then_some(tls_dir.as_path());
    let router = daas_master::kube_api::router(api);
    let (bound, task) =
        daas_master::kube_api::serve::spawn(listen, tls, &args.kube_api_sans, router, shutdown)
            .await
            .with_context(|| format!("--kube-api-listen {listen}"))?;
    let ca = daas_master::kube_api::serve::ca_path(&tls_dir);
    tracing::info!(%bound, tls = tls.is_some(), ca = %ca.display(), "Kubernetes API served");
    Ok(Some(task))
}

/// An address to reach `listen` at from this host (0.0.0.0 → 127.0.0.1).
fn local_addr(listen: SocketAddr) -> SocketAddr {
    if listen.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], listen.port()))
    } else {
        listen
    }
}

/// `master dev-ca init|show`.
fn dev_ca(command: DevCaCommand) -> anyhow::Result<()> {
    match command {
        DevCaCommand::Init { dir } => {
            let (ca, made) = DevCaStore::new(&dir)
                .load_or_make()
                .with_context(|| format!("dev CA in {}", dir.display()))?;
            if made {
                tracing::info!(dir = %dir.display(), "made the dev CA");
            }
            println!("{}", attestation::fingerprint(&ca));
        }
        DevCaCommand::Show { dir, root_der } => {
            let ca = DevCaStore::new(&dir)
                .load()
                .with_context(|| format!("dev CA in {}", dir.display()))?
                .with_context(|| {
                    format!(
                        "no dev CA in {}: `master dev-ca init --dir {0}` makes one",
                        dir.display()
                    )
                })?;
            if let Some(path) = root_der {
                std::fs::write(&path, &ca.parts().root_der)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            println!("{}", attestation::fingerprint(&ca));
        }
    }
    Ok(())
}

#[derive(Subcommand, Debug)]
enum SealingKeyCommand {
    /// Print the current version and its public key (hex), making version 1
    /// when the directory holds none.
    Show {
        #[command(flatten)]
        sealing: SealingArgs,
        #[command(flatten)]
        output: KeyOutput,
    },
    /// Make the next version and print it. Older versions stay (Secrets
    /// sealed to them still open); register the new public key on chain.
    Rotate {
        #[command(flatten)]
        sealing: SealingArgs,
        #[command(flatten)]
        output: KeyOutput,
    },
}

/// How `sealing-key` prints the key.
#[derive(Args, Debug)]
struct KeyOutput {
    /// Print only the public key's hex (for `daas admin register-sealing-key`).
    #[arg(long, conflicts_with = "json")]
    public_key_only: bool,
    /// Print `{"version":N,"public_key":"<hex>","versions":[…]}`.
    #[arg(long)]
    json: bool,
}

impl KeyOutput {
    /// The current version and public key of `keys`, as asked.
    fn render(&self, keys: &SealingKeys) -> anyhow::Result<String> {
        let (version, public_key) = keys
            .current()
            .ok_or_else(|| anyhow::anyhow!("no sealing key held"))?;
        let hex_key = hex::encode(public_key.0);
        let versions = keys.versions();
        Ok(if self.public_key_only {
            hex_key
        } else if self.json {
            serde_json::json!({"version": version, "public_key": hex_key, "versions": versions})
                .to_string()
        } else {
            let held: Vec<String> = versions.iter().map(u32::to_string).collect();
            format!(
                "sealing key version {version}\npublic key {hex_key}\nversions held: {}\n\
                 register it on chain (cluster admin): daas admin register-sealing-key --public-key {hex_key}",
                held.join(", ")
            )
        })
    }
}

/// `master sealing-key show|rotate`.
fn sealing_key(command: SealingKeyCommand) -> anyhow::Result<()> {
    let (sealing, output, rotate) = match command {
        SealingKeyCommand::Show { sealing, output } => (sealing, output, false),
        SealingKeyCommand::Rotate { sealing, output } => (sealing, output, true),
    };
    let store = sealing.store();
    let dir = sealing.sealing_key_dir.display();
    if rotate {
        let version = store
            .rotate()
            .with_context(|| format!("rotating the sealing key in {dir}"))?;
        tracing::info!(dir = %dir, version, "created sealing key version {version}");
    } else {
        store
            .create_first()
            .with_context(|| format!("sealing keys in {dir}"))?;
    }
    let keys = store
        .load()
        .with_context(|| format!("sealing keys in {dir}"))?;
    println!("{}", output.render(&keys)?);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `state-root --ledger` needs no Secrets key.
    let command = Cli::command().mut_subcommand("state-root", |c| {
        c.mut_arg("encryption_key", |a| {
            a.required_unless_present_any(["insecure_plaintext_secrets", "ledger"])
        })
    });
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    cli.log.init();
    match cli.command {
        Command::Run {
            state,
            cluster,
            log,
            metrics_listen,
            attestation,
            kube_api,
            register_config,
            register_key,
        } => {
            let metrics = Metrics::default();
            let mut cfg = cluster.config(state.layout(), Some(&metrics))?;
            let (access, access_reader) = AccessPublisher::new();
            cfg.access = Some(access);
            let attester = attestation.attester(&cluster.sealing.sealing_key_dir, &metrics)?;
            let dev = attester.is_dev();
            let register_root = attestation.root(&cluster.sealing.sealing_key_dir, dev)?;
            // Made once per process, never stored (decision 0021).
            let key = daas_attestation::EnclaveKey::generate();
            let service = Arc::new(AttestationService::new(
                attester,
                key.public_key(),
                cfg.cluster,
                Arc::new(cluster.sealing.store()),
            ));
            tracing::info!(
                enclave_public_key = %hex::encode(key.public_key()),
                dev,
                "enclave key made; outcomes are signed with it"
            );
            let signer = Arc::new(ReceiptSigner::new(
                key,
                dev,
                metrics.receipts_signed.clone(),
            ));
            let shutdown = shutdown_on_signals()?;
            let mut registry = prometheus_client::registry::Registry::default();
            metrics.register(&mut registry);
            let kube_api_metrics = KubeApiMetrics::default();
            kube_api_metrics.register(&mut registry);
            let health = metrics.health.clone();
            health.register(&mut registry);
            let index = Arc::new(OutcomeIndex::new(OUTCOMES_KEPT));
            let mut routes = api::routes(index.clone(), metrics.verify.status.clone())
                .merge(health.router())
                .merge(api::attestation_routes(service, metrics.clone()));
            if dev {
                routes = api::dev_header(routes);
            }
            let metrics_task =
                spawn_http(metrics_listen, registry, routes, shutdown.clone()).await?;
            let lag_task = tokio::spawn(track_lag(
                log_end(&log)?,
                metrics.next_offset.clone(),
                metrics.lag.clone(),
                health.clone(),
                shutdown.clone(),
            ));
            if let Some(config) = register_config {
                let r = daas_master::register::Registration {
                    api: format!("http://{}", local_addr(metrics_listen)),
                    config,
                    key: register_key,
                    root: register_root,
                };
                tokio::spawn(async move {
                    match daas_master::register::register_within(&r, Duration::from_secs(60)).await
                    {
                        Ok(e) => println!("{}", daas_master::register::render(&e)),
                        Err(e) => tracing::error!(
                            error = format!("{e:#}"),
                            "could not register this master on chain"
                        ),
                    }
                });
            }
            let client = store::connect(&state.etcd).await.context("master run")?;
            let kube_api_task = spawn_kube_api(
                &kube_api,
                &cfg,
                client.clone(),
                access_reader,
                cluster.sealing.sealing_key_dir.clone(),
                kube_api_metrics,
                shutdown.clone(),
            )
            .await?;
            let result = pipeline::run(
                client,
                cfg,
                &log,
                &metrics,
                index,
                Some(signer),
                shutdown.clone(),
            )
            .await;
            shutdown.cancel();
            let _ = tokio::join!(metrics_task, lag_task);
            if let Some(task) = kube_api_task {
                let _ = task.await;
            }
            result.context("master run")?;
        }
        Command::Replay {
            state,
            cluster,
            log,
        } => {
            let cfg = cluster.config(state.layout(), None)?;
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
            ledger,
            secrets,
        } => {
            let mut client = store::connect(&state.etcd)
                .await
                .context("master state-root")?;
            if ledger {
                let (root, keys) = ledger_root::scan(&mut client, &state.layout())
                    .await
                    .context("master state-root --ledger")?;
                println!(
                    "{}  ({keys} ledger and eviction keys under {})",
                    hex::encode(root),
                    state.state_prefix
                );
                return Ok(());
            }
            let key = secrets.key(None);
            let (root, entries) = state_root(&mut client, &state.layout(), key.as_ref())
                .await
                .context("master state-root")?;
            println!(
                "{root}  ({entries} entries under {} and {})",
                state.etcd.prefix, state.state_prefix
            );
        }
        Command::Check(args) => check::run(&args).await.context("master check")?,
        Command::SealingKey { command } => sealing_key(command)?,
        Command::DevCa { command } => dev_ca(command)?,
        Command::Register {
            api,
            config,
            key,
            root,
        } => {
            let r = daas_master::register::Registration {
                api,
                config,
                key,
                root: daas_master::register::parse_root(&root)?,
            };
            let e = daas_master::register::register(&r)
                .await
                .context("master register")?;
            println!("{}", daas_master::register::render(&e));
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
