//! Log records: one chain event with its place in the order, and its
//! conversion to and from the protobuf `daas.v1.LogRecord` on the log topic.
//!
//! The raw BCS travels in every record. A reader prefers the typed `oneof`;
//! when the writer did not know the type (`unknown`) and this reader does, it
//! decodes the BCS itself, so old records gain meaning after an upgrade.
//!
//! Records also carry proofs ([`Proof`]): the BCS bytes of the certified
//! checkpoint summary, its signature and contents on the first record of each
//! checkpoint in the log, the transaction's effects and events on the first
//! record of each transaction. They are plain bytes here (the domain knows no
//! Sui types); a verifier decodes and checks them. An epoch that ended in a
//! checkpoint without our events gets its own record, [`Body::EpochChange`].

use daas_proto::v1::{self, log_record::Event as Pb};

use crate::{
    Address, Bytes, Decoded, Event, LogPosition,
    events::{self, *},
};

/// What a record carries.
// Nearly every record is an `Event`; boxing it would cost an allocation per record.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A decoded event of our package.
    Event(Event),
    /// An event type of our package this reader does not know; see [`LogEntry::bcs`].
    Unknown,
    /// A known type whose contents did not decode, with the reason.
    Poison(String),
    /// Not an event: `epoch` ended in this record's checkpoint, which holds
    /// none of our events; its proof carries the certified summary (and so the
    /// next committee). Readers that do not verify skip it.
    EpochChange {
        /// The epoch that ended.
        epoch: u64,
    },
}

/// The bytes that prove a checkpoint (protobuf `CheckpointProof`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckpointProofBytes {
    /// BCS of the `CheckpointSummary`.
    pub summary_bcs: Vec<u8>,
    /// BCS of the `ValidatorAggregatedSignature` over it.
    pub signature_bcs: Vec<u8>,
    /// BCS of the `CheckpointContents` (empty on an epoch change record).
    pub contents_bcs: Vec<u8>,
}

/// The bytes that prove a transaction's events (protobuf `TransactionProof`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionProofBytes {
    /// BCS of the `TransactionEffects`.
    pub effects_bcs: Vec<u8>,
    /// BCS of the `TransactionEvents`.
    pub events_bcs: Vec<u8>,
}

/// The proofs a record carries: the checkpoint's on the first record of each
/// checkpoint in the log, the transaction's on the first record of each
/// transaction; none on the others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proof {
    /// The checkpoint's summary, signature and contents.
    pub checkpoint: Option<CheckpointProofBytes>,
    /// The transaction's effects and events.
    pub transaction: Option<TransactionProofBytes>,
}

/// One record of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Place in chain order.
    pub position: LogPosition,
    /// Digest of the emitting transaction (32 bytes).
    pub transaction_digest: [u8; 32],
    /// Checkpoint timestamp, ms.
    pub checkpoint_timestamp_ms: u64,
    /// Full Move type, `0x<package>::<module>::<Name>`.
    pub event_type: String,
    /// Transaction sender.
    pub sender: Address,
    /// The event contents as emitted.
    pub bcs: Vec<u8>,
    /// The decoded meaning.
    pub body: Body,
    /// What a verifier needs to check it (may be empty).
    pub proof: Proof,
}

/// Why protobuf bytes are not a usable record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not a protobuf `LogRecord`.
    #[error("not a daas.v1.LogRecord: {0}")]
    Protobuf(String),
    /// A required field is absent.
    #[error("field {0} is missing")]
    Missing(&'static str),
    /// A fixed-size field has the wrong size.
    #[error("field {field} must be {want} bytes, got {got}")]
    Length {
        /// The field.
        field: &'static str,
        /// Expected size.
        want: usize,
        /// Actual size.
        got: usize,
    },
    /// An enum field holds a value outside its range.
    #[error("field {field} has no valid value ({value})")]
    Enum {
        /// The field.
        field: &'static str,
        /// The value.
        value: i32,
    },
    /// The event type string is not `address::module::Name`.
    #[error("event type {0:?} is not address::module::Name")]
    EventType(String),
}

