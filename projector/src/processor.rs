//! The pure half of the projector: log records in, table rows out.
//!
//! It owns a [`Ledger`] and feeds it each record in log order; the ledger's
//! changes and decisions become rows. No I/O here: the committer writes a
//! batch of rows together with the consumed position in one transaction.
//! Records that cannot be used (not protobuf, unknown or undecodable event,
//! a number beyond its column) become quarantine rows with the reason; a
//! record whose text had to be escaped or shortened to be stored keeps its
//! rows and gets a quarantine row saying so ([`crate::storable`]). Nothing is
//! dropped silently, and no tenant byte reaches a row unchecked.

use daas_domain::{
    Address, Body, Event, Ledger, LogEntry, LogPosition, Outcome, OutcomeResult, Role,
    admission::Decision,
    events::K8sApiRequest,
    ledger::{Change, NodeEntry},
};
use sha2::{Digest, Sha256};

use crate::storable::{self, Check};

/// `stakes` upsert (`amount_mist` 0 = delete).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakeRow {
    /// Staker, hex.
    pub staker: String,
    /// `user` / `node` / `admin`.
    pub role: &'static str,
    /// New amount; 0 removes the row.
    pub amount_mist: i64,
    /// Chain time, ms.
    pub at_ms: i64,
}

/// `stake_history` insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryRow {
    /// Position.
    pub position: (i64, i64, i64),
    /// Staker, hex.
    pub staker: String,
    /// Role.
    pub role: &'static str,
    /// `deposit` / `withdraw` / `slash`.
    pub change: &'static str,
    /// MIST moved.
    pub amount_mist: i64,
    /// Stake after, MIST.
    pub total_after_mist: i64,
    /// Slash reason.
    pub reason: Option<String>,
    /// Epoch.
    pub epoch: i64,
    /// Chain time, ms.
    pub at_ms: i64,
}

/// `nodes` upsert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRow {
    /// Node name.
    pub name: String,
    /// Operator, hex.
    pub operator: String,
    /// Public key, hex.
    pub public_key: String,
    /// Endpoint.
    pub endpoint: String,
    /// `active` / `inactive` / `deregistered`.
    pub status: &'static str,
    /// Chain time, ms.
    pub at_ms: i64,
}

/// `sealing_keys` upsert: one version of a cluster's public sealing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealingKeyRow {
    /// Cluster, hex.
    pub cluster_id: String,
    /// Key version (1..=u32::MAX).
    pub version: i64,
    /// The X25519 public key, 64 hex digits.
    pub public_key: String,
    /// The `AdminCap` holder who registered it, hex.
    pub registered_by: String,
    /// Chain time, ms.
    pub at_ms: i64,
}

/// `namespaces` / `grants` change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccessRow {
    /// A namespace with its owner (`None` = deleted).
    Namespace {
        /// Cluster, hex.
        cluster_id: String,
        /// Namespace.
        namespace: String,
        /// Owner, hex; `None` deletes the row.
        owner: Option<String>,
        /// Chain time, ms.
        at_ms: i64,
    },
    /// A grant (`None` = revoked).
    Grant {
        /// Cluster, hex.
        cluster_id: String,
        /// Namespace.
        namespace: String,
        /// Grantee, hex.
        grantee: String,
        /// `viewer` / `editor`; `None` deletes the row.
        role: Option<&'static str>,
        /// Chain time, ms.
        at_ms: i64,
    },
}

/// `requests` insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRow {
    /// Cluster, hex.
    pub cluster_id: String,
    /// Request number.
    pub request_id: i64,
    /// Position.
    pub position: (i64, i64, i64),
    /// Transaction digest, hex.
    pub tx_digest: String,
    /// Sender, hex.
    pub sender: String,
    /// Verb.
    pub verb: String,
    /// apiVersion.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// SHA-256 of the manifest, hex.
    pub manifest_sha256: String,
    /// Manifest size.
    pub manifest_bytes: i32,
    /// Sender's tier stake at submission.
    pub stake_mist: i64,
    /// Chain time, ms.
    pub at_ms: i64,
    /// `admitted` / `rejected`.
    pub status: &'static str,
    /// Reject code.
    pub reason_code: Option<&'static str>,
    /// Reject detail.
    pub reason: Option<String>,
}

