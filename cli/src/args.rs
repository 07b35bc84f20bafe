//! The `daas` command line's definition (clap): commands, arguments and their
//! `--help` examples. `main.rs` dispatches them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use clap_complete::Shell;
use daas_service::LogArgs;
use sui_sdk_types::Address;

use crate::{
    config::ConfigArgs,
    seal::Output,
    stake::{RoleArg, parse_sui},
    stats, write,
};

/// The k3s-daas command line: submit kubectl intents as Sui transactions,
/// manage keys and stake, query the analysts' views.
#[derive(Parser, Debug)]
#[command(name = "daas", version, after_help = EXAMPLES)]
pub struct Cli {
    /// Logging.
    #[command(flatten)]
    pub log: LogArgs,
    /// Configuration file and overrides.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Accept a master whose attestation is a DEV one (made by a local test
    /// CA, not an AWS Nitro enclave; decided from the chain's record): its
    /// receipts, and a sealing key no Nitro enclave attested. Prints a
    /// warning each time.
    #[arg(
        long,
        global = true,
        env = "DAAS_ALLOW_DEV_ATTESTATION",
        value_parser = clap::builder::BoolishValueParser::new(),
        action = clap::ArgAction::SetTrue
    )]
    pub allow_dev_attestation: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "\
Examples (after `scripts/demo`, whose run leaves alice owning namespace team-a):
  export PATH=$PWD/target/debug:$PATH; set -a; . .stack/demo/env; set +a
  daas keys new carol && daas faucet --key carol
  daas stake user --amount 5 --key carol
  daas apply -f examples/web.yaml --key alice
  daas status 1
  daas stats top-stakers";

const TOKEN_EXAMPLES: &str = "Examples:
  # What kubectl runs (written by `daas kubeconfig`); prints an ExecCredential:
  daas token --key alice
  # A token for a real API server that asks the master's TokenReview webhook:
  daas token --key alice --audience daas-k3s";

const KUBECONFIG_EXAMPLES: &str = "Examples:
  # The local stack's master, alice's key, namespace team-a; then kubectl works:
  daas kubeconfig --key alice -n team-a
  kubectl get configmaps
  # Another server and CA, into a separate file:
  daas kubeconfig --key alice --server https://master.example:6443 --ca-file ca.pem --kubeconfig ./alice.kubeconfig";

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
  daas replace -f examples/web.yaml --key alice
  # A Secret is sealed to the cluster's key (read from the chain) before it is sent:
  daas apply -f db-secret.yaml --key alice
  daas apply -f db-secret.sealed.yaml --key alice      # sealed already (`daas seal`): sent as it is";

const SEAL_EXAMPLES: &str = "\
Examples (the cluster's current key is read from the chain; the cluster from the configuration):
  daas seal -f db-secret.yaml > db-secret.sealed.yaml     # review it, commit it
  daas apply -f db-secret.sealed.yaml --key alice         # sent as it is
  daas seal -f secrets/ -n team-a -o json                 # a folder; other kinds unchanged
  # Offline, like kubeseal --cert: the key and version `master sealing-key show` prints
  master sealing-key show --sealing-key-dir /var/lib/daas/sealing-keys > sealing-key.txt
  daas seal -f db-secret.yaml --public-key sealing-key.txt --key-version 1 \\
      --cluster-id $DAAS_CLUSTER_ID";

const REGISTER_KEY_EXAMPLES: &str = "\
Examples (signed by the AdminCap's owner: on the dev chain its genesis admin, devnet-admin in the demo):
  daas admin register-sealing-key --key devnet-admin --public-key \\
      $(master sealing-key show --sealing-key-dir /var/lib/daas/sealing-keys --public-key-only)
  master sealing-key show --sealing-key-dir /var/lib/daas/sealing-keys \\
      | daas admin register-sealing-key --public-key - --key devnet-admin
  # After a rotation, register the new version: daas seals to the newest one
  master sealing-key rotate --sealing-key-dir /var/lib/daas/sealing-keys > sealing-key.txt
  daas admin register-sealing-key --public-key sealing-key.txt --key devnet-admin";

const DELETE_EXAMPLES: &str = "\
Examples:
  daas delete service web -n team-a --key alice
  daas delete deployment.apps web -n team-a --key alice";

