//! The events of our Move package, mirrored field for field.
//!
//! Each struct here has the same fields, in the same order, with the same types
//! as its Move counterpart in `contracts/sources/`, because event contents are
//! the BCS of the Move struct: fields in declaration order, no names. A test
//! (`tests/move_layout.rs`) parses the Move sources and fails if they drift.
//!
//! [`decode`] is the only way outside bytes become events: it never panics,
//! rejects trailing bytes, and tells an unknown type apart from bad contents.

use serde::{Deserialize, Serialize};

use crate::{Address, Bytes, ObjectId};

/// `staking::StakeDeposited`: SUI locked (a new stake or a top-up).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeDeposited {
    /// Whose stake grew.
    pub staker: Address,
    /// Role (Move value: 0 user, 1 node, 2 admin).
    pub role: u8,
    /// MIST added.
    pub amount: u64,
    /// Stake in this role after the deposit, MIST.
    pub total_after: u64,
    /// Sui epoch.
    pub epoch: u64,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the pool's event sequence (`StakingPool.event_seq`, dense from 0).
    pub seq: u64,
}

/// `staking::StakeWithdrawn`: SUI returned after the lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeWithdrawn {
    /// Whose stake shrank.
    pub staker: Address,
    /// Role (Move value).
    pub role: u8,
    /// MIST withdrawn.
    pub amount: u64,
    /// Stake in this role after the withdrawal, MIST.
    pub total_after: u64,
    /// Sui epoch.
    pub epoch: u64,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the pool's event sequence (`StakingPool.event_seq`, dense from 0).
    pub seq: u64,
}

/// `staking::StakeSlashed`: stake taken by an admin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StakeSlashed {
    /// Whose stake was slashed.
    pub staker: Address,
    /// Role (Move value).
    pub role: u8,
    /// MIST slashed.
    pub amount: u64,
    /// Stake in this role after the slash, MIST.
    pub total_after: u64,
    /// The admin's reason.
    pub reason: String,
    /// The admin who slashed.
    pub slashed_by: Address,
    /// Sui epoch.
    pub epoch: u64,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the pool's event sequence (`StakingPool.event_seq`, dense from 0).
    pub seq: u64,
}

/// `gateway::ClusterCreated`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterCreated {
    /// The shared `Cluster` object's id.
    pub cluster_id: ObjectId,
    /// Its name.
    pub name: String,
    /// Its admin (creator).
    pub admin: Address,
    /// Clock time, ms.
    pub timestamp_ms: u64,
}

/// `gateway::K8sAPIRequest`: a tenant's kubectl intent accepted on chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct K8sApiRequest {
    /// Target cluster.
    pub cluster_id: ObjectId,
    /// Per-cluster request number.
    pub request_id: u64,
    /// The tenant.
    pub sender: Address,
    /// kubectl verb.
    pub verb: String,
    /// apiVersion, e.g. `apps/v1`.
    pub api_version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace; empty for cluster-scoped kinds.
    pub namespace: String,
    /// Object name.
    pub name: String,
    /// Manifest bytes (YAML or JSON).
    pub manifest: Bytes,
    /// The sender's tier stake at submission, MIST.
    pub stake: u64,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the cluster's event sequence (`Cluster.event_seq`: 0 is its `ClusterCreated`).
    pub seq: u64,
}

/// `nodes::NodeRegistered`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRegistered {
    /// The operator (holds the node stake).
    pub operator: Address,
    /// Kubernetes node name.
    pub node_name: String,
    /// The node's Ed25519 public key (32 bytes).
    pub public_key: Bytes,
    /// Where the node's agent listens.
    pub endpoint: String,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the node registry's event sequence (`NodeRegistry.event_seq`, dense from 0).
    pub seq: u64,
}

/// `nodes::NodeDeregistered`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDeregistered {
    /// The operator.
    pub operator: Address,
    /// Kubernetes node name.
    pub node_name: String,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the node registry's event sequence (`NodeRegistry.event_seq`, dense from 0).
    pub seq: u64,
}