/// `requests` update from the master's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutcomeRow {
    /// Kafka offset of the outcome record (to quarantine it if no request matches).
    pub offset: i64,
    /// Cluster, hex.
    pub cluster_id: String,
    /// Request number.
    pub request_id: i64,
    /// `applied` / `rejected`.
    pub status: &'static str,
    /// Reject code.
    pub reason_code: Option<&'static str>,
    /// Reject detail, or the applied action (`created`, `configured`, …).
    pub reason: Option<String>,
    /// Resource version after the write.
    pub resource_version: Option<i64>,
    /// The outcome record's bytes.
    pub raw: Vec<u8>,
}

/// Which topic a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The log topic (chain events).
    Log,
    /// The master's outcome topic.
    Outcomes,
}

/// `quarantine` insert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuarantineRow {
    /// The topic it came from.
    pub stream: Stream,
    /// Kafka offset of the record.
    pub offset: i64,
    /// Why it was not used.
    pub reason: String,
    /// The record's bytes.
    pub raw: Vec<u8>,
}

/// Rows produced by a batch of records, in log order within each table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rows {
    /// Stake upserts/deletes.
    pub stakes: Vec<StakeRow>,
    /// Stake history inserts.
    pub history: Vec<HistoryRow>,
    /// Node upserts.
    pub nodes: Vec<NodeRow>,
    /// Namespace and grant changes.
    pub access: Vec<AccessRow>,
    /// Sealing key upserts.
    pub sealing_keys: Vec<SealingKeyRow>,
    /// Request inserts.
    pub requests: Vec<RequestRow>,
    /// Outcomes of requests.
    pub outcomes: Vec<OutcomeRow>,
    /// Quarantined records.
    pub quarantine: Vec<QuarantineRow>,
}

impl Rows {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.stakes.len()
            + self.history.len()
            + self.nodes.len()
            + self.access.len()
            + self.sealing_keys.len()
            + self.requests.len()
            + self.outcomes.len()
            + self.quarantine.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves every row of `other` to the end of `self`.
    pub fn append(&mut self, other: &mut Rows) {
        self.stakes.append(&mut other.stakes);
        self.history.append(&mut other.history);
        self.nodes.append(&mut other.nodes);
        self.access.append(&mut other.access);
        self.sealing_keys.append(&mut other.sealing_keys);
        self.requests.append(&mut other.requests);
        self.outcomes.append(&mut other.outcomes);
        self.quarantine.append(&mut other.quarantine);
    }
}

/// Feeds records to the ledger and collects rows.
#[derive(Default)]
pub struct Processor {
    ledger: Ledger,
    last_position: Option<LogPosition>,
}

impl Processor {
    /// The ledger as of the last processed record.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Chain position of the last log record processed (that had one).
    pub fn last_position(&self) -> Option<LogPosition> {
        self.last_position
    }

