//! What the master's integration tests share.

#![allow(dead_code)] // each test binary uses its own subset

#[path = "../../../domain/tests/support/cluster.rs"]
mod cluster;

use std::{process::Child, sync::Arc, time::Duration};

use daas_domain::{
    Address, Bytes, Event, LogPosition, Outcome, OutcomeResult,
    events::{ClusterCreated, K8sApiRequest},
};
use daas_master::{
    apply::{Config, Engine},
    encryption::SecretKey,
    metrics::Metrics,
    outcomes::Publisher,
    pipeline::{LogArgs, Until, apply_log},
    sealing_keys::{KeyRingHandle, SealingKeys},
    state::{self, Layout},
};
use daas_testkit::{Stack, TestEtcd, TestTopic, wait_for, workload};
use etcd_client::Client;
use tokio_util::sync::CancellationToken;

/// The test key for Secrets (32 bytes 0..31).
pub const KEY: &str = "key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The state key of [`config`] (decision 0017).
pub const STATE_KEY: [u8; 32] = [0x5a; 32];

/// Opens a value stored at `key` in kube's `k8s:enc:aesgcm:v1:key1:`
/// envelope with [`KEY`], with testkit's independent AES-GCM reading (not
/// the master's own code).
pub fn decrypt_at_rest(key: &str, value: &[u8]) -> anyhow::Result<Vec<u8>> {
    daas_testkit::at_rest::decrypt(KEY, key, value)
}

/// A layout under a test prefix (`<prefix>registry`, `<prefix>daas`).
pub fn layout(prefix: &str) -> Layout {
    Layout::new(&format!("{prefix}registry"), &format!("{prefix}daas"))
}

/// The engine configuration for the workload's cluster, holding testkit's
/// sealing key (the workload's Secrets are sealed to it).
pub fn config(prefix: &str) -> Config {
    let keys = SealingKeys::new(daas_testkit::sealing::keyring());
    config_with(prefix, Arc::new(KeyRingHandle::fixed(keys)))
}

/// The engine configuration for the workload's cluster with `sealing` keys.
pub fn config_with(prefix: &str, sealing: Arc<KeyRingHandle>) -> Config {
    Config {
        layout: layout(prefix),
        cluster: workload::CLUSTER,
        secret_key: Some(SecretKey::parse(KEY).expect("test key")),
        sealing,
        outcomes_kept: 10_000,
        access: None,
        state_key: daas_master::state_mac::StateKey::from_bytes(&STATE_KEY),
    }
}

/// A fresh sealing key directory for a master binary (not created: the
/// master makes it, mode 0700, with a random version 1).
pub fn sealing_key_dir() -> String {
    std::env::temp_dir()
        .join(daas_testkit::unique_name("master-sealing"))
        .join("keys")
        .to_string_lossy()
        .into_owned()
}

/// A fresh sealing key directory holding testkit's key as its version 1
/// and [`STATE_KEY`] as its state key (64 hex digits, mode 0600, the
/// directory 0700), as [`config`] does.
pub fn workload_key_dir() -> anyhow::Result<String> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let dir = sealing_key_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let version = daas_testkit::sealing::VERSION;
    let files = [
        (
            format!("sealing-key-v{version}"),
            daas_testkit::sealing::TEST_SEALING_KEY,
        ),
        ("state-key".to_owned(), STATE_KEY),
    ];
    for (name, key) in files {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(format!("{dir}/{name}"))?;
        writeln!(f, "{}", hex::encode(key))?;
    }
    Ok(dir)
}

/// The topics.
pub fn log_args(brokers: &str, topic: &str, outcomes: &str) -> LogArgs {
    LogArgs {
        brokers: brokers.into(),
        topic: topic.into(),
        outcome_topic: outcomes.into(),
        read_ahead: 2_000,
        batch_ms: 20,
        verify: daas_master::verification::VerifyArgs::off(),
    }
}

/// Applies the log in-process up to `end` (no outcomes published).
pub async fn apply_to(
    client: &Client,
    prefix: &str,
    log: &LogArgs,
    end: i64,
) -> anyhow::Result<()> {
    let engine = Engine::open(client.clone(), config(prefix)).await?;
    let engine = apply_log(
        engine,
        log,
        &Metrics::default(),
        None,
        Until::Offset(end),
        None,
        &CancellationToken::new(),
    )
    .await?;
    anyhow::ensure!(engine.next_offset() == end);
    Ok(())
}

/// Starts the master binary.
pub fn master(
    etcd: &str,
    prefix: &str,
    brokers: &str,
    topic: &str,
    outcomes: &str,
) -> std::io::Result<Child> {
    master_at(etcd, prefix, brokers, topic, outcomes, "127.0.0.1:0")
}

/// Starts the master binary with its metrics and status API on `listen`.
pub fn master_at(
    etcd: &str,
    prefix: &str,
    brokers: &str,
    topic: &str,
    outcomes: &str,
    listen: &str,
) -> std::io::Result<Child> {
    let topics = [brokers, topic, outcomes];
    let keys = workload_key_dir().map_err(std::io::Error::other)?;
    master_command(etcd, prefix, topics, listen, &keys, None).spawn()
}

