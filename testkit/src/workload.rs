//! A deterministic, realistic log for tests and benchmarks of the log's
//! consumers (projector, master): the records the indexer would produce for a
//! busy cluster, without running a chain.
//!
//! The mix: a cluster and its admin; tenants staking at every tier (some too
//! little); node operators registering and being slashed; namespaces created
//! by tenants; grants and revokes; and, mostly, kubectl requests with
//! ~1 KiB manifests: creates, applies, replaces, deletes, some of them
//! unauthorised, cross-tenant, malformed, oversize or of an unknown kind.
//! A small share of records is not usable at all (not protobuf, an unknown
//! event type, undecodable BCS) so quarantine paths are exercised.
//!
//! Same seed, same bytes: the expected end state of a consumer can be computed
//! from the records with the pure ledger.

use crate::hostile;
use std::collections::BTreeMap;

use daas_domain::{
    Address, Bytes, Event, Ledger, LogEntry, LogPosition, Outcome, OutcomeResult, Role, Stream,
    admission::{Action, Decision},
    events::*,
    kinds,
};

/// The generated workload's cluster.
pub const CLUSTER: Address = Address([0xc1; 32]);
/// Its admin.
pub const ADMIN: Address = Address([0xad; 32]);
const PACKAGE: &str = "0x000000000000000000000000000000000000000000000000000000000000da45";
const SUI: u64 = 1_000_000_000;

/// A small, fast, seedable PRNG (splitmix64); good enough for workloads.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// A seed from the clock and the process id, for tests that print it so a
/// failing run can be replayed.
pub fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    Rng::new(nanos ^ u64::from(std::process::id())).next_u64()
}