/// `(module, name)` of a full Move event type `0x…::module::Name`.
pub fn split_event_type(event_type: &str) -> Option<(&str, &str)> {
    let mut parts = event_type.splitn(3, "::");
    let (_address, module, name) = (parts.next()?, parts.next()?, parts.next()?);
    (!module.is_empty() && !name.is_empty() && !name.contains("::")).then_some((module, name))
}

impl LogEntry {
    /// Decodes an event's contents into an entry: known, unknown or poison.
    /// Never fails: bad contents become [`Body::Poison`] with the reason.
    pub fn from_chain(
        position: LogPosition,
        transaction_digest: [u8; 32],
        checkpoint_timestamp_ms: u64,
        event_type: String,
        sender: Address,
        bcs: Vec<u8>,
    ) -> Self {
        let body = match split_event_type(&event_type) {
            None => Body::Poison(format!(
                "event type {event_type:?} is not address::module::Name"
            )),
            Some((module, name)) => match events::decode(module, name, &bcs) {
                Ok(Decoded::Known(e)) => Body::Event(e),
                Ok(Decoded::Unknown) => Body::Unknown,
                Err(e) => Body::Poison(e.to_string()),
            },
        };
        Self {
            position,
            transaction_digest,
            checkpoint_timestamp_ms,
            event_type,
            sender,
            bcs,
            body,
            proof: Proof::default(),
        }
    }

    /// The record of `epoch` ending in `checkpoint` (which holds none of our
    /// events): position `(checkpoint, 0, 0)`, no transaction, sender or BCS,
    /// proved by the checkpoint's summary and signature in `proof`.
    pub fn epoch_change(
        checkpoint: u64,
        checkpoint_timestamp_ms: u64,
        epoch: u64,
        proof: CheckpointProofBytes,
    ) -> Self {
        Self {
            position: LogPosition::new(checkpoint, 0, 0),
            transaction_digest: [0; 32],
            checkpoint_timestamp_ms,
            event_type: String::new(),
            sender: Address([0; 32]),
            bcs: Vec::new(),
            body: Body::EpochChange { epoch },
            proof: Proof {
                checkpoint: Some(proof),
                transaction: None,
            },
        }
    }

    /// The protobuf record.
    pub fn to_proto(&self) -> v1::LogRecord {
        // An epoch change names no transaction or sender: they stay empty.
        let (transaction_digest, sender) = match self.body {
            Body::EpochChange { .. } => (Vec::new(), Vec::new()),
            _ => (self.transaction_digest.to_vec(), self.sender.0.to_vec()),
        };
        v1::LogRecord {
            position: Some(v1::Position {
                checkpoint: self.position.checkpoint,
                transaction_index: self.position.transaction_index,
                event_index: self.position.event_index,
            }),
            transaction_digest,
            checkpoint_timestamp_ms: self.checkpoint_timestamp_ms,
            event_type: self.event_type.clone(),
            sender,
            bcs: self.bcs.clone(),
            checkpoint_proof: self
                .proof
                .checkpoint
                .as_ref()
                .map(checkpoint_proof_to_proto),
            transaction_proof: self
                .proof
                .transaction
                .as_ref()
                .map(transaction_proof_to_proto),
            event: Some(match &self.body {
                Body::Event(e) => event_to_proto(e),
                Body::Unknown => Pb::Unknown(v1::Unknown {}),
                Body::Poison(reason) => Pb::Poison(v1::Poison {
                    reason: reason.clone(),
                }),
                Body::EpochChange { epoch } => Pb::EpochChange(v1::EpochChange { epoch: *epoch }),
            }),
        }
    }