    /// Processes the outcome record at `offset` of the outcome topic.
    pub fn process_outcome(&mut self, offset: i64, bytes: &[u8], rows: &mut Rows) {
        let o = match Outcome::decode(bytes) {
            Ok(o) => o,
            Err(e) => {
                let reason = format!("not an outcome: {e}");
                return quarantine(rows, Stream::Outcomes, offset, &reason, bytes);
            }
        };
        let mut check = Check::default();
        let (status, reason_code, reason, resource_version) = match o.result {
            // Not a request's: the master refused a record of the log. Kept
            // beside the projector's own quarantine rows, with the master's
            // reason and the outcome's bytes.
            OutcomeResult::Quarantined {
                offset: at,
                label,
                reason,
            } => {
                let why = format!("the master quarantined log record {at} ({label}): {reason}");
                return quarantine(rows, Stream::Outcomes, offset, &why, bytes);
            }
            OutcomeResult::Applied {
                action,
                resource_version,
                ..
            } => ("applied", None, Some(action), Some(resource_version)),
            OutcomeResult::Rejected(r) => {
                ("rejected", Some(r.code.as_str()), Some(r.message), None)
            }
        };
        let row = OutcomeRow {
            offset,
            cluster_id: o.cluster_id.to_string(),
            request_id: check.int("requests.request_id", o.request_id),
            status,
            reason_code,
            reason: reason.map(|r| check.text("requests.reason", &r)),
            resource_version,
            raw: bytes.to_vec(),
        };
        // An escaped reason is lossless (and the outcome's bytes stay on its
        // topic): only an unstorable number keeps the outcome out.
        match check.finish() {
            Ok(_) => rows.outcomes.push(row),
            Err(why) => quarantine(
                rows,
                Stream::Outcomes,
                offset,
                &format!("not stored: {why}"),
                bytes,
            ),
        }
    }

    /// Processes the record at `offset` (its protobuf bytes), appending rows to
    /// `rows`: the record's rows, or its quarantine row, or both (its rows
    /// with values stored escaped or shortened, and a quarantine row saying so
    /// beside the exact bytes).
    pub fn process(&mut self, offset: i64, bytes: &[u8], rows: &mut Rows) {
        match LogEntry::decode(bytes) {
            Ok(entry) => self.process_entry(offset, &entry, bytes, rows),
            Err(e) => {
                let reason = format!("not a log record: {e}");
                quarantine(rows, Stream::Log, offset, &reason, bytes)
            }
        }
    }

    /// Processes `entry`, decoded (or, when verified, rebuilt from certified
    /// bytes) from the record at `offset` whose bytes are `bytes`; as
    /// [`Processor::process`] from there.
    pub fn process_entry(&mut self, offset: i64, entry: &LogEntry, bytes: &[u8], rows: &mut Rows) {
        self.last_position = Some(entry.position);
        // An epoch change carries no event: nothing to store (its position counts).
        if let Body::EpochChange { .. } = entry.body {
            return;
        }
        let event = match usable_event(entry) {
            Ok(e) => e,
            Err(reason) => return quarantine(rows, Stream::Log, offset, &reason, bytes),
        };
        let mut record = RecordRows::new(entry);
        self.apply(event, &mut record);
        record.finish(offset, bytes, rows);
    }

    /// Applies `event` to the ledger and turns what it did into rows.
    fn apply(&mut self, event: &Event, record: &mut RecordRows<'_>) {
        // A deregistered node's row keeps what it was (the ledger forgets it).
        let leaving = match event {
            Event::NodeDeregistered(e) => self.ledger.nodes().get(&e.node_name).cloned(),
            _ => None,
        };
        let applied = self.ledger.apply(event);
        record.event_row(event, applied.decision.as_ref());
        for change in applied.changes {
            self.change_row(change, leaving.as_ref(), record);
        }
    }

    /// The row of one ledger change, if its table exists.
    fn change_row(&self, change: Change, leaving: Option<&NodeEntry>, record: &mut RecordRows<'_>) {
        match change {
            Change::Stake {
                staker,
                role,
                amount,
            } => record.stake(staker, role, amount),
            Change::Node {
                name,
                entry: Some(n),
            } => {
                let status = if self.ledger.is_node_active(&name) {
                    "active"
                } else {
                    "inactive"
                };
                record.node(&name, &n, status);
            }
            // The ledger reports a removal only of a node it had.
            Change::Node { name, entry: None } => {
                if let Some(last) = leaving {
                    record.node(&name, last, "deregistered");
                }
            }
            Change::NodeActivity { name, active, .. } => {
                if let Some(n) = self.ledger.nodes().get(&name) {
                    record.node(&name, n, if active { "active" } else { "inactive" });
                }
            }
            Change::NamespaceOwner {
                cluster,
                namespace,
                owner,
            } => record.namespace(cluster, &namespace, owner),
            Change::Grant {
                cluster,
                namespace,
                grantee,
                role,
            } => record.grant(cluster, &namespace, grantee, role.map(|r| r.as_str())),
            Change::SealingKey {
                cluster,
                version,
                public_key,
            } => record.sealing_key(cluster, version, &public_key),
            // Clusters, tenant objects, PCR sets and enclaves have no analyst table yet.
            Change::Cluster { .. }
            | Change::Object { .. }
            | Change::PcrSet { .. }
            | Change::Enclave { .. } => {}
        }
    }
}