const STATUS_EXAMPLES: &str = "\
Examples:
  daas status 1                     # by request id (daas apply prints it)
  daas status <tx digest>           # every request of a transaction, by its base58 digest
  # Check the master's signed receipt against the enclave keys registered on chain
  # (exit 1 if it does not verify; the local stack's master is a DEV one):
  daas status 1 --verify --allow-dev-attestation
  # An auditor's copy of an outcome (what /v1/requests/ID served), checked without asking the master:
  curl -s $DAAS_MASTER_URL/v1/requests/1 > outcome-1.json
  daas status --verify --from-file outcome-1.json";

const ENCLAVE_EXAMPLES: &str = "\
Examples:
  daas enclave show                 # PCR set, current enclave key, sealing key, attestation time
  daas enclave show --json | jq -r .enclave.public_key";

const REGISTER_PCRS_EXAMPLES: &str = "\
Examples (signed by the AdminCap's owner: on the dev chain its genesis admin, devnet-admin in the demo):
  # The measurements nitro-cli printed when it built the master's image (not testable here):
  nitro-cli build-enclave --docker-uri k3s-daas-master:latest --output-file master.eif > master-eif.json
  daas admin register-pcrs --eif-json master-eif.json --key devnet-admin
  daas admin register-pcrs --key devnet-admin --pcr0 $PCR0 --pcr1 $PCR1 --pcr2 $PCR2
  # Dev mode (the dev CA's documents, and debug-mode enclaves, have all-zero PCRs):
  daas admin register-pcrs --debug-zeros --key devnet-admin";

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
  # A cluster admin: granted here, and bonded by its own 10 SUI admin stake.
  daas stake admin --amount 10 --key carol
  daas admin grant-admin $(daas keys list | awk '$1 == \"carol\" {print $2}') --key devnet-admin
  daas admin revoke-admin $(daas keys list | awk '$1 == \"carol\" {print $2}') --key devnet-admin
  daas admin slash $(daas keys list | awk '$1 == \"bob\" {print $2}') --role user --amount 0.1 \\
      --reason spam --key devnet-admin
  # The master's sealing key, which `daas apply` seals Secrets to:
  master sealing-key show --sealing-key-dir /var/lib/daas/sealing-keys \\
      | daas admin register-sealing-key --public-key - --key devnet-admin";

const CLUSTER_ADMIN_EXAMPLES: &str = "\
Examples (after scripts/demo; signed by the AdminCap's owner, devnet-admin in the demo):
  daas keys new carol && daas faucet --key carol --amount 20
  daas stake admin --amount 10 --key carol       # the bond: without it the grant gives nothing
  daas admin grant-admin $(daas keys list | awk '$1 == \"carol\" {print $2}') --key devnet-admin
  daas apply -f examples/intruder.yaml --key carol   # now accepted in alice's team-a
  daas admin revoke-admin $(daas keys list | awk '$1 == \"carol\" {print $2}') --key devnet-admin";

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

/// The top-level commands.
// Flattened fields carry no doc comment: clap would read it as help text; their
// types document them.
#[allow(missing_docs)]
#[derive(Subcommand, Debug)]
pub enum Command {
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
    /// Print Secrets sealed to the cluster's key, without sending them (for
    /// GitOps and review); other objects are printed unchanged.
    #[command(after_help = SEAL_EXAMPLES)]
    Seal {
        #[command(flatten)]
        files: write::FileArgs,
        /// Output format (several objects: YAML documents, or a JSON `List`).
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Yaml)]
        output: Output,
        /// Seal offline to this X25519 public key instead of the cluster's
        /// current key on chain: 64 hex digits, a file holding them
        /// (`master sealing-key show`'s output), or `-` for standard input.
        #[arg(long, value_name = "HEX|FILE|-", requires = "key_version")]
        public_key: Option<String>,
        /// The version the chain assigned to --public-key.
        #[arg(long, value_name = "N", requires = "public_key",
              value_parser = clap::value_parser!(u32).range(1..))]
        key_version: Option<u32>,
    },
    /// Print a kubectl exec credential: a short-lived token signed with
    /// your Sui key for this cluster (kubectl runs this; see `daas kubeconfig`).
    #[command(after_help = TOKEN_EXAMPLES)]
    Token {
        /// Who the token is for: the master's API (`daas-master`) or a real
        /// API server's TokenReview webhook (`daas-k3s`).
        #[arg(long, default_value = "daas-master")]
        audience: String,
        /// Lifetime in seconds (at most 3600).
        #[arg(long, default_value_t = 900)]
        lifetime_secs: u64,
        /// Sign a new token even if a cached one is still valid.
        #[arg(long)]
        no_cache: bool,
        /// Where tokens are cached [default: ~/.cache/daas/tokens].
        #[arg(long, env = "DAAS_TOKEN_CACHE")]
        cache_dir: Option<PathBuf>,
    },
    /// Write a kubectl context for this cluster and your key into
    /// $KUBECONFIG (else ~/.kube/config), keeping everything else, and
    /// make it current.
    #[command(after_help = KUBECONFIG_EXAMPLES)]
    Kubeconfig(crate::kubectl::KubeconfigArgs),
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
    /// What the master decided for a request id or a transaction digest,
    /// and (--verify) whether the enclave's receipt on it verifies.
    #[command(after_help = STATUS_EXAMPLES)]
    Status {
        /// A request id or a base58 transaction digest.
        #[arg(required_unless_present = "from_file")]
        what: Option<String>,
        /// Check each outcome's receipt: its digest, a key registered on
        /// chain for the cluster, the Ed25519 signature; exit 1 if any
        /// does not verify.
        #[arg(long)]
        verify: bool,
        /// Read the outcome (a status API answer: one object or a list)
        /// from a file instead of asking the master.
        #[arg(
            long,
            value_name = "OUTCOME.json",
            requires = "verify",
            conflicts_with = "what"
        )]
        from_file: Option<PathBuf>,
    },
    /// The enclave registry on chain.
    #[command(subcommand, after_help = ENCLAVE_EXAMPLES)]
    Enclave(EnclaveCommand),
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