/// `grants::NamespaceGranted`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceGranted {
    /// The cluster.
    pub cluster_id: ObjectId,
    /// The namespace.
    pub namespace: String,
    /// Who is granted.
    pub grantee: Address,
    /// Namespace role (Move value: 0 viewer, 1 editor, 2 cluster admin under namespace `*`).
    pub role: u8,
    /// The admin who granted.
    pub granted_by: Address,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the cluster's event sequence (`Cluster.event_seq`: 0 is its `ClusterCreated`).
    pub seq: u64,
}

/// `grants::NamespaceRevoked`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceRevoked {
    /// The cluster.
    pub cluster_id: ObjectId,
    /// The namespace.
    pub namespace: String,
    /// Whose grant ends.
    pub grantee: Address,
    /// The admin who revoked.
    pub revoked_by: Address,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the cluster's event sequence (`Cluster.event_seq`: 0 is its `ClusterCreated`).
    pub seq: u64,
}

/// `enclave::PcrSetRegistered`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcrSetRegistered {
    /// Version number of the set.
    pub version: u64,
    /// PCR0 (48 bytes).
    pub pcr0: Bytes,
    /// PCR1 (48 bytes).
    pub pcr1: Bytes,
    /// PCR2 (48 bytes).
    pub pcr2: Bytes,
    /// The admin who registered it.
    pub registered_by: Address,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the enclave registry's event sequence (`EnclaveRegistry.event_seq`, dense from 0).
    pub seq: u64,
}

/// `enclave::EnclaveRegistered`: an enclave whose attestation document the
/// chain verified (fields in Move order).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnclaveRegistered {
    /// The cluster it serves (from the document's `user_data`).
    pub cluster_id: ObjectId,
    /// PCR set version the enclave was registered under.
    pub pcr_version: u64,
    /// The enclave's Ed25519 public key (32 bytes).
    pub public_key: Bytes,
    /// The sealing key version bound in the document.
    pub sealing_key_version: u64,
    /// The sealing key's X25519 public half (32 bytes).
    pub sealing_public_key: Bytes,
    /// The document's `module_id` (a dev document's starts with
    /// `k3s-daas-dev`).
    pub module_id: Bytes,
    /// The document's timestamp, ms.
    pub attestation_timestamp_ms: u64,
    /// Who submitted the registration.
    pub registered_by: Address,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the enclave registry's event sequence (`EnclaveRegistry.event_seq`, dense from 0).
    pub seq: u64,
}

impl EnclaveRegistered {
    /// The enclave's Ed25519 key as 32 bytes (decoding accepts no other length).
    pub fn key_bytes(&self) -> Option<[u8; 32]> {
        <[u8; 32]>::try_from(self.public_key.as_ref()).ok()
    }

    /// The sealing key as 32 bytes (decoding accepts no other length).
    pub fn sealing_key_bytes(&self) -> Option<[u8; 32]> {
        <[u8; 32]>::try_from(self.sealing_public_key.as_ref()).ok()
    }

    /// The sealing key version as the sealed format carries it, when in
    /// range (1..=u32::MAX; decoding accepts no other).
    pub fn sealing_key_version_u32(&self) -> Option<u32> {
        u32::try_from(self.sealing_key_version)
            .ok()
            .filter(|v| *v != 0)
    }

    /// True when the document came from the dev CA: its `module_id` starts
    /// with `k3s-daas-dev` (decided from chain data, not from the master).
    pub fn is_dev(&self) -> bool {
        self.module_id
            .as_ref()
            .starts_with(daas_attestation::DEV_MODULE_ID_PREFIX.as_bytes())
    }
}

/// `enclave::SealingKeyRegistered`: a cluster's sealing key (X25519) and
/// the version the contract gave it (the previous version + 1, first = 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealingKeyRegistered {
    /// The cluster.
    pub cluster_id: ObjectId,
    /// Key version (decoding accepts 1..=u32::MAX, the sealed format's range).
    pub version: u64,
    /// The X25519 public key (decoding accepts exactly 32 bytes).
    pub public_key: Bytes,
    /// The `AdminCap` holder who registered it.
    pub registered_by: Address,
    /// Clock time, ms.
    pub timestamp_ms: u64,
    /// Place in the enclave registry's event sequence (`EnclaveRegistry.event_seq`, dense from 0).
    pub seq: u64,
}

impl SealingKeyRegistered {
    /// The key version as the sealed format carries it, when in range (1..=u32::MAX).
    pub fn version_u32(&self) -> Option<u32> {
        u32::try_from(self.version).ok().filter(|v| *v != 0)
    }