/// `master run` for the workload's cluster, with the test Secrets key and
/// the sealing keys in `key_dir`; `topics` = (brokers, log, outcomes).
/// With `genesis` the master verifies the log against that committee;
/// without, the log is one made by hand without proofs and is applied
/// unverified.
pub fn master_command(
    etcd: &str,
    prefix: &str,
    [brokers, topic, outcomes]: [&str; 3],
    listen: &str,
    key_dir: &str,
    genesis: Option<&std::path::Path>,
) -> std::process::Command {
    let l = layout(prefix);
    let mut c = daas_testkit::service(env!("CARGO_BIN_EXE_master"));
    c.arg("run");
    match genesis {
        Some(g) => c.arg("--genesis-committee").arg(g),
        None => c.arg("--insecure-no-verify"),
    };
    c.args([
        "--etcd",
        etcd,
        "--prefix",
        &l.registry,
        "--state-prefix",
        &l.state,
    ])
    .args([
        "--cluster-id",
        &workload::CLUSTER.to_string(),
        "--encryption-key",
        KEY,
        "--sealing-key-dir",
        key_dir,
    ])
    .args([
        "--brokers",
        brokers,
        "--topic",
        topic,
        "--outcome-topic",
        outcomes,
    ])
    .args(["--metrics-listen", listen]);
    c
}

/// Applies the log up to `until` (which the master must reach), publishing
/// outcomes; the engine, and the registry's keys and revisions then.
pub async fn apply_phase(
    engine: Engine,
    args: &LogArgs,
    metrics: &Metrics,
    publisher: &mut Publisher,
    until: i64,
    client: &Client,
    prefix: &str,
) -> anyhow::Result<(Engine, Vec<(String, i64)>)> {
    let stop = CancellationToken::new();
    let to = Until::Offset(until);
    let engine = apply_log(engine, args, metrics, Some(publisher), to, None, &stop).await?;
    let at = engine.next_offset();
    anyhow::ensure!(at == until, "the master stopped at {at}, before {until}");
    Ok((engine, registry_revisions(client, prefix).await?))
}

/// Keys under the registry prefix, with their mod revisions.
pub async fn registry_revisions(
    client: &Client,
    prefix: &str,
) -> anyhow::Result<Vec<(String, i64)>> {
    let mut c = client.clone();
    let resp = c
        .get(
            layout(prefix).registry,
            Some(etcd_client::GetOptions::new().with_prefix()),
        )
        .await?;
    Ok(resp
        .kvs()
        .iter()
        .map(|kv| {
            (
                String::from_utf8_lossy(kv.key()).into_owned(),
                kv.mod_revision(),
            )
        })
        .collect())
}

/// The request ids of `records`' requests, in log order.
pub fn request_ids(records: &[Vec<u8>]) -> Vec<u64> {
    records
        .iter()
        .filter_map(|r| daas_domain::LogEntry::decode(r).ok())
        .filter_map(|e| match e.body {
            daas_domain::Body::Event(daas_domain::Event::K8sApiRequest(r)) => Some(r.request_id),
            _ => None,
        })
        .collect()
}

/// The stored next offset (0 when none, or etcd is unreachable).
pub async fn position(client: &Client, prefix: &str) -> i64 {
    let mut c = client.clone();
    state::load_position(&mut c, &layout(prefix))
        .await
        .unwrap_or(0)
}

/// Waits until the stored position reaches `offset`.
pub async fn wait_position(client: &Client, prefix: &str, offset: i64) -> anyhow::Result<()> {
    wait_for(
        "the master to reach the offset",
        Duration::from_secs(240),
        || async move { Ok((position(client, prefix).await >= offset).then_some(())) },
    )
    .await
}

#[allow(unused_imports)] // each test binary uses its own subset
pub use daas_testkit::{kill9, terminate};

#[allow(unused_imports)] // each test binary uses its own subset
pub use daas_testkit::read_outcomes;

/// A test's slice of the stack: a log topic, an outcome topic, and an
/// etcd prefix `<its own prefix><name>/`.
pub struct Slice {
    pub stack: Stack,
    /// The log topic.
    pub topic: TestTopic,
    /// The outcome topic.
    pub out: TestTopic,
    pub etcd: TestEtcd,
    /// The test's registry and state prefix.
    pub prefix: String,
}