/// A row for the log record at `offset` that verification refused.
pub fn refuse(rows: &mut Rows, offset: i64, reason: &str, raw: &[u8]) {
    quarantine(rows, Stream::Log, offset, reason, raw);
}

/// The event of a decoded record, or why it cannot be used.
fn usable_event(entry: &LogEntry) -> Result<&Event, String> {
    match &entry.body {
        Body::Event(e) => Ok(e),
        Body::Unknown => Err(format!("unknown event type {}", entry.event_type)),
        Body::Poison(reason) => Err(format!("undecodable event: {reason}")),
        Body::EpochChange { epoch } => Err(format!("epoch {epoch} change, not an event")),
    }
}

/// A quarantine row; the reason may quote tenant bytes, so it is escaped.
fn quarantine(rows: &mut Rows, stream: Stream, offset: i64, reason: &str, raw: &[u8]) {
    rows.quarantine.push(QuarantineRow {
        stream,
        offset,
        reason: storable::escape(reason),
        raw: raw.to_vec(),
    });
}

/// One stake movement, for `stake_history`.
struct StakeMove<'a> {
    staker: Address,
    role: u8,
    change: &'static str,
    amount: u64,
    total_after: u64,
    reason: Option<&'a str>,
    epoch: u64,
}

/// One record's rows while they are built, with the checks of their values:
/// they join the batch only once every value is known to be storable.
struct RecordRows<'a> {
    entry: &'a LogEntry,
    check: Check,
    rows: Rows,
    position: (i64, i64, i64),
    at_ms: i64,
}

impl<'a> RecordRows<'a> {
    fn new(entry: &'a LogEntry) -> Self {
        let mut check = Check::default();
        let p = entry.position;
        let position = (
            check.int("position.checkpoint", p.checkpoint),
            check.int("position.tx_index", p.transaction_index),
            check.int("position.event_index", p.event_index),
        );
        let at_ms = check.time("chain_time", entry.checkpoint_timestamp_ms);
        Self {
            entry,
            check,
            rows: Rows::default(),
            position,
            at_ms,
        }
    }

    /// The rows of the event itself (history, requests).
    fn event_row(&mut self, event: &Event, decision: Option<&Decision>) {
        let (staker, role, change, amount, total_after, reason, epoch) = match event {
            Event::StakeDeposited(e) => (
                e.staker,
                e.role,
                "deposit",
                e.amount,
                e.total_after,
                None,
                e.epoch,
            ),
            Event::StakeWithdrawn(e) => (
                e.staker,
                e.role,
                "withdraw",
                e.amount,
                e.total_after,
                None,
                e.epoch,
            ),
            Event::StakeSlashed(e) => (
                e.staker,
                e.role,
                "slash",
                e.amount,
                e.total_after,
                Some(e.reason.as_str()),
                e.epoch,
            ),
            Event::K8sApiRequest(r) => return self.request(r, decision),
            _ => return,
        };
        self.history(StakeMove {
            staker,
            role,
            change,
            amount,
            total_after,
            reason,
            epoch,
        });
    }

    fn history(&mut self, m: StakeMove<'_>) {
        let c = &mut self.check;
        let row = HistoryRow {
            position: self.position,
            staker: m.staker.to_string(),
            role: Role::from_move(m.role).map_or("unknown", Role::as_str),
            change: m.change,
            amount_mist: c.int("stake_history.amount_mist", m.amount),
            total_after_mist: c.int("stake_history.total_after_mist", m.total_after),
            reason: m.reason.map(|r| c.text("stake_history.reason", r)),
            epoch: c.int("stake_history.epoch", m.epoch),
            at_ms: self.at_ms,
        };
        self.rows.history.push(row);
    }