    /// The public key as 32 bytes, when it has that length.
    pub fn key_bytes(&self) -> Option<[u8; 32]> {
        <[u8; 32]>::try_from(self.public_key.as_ref()).ok()
    }
}

/// Every event type of our package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "fields")]
pub enum Event {
    /// `staking::StakeDeposited`
    StakeDeposited(StakeDeposited),
    /// `staking::StakeWithdrawn`
    StakeWithdrawn(StakeWithdrawn),
    /// `staking::StakeSlashed`
    StakeSlashed(StakeSlashed),
    /// `gateway::ClusterCreated`
    ClusterCreated(ClusterCreated),
    /// `gateway::K8sAPIRequest`
    K8sApiRequest(K8sApiRequest),
    /// `nodes::NodeRegistered`
    NodeRegistered(NodeRegistered),
    /// `nodes::NodeDeregistered`
    NodeDeregistered(NodeDeregistered),
    /// `grants::NamespaceGranted`
    NamespaceGranted(NamespaceGranted),
    /// `grants::NamespaceRevoked`
    NamespaceRevoked(NamespaceRevoked),
    /// `enclave::PcrSetRegistered`
    PcrSetRegistered(PcrSetRegistered),
    /// `enclave::EnclaveRegistered`
    EnclaveRegistered(EnclaveRegistered),
    /// `enclave::SealingKeyRegistered`
    SealingKeyRegistered(SealingKeyRegistered),
}

/// The numbered stream an event belongs to: each shared object of the package
/// numbers the events it emits 0, 1, 2, ... without gaps (`seq`, the last
/// field of every event but `ClusterCreated`), so a reader that has seen
/// `seq` n of a stream knows the next one of that stream is n + 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Stream {
    /// The `StakingPool`: `StakeDeposited`, `StakeWithdrawn`, `StakeSlashed`.
    Pool,
    /// The `NodeRegistry`: `NodeRegistered`, `NodeDeregistered`.
    Nodes,
    /// The `EnclaveRegistry`: `PcrSetRegistered`, `EnclaveRegistered` and every
    /// cluster's `SealingKeyRegistered`.
    Enclave,
    /// One `Cluster`: its `ClusterCreated` (0), then its `NamespaceGranted`,
    /// `NamespaceRevoked` and `K8sAPIRequest` in the order they happened.
    Cluster(ObjectId),
}

/// The stream's stable name, as the verifier's stored state, its reports and
/// `master check` write it: `pool`, `nodes`, `enclave`, `cluster:0x…`.
impl std::fmt::Display for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stream::Pool => f.write_str("pool"),
            Stream::Nodes => f.write_str("nodes"),
            Stream::Enclave => f.write_str("enclave"),
            Stream::Cluster(id) => write!(f, "cluster:{id}"),
        }
    }
}

/// The Move (module, struct) name of every event type, in [`Event`] order.
pub const EVENT_TYPES: [(&str, &str); 12] = [
    ("staking", "StakeDeposited"),
    ("staking", "StakeWithdrawn"),
    ("staking", "StakeSlashed"),
    ("gateway", "ClusterCreated"),
    ("gateway", "K8sAPIRequest"),
    ("nodes", "NodeRegistered"),
    ("nodes", "NodeDeregistered"),
    ("grants", "NamespaceGranted"),
    ("grants", "NamespaceRevoked"),
    ("enclave", "PcrSetRegistered"),
    ("enclave", "EnclaveRegistered"),
    ("enclave", "SealingKeyRegistered"),
];

/// Why an event's contents could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The bytes are not the BCS of the struct: truncated, a bad length prefix,
    /// invalid UTF-8 in a string, and so on.
    #[error("{module}::{name}: malformed BCS: {reason}")]
    Malformed {
        /// Move module.
        module: &'static str,
        /// Move struct.
        name: &'static str,
        /// What the BCS decoder said.
        reason: String,
    },
    /// A field holds a value the contract never emits (e.g. role 7).
    #[error("{module}::{name}: field {field} out of range: {value}")]
    OutOfRange {
        /// Move module.
        module: &'static str,
        /// Move struct.
        name: &'static str,
        /// The field.
        field: &'static str,
        /// The value found.
        value: u64,
    },
}