impl Slice {
    /// A new slice whose etcd prefix ends in `name/`.
    pub async fn new(name: &str) -> anyhow::Result<Self> {
        let stack = Stack::from_env()?;
        let (topic, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
        let etcd = TestEtcd::new(&stack).await?;
        let prefix = etcd.key(&format!("{name}/"));
        Ok(Slice {
            stack,
            topic,
            out,
            etcd,
            prefix,
        })
    }

    /// (brokers, log topic, outcome topic), as [`master_command`] takes them.
    pub fn topics(&self) -> [&str; 3] {
        [&self.stack.kafka_brokers, &self.topic.name, &self.out.name]
    }

    /// The in-process master's topics.
    pub fn log_args(&self) -> LogArgs {
        log_args(&self.stack.kafka_brokers, &self.topic.name, &self.out.name)
    }

    /// Produces `records` to the log topic.
    pub async fn produce(&self, records: &[Vec<u8>]) -> anyhow::Result<()> {
        daas_testkit::produce(&self.stack.kafka_brokers, &self.topic.name, records).await
    }

    /// Every outcome published so far.
    pub fn outcomes(&self) -> anyhow::Result<Vec<Outcome>> {
        read_outcomes(&self.stack.kafka_brokers, &self.out.name)
    }

    /// Applies the log in phases, publishing outcomes, counting in one
    /// [`Metrics`].
    pub fn applier(&self) -> anyhow::Result<Applier<'_>> {
        Ok(Applier {
            args: self.log_args(),
            metrics: Metrics::default(),
            publisher: Publisher::new(&self.stack.kafka_brokers, &self.out.name)?,
            slice: self,
        })
    }
}

/// Applies a [`Slice`]'s log phase by phase (see [`apply_phase`]).
pub struct Applier<'a> {
    slice: &'a Slice,
    args: LogArgs,
    /// What the phases counted.
    pub metrics: Metrics,
    publisher: Publisher,
}

impl Applier<'_> {
    /// Applies up to `until`; the engine, and the registry's keys and
    /// revisions then.
    pub async fn to(
        &mut self,
        engine: Engine,
        until: i64,
    ) -> anyhow::Result<(Engine, Vec<(String, i64)>)> {
        let (client, prefix) = (&self.slice.etcd.client, &self.slice.prefix);
        let (args, metrics) = (&self.args, &self.metrics);
        apply_phase(
            engine,
            args,
            metrics,
            &mut self.publisher,
            until,
            client,
            prefix,
        )
        .await
    }
}

/// The code of request `id`'s outcome among `outcomes` ("applied
/// (action)" when applied), if it has one.
pub fn outcome_code(outcomes: &[Outcome], id: u64) -> Option<String> {
    let o = outcomes
        .iter()
        .find(|o| o.is_request() && o.request_id == id)?;
    Some(match &o.result {
        OutcomeResult::Rejected(r) => r.code.as_str().to_owned(),
        OutcomeResult::Applied { action, .. } => format!("applied ({action})"),
        OutcomeResult::Quarantined { label, .. } => format!("quarantined ({label})"),
    })
}

/// The codes of the outcomes of `ids` (see [`outcome_code`]; "no outcome"
/// where there is none).
pub fn codes(outcomes: &[Outcome], ids: &[u64]) -> Vec<String> {
    ids.iter()
        .map(|id| outcome_code(outcomes, *id).unwrap_or_else(|| "no outcome".into()))
        .collect()
}

/// A log being built: events from senders, at increasing positions
/// (checkpoint = offset + 1).
#[derive(Default)]
pub struct Log {
    /// The encoded records.
    pub records: Vec<Vec<u8>>,
    next_request: u64,
}

impl Log {
    /// A log that starts with the workload's cluster, created by
    /// `workload::ADMIN`.
    pub fn with_cluster() -> Self {
        let mut log = Log::default();
        let cluster = ClusterCreated {
            cluster_id: workload::CLUSTER,
            name: "c".into(),
            admin: workload::ADMIN,
            timestamp_ms: 0,
        };
        log.push(workload::ADMIN, &Event::ClusterCreated(cluster));
        log
    }

    /// `who` creates the namespace `ns` (owning it from then on).
    pub fn namespace(&mut self, who: Address, ns: &str) -> u64 {
        let m = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n");
        self.request(who, "Namespace", "v1", "", ns, &m)
    }

    /// Appends `event`, sent by `sender`.
    pub fn push(&mut self, sender: Address, event: &Event) {
        let n = self.records.len() as u64;
        self.records.push(workload::record(
            LogPosition::new(n + 1, 0, 0),
            [n as u8; 32],
            1_800_000_000_000 + n,
            sender,
            event,
        ));
    }

    /// `who`'s user-role stake becomes `total` MIST.
    pub fn stake(&mut self, who: Address, total: u64) {
        self.push(who, &cluster::stake(who, total));
    }

    /// An `apply` of `manifest` in the workload's cluster; its request id.
    pub fn request(
        &mut self,
        who: Address,
        kind: &str,
        api: &str,
        ns: &str,
        name: &str,
        manifest: &str,
    ) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        let e = Event::K8sApiRequest(K8sApiRequest {
            cluster_id: workload::CLUSTER,
            request_id: id,
            sender: who,
            verb: "apply".into(),
            api_version: api.into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
            manifest: Bytes(manifest.as_bytes().to_vec()),
            stake: 0,
            timestamp_ms: 1,
            seq: 0,
        });
        self.push(who, &e);
        id
    }

    /// The offset after the last record.
    pub fn end(&self) -> i64 {
        self.records.len() as i64
    }
}