    /// Encoded protobuf bytes, as produced to the log topic.
    pub fn encode(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&self.to_proto())
    }

    /// Decodes protobuf bytes read from the log topic.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let record: v1::LogRecord =
            prost::Message::decode(bytes).map_err(|e| RecordError::Protobuf(e.to_string()))?;
        Self::from_proto(record)
    }

    /// From a protobuf record.
    pub fn from_proto(mut r: v1::LogRecord) -> Result<Self, RecordError> {
        let p = r.position.ok_or(RecordError::Missing("position"))?;
        let position = LogPosition::new(p.checkpoint, p.transaction_index, p.event_index);
        let proof = Proof {
            checkpoint: r.checkpoint_proof.take().map(checkpoint_proof_from_proto),
            transaction: r.transaction_proof.take().map(transaction_proof_from_proto),
        };
        if let Some(Pb::EpochChange(e)) = &r.event {
            return epoch_change_from_proto(position, e.epoch, r, proof);
        }
        let transaction_digest = fixed::<32>("transaction_digest", &r.transaction_digest)?;
        let sender = Address(fixed::<32>("sender", &r.sender)?);
        let body = match r.event.ok_or(RecordError::Missing("event"))? {
            Pb::Unknown(_) => {
                // A newer reader may know what the writer did not.
                let (module, name) = split_event_type(&r.event_type)
                    .ok_or_else(|| RecordError::EventType(r.event_type.clone()))?;
                match events::decode(module, name, &r.bcs) {
                    Ok(Decoded::Known(e)) => Body::Event(e),
                    Ok(Decoded::Unknown) => Body::Unknown,
                    Err(e) => Body::Poison(e.to_string()),
                }
            }
            Pb::Poison(p) => Body::Poison(p.reason),
            Pb::EpochChange(e) => Body::EpochChange { epoch: e.epoch },
            // The same range checks as decoding from BCS: a typed event the
            // chain could never have emitted is poison here too.
            typed => {
                let event = event_from_proto(typed)?;
                match event.check_ranges() {
                    Ok(()) => Body::Event(event),
                    Err(e) => Body::Poison(e.to_string()),
                }
            }
        };
        Ok(Self {
            position,
            transaction_digest,
            checkpoint_timestamp_ms: r.checkpoint_timestamp_ms,
            event_type: r.event_type,
            sender,
            bcs: r.bcs,
            body,
            proof,
        })
    }
}

/// An epoch change record: it names no transaction, sender, event type or
/// BCS, and a record that does is not one the indexer writes.
fn epoch_change_from_proto(
    position: LogPosition,
    epoch: u64,
    r: v1::LogRecord,
    proof: Proof,
) -> Result<LogEntry, RecordError> {
    for (field, got) in [
        ("transaction_digest", r.transaction_digest.len()),
        ("sender", r.sender.len()),
        ("bcs", r.bcs.len()),
        ("event_type", r.event_type.len()),
    ] {
        if got != 0 {
            return Err(RecordError::Length {
                field,
                want: 0,
                got,
            });
        }
    }
    Ok(LogEntry {
        position,
        transaction_digest: [0; 32],
        checkpoint_timestamp_ms: r.checkpoint_timestamp_ms,
        event_type: String::new(),
        sender: Address([0; 32]),
        bcs: Vec::new(),
        body: Body::EpochChange { epoch },
        proof,
    })
}

fn checkpoint_proof_to_proto(p: &CheckpointProofBytes) -> v1::CheckpointProof {
    v1::CheckpointProof {
        summary_bcs: p.summary_bcs.clone(),
        signature_bcs: p.signature_bcs.clone(),
        contents_bcs: p.contents_bcs.clone(),
    }
}

fn checkpoint_proof_from_proto(p: v1::CheckpointProof) -> CheckpointProofBytes {
    CheckpointProofBytes {
        summary_bcs: p.summary_bcs,
        signature_bcs: p.signature_bcs,
        contents_bcs: p.contents_bcs,
    }
}

fn transaction_proof_to_proto(p: &TransactionProofBytes) -> v1::TransactionProof {
    v1::TransactionProof {
        effects_bcs: p.effects_bcs.clone(),
        events_bcs: p.events_bcs.clone(),
    }
}