/// The result of decoding one event of our package.
// Nearly every value is `Known`; boxing it would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    /// A known event type with valid contents.
    Known(Event),
    /// A type of our package this version does not know (forward compatibility).
    Unknown,
}

/// Decodes the BCS `contents` of event type `module::name`.
///
/// Returns [`Decoded::Unknown`] for a type not in [`EVENT_TYPES`], and an error
/// for a known type whose contents are not exactly its BCS.
pub fn decode(module: &str, name: &str, contents: &[u8]) -> Result<Decoded, DecodeError> {
    let Some(&(m, n)) = EVENT_TYPES.iter().find(|(m, n)| *m == module && *n == name) else {
        return Ok(Decoded::Unknown);
    };
    fn bcs_of<T: serde::de::DeserializeOwned>(
        m: &'static str,
        n: &'static str,
        b: &[u8],
    ) -> Result<T, DecodeError> {
        bcs::from_bytes(b).map_err(|e| DecodeError::Malformed {
            module: m,
            name: n,
            reason: e.to_string(),
        })
    }
    let event = match n {
        "StakeDeposited" => Event::StakeDeposited(bcs_of(m, n, contents)?),
        "StakeWithdrawn" => Event::StakeWithdrawn(bcs_of(m, n, contents)?),
        "StakeSlashed" => Event::StakeSlashed(bcs_of(m, n, contents)?),
        "ClusterCreated" => Event::ClusterCreated(bcs_of(m, n, contents)?),
        "K8sAPIRequest" => Event::K8sApiRequest(bcs_of(m, n, contents)?),
        "NodeRegistered" => Event::NodeRegistered(bcs_of(m, n, contents)?),
        "NodeDeregistered" => Event::NodeDeregistered(bcs_of(m, n, contents)?),
        "NamespaceGranted" => Event::NamespaceGranted(bcs_of(m, n, contents)?),
        "NamespaceRevoked" => Event::NamespaceRevoked(bcs_of(m, n, contents)?),
        "PcrSetRegistered" => Event::PcrSetRegistered(bcs_of(m, n, contents)?),
        "EnclaveRegistered" => Event::EnclaveRegistered(bcs_of(m, n, contents)?),
        "SealingKeyRegistered" => Event::SealingKeyRegistered(bcs_of(m, n, contents)?),
        _ => return Ok(Decoded::Unknown),
    };
    event.check_ranges()?;
    Ok(Decoded::Known(event))
}

impl Event {
    /// The Move (module, struct) name of this event.
    pub fn move_type(&self) -> (&'static str, &'static str) {
        EVENT_TYPES[self.index()]
    }

    /// The cluster a cluster-scoped event belongs to (`None` for stakes,
    /// nodes and the enclave's PCR sets and keys).
    pub fn cluster(&self) -> Option<ObjectId> {
        match self {
            Event::ClusterCreated(e) => Some(e.cluster_id),
            Event::K8sApiRequest(e) => Some(e.cluster_id),
            Event::NamespaceGranted(e) => Some(e.cluster_id),
            Event::NamespaceRevoked(e) => Some(e.cluster_id),
            Event::SealingKeyRegistered(e) => Some(e.cluster_id),
            Event::StakeDeposited(_)
            | Event::StakeWithdrawn(_)
            | Event::StakeSlashed(_)
            | Event::NodeRegistered(_)
            | Event::NodeDeregistered(_)
            | Event::PcrSetRegistered(_)
            | Event::EnclaveRegistered(_) => None,
        }
    }

    /// The stream this event is numbered in.
    pub fn stream(&self) -> Stream {
        match self {
            Event::StakeDeposited(_) | Event::StakeWithdrawn(_) | Event::StakeSlashed(_) => {
                Stream::Pool
            }
            Event::NodeRegistered(_) | Event::NodeDeregistered(_) => Stream::Nodes,
            Event::PcrSetRegistered(_)
            | Event::EnclaveRegistered(_)
            | Event::SealingKeyRegistered(_) => Stream::Enclave,
            Event::ClusterCreated(e) => Stream::Cluster(e.cluster_id),
            Event::K8sApiRequest(e) => Stream::Cluster(e.cluster_id),
            Event::NamespaceGranted(e) => Stream::Cluster(e.cluster_id),
            Event::NamespaceRevoked(e) => Stream::Cluster(e.cluster_id),
        }
    }