    fn request(&mut self, r: &K8sApiRequest, decision: Option<&Decision>) {
        let (status, reason_code, reason) = match decision {
            Some(Decision::Rejected(rej)) => (
                "rejected",
                Some(rej.code.as_str()),
                Some(rej.message.as_str()),
            ),
            _ => ("admitted", None, None),
        };
        let c = &mut self.check;
        let row = RequestRow {
            cluster_id: r.cluster_id.to_string(),
            request_id: c.int("requests.request_id", r.request_id),
            position: self.position,
            tx_digest: hex::encode(self.entry.transaction_digest),
            sender: r.sender.to_string(),
            verb: c.key("requests.verb", &r.verb),
            api_version: c.text("requests.api_version", &r.api_version),
            kind: c.text("requests.kind", &r.kind),
            namespace: c.key("requests.namespace", &r.namespace),
            name: c.text("requests.name", &r.name),
            manifest_sha256: hex::encode(Sha256::digest(r.manifest.as_ref())),
            manifest_bytes: i32::try_from(r.manifest.len()).unwrap_or(i32::MAX),
            stake_mist: c.int("requests.stake_mist", r.stake),
            at_ms: self.at_ms,
            status,
            reason_code,
            reason: reason.map(|m| c.text("requests.reason", m)),
        };
        self.rows.requests.push(row);
    }

    fn stake(&mut self, staker: Address, role: Role, amount: u64) {
        let row = StakeRow {
            staker: staker.to_string(),
            role: role.as_str(),
            amount_mist: self.check.int("stakes.amount_mist", amount),
            at_ms: self.at_ms,
        };
        self.rows.stakes.push(row);
    }

    fn node(&mut self, name: &str, n: &NodeEntry, status: &'static str) {
        let row = NodeRow {
            name: self.check.key("nodes.name", name),
            operator: n.operator.to_string(),
            public_key: hex::encode(n.public_key.as_ref()),
            endpoint: self.check.text("nodes.endpoint", &n.endpoint),
            status,
            at_ms: self.at_ms,
        };
        self.rows.nodes.push(row);
    }

    fn namespace(&mut self, cluster: Address, namespace: &str, owner: Option<Address>) {
        let row = AccessRow::Namespace {
            cluster_id: cluster.to_string(),
            namespace: self.check.key("namespaces.namespace", namespace),
            owner: owner.map(|o| o.to_string()),
            at_ms: self.at_ms,
        };
        self.rows.access.push(row);
    }

    fn grant(
        &mut self,
        cluster: Address,
        namespace: &str,
        grantee: Address,
        role: Option<&'static str>,
    ) {
        let row = AccessRow::Grant {
            cluster_id: cluster.to_string(),
            namespace: self.check.key("grants.namespace", namespace),
            grantee: grantee.to_string(),
            role,
            at_ms: self.at_ms,
        };
        self.rows.access.push(row);
    }

    /// A sealing key the ledger recorded; who registered it comes from the
    /// event (the transaction's sender, should the body say otherwise).
    fn sealing_key(&mut self, cluster: Address, version: u32, public_key: &[u8; 32]) {
        let registered_by = match &self.entry.body {
            Body::Event(Event::SealingKeyRegistered(e)) => e.registered_by,
            _ => self.entry.sender,
        };
        let row = SealingKeyRow {
            cluster_id: cluster.to_string(),
            version: i64::from(version),
            public_key: hex::encode(public_key),
            registered_by: registered_by.to_string(),
            at_ms: self.at_ms,
        };
        self.rows.sealing_keys.push(row);
    }