fn transaction_proof_from_proto(p: v1::TransactionProof) -> TransactionProofBytes {
    TransactionProofBytes {
        effects_bcs: p.effects_bcs,
        events_bcs: p.events_bcs,
    }
}

pub(crate) fn fixed<const N: usize>(
    field: &'static str,
    bytes: &[u8],
) -> Result<[u8; N], RecordError> {
    <[u8; N]>::try_from(bytes).map_err(|_| RecordError::Length {
        field,
        want: N,
        got: bytes.len(),
    })
}

fn addr(field: &'static str, bytes: &[u8]) -> Result<Address, RecordError> {
    fixed::<32>(field, bytes).map(Address)
}

/// Move role `u8` → protobuf `Role` (the protobuf reserves 0 for "unspecified").
fn role_to_proto(role: u8) -> i32 {
    i32::from(role) + 1
}

fn role_from_proto(field: &'static str, value: i32) -> Result<u8, RecordError> {
    match value {
        1..=3 => Ok((value - 1) as u8),
        _ => Err(RecordError::Enum { field, value }),
    }
}

fn event_to_proto(e: &Event) -> Pb {
    let b = |a: &Address| a.0.to_vec();
    match e {
        Event::StakeDeposited(e) => Pb::StakeDeposited(v1::StakeDeposited {
            staker: b(&e.staker),
            role: role_to_proto(e.role),
            amount: e.amount,
            total_after: e.total_after,
            epoch: e.epoch,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::StakeWithdrawn(e) => Pb::StakeWithdrawn(v1::StakeWithdrawn {
            staker: b(&e.staker),
            role: role_to_proto(e.role),
            amount: e.amount,
            total_after: e.total_after,
            epoch: e.epoch,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::StakeSlashed(e) => Pb::StakeSlashed(v1::StakeSlashed {
            staker: b(&e.staker),
            role: role_to_proto(e.role),
            amount: e.amount,
            total_after: e.total_after,
            reason: e.reason.clone(),
            slashed_by: b(&e.slashed_by),
            epoch: e.epoch,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::ClusterCreated(e) => Pb::ClusterCreated(v1::ClusterCreated {
            cluster_id: b(&e.cluster_id),
            name: e.name.clone(),
            admin: b(&e.admin),
            timestamp_ms: e.timestamp_ms,
        }),
        Event::K8sApiRequest(e) => Pb::K8sApiRequest(v1::K8sApiRequest {
            cluster_id: b(&e.cluster_id),
            request_id: e.request_id,
            sender: b(&e.sender),
            verb: e.verb.clone(),
            api_version: e.api_version.clone(),
            kind: e.kind.clone(),
            namespace: e.namespace.clone(),
            name: e.name.clone(),
            manifest: e.manifest.0.clone(),
            stake: e.stake,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::NodeRegistered(e) => Pb::NodeRegistered(v1::NodeRegistered {
            operator: b(&e.operator),
            node_name: e.node_name.clone(),
            public_key: e.public_key.0.clone(),
            endpoint: e.endpoint.clone(),
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::NodeDeregistered(e) => Pb::NodeDeregistered(v1::NodeDeregistered {
            operator: b(&e.operator),
            node_name: e.node_name.clone(),
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::NamespaceGranted(e) => Pb::NamespaceGranted(v1::NamespaceGranted {
            cluster_id: b(&e.cluster_id),
            namespace: e.namespace.clone(),
            grantee: b(&e.grantee),
            role: role_to_proto(e.role),
            granted_by: b(&e.granted_by),
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::NamespaceRevoked(e) => Pb::NamespaceRevoked(v1::NamespaceRevoked {
            cluster_id: b(&e.cluster_id),
            namespace: e.namespace.clone(),
            grantee: b(&e.grantee),
            revoked_by: b(&e.revoked_by),
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::PcrSetRegistered(e) => Pb::PcrSetRegistered(v1::PcrSetRegistered {
            version: e.version,
            pcr0: e.pcr0.0.clone(),
            pcr1: e.pcr1.0.clone(),
            pcr2: e.pcr2.0.clone(),
            registered_by: b(&e.registered_by),
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Event::EnclaveRegistered(e) => Pb::EnclaveRegistered(v1::EnclaveRegistered {
            pcr_version: e.pcr_version,
            public_key: e.public_key.0.clone(),
            attestation_digest: Vec::new(),
            registered_by: b(&e.registered_by),
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
            cluster_id: b(&e.cluster_id),
            sealing_key_version: e.sealing_key_version,
            sealing_public_key: e.sealing_public_key.0.clone(),
            module_id: e.module_id.0.clone(),
            attestation_timestamp_ms: e.attestation_timestamp_ms,
        }),
        Event::SealingKeyRegistered(e) => Pb::SealingKeyRegistered(v1::SealingKeyRegistered {
            cluster_id: b(&e.cluster_id),
            version: e.version,
            public_key: e.public_key.0.clone(),
            registered_by: b(&e.registered_by),
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
    }
}

fn event_from_proto(pb: Pb) -> Result<Event, RecordError> {
    Ok(match pb {
        Pb::StakeDeposited(e) => Event::StakeDeposited(StakeDeposited {
            staker: addr("staker", &e.staker)?,
            role: role_from_proto("role", e.role)?,
            amount: e.amount,
            total_after: e.total_after,
            epoch: e.epoch,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::StakeWithdrawn(e) => Event::StakeWithdrawn(StakeWithdrawn {
            staker: addr("staker", &e.staker)?,
            role: role_from_proto("role", e.role)?,
            amount: e.amount,
            total_after: e.total_after,
            epoch: e.epoch,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::StakeSlashed(e) => Event::StakeSlashed(StakeSlashed {
            staker: addr("staker", &e.staker)?,
            role: role_from_proto("role", e.role)?,
            amount: e.amount,
            total_after: e.total_after,
            reason: e.reason,
            slashed_by: addr("slashed_by", &e.slashed_by)?,
            epoch: e.epoch,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::ClusterCreated(e) => Event::ClusterCreated(ClusterCreated {
            cluster_id: addr("cluster_id", &e.cluster_id)?,
            name: e.name,
            admin: addr("admin", &e.admin)?,
            timestamp_ms: e.timestamp_ms,
        }),
        Pb::K8sApiRequest(e) => Event::K8sApiRequest(K8sApiRequest {
            cluster_id: addr("cluster_id", &e.cluster_id)?,
            request_id: e.request_id,
            sender: addr("sender", &e.sender)?,
            verb: e.verb,
            api_version: e.api_version,
            kind: e.kind,
            namespace: e.namespace,
            name: e.name,
            manifest: Bytes(e.manifest),
            stake: e.stake,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::NodeRegistered(e) => Event::NodeRegistered(NodeRegistered {
            operator: addr("operator", &e.operator)?,
            node_name: e.node_name,
            public_key: Bytes(e.public_key),
            endpoint: e.endpoint,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::NodeDeregistered(e) => Event::NodeDeregistered(NodeDeregistered {
            operator: addr("operator", &e.operator)?,
            node_name: e.node_name,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::NamespaceGranted(e) => Event::NamespaceGranted(NamespaceGranted {
            cluster_id: addr("cluster_id", &e.cluster_id)?,
            namespace: e.namespace,
            grantee: addr("grantee", &e.grantee)?,
            role: match e.role {
                1..=3 => (e.role - 1) as u8,
                value => {
                    return Err(RecordError::Enum {
                        field: "role",
                        value,
                    });
                }
            },
            granted_by: addr("granted_by", &e.granted_by)?,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::NamespaceRevoked(e) => Event::NamespaceRevoked(NamespaceRevoked {
            cluster_id: addr("cluster_id", &e.cluster_id)?,
            namespace: e.namespace,
            grantee: addr("grantee", &e.grantee)?,
            revoked_by: addr("revoked_by", &e.revoked_by)?,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::PcrSetRegistered(e) => Event::PcrSetRegistered(PcrSetRegistered {
            version: e.version,
            pcr0: Bytes(e.pcr0),
            pcr1: Bytes(e.pcr1),
            pcr2: Bytes(e.pcr2),
            registered_by: addr("registered_by", &e.registered_by)?,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::EnclaveRegistered(e) => Event::EnclaveRegistered(EnclaveRegistered {
            cluster_id: addr("cluster_id", &e.cluster_id)?,
            pcr_version: e.pcr_version,
            public_key: Bytes(e.public_key),
            sealing_key_version: e.sealing_key_version,
            sealing_public_key: Bytes(e.sealing_public_key),
            module_id: Bytes(e.module_id),
            attestation_timestamp_ms: e.attestation_timestamp_ms,
            registered_by: addr("registered_by", &e.registered_by)?,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::SealingKeyRegistered(e) => Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id: addr("cluster_id", &e.cluster_id)?,
            version: e.version,
            public_key: Bytes(e.public_key),
            registered_by: addr("registered_by", &e.registered_by)?,
            timestamp_ms: e.timestamp_ms,
            seq: e.seq,
        }),
        Pb::Unknown(_) | Pb::Poison(_) | Pb::EpochChange(_) => {
            return Err(RecordError::Missing("event"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(event_type: &str, bcs: Vec<u8>) -> LogEntry {
        LogEntry::from_chain(
            LogPosition::new(9, 1, 2),
            [3; 32],
            1_700_000_000_000,
            event_type.into(),
            Address([4; 32]),
            bcs,
        )
    }

    #[test]
    fn known_unknown_and_poison_round_trip() {
        let e = Event::StakeDeposited(StakeDeposited {
            staker: Address([1; 32]),
            role: 2,
            amount: 10,
            total_after: 10,
            epoch: 1,
            timestamp_ms: 2,
            seq: 0,
        });
        let known = entry("0xabc::staking::StakeDeposited", e.to_bcs());
        assert_eq!(known.body, Body::Event(e));
        let unknown = entry("0xabc::staking::StakeFrozen", vec![1]);
        assert_eq!(unknown.body, Body::Unknown);
        let poison = entry("0xabc::staking::StakeDeposited", vec![1, 2]);
        assert!(matches!(&poison.body, Body::Poison(r) if r.contains("malformed")));
        for x in [known, unknown, poison] {
            assert_eq!(LogEntry::decode(&x.encode()), Ok(x));
        }
    }

    #[test]
    fn a_newer_reader_decodes_what_the_writer_called_unknown() {
        let e = Event::NodeDeregistered(NodeDeregistered {
            operator: Address([1; 32]),
            node_name: "n".into(),
            timestamp_ms: 3,
            seq: 0,
        });
        let mut pb = entry("0xabc::nodes::NodeDeregistered", e.to_bcs()).to_proto();
        pb.event = Some(Pb::Unknown(v1::Unknown {}));
        let back = LogEntry::from_proto(pb).expect("record");
        assert_eq!(back.body, Body::Event(e));
    }

    #[test]
    fn bad_records_are_typed_errors() {
        assert!(matches!(
            LogEntry::decode(&[0xff, 0xff]),
            Err(RecordError::Protobuf(_))
        ));
        let mut pb = entry("0xabc::x::Y", vec![]).to_proto();
        pb.sender = vec![1; 31];
        assert!(matches!(
            LogEntry::from_proto(pb),
            Err(RecordError::Length {
                field: "sender",
                want: 32,
                got: 31
            })
        ));
        assert_eq!(split_event_type("0x1::m::N"), Some(("m", "N")));
        assert_eq!(split_event_type("nonsense"), None);
    }

    fn proof(tag: u8) -> Proof {
        Proof {
            checkpoint: Some(CheckpointProofBytes {
                summary_bcs: vec![tag; 3],
                signature_bcs: vec![tag + 1; 5],
                contents_bcs: vec![],
            }),
            transaction: Some(TransactionProofBytes {
                effects_bcs: vec![tag + 2; 7],
                events_bcs: vec![0; 1],
            }),
        }
    }

    #[test]
    fn proofs_round_trip_on_every_kind_of_record() {
        let known = entry(
            "0xabc::nodes::NodeDeregistered",
            Event::NodeDeregistered(NodeDeregistered {
                operator: Address([1; 32]),
                node_name: "n".into(),
                timestamp_ms: 3,
                seq: 4,
            })
            .to_bcs(),
        );
        let unknown = entry("0xabc::x::Y", vec![1]);
        let poison = entry("0xabc::staking::StakeDeposited", vec![]);
        for (i, mut x) in [known, unknown, poison].into_iter().enumerate() {
            x.proof = proof(i as u8 * 10);
            let back = LogEntry::decode(&x.encode()).expect("a record");
            assert_eq!(back.proof, proof(i as u8 * 10));
            assert_eq!(back, x);
            // Only the checkpoint's, or only the transaction's, or none.
            x.proof.checkpoint = None;
            assert_eq!(LogEntry::decode(&x.encode()), Ok(x.clone()));
            x.proof = Proof::default();
            assert_eq!(LogEntry::decode(&x.encode()), Ok(x));
        }
    }

    #[test]
    fn an_epoch_change_round_trips_with_empty_identity_fields() {
        let cp = proof(1).checkpoint.expect("set");
        let x = LogEntry::epoch_change(41, 1_700_000_000_000, 6, cp.clone());
        let pb = x.to_proto();
        assert_eq!(
            pb.event,
            Some(Pb::EpochChange(v1::EpochChange { epoch: 6 }))
        );
        assert!(pb.transaction_digest.is_empty() && pb.sender.is_empty() && pb.bcs.is_empty());
        assert_eq!(
            pb.position,
            Some(v1::Position {
                checkpoint: 41,
                transaction_index: 0,
                event_index: 0
            })
        );
        let back = LogEntry::decode(&x.encode()).expect("a record");
        assert_eq!(back.body, Body::EpochChange { epoch: 6 });
        assert_eq!(back.proof.checkpoint, Some(cp));
        assert_eq!(back, x);
    }

    #[test]
    fn an_epoch_change_naming_a_transaction_or_an_event_is_refused() {
        let good = LogEntry::epoch_change(9, 1, 0, CheckpointProofBytes::default()).to_proto();
        let mut digest = good.clone();
        digest.transaction_digest = vec![3; 32];
        let mut sender = good.clone();
        sender.sender = vec![4; 32];
        let mut bcs = good.clone();
        bcs.bcs = vec![1];
        let mut event_type = good;
        event_type.event_type = "0x1::m::N".into();
        for (pb, field, got) in [
            (digest, "transaction_digest", 32),
            (sender, "sender", 32),
            (bcs, "bcs", 1),
            (event_type, "event_type", 9),
        ] {
            assert_eq!(
                LogEntry::from_proto(pb).map(|e| e.body),
                Err(RecordError::Length {
                    field,
                    want: 0,
                    got
                })
            );
        }
    }

    fn bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..64)
    }

    proptest::proptest! {
        /// Any bytes: a typed error or a record that re-encodes to itself.
        #[test]
        fn arbitrary_records_never_panic_and_round_trip(data in bytes()) {
            if let Ok(x) = LogEntry::decode(&data) {
                proptest::prop_assert_eq!(LogEntry::decode(&x.encode()), Ok(x));
            }
        }

        /// Any proof bytes (hostile, empty, partial) travel unchanged.
        #[test]
        fn arbitrary_proofs_round_trip(
            summary in bytes(), signature in bytes(), contents in bytes(),
            effects in bytes(), events in bytes(), which in 0u8..4, epoch in 0u64..u64::MAX,
        ) {
            let cp = CheckpointProofBytes { summary_bcs: summary, signature_bcs: signature, contents_bcs: contents };
            let tx = TransactionProofBytes { effects_bcs: effects, events_bcs: events };
            let mut x = entry("0xabc::x::Y", vec![7]);
            x.proof = Proof {
                checkpoint: (which & 1 == 1).then(|| cp.clone()),
                transaction: (which & 2 == 2).then_some(tx),
            };
            proptest::prop_assert_eq!(LogEntry::decode(&x.encode()), Ok(x));
            let change = LogEntry::epoch_change(5, 6, epoch, cp);
            proptest::prop_assert_eq!(LogEntry::decode(&change.encode()), Ok(change));
        }
    }

    fn sealing_key(version: u64, key_len: usize) -> Event {
        Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id: Address([0xc1; 32]),
            version,
            public_key: Bytes(vec![0x55; key_len]),
            registered_by: Address([9; 32]),
            timestamp_ms: 7,
            seq: 0,
        })
    }

    #[test]
    fn a_sealing_key_round_trips_through_the_typed_record() {
        let e = sealing_key(3, 32);
        let x = entry("0xabc::enclave::SealingKeyRegistered", e.to_bcs());
        assert_eq!(x.body, Body::Event(e));
        assert!(matches!(
            x.to_proto().event,
            Some(Pb::SealingKeyRegistered(_))
        ));
        assert_eq!(LogEntry::decode(&x.encode()), Ok(x));
    }

    /// A record whose typed sealing key the chain could never have emitted
    /// (a writer that skipped the checks) reads as poison, not as a key.
    #[test]
    fn a_typed_sealing_key_out_of_range_reads_as_poison() {
        for (version, len, field) in [
            (0, 32, "version"),
            (u64::from(u32::MAX) + 1, 32, "version"),
            (1, 31, "public_key"),
            (1, 33, "public_key"),
        ] {
            let good = entry(
                "0xabc::enclave::SealingKeyRegistered",
                sealing_key(1, 32).to_bcs(),
            );
            let mut pb = good.to_proto();
            pb.event = Some(event_to_proto(&sealing_key(version, len)));
            let back = LogEntry::from_proto(pb).expect("a record");
            assert!(
                matches!(&back.body, Body::Poison(r) if r.contains(field)),
                "{version} {len}: {:?}",
                back.body
            );
        }
    }

    use crate::events::sample_enclave as enclave;

    /// An attested enclave keeps every field through the typed record (its
    /// old `attestation_digest`, proto field 3, stays empty); one the
    /// contract could never have registered reads as poison.
    #[test]
    fn an_enclave_round_trips_through_the_typed_record_and_out_of_range_is_poison() {
        let e = enclave(32, 32, 2);
        let x = entry("0xabc::enclave::EnclaveRegistered", e.to_bcs());
        assert_eq!(x.body, Body::Event(e));
        let Some(Pb::EnclaveRegistered(pb)) = x.to_proto().event else {
            panic!("typed");
        };
        assert!(pb.attestation_digest.is_empty());
        assert_eq!(LogEntry::decode(&x.encode()), Ok(x.clone()));
        for (key, sealing, version, field) in [
            (31, 32, 1, "public_key"),
            (32, 0, 1, "sealing_public_key"),
            (32, 32, 0, "sealing_key_version"),
            (32, 32, u64::from(u32::MAX) + 1, "sealing_key_version"),
        ] {
            let mut pb = x.to_proto();
            pb.event = Some(event_to_proto(&enclave(key, sealing, version)));
            let back = LogEntry::from_proto(pb).expect("a record");
            assert!(
                matches!(&back.body, Body::Poison(r) if r.contains(field)),
                "{field}: {:?}",
                back.body
            );
        }
    }
}