    /// Its place in [`Event::stream`] (a `ClusterCreated` is 0 of its cluster's).
    pub fn seq(&self) -> u64 {
        match self {
            Event::StakeDeposited(e) => e.seq,
            Event::StakeWithdrawn(e) => e.seq,
            Event::StakeSlashed(e) => e.seq,
            Event::ClusterCreated(_) => 0,
            Event::K8sApiRequest(e) => e.seq,
            Event::NodeRegistered(e) => e.seq,
            Event::NodeDeregistered(e) => e.seq,
            Event::NamespaceGranted(e) => e.seq,
            Event::NamespaceRevoked(e) => e.seq,
            Event::PcrSetRegistered(e) => e.seq,
            Event::EnclaveRegistered(e) => e.seq,
            Event::SealingKeyRegistered(e) => e.seq,
        }
    }

    /// Its `seq` field, to renumber an event built off chain (test logs,
    /// workloads); `None` for `ClusterCreated`, which is always 0.
    pub fn seq_mut(&mut self) -> Option<&mut u64> {
        match self {
            Event::StakeDeposited(e) => Some(&mut e.seq),
            Event::StakeWithdrawn(e) => Some(&mut e.seq),
            Event::StakeSlashed(e) => Some(&mut e.seq),
            Event::ClusterCreated(_) => None,
            Event::K8sApiRequest(e) => Some(&mut e.seq),
            Event::NodeRegistered(e) => Some(&mut e.seq),
            Event::NodeDeregistered(e) => Some(&mut e.seq),
            Event::NamespaceGranted(e) => Some(&mut e.seq),
            Event::NamespaceRevoked(e) => Some(&mut e.seq),
            Event::PcrSetRegistered(e) => Some(&mut e.seq),
            Event::EnclaveRegistered(e) => Some(&mut e.seq),
            Event::SealingKeyRegistered(e) => Some(&mut e.seq),
        }
    }

    fn index(&self) -> usize {
        match self {
            Event::StakeDeposited(_) => 0,
            Event::StakeWithdrawn(_) => 1,
            Event::StakeSlashed(_) => 2,
            Event::ClusterCreated(_) => 3,
            Event::K8sApiRequest(_) => 4,
            Event::NodeRegistered(_) => 5,
            Event::NodeDeregistered(_) => 6,
            Event::NamespaceGranted(_) => 7,
            Event::NamespaceRevoked(_) => 8,
            Event::PcrSetRegistered(_) => 9,
            Event::EnclaveRegistered(_) => 10,
            Event::SealingKeyRegistered(_) => 11,
        }
    }

    /// The BCS contents, exactly as the Move struct would be emitted.
    pub fn to_bcs(&self) -> Vec<u8> {
        let r = match self {
            Event::StakeDeposited(e) => bcs::to_bytes(e),
            Event::StakeWithdrawn(e) => bcs::to_bytes(e),
            Event::StakeSlashed(e) => bcs::to_bytes(e),
            Event::ClusterCreated(e) => bcs::to_bytes(e),
            Event::K8sApiRequest(e) => bcs::to_bytes(e),
            Event::NodeRegistered(e) => bcs::to_bytes(e),
            Event::NodeDeregistered(e) => bcs::to_bytes(e),
            Event::NamespaceGranted(e) => bcs::to_bytes(e),
            Event::NamespaceRevoked(e) => bcs::to_bytes(e),
            Event::PcrSetRegistered(e) => bcs::to_bytes(e),
            Event::EnclaveRegistered(e) => bcs::to_bytes(e),
            Event::SealingKeyRegistered(e) => bcs::to_bytes(e),
        };
        // BCS of these plain structs cannot fail: no maps, no unsized sequences over 2^31.
        r.unwrap_or_default()
    }