/// The seed a randomised test runs with: `DAAS_TEST_SEED` when set, else a
/// [`random_seed`]; printed to stderr with how to replay it, so every failing
/// run can be repeated.
pub fn test_seed(what: &str) -> u64 {
    let seed = std::env::var("DAAS_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(random_seed);
    eprintln!("{what} seed {seed} (DAAS_TEST_SEED={seed} replays this run)");
    seed
}

/// Generates log records (encoded `daas.v1.LogRecord` bytes).
pub struct Workload {
    rng: Rng,
    ledger: Ledger,
    tenants: Vec<Address>,
    operators: Vec<Address>,
    checkpoint: u64,
    tx_index: u64,
    next_request: u64,
    /// Share of unusable records, per mille (default 2).
    pub junk_per_mille: u64,
    /// Share of hostile records, per mille (default 5).
    pub hostile_per_mille: u64,
    /// Records generated so far.
    generated: u64,
    /// Indexes (offsets from the first record) of the hostile records.
    hostile_at: Vec<u64>,
    /// Whether the record being generated is hostile.
    hostile_now: bool,
    /// Numbers events per stream as the chain does.
    sequences: Sequences,
}

/// Numbers events built off chain as the chain would: each stream's events
/// get 0, 1, 2, ... in the order they are numbered, a cluster's creation
/// being its 0 (so a cluster created twice with one id restarts at 0).
#[derive(Clone, Debug, Default)]
pub struct Sequences(BTreeMap<Stream, u64>);

impl Sequences {
    /// Gives `event` its stream's next `seq`.
    pub fn number(&mut self, event: &mut Event) {
        let next = self.0.entry(event.stream()).or_insert(0);
        match event.seq_mut() {
            Some(seq) => *seq = *next,
            None => *next = 0,
        }
        *next += 1;
    }
}

fn tenant(i: usize) -> Address {
    let mut a = [0u8; 32];
    a[0] = 0x7e;
    a[24..].copy_from_slice(&(i as u64).to_be_bytes());
    Address(a)
}

fn operator(i: usize) -> Address {
    let mut a = [0u8; 32];
    a[0] = 0x0b;
    a[24..].copy_from_slice(&(i as u64).to_be_bytes());
    Address(a)
}

impl Workload {
    /// A workload with `tenants` tenants and a fifth as many node operators.
    pub fn new(seed: u64, tenants: usize) -> Self {
        let tenants = tenants.max(2);
        Self {
            rng: Rng::new(seed),
            ledger: Ledger::default(),
            tenants: (0..tenants).map(tenant).collect(),
            operators: (0..tenants.div_ceil(5)).map(operator).collect(),
            checkpoint: 1,
            tx_index: 0,
            next_request: 0,
            junk_per_mille: 2,
            hostile_per_mille: 5,
            generated: 0,
            hostile_at: Vec::new(),
            hostile_now: false,
            sequences: Sequences::default(),
        }
    }

    /// Indexes of the hostile records among all generated so far (the
    /// offsets they get when produced from offset 0), ascending.
    pub fn hostile(&self) -> &[u64] {
        &self.hostile_at
    }

    /// The ledger after every record generated so far.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The next `n` records.
    pub fn records(&mut self, n: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        if self.ledger.cluster(CLUSTER).is_none() && n > 0 {
            self.generated += 1;
            out.push(self.emit(
                ADMIN,
                Event::ClusterCreated(ClusterCreated {
                    cluster_id: CLUSTER,
                    name: "workload".into(),
                    admin: ADMIN,
                    timestamp_ms: self.now(),
                }),
            ));
        }
        // The cluster's sealing key (testkit's), so tenants' Secrets are sealed.
        if out.len() < n
            && self.ledger.cluster(CLUSTER).is_some()
            && self.ledger.current_sealing_key(CLUSTER).is_none()
        {
            self.generated += 1;
            let event = crate::sealing::registered(self.now());
            out.push(self.emit(ADMIN, event));
        }
        while out.len() < n {
            self.hostile_now = false;
            let r = self.next_record();
            if self.hostile_now {
                self.hostile_at.push(self.generated);
            }
            self.generated += 1;
            out.push(r);
        }
        out
    }

    fn now(&self) -> u64 {
        1_767_225_600_000 + self.checkpoint * 250
    }

    fn emit(&mut self, sender: Address, mut event: Event) -> Vec<u8> {
        self.sequences.number(&mut event);
        self.ledger.apply(&event);
        let mut digest = [0u8; 32];
        digest[..8].copy_from_slice(&self.checkpoint.to_be_bytes());
        digest[8..16].copy_from_slice(&self.tx_index.to_be_bytes());
        digest[16..].copy_from_slice(&self.rng.next_u64().to_be_bytes().repeat(2));
        let position = LogPosition::new(self.checkpoint, self.tx_index, 0);
        let bytes = record(position, digest, self.now(), sender, &event);
        self.advance();
        bytes
    }

    fn advance(&mut self) {
        self.tx_index += 1;
        if self.tx_index == 8 {
            self.tx_index = 0;
            self.checkpoint += 1;
        }
    }

    fn junk(&mut self) -> Vec<u8> {
        let position = LogPosition::new(self.checkpoint, self.tx_index, 0);
        let t = self.now();
        let out = match self.rng.below(3) {
            0 => b"\x08\xff\xff not a protobuf record".to_vec(),
            1 => LogEntry::from_chain(
                position,
                [0xee; 32],
                t,
                format!("{PACKAGE}::future::SomethingNew"),
                ADMIN,
                vec![1, 2, 3],
            )
            .encode(),
            _ => LogEntry::from_chain(
                position,
                [0xef; 32],
                t,
                format!("{PACKAGE}::staking::StakeDeposited"),
                ADMIN,
                vec![0xde, 0xad],
            )
            .encode(),
        };
        self.advance();
        out
    }

    fn next_record(&mut self) -> Vec<u8> {
        if self.rng.chance(self.junk_per_mille) {
            return self.junk();
        }
        if self.rng.chance(self.hostile_per_mille) {
            return self.hostile_record();
        }
        match self.rng.below(100) {
            0..=11 => self.stake_change(),
            12..=14 => self.node_change(),
            15..=16 => self.grant_change(),
            _ => self.request(),
        }
    }

    fn stake_change(&mut self) -> Vec<u8> {
        let (who, role) = match self.rng.below(10) {
            0 => (ADMIN, Role::Admin),
            1..=2 => {
                let i = self.rng.below(self.operators.len() as u64) as usize;
                (self.operators[i], Role::Node)
            }
            _ => {
                let i = self.rng.below(self.tenants.len() as u64) as usize;
                (self.tenants[i], Role::User)
            }
        };
        let have = self.ledger.stake_of(who, role);
        let epoch = self.checkpoint / 100;
        let t = self.now();
        let event = if have == 0 || self.rng.chance(600) {
            // Deposits around every tier: 0.5, 1, 5, 10 SUI and odd amounts.
            let amount = match self.rng.below(6) {
                0 => SUI / 2,
                1 => SUI,
                2 => 5 * SUI,
                3 => 10 * SUI,
                4 => 4 * SUI + 999_999_999,
                _ => role.min_stake().max(1 + self.rng.below(3 * SUI)),
            };
            let amount = if have == 0 {
                amount.max(role.min_stake())
            } else {
                amount
            };
            Event::StakeDeposited(StakeDeposited {
                staker: who,
                role: role.to_move(),
                amount,
                total_after: have + amount,
                epoch,
                timestamp_ms: t,
                seq: 0,
            })
        } else if self.rng.chance(500) {
            let amount = if self.rng.chance(300) {
                have
            } else {
                1 + self.rng.below(have)
            };
            Event::StakeWithdrawn(StakeWithdrawn {
                staker: who,
                role: role.to_move(),
                amount,
                total_after: have - amount,
                epoch,
                timestamp_ms: t,
                seq: 0,
            })
        } else {
            let amount = 1 + self.rng.below(have);
            Event::StakeSlashed(StakeSlashed {
                staker: who,
                role: role.to_move(),
                amount,
                total_after: have - amount,
                reason: ["downtime", "double signing", "bad attestation"]
                    [self.rng.below(3) as usize]
                    .into(),
                slashed_by: ADMIN,
                epoch,
                timestamp_ms: t,
                seq: 0,
            })
        };
        self.emit(who, event)
    }

    fn node_change(&mut self) -> Vec<u8> {
        let i = self.rng.below(self.operators.len() as u64) as usize;
        let op = self.operators[i];
        let name = format!("node-{i}");
        let t = self.now();
        let event = if self.ledger.nodes().contains_key(&name) && self.rng.chance(300) {
            Event::NodeDeregistered(NodeDeregistered {
                operator: op,
                node_name: name,
                timestamp_ms: t,
                seq: 0,
            })
        } else {
            Event::NodeRegistered(NodeRegistered {
                operator: op,
                node_name: name,
                public_key: Bytes(op.0.to_vec()),
                endpoint: format!("10.0.{}.{}:10250", i / 250, i % 250),
                timestamp_ms: t,
                seq: 0,
            })
        };
        self.emit(op, event)
    }

    fn namespace_of(i: usize) -> String {
        format!("team-{i}")
    }

    fn grant_change(&mut self) -> Vec<u8> {
        let owner = self.rng.below(self.tenants.len() as u64) as usize;
        let grantee = self.tenants[self.rng.below(self.tenants.len() as u64) as usize];
        let namespace = Self::namespace_of(owner);
        let t = self.now();
        let event = if self.rng.chance(700) {
            Event::NamespaceGranted(NamespaceGranted {
                cluster_id: CLUSTER,
                namespace,
                grantee,
                role: self.rng.below(2) as u8,
                granted_by: self.tenants[owner],
                timestamp_ms: t,
                seq: 0,
            })
        } else {
            Event::NamespaceRevoked(NamespaceRevoked {
                cluster_id: CLUSTER,
                namespace,
                grantee,
                revoked_by: self.tenants[owner],
                timestamp_ms: t,
                seq: 0,
            })
        };
        let sender = self.tenants[owner];
        self.emit(sender, event)
    }

    fn request(&mut self) -> Vec<u8> {
        let i = self.rng.below(self.tenants.len() as u64) as usize;
        let sender = self.tenants[i];
        // Mostly the sender's own namespace; sometimes someone else's.
        let ns_index = if self.rng.chance(900) {
            i
        } else {
            self.rng.below(self.tenants.len() as u64) as usize
        };
        let namespace = Self::namespace_of(ns_index);
        let ns_exists = self.ledger.namespace_owner(CLUSTER, &namespace).is_some();
        let (kind, api_version) = if !ns_exists || self.rng.chance(20) {
            ("Namespace", "v1")
        } else {
            match self.rng.below(100) {
                0..=34 => ("ConfigMap", "v1"),
                35..=59 => ("Deployment", "apps/v1"),
                60..=74 => ("Service", "v1"),
                75..=84 => ("Secret", "v1"),
                85..=89 => ("Pod", "v1"),
                90..=93 => ("Job", "batch/v1"),
                94..=97 => ("ServiceAccount", "v1"),
                _ => ("Widget", "example.com/v1"),
            }
        };
        let name = if kind == "Namespace" {
            namespace.clone()
        } else {
            format!("app-{}", self.rng.below(12))
        };
        let verb = match self.rng.below(100) {
            0..=39 => "apply",
            40..=69 => "create",
            70..=84 => "replace",
            85..=98 => "delete",
            _ => "get",
        };
        let ns_field = if kind == "Namespace" { "" } else { &namespace };
        let manifest = match self.rng.below(1000) {
            0..=9 => b"{not: [valid yaml".to_vec(),
            10..=11 => vec![b'#'; 70_000],
            12..=19 => manifest(kind, api_version, "Bad_Name", ns_field, 0),
            // Mostly JSON, as `daas apply` and kubectl send it; some YAML.
            _ if self.rng.chance(800) => as_json(&manifest(
                kind,
                api_version,
                &name,
                ns_field,
                self.rng.below(1000),
            )),
            _ => manifest(kind, api_version, &name, ns_field, self.rng.below(1000)),
        };
        let fields = [verb, api_version, kind, ns_field].map(str::to_owned);
        let [verb, api_version, kind, namespace] = fields;
        self.emit_request(sender, [verb, api_version, kind, namespace, name], manifest)
    }

    /// The next request from `sender` with its string fields (verb,
    /// apiVersion, kind, namespace, name) and manifest.
    fn emit_request(&mut self, sender: Address, fields: [String; 5], manifest: Vec<u8>) -> Vec<u8> {
        let [verb, api_version, kind, namespace, name] = fields;
        let request_id = self.next_request;
        self.next_request += 1;
        let event = Event::K8sApiRequest(K8sApiRequest {
            cluster_id: CLUSTER,
            request_id,
            sender,
            verb,
            api_version,
            kind,
            namespace,
            name,
            manifest: Bytes(manifest),
            stake: self.ledger.tier_stake(sender),
            timestamp_ms: self.now(),
            seq: 0,
        });
        self.emit(sender, event)
    }
}

/// The hostile records (see [`crate::hostile`]).
impl Workload {
    fn hostile_record(&mut self) -> Vec<u8> {
        self.hostile_now = true;
        let n = self.checkpoint * 8 + self.tx_index;
        let h = hostile::string(&mut self.rng, n);
        let i = self.rng.below(self.tenants.len() as u64) as usize;
        let (tenant, t) = (self.tenants[i], self.now());
        let op_index = self.rng.below(self.operators.len() as u64) as usize;
        let op = self.operators[op_index];
        let event = match self.rng.below(12) {
            0..=3 => return self.hostile_request(i, h, n),
            v @ 4..=6 => Self::hostile_node_event(v, op, op_index, h, t),
            7 if self.ledger.stake_of(tenant, Role::User) > 0 => {
                let have = self.ledger.stake_of(tenant, Role::User);
                Event::StakeSlashed(StakeSlashed {
                    staker: tenant,
                    role: Role::User.to_move(),
                    amount: 1,
                    total_after: have - 1,
                    reason: h,
                    slashed_by: ADMIN,
                    epoch: self.checkpoint / 100,
                    timestamp_ms: t,
                    seq: 0,
                })
            }
            8 => Event::NamespaceGranted(NamespaceGranted {
                cluster_id: CLUSTER,
                namespace: h,
                grantee: tenant,
                role: 1,
                granted_by: tenant,
                timestamp_ms: t,
                seq: 0,
            }),
            9 => Event::NamespaceRevoked(NamespaceRevoked {
                cluster_id: CLUSTER,
                namespace: h,
                grantee: tenant,
                revoked_by: tenant,
                timestamp_ms: t,
                seq: 0,
            }),
            10 => return self.not_utf8(tenant),
            _ => Event::ClusterCreated(ClusterCreated {
                cluster_id: Address([0xc2; 32]),
                name: h,
                admin: tenant,
                timestamp_ms: t,
            }),
        };
        self.emit(tenant, event)
    }

    /// A node event from operator `op` (number `op_index`) with `h` as its
    /// node name or endpoint (`variant` 4, 5: registration; 6: deregistration).
    fn hostile_node_event(variant: u64, op: Address, op_index: usize, h: String, t: u64) -> Event {
        let register = |node_name, endpoint| {
            Event::NodeRegistered(NodeRegistered {
                operator: op,
                node_name,
                public_key: Bytes(op.0.to_vec()),
                endpoint,
                timestamp_ms: t,
                seq: 0,
            })
        };
        match variant {
            4 => register(h, "10.9.9.9:10250".into()),
            5 => register(format!("node-{op_index}"), h),
            _ => Event::NodeDeregistered(NodeDeregistered {
                operator: op,
                node_name: h,
                timestamp_ms: t,
                seq: 0,
            }),
        }
    }

    /// A request from tenant `i` with `h` in one of its string fields, or
    /// hostile manifest bytes; the manifest is JSON with the same values.
    fn hostile_request(&mut self, i: usize, h: String, n: u64) -> Vec<u8> {
        let mut f = [
            "apply".to_owned(),
            "v1".to_owned(),
            "ConfigMap".to_owned(),
            Self::namespace_of(i),
            format!("app-h{n}"),
        ];
        let field = self.rng.below(6) as usize;
        let manifest = if field == 5 {
            hostile::manifest(&mut self.rng)
        } else {
            f[field] = h;
            serde_json::json!({
                "apiVersion": f[1], "kind": f[2],
                "metadata": {"name": f[4], "namespace": f[3]},
                "data": {"k": "v"},
            })
            .to_string()
            .into_bytes()
        };
        self.emit_request(self.tenants[i], f, manifest)
    }

    /// Invalid UTF-8 where the value should be a string: in a Move string's
    /// BCS (the record is poison), in the protobuf `event_type` (the record
    /// is not protobuf), or a NUL in the event type (a type nobody knows).
    fn not_utf8(&mut self, sender: Address) -> Vec<u8> {
        const MARK: &str = "\u{1}not-utf8\u{1}";
        let position = LogPosition::new(self.checkpoint, self.tx_index, 0);
        let t = self.now();
        let cluster = Event::ClusterCreated(ClusterCreated {
            cluster_id: Address([0xc3; 32]),
            name: MARK.into(),
            admin: sender,
            timestamp_ms: t,
        });
        let (module, name) = cluster.move_type();
        let event_type = format!("{PACKAGE}::{module}::{name}");
        let out = match self.rng.below(3) {
            0 => {
                let bcs = hostile::spoil_utf8(&cluster.to_bcs(), MARK.as_bytes());
                LogEntry::from_chain(position, [0xe1; 32], t, event_type, sender, bcs).encode()
            }
            1 => {
                let marked = format!("{event_type}{MARK}");
                let entry = LogEntry::from_chain(position, [0xe2; 32], t, marked, sender, vec![]);
                hostile::spoil_utf8(&entry.encode(), MARK.as_bytes())
            }
            _ => {
                let nul = format!("{event_type}\0");
                LogEntry::from_chain(position, [0xe3; 32], t, nul, sender, cluster.to_bcs())
                    .encode()
            }
        };
        self.advance();
        out
    }
}

/// One encoded log record of our package's `event`, as the indexer writes it.
pub fn record(
    position: LogPosition,
    transaction_digest: [u8; 32],
    checkpoint_timestamp_ms: u64,
    sender: Address,
    event: &Event,
) -> Vec<u8> {
    let (module, name) = event.move_type();
    LogEntry::from_chain(
        position,
        transaction_digest,
        checkpoint_timestamp_ms,
        format!("{PACKAGE}::{module}::{name}"),
        sender,
        event.to_bcs(),
    )
    .encode()
}

/// A tenant's `create` of the `v1` object `kind` `namespace`/`name` in
/// [`CLUSTER`], numbered `id`, sent with `manifest` and a 10 SUI stake.
pub fn create_request(
    sender: Address,
    id: u64,
    kind: &str,
    namespace: &str,
    name: &str,
    manifest: Vec<u8>,
) -> Event {
    Event::K8sApiRequest(K8sApiRequest {
        cluster_id: CLUSTER,
        request_id: id,
        sender,
        verb: "create".into(),
        api_version: "v1".into(),
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
        manifest: Bytes(manifest),
        stake: 10 * SUI,
        timestamp_ms: 1,
        seq: 0,
    })
}

/// A realistic manifest of `kind` (~1 KiB for workloads), YAML.
pub fn manifest(
    kind: &str,
    api_version: &str,
    name: &str,
    namespace: &str,
    revision: u64,
) -> Vec<u8> {
    let ns = if namespace.is_empty() {
        String::new()
    } else {
        format!("\n  namespace: {namespace}")
    };
    let sealed = if kind == "Secret" {
        crate::sealing::annotation_yaml()
    } else {
        String::new()
    };
    let head = format!(
        "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}{ns}\n  labels:\n    app: {name}\n    revision: \"{revision}\"\n{sealed}"
    );
    let body = match kind {
        "ConfigMap" => format!(
            "data:\n  revision: \"{revision}\"\n  settings.yaml: |\n    log_level: info\n    workers: {}\n    cache_mb: 256\n",
            revision % 16
        ),
        // Sealed to testkit's key: the chain is public (decision 0014).
        "Secret" => format!(
            "type: Opaque\ndata:\n  password: {}\n",
            crate::sealing::sealed_value(
                namespace,
                name,
                "password",
                format!("secret-password-{revision}").as_bytes(),
                revision ^ (name.len() as u64) << 32,
            )
        ),
        "Deployment" => format!(
            "spec:\n  replicas: {}\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: {name}\n        image: registry.example.com/{name}:1.{revision}\n        ports:\n        - containerPort: 8080\n        env:\n        - name: REVISION\n          value: \"{revision}\"\n        resources:\n          requests:\n            cpu: 100m\n            memory: 128Mi\n          limits:\n            cpu: 500m\n            memory: 512Mi\n        readinessProbe:\n          httpGet:\n            path: /healthz\n            port: 8080\n",
            1 + revision % 3
        ),
        "Service" => format!(
            "spec:\n  selector:\n    app: {name}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n    protocol: TCP\n  type: ClusterIP\n  sessionAffinity: None\n  # revision {revision}\n"
        ),
        "Pod" => format!(
            "spec:\n  containers:\n  - name: {name}\n    image: registry.example.com/{name}:1.{revision}\n    command: [\"/bin/run\", \"--port=8080\"]\n"
        ),
        "Job" => format!(
            "spec:\n  backoffLimit: 2\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: {name}\n        image: registry.example.com/batch:1.{revision}\n"
        ),
        _ => String::new(),
    };
    format!("{head}{body}").into_bytes()
}

/// A YAML manifest as compact JSON.
pub fn as_json(yaml: &[u8]) -> Vec<u8> {
    serde_yaml_ng::from_slice::<serde_json::Value>(yaml)
        .ok()
        .and_then(|v| serde_json::to_vec(&v).ok())
        .unwrap_or_else(|| yaml.to_vec())
}

/// The outcomes a correct master publishes for `records` (in log order): the
/// ledger's decision per request, with the record's offset as its resource
/// version stand-in. For consumers of the outcome topic in tests.
pub fn outcomes(records: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut ledger = Ledger::default();
    let mut out = Vec::new();
    for (offset, bytes) in records.iter().enumerate() {
        let Ok(entry) = LogEntry::decode(bytes) else {
            continue;
        };
        let daas_domain::Body::Event(event) = &entry.body else {
            continue;
        };
        let applied = ledger.apply(event);
        if let (Event::K8sApiRequest(r), Some(d)) = (event, applied.decision) {
            let result = match d {
                Decision::Admitted(a) => {
                    let info = kinds::lookup(&r.kind).expect("admitted kinds are managed");
                    let (action, rv) = match a.action {
                        Action::Create => ("created", offset as i64 + 1),
                        Action::Update => ("configured", offset as i64 + 1),
                        Action::Delete => ("deleted", 0),
                    };
                    OutcomeResult::Applied {
                        action: action.into(),
                        key: info.etcd_key("/registry", &r.namespace, &r.name),
                        resource_version: rv,
                        warnings: a.warnings,
                    }
                }
                Decision::Rejected(rej) => OutcomeResult::Rejected(rej),
            };
            let o = Outcome::new(
                r.cluster_id,
                r.request_id,
                entry.position,
                entry.transaction_digest,
                r.timestamp_ms,
                result,
            );
            let sequence = out.len() as u64 + 1;
            out.push(Outcome { sequence, ..o }.encode());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_reach_every_string_field_of_every_event() {
        let mut usual = Workload::new(3, 50);
        let n = usual.records(20_000).len();
        let share = usual.hostile().len() as f64 / n as f64;
        assert!((0.002..0.01).contains(&share), "a modest rate: {share}");
        // More of them, to see every kind in every field.
        let mut w = Workload::new(3, 50);
        w.hostile_per_mille = 60;
        let records = w.records(20_000);
        let mut again = Workload::new(3, 50);
        again.hostile_per_mille = 60;
        assert_eq!(
            records,
            again.records(20_000),
            "deterministic from the seed"
        );
        let mut seen = std::collections::BTreeSet::new();
        for &i in w.hostile() {
            let entry = match LogEntry::decode(&records[i as usize]) {
                Ok(e) => e,
                Err(_) => {
                    seen.insert("record: protobuf string not UTF-8".to_owned());
                    continue;
                }
            };
            match &entry.body {
                daas_domain::Body::Poison(_) => seen.insert("record: Move string not UTF-8".into()),
                daas_domain::Body::Unknown | daas_domain::Body::EpochChange { .. } => {
                    seen.insert("record: NUL in event type".into())
                }
                daas_domain::Body::Event(e) => {
                    for (field, value) in hostile::string_fields(e) {
                        for t in hostile::traits(value) {
                            seen.insert(format!("{field}: {t}"));
                        }
                    }
                    true
                }
            };
        }
        let mut want = vec![
            "record: protobuf string not UTF-8".to_owned(),
            "record: Move string not UTF-8".into(),
            "record: NUL in event type".into(),
            "K8sApiRequest.manifest: not UTF-8".into(),
            "K8sApiRequest.manifest: NUL".into(),
            "K8sApiRequest.manifest: max length".into(),
        ];
        for field in [
            "StakeSlashed.reason",
            "ClusterCreated.name",
            "K8sApiRequest.verb",
            "K8sApiRequest.api_version",
            "K8sApiRequest.kind",
            "K8sApiRequest.namespace",
            "K8sApiRequest.name",
            "NodeRegistered.node_name",
            "NodeRegistered.endpoint",
            "NodeDeregistered.node_name",
            "NamespaceGranted.namespace",
            "NamespaceRevoked.namespace",
        ] {
            for t in ["NUL", "control", "max length"] {
                want.push(format!("{field}: {t}"));
            }
        }
        let missing: Vec<_> = want.iter().filter(|w| !seen.contains(*w)).collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
    }

    /// Every stream's events carry 0, 1, 2, ... in log order, as the chain
    /// numbers them, hostile records included (the chain emitted those too).
    #[test]
    fn every_streams_events_are_numbered_densely_in_log_order() {
        let mut w = Workload::new(5, 20);
        w.hostile_per_mille = 60;
        let mut seqs: BTreeMap<Stream, Vec<u64>> = BTreeMap::new();
        for r in w.records(2_000) {
            if let Ok(LogEntry {
                body: daas_domain::Body::Event(e),
                ..
            }) = LogEntry::decode(&r)
            {
                seqs.entry(e.stream()).or_default().push(e.seq());
            }
        }
        // Only these: hostile records create another cluster, always with the
        // same id, so its numbering restarts at each creation.
        for stream in [
            Stream::Pool,
            Stream::Nodes,
            Stream::Enclave,
            Stream::Cluster(CLUSTER),
        ] {
            let got = seqs.remove(&stream).unwrap_or_default();
            assert!(!got.is_empty(), "{stream}");
            assert!(got.iter().copied().eq(0..got.len() as u64), "{stream}");
        }
    }

    #[test]
    fn same_seed_same_bytes_and_a_realistic_mix() {
        let a = Workload::new(7, 20).records(5_000);
        let b = Workload::new(7, 20).records(5_000);
        assert_eq!(a, b);
        let mut w = Workload::new(7, 20);
        let _ = w.records(5_000);
        let entries: Vec<_> = a.iter().filter_map(|r| LogEntry::decode(r).ok()).collect();
        let junk = a.len() - entries.len();
        assert!(junk > 0, "some records are not protobuf");
        let requests = entries
            .iter()
            .filter(|e| matches!(e.body, daas_domain::Body::Event(Event::K8sApiRequest(_))))
            .count();
        assert!(requests > 3_500, "mostly requests: {requests}");
        let outcomes = outcomes(&a);
        assert_eq!(outcomes.len(), requests);
        let decoded: Vec<_> = outcomes
            .iter()
            .map(|o| Outcome::decode(o).expect("outcomes decode"))
            .collect();
        let applied = decoded
            .iter()
            .filter(|o| matches!(o.result, OutcomeResult::Applied { .. }))
            .count();
        let rejected = decoded.len() - applied;
        assert!(
            applied > requests / 5 && rejected > requests / 10,
            "both outcomes are common: {applied} applied, {rejected} rejected"
        );
        let mut codes: Vec<_> = decoded
            .iter()
            .filter_map(|o| match &o.result {
                OutcomeResult::Rejected(r) => Some(r.code.as_str()),
                _ => None,
            })
            .collect();
        codes.sort();
        codes.dedup();
        assert!(codes.len() >= 6, "many distinct reasons: {codes:?}");
        assert!(w.ledger().total_stake() > 0);
        // Secrets travel sealed to the registered test key and are admitted.
        let secrets_applied = decoded
            .iter()
            .filter(|o| matches!(&o.result, OutcomeResult::Applied { key, .. } if key.contains("/secrets/")))
            .count();
        assert!(
            secrets_applied > 20,
            "sealed Secrets applied: {secrets_applied}"
        );
        assert!(!codes.contains(&"secret_unsealed"), "{codes:?}");
        assert!(w.ledger().current_sealing_key(CLUSTER).is_some());
    }
}