/// `daas enclave`.
#[derive(Subcommand, Debug)]
pub enum EnclaveCommand {
    /// The latest PCR set, the cluster's current enclave (key, module_id,
    /// attestation time, who registered it, in which transaction; `DEV` for
    /// a dev attestation) and its sealing key.
    #[command(after_help = ENCLAVE_EXAMPLES)]
    Show {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `daas bench`.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
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

/// `daas keys`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
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

/// `daas stake`.
#[derive(Subcommand, Debug)]
pub enum StakeCommand {
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

/// `daas node`.
#[derive(Subcommand, Debug)]
pub enum NodeCommand {
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

/// `daas admin`: signed by the `AdminCap`'s owner.
#[derive(Subcommand, Debug)]
pub enum AdminCommand {
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
    /// Make an address a cluster admin: authority over every namespace, the
    /// system namespaces and cluster-scoped kinds, effective while it also
    /// holds an admin stake of at least 10 SUI (a slashable bond).
    #[command(after_help = CLUSTER_ADMIN_EXAMPLES)]
    GrantAdmin {
        /// Who.
        grantee: Address,
    },
    /// End an address's cluster-admin grant.
    #[command(after_help = CLUSTER_ADMIN_EXAMPLES)]
    RevokeAdmin {
        /// Who.
        grantee: Address,
    },
    /// Register the master's sealing public key as the cluster's next
    /// sealing key (the chain assigns the version; `daas apply` seals
    /// Secrets to the newest one).
    #[command(after_help = REGISTER_KEY_EXAMPLES)]
    RegisterSealingKey {
        /// The X25519 public key: 64 hex digits, a file holding them
        /// (`master sealing-key show`'s output), or `-` for standard input.
        #[arg(long, value_name = "HEX|FILE|-")]
        public_key: String,
    },
    /// Register the next PCR set (PCR0-2, 48 bytes each) an enclave's
    /// attestation must match to register (the chain checks the latest set).
    #[command(after_help = REGISTER_PCRS_EXAMPLES)]
    #[command(group(clap::ArgGroup::new("pcrs").required(true)
        .args(["pcr0", "eif_json", "debug_zeros"])))]
    RegisterPcrs {
        /// PCR0, 96 hex digits.
        #[arg(long, value_name = "HEX", requires_all = ["pcr1", "pcr2"])]
        pcr0: Option<String>,
        /// PCR1, 96 hex digits.
        #[arg(long, value_name = "HEX", requires = "pcr0")]
        pcr1: Option<String>,
        /// PCR2, 96 hex digits.
        #[arg(long, value_name = "HEX", requires = "pcr0")]
        pcr2: Option<String>,
        /// `nitro-cli build-enclave` or `describe-eif` output: its
        /// `Measurements.PCR0/1/2`.
        #[arg(long, value_name = "FILE")]
        eif_json: Option<PathBuf>,
        /// All-zero PCRs: what the dev CA's documents (and debug-mode
        /// enclaves) carry.
        #[arg(long)]
        debug_zeros: bool,
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