    /// Rejects values the contract never emits, so the ledger can trust the
    /// enums and the sealing keys' sizes.
    pub(crate) fn check_ranges(&self) -> Result<(), DecodeError> {
        let (module, name) = self.move_type();
        let out = |field, value: u64| DecodeError::OutOfRange {
            module,
            name,
            field,
            value,
        };
        match self {
            Event::StakeDeposited(StakeDeposited { role, .. })
            | Event::StakeWithdrawn(StakeWithdrawn { role, .. })
            | Event::StakeSlashed(StakeSlashed { role, .. })
                if crate::Role::from_move(*role).is_none() =>
            {
                Err(out("role", (*role).into()))
            }
            // A cluster-admin grant only under the reserved namespace, other roles never there.
            Event::NamespaceGranted(g)
                if !crate::NamespaceRole::from_move(g.role)
                    .is_some_and(|r| r.fits_namespace(&g.namespace)) =>
            {
                Err(out("role", g.role.into()))
            }
            // The sealed format carries the version as a u32 and 0 means "none".
            Event::SealingKeyRegistered(k) if k.version_u32().is_none() => {
                Err(out("version", k.version))
            }
            // An X25519 public key is 32 bytes; the value reported is the length found.
            Event::SealingKeyRegistered(k) if k.key_bytes().is_none() => {
                Err(out("public_key", k.public_key.len() as u64))
            }
            // What the contract checked: a 32-byte Ed25519 key, a 32-byte X25519
            // key under a version the sealed format can carry.
            Event::EnclaveRegistered(e) if e.key_bytes().is_none() => {
                Err(out("public_key", e.public_key.len() as u64))
            }
            Event::EnclaveRegistered(e) if e.sealing_key_bytes().is_none() => {
                Err(out("sealing_public_key", e.sealing_public_key.len() as u64))
            }
            Event::EnclaveRegistered(e) if e.sealing_key_version_u32().is_none() => {
                Err(out("sealing_key_version", e.sealing_key_version))
            }
            _ => Ok(()),
        }
    }
}

