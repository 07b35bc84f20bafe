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

use daas_domain::{
    Address, Bytes, Event, Ledger, LogEntry, LogPosition, Outcome, OutcomeResult, Role,
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
        }
    }

    /// The ledger after every record generated so far.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The next `n` records.
    pub fn records(&mut self, n: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        if self.ledger.cluster(CLUSTER).is_none() && n > 0 {
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
        while out.len() < n {
            let r = self.next_record();
            out.push(r);
        }
        out
    }

    fn now(&self) -> u64 {
        1_767_225_600_000 + self.checkpoint * 250
    }

    fn emit(&mut self, sender: Address, event: Event) -> Vec<u8> {
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
            })
        } else {
            Event::NodeRegistered(NodeRegistered {
                operator: op,
                node_name: name,
                public_key: Bytes(op.0.to_vec()),
                endpoint: format!("10.0.{}.{}:10250", i / 250, i % 250),
                timestamp_ms: t,
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
            })
        } else {
            Event::NamespaceRevoked(NamespaceRevoked {
                cluster_id: CLUSTER,
                namespace,
                grantee,
                revoked_by: self.tenants[owner],
                timestamp_ms: t,
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
        let request_id = self.next_request;
        self.next_request += 1;
        let t = self.now();
        let event = Event::K8sApiRequest(K8sApiRequest {
            cluster_id: CLUSTER,
            request_id,
            sender,
            verb: verb.into(),
            api_version: api_version.into(),
            kind: kind.into(),
            namespace: ns_field.into(),
            name,
            manifest: Bytes(manifest),
            stake: self.ledger.tier_stake(sender),
            timestamp_ms: t,
        });
        self.emit(sender, event)
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
    let head = format!(
        "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}{ns}\n  labels:\n    app: {name}\n    revision: \"{revision}\"\n"
    );
    let body = match kind {
        "ConfigMap" => format!(
            "data:\n  revision: \"{revision}\"\n  settings.yaml: |\n    log_level: info\n    workers: {}\n    cache_mb: 256\n",
            revision % 16
        ),
        "Secret" => format!(
            "type: Opaque\ndata:\n  password: {}\n",
            "c2VjcmV0LXBhc3N3b3JkLTEyMzQ1Njc4OTA="
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
            out.push(
                Outcome {
                    cluster_id: r.cluster_id,
                    request_id: r.request_id,
                    position: entry.position,
                    transaction_digest: entry.transaction_digest,
                    result,
                }
                .encode(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
