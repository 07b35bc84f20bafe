//! The pure half of the projector: log records in, table rows out.
//!
//! It owns a [`Ledger`] and feeds it each record in log order; the ledger's
//! changes and decisions become rows. No I/O here: the committer writes a
//! batch of rows together with the consumed position in one transaction.
//! Records that cannot be used (not protobuf, unknown or undecodable event)
//! become quarantine rows with the reason; nothing is dropped silently.

use daas_domain::{
    Body, Event, Ledger, LogEntry, LogPosition, Outcome, OutcomeResult, Role, admission::Decision,
    ledger::Change,
};
use sha2::{Digest, Sha256};

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
            + self.requests.len()
            + self.outcomes.len()
            + self.quarantine.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn i(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
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
                return quarantine(
                    rows,
                    Stream::Outcomes,
                    offset,
                    format!("not an outcome: {e}"),
                    bytes,
                );
            }
        };
        let (status, reason_code, reason, resource_version) = match o.result {
            OutcomeResult::Applied {
                action,
                resource_version,
                ..
            } => ("applied", None, Some(action), Some(resource_version)),
            OutcomeResult::Rejected(r) => {
                ("rejected", Some(r.code.as_str()), Some(r.message), None)
            }
        };
        rows.outcomes.push(OutcomeRow {
            offset,
            cluster_id: o.cluster_id.to_string(),
            request_id: i(o.request_id),
            status,
            reason_code,
            reason,
            resource_version,
            raw: bytes.to_vec(),
        });
    }

    /// Processes the record at `offset` (its protobuf bytes), appending rows to `rows`.
    pub fn process(&mut self, offset: i64, bytes: &[u8], rows: &mut Rows) {
        let entry = match LogEntry::decode(bytes) {
            Ok(e) => e,
            Err(e) => {
                return quarantine(
                    rows,
                    Stream::Log,
                    offset,
                    format!("not a log record: {e}"),
                    bytes,
                );
            }
        };
        self.last_position = Some(entry.position);
        let event = match &entry.body {
            Body::Event(e) => e,
            Body::Unknown => {
                return quarantine(
                    rows,
                    Stream::Log,
                    offset,
                    format!("unknown event type {}", entry.event_type),
                    bytes,
                );
            }
            Body::Poison(reason) => {
                return quarantine(
                    rows,
                    Stream::Log,
                    offset,
                    format!("undecodable event: {reason}"),
                    bytes,
                );
            }
        };
        let at_ms = i(entry.checkpoint_timestamp_ms);
        let pos = (
            i(entry.position.checkpoint),
            i(entry.position.transaction_index),
            i(entry.position.event_index),
        );
        // A deregistered node's row keeps what it was (the ledger forgets it).
        let leaving = match event {
            Event::NodeDeregistered(e) => self.ledger.nodes().get(&e.node_name).cloned(),
            _ => None,
        };
        let applied = self.ledger.apply(event);

        match event {
            Event::StakeDeposited(e) => history(
                rows,
                pos,
                e.staker,
                e.role,
                "deposit",
                e.amount,
                e.total_after,
                None,
                e.epoch,
                at_ms,
            ),
            Event::StakeWithdrawn(e) => history(
                rows,
                pos,
                e.staker,
                e.role,
                "withdraw",
                e.amount,
                e.total_after,
                None,
                e.epoch,
                at_ms,
            ),
            Event::StakeSlashed(e) => history(
                rows,
                pos,
                e.staker,
                e.role,
                "slash",
                e.amount,
                e.total_after,
                Some(e.reason.clone()),
                e.epoch,
                at_ms,
            ),
            Event::K8sApiRequest(r) => {
                let (status, code, reason) = match &applied.decision {
                    Some(Decision::Rejected(rej)) => (
                        "rejected",
                        Some(rej.code.as_str()),
                        Some(rej.message.clone()),
                    ),
                    _ => ("admitted", None, None),
                };
                rows.requests.push(RequestRow {
                    cluster_id: r.cluster_id.to_string(),
                    request_id: i(r.request_id),
                    position: pos,
                    tx_digest: hex::encode(entry.transaction_digest),
                    sender: r.sender.to_string(),
                    verb: r.verb.clone(),
                    api_version: r.api_version.clone(),
                    kind: r.kind.clone(),
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                    manifest_sha256: hex::encode(Sha256::digest(r.manifest.as_ref())),
                    manifest_bytes: i32::try_from(r.manifest.len()).unwrap_or(i32::MAX),
                    stake_mist: i(r.stake),
                    at_ms,
                    status,
                    reason_code: code,
                    reason,
                });
            }
            _ => {}
        }

        for change in applied.changes {
            match change {
                Change::Stake {
                    staker,
                    role,
                    amount,
                } => rows.stakes.push(StakeRow {
                    staker: staker.to_string(),
                    role: role.as_str(),
                    amount_mist: i(amount),
                    at_ms,
                }),
                Change::Node {
                    name,
                    entry: Some(n),
                } => rows.nodes.push(NodeRow {
                    status: if self.ledger.is_node_active(&name) {
                        "active"
                    } else {
                        "inactive"
                    },
                    name,
                    operator: n.operator.to_string(),
                    public_key: hex::encode(n.public_key.as_ref()),
                    endpoint: n.endpoint,
                    at_ms,
                }),
                // The ledger reports a removal only of a node it had.
                Change::Node { name, entry: None } => {
                    if let Some(last) = &leaving {
                        rows.nodes.push(NodeRow {
                            name,
                            operator: last.operator.to_string(),
                            public_key: hex::encode(last.public_key.as_ref()),
                            endpoint: last.endpoint.clone(),
                            status: "deregistered",
                            at_ms,
                        });
                    }
                }
                Change::NodeActivity { name, active, .. } => {
                    if let Some(n) = self.ledger.nodes().get(&name) {
                        rows.nodes.push(NodeRow {
                            name,
                            operator: n.operator.to_string(),
                            public_key: hex::encode(n.public_key.as_ref()),
                            endpoint: n.endpoint.clone(),
                            status: if active { "active" } else { "inactive" },
                            at_ms,
                        });
                    }
                }
                Change::NamespaceOwner {
                    cluster,
                    namespace,
                    owner,
                } => rows.access.push(AccessRow::Namespace {
                    cluster_id: cluster.to_string(),
                    namespace,
                    owner: owner.map(|o| o.to_string()),
                    at_ms,
                }),
                Change::Grant {
                    cluster,
                    namespace,
                    grantee,
                    role,
                } => rows.access.push(AccessRow::Grant {
                    cluster_id: cluster.to_string(),
                    namespace,
                    grantee: grantee.to_string(),
                    role: role.map(|r| r.as_str()),
                    at_ms,
                }),
                // Clusters, tenant objects, PCR sets and enclaves have no analyst table yet.
                Change::Cluster { .. }
                | Change::Object { .. }
                | Change::PcrSet { .. }
                | Change::Enclave { .. } => {}
            }
        }
    }
}

fn quarantine(rows: &mut Rows, stream: Stream, offset: i64, reason: String, raw: &[u8]) {
    rows.quarantine.push(QuarantineRow {
        stream,
        offset,
        reason,
        raw: raw.to_vec(),
    });
}

#[allow(clippy::too_many_arguments)]
fn history(
    rows: &mut Rows,
    position: (i64, i64, i64),
    staker: daas_domain::Address,
    role: u8,
    change: &'static str,
    amount: u64,
    total_after: u64,
    reason: Option<String>,
    epoch: u64,
    at_ms: i64,
) {
    rows.history.push(HistoryRow {
        position,
        staker: staker.to_string(),
        role: Role::from_move(role).map_or("unknown", Role::as_str),
        change,
        amount_mist: i(amount),
        total_after_mist: i(total_after),
        reason,
        epoch: i(epoch),
        at_ms,
    });
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
                    manifest: Bytes(b"kind: Secret".to_vec()),
                    stake: 5_000_000_000,
                    timestamp_ms: 1,
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