/// An `EnclaveRegistered` of a dev document with keys of the given lengths,
/// for tests of its decoding's range checks.
#[cfg(test)]
pub(crate) fn sample_enclave(key_len: usize, sealing_len: usize, version: u64) -> Event {
    Event::EnclaveRegistered(EnclaveRegistered {
        cluster_id: Address([3; 32]),
        pcr_version: 1,
        public_key: Bytes(vec![0x44; key_len]),
        sealing_key_version: version,
        sealing_public_key: Bytes(vec![0x55; sealing_len]),
        module_id: Bytes(b"k3s-daas-dev-enclave".to_vec()),
        attestation_timestamp_ms: 8,
        registered_by: Address([5; 32]),
        timestamp_ms: 9,
        seq: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deposited() -> Event {
        Event::StakeDeposited(StakeDeposited {
            staker: Address([1; 32]),
            role: 0,
            amount: 500_000_000,
            total_after: 500_000_000,
            epoch: 3,
            timestamp_ms: 1_700_000_000_000,
            seq: 0,
        })
    }

    #[test]
    fn round_trips_through_bcs() {
        let e = deposited();
        let bytes = e.to_bcs();
        assert_eq!(bytes.len(), 32 + 1 + 8 * 5);
        assert_eq!(
            decode("staking", "StakeDeposited", &bytes),
            Ok(Decoded::Known(e))
        );
    }

    #[test]
    fn unknown_type_is_not_an_error() {
        assert_eq!(
            decode("staking", "StakeFrozen", &[1, 2, 3]),
            Ok(Decoded::Unknown)
        );
    }

    #[test]
    fn trailing_bytes_are_malformed() {
        let mut bytes = deposited().to_bcs();
        bytes.push(0);
        assert!(matches!(
            decode("staking", "StakeDeposited", &bytes),
            Err(DecodeError::Malformed { .. })
        ));
    }

    #[test]
    fn truncated_is_malformed() {
        let bytes = deposited().to_bcs();
        assert!(matches!(
            decode("staking", "StakeDeposited", &bytes[..40]),
            Err(DecodeError::Malformed { .. })
        ));
    }

    fn granted(namespace: &str, role: u8) -> Vec<u8> {
        Event::NamespaceGranted(NamespaceGranted {
            cluster_id: Address([3; 32]),
            namespace: namespace.into(),
            grantee: Address([4; 32]),
            role,
            granted_by: Address([5; 32]),
            timestamp_ms: 9,
            seq: 0,
        })
        .to_bcs()
    }

    #[test]
    fn cluster_admin_grants_decode_only_under_the_marker() {
        let ok = |ns: &str, role: u8| decode("grants", "NamespaceGranted", &granted(ns, role));
        assert!(matches!(ok("*", 2), Ok(Decoded::Known(_))));
        assert!(matches!(ok("team-a", 1), Ok(Decoded::Known(_))));
        for (ns, role) in [("team-a", 2), ("*", 1), ("*", 0), ("team-a", 3)] {
            assert!(
                matches!(
                    ok(ns, role),
                    Err(DecodeError::OutOfRange { field: "role", .. })
                ),
                "{ns} {role}"
            );
        }
    }

    #[test]
    fn role_out_of_range_is_rejected() {
        let mut bytes = deposited().to_bcs();
        bytes[32] = 7;
        assert!(matches!(
            decode("staking", "StakeDeposited", &bytes),
            Err(DecodeError::OutOfRange {
                field: "role",
                value: 7,
                ..
            })
        ));
    }

    fn sealing_key(version: u64, key_len: usize) -> Vec<u8> {
        Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id: Address([3; 32]),
            version,
            public_key: Bytes(vec![0x55; key_len]),
            registered_by: Address([5; 32]),
            timestamp_ms: 9,
            seq: 0,
        })
        .to_bcs()
    }

    fn decode_sealing_key(bytes: &[u8]) -> Result<Decoded, DecodeError> {
        decode("enclave", "SealingKeyRegistered", bytes)
    }

    #[test]
    fn sealing_keys_decode_with_32_bytes_and_a_version_in_1_to_u32_max() {
        for version in [1, 2, 0xffff_ffff] {
            assert!(
                matches!(
                    decode_sealing_key(&sealing_key(version, 32)),
                    Ok(Decoded::Known(_))
                ),
                "{version}"
            );
        }
        for (version, field, value) in [
            (0, "version", 0),
            (0x1_0000_0000, "version", 0x1_0000_0000),
            (u64::MAX, "version", u64::MAX),
        ] {
            assert_eq!(
                decode_sealing_key(&sealing_key(version, 32)),
                Err(DecodeError::OutOfRange {
                    module: "enclave",
                    name: "SealingKeyRegistered",
                    field,
                    value
                })
            );
        }
        for len in [0, 1, 31, 33, 64] {
            assert_eq!(
                decode_sealing_key(&sealing_key(1, len)),
                Err(DecodeError::OutOfRange {
                    module: "enclave",
                    name: "SealingKeyRegistered",
                    field: "public_key",
                    value: len as u64
                }),
                "{len}"
            );
        }
    }

    fn enclave(key_len: usize, sealing_len: usize, version: u64) -> Vec<u8> {
        sample_enclave(key_len, sealing_len, version).to_bcs()
    }

    #[test]
    fn enclaves_decode_with_32_byte_keys_and_a_sealing_version_in_1_to_u32_max() {
        let decode = |b: &[u8]| decode("enclave", "EnclaveRegistered", b);
        for version in [1, 0xffff_ffff] {
            assert!(matches!(
                decode(&enclave(32, 32, version)),
                Ok(Decoded::Known(_))
            ));
        }
        let out = |field, value| {
            Err(DecodeError::OutOfRange {
                module: "enclave",
                name: "EnclaveRegistered",
                field,
                value,
            })
        };
        for len in [0, 31, 33] {
            assert_eq!(decode(&enclave(len, 32, 1)), out("public_key", len as u64));
            assert_eq!(
                decode(&enclave(32, len, 1)),
                out("sealing_public_key", len as u64)
            );
        }
        for version in [0, 0x1_0000_0000, u64::MAX] {
            assert_eq!(
                decode(&enclave(32, 32, version)),
                out("sealing_key_version", version)
            );
        }
    }

    #[test]
    fn an_enclave_is_dev_by_its_module_id_prefix() {
        let Ok(Decoded::Known(Event::EnclaveRegistered(mut e))) =
            decode("enclave", "EnclaveRegistered", &enclave(32, 32, 1))
        else {
            panic!("decodes");
        };
        assert!(e.is_dev());
        e.module_id = Bytes(b"i-0123456789abcdef0-enc0123456789abcdef".to_vec());
        assert!(!e.is_dev());
        e.module_id = Bytes(b"k3s-daas-de".to_vec());
        assert!(!e.is_dev());
    }
}