    /// Adds the record's rows to the batch; when a value could not be stored,
    /// its quarantine row instead; when values were escaped or shortened, a
    /// quarantine row saying which beside its rows.
    fn finish(mut self, offset: i64, raw: &[u8], rows: &mut Rows) {
        match std::mem::take(&mut self.check).finish() {
            Err(why) => quarantine(
                rows,
                Stream::Log,
                offset,
                &format!("not stored: {why}"),
                raw,
            ),
            Ok(notes) => {
                rows.append(&mut self.rows);
                if let Some(notes) = notes {
                    quarantine(
                        rows,
                        Stream::Log,
                        offset,
                        &format!("stored altered: {notes}"),
                        raw,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use daas_domain::{Address, Bytes, LogPosition, events::*};

    fn record(n: u64, event: Event) -> Vec<u8> {
        let (m, name) = event.move_type();
        LogEntry::from_chain(
            LogPosition::new(n, 0, 0),
            [n as u8; 32],
            1_700_000_000_000 + n,
            format!("0xda45::{m}::{name}"),
            Address([1; 32]),
            event.to_bcs(),
        )
        .encode()
    }

    /// An epoch change is no event: no row, no quarantine, but its position counts.
    #[test]
    fn an_epoch_change_is_a_no_op_whose_position_advances() {
        let mut p = Processor::default();
        let mut rows = Rows::default();
        let proof = daas_domain::record::CheckpointProofBytes::default();
        let change = LogEntry::epoch_change(42, 1_700_000_000_000, 3, proof);
        p.process(0, &change.encode(), &mut rows);
        assert_eq!(p.last_position(), Some(LogPosition::new(42, 0, 0)));
        assert!(rows.is_empty(), "no row and no quarantine");
    }

    #[test]
    fn stakes_requests_and_bad_records_become_rows() {
        let cluster = Address([0xc1; 32]);
        let tenant = Address([0xa1; 32]);
        let mut p = Processor::default();
        let mut rows = Rows::default();
        p.process(
            0,
            &record(
                1,
                Event::ClusterCreated(ClusterCreated {
                    cluster_id: cluster,
                    name: "c".into(),
                    admin: Address([9; 32]),
                    timestamp_ms: 1,
                }),
            ),
            &mut rows,
        );
        p.process(
            1,
            &record(
                2,
                Event::StakeDeposited(StakeDeposited {
                    staker: tenant,
                    role: 0,
                    amount: 5_000_000_000,
                    total_after: 5_000_000_000,
                    epoch: 1,
                    timestamp_ms: 1,
                    seq: 0,
                }),
            ),
            &mut rows,
        );
        p.process(
            2,
            &record(
                3,
                Event::K8sApiRequest(K8sApiRequest {
                    cluster_id: cluster,
                    request_id: 0,
                    sender: tenant,
                    verb: "create".into(),
                    api_version: "v1".into(),
                    kind: "Secret".into(),
                    namespace: "default".into(),
                    name: "s".into(),
                    // Well formed: admission looks at the content before the tier (decision 0010).
                    manifest: Bytes(
                        br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"default"}}"#
                            .to_vec(),
                    ),
                    stake: 5_000_000_000,
                    timestamp_ms: 1, seq: 0,
                }),
            ),
            &mut rows,
        );
        p.process(3, b"\xff\xff not protobuf", &mut rows);

        assert_eq!(
            rows.stakes,
            vec![StakeRow {
                staker: tenant.to_string(),
                role: "user",
                amount_mist: 5_000_000_000,
                at_ms: 1_700_000_000_002
            }]
        );
        assert_eq!(rows.history.len(), 1);
        assert_eq!(rows.history[0].change, "deposit");
        assert_eq!(rows.requests.len(), 1);
        assert_eq!(rows.requests[0].status, "rejected");
        assert_eq!(rows.requests[0].reason_code, Some("insufficient_stake"));
        assert_eq!(
            rows.access.len(),
            4,
            "the system namespaces of the new cluster"
        );
        assert_eq!(rows.quarantine.len(), 1);
        assert!(rows.quarantine[0].reason.starts_with("not a log record"));
    }
}
