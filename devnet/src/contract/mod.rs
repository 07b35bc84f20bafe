//! The `daas` Move package, executed natively.
//!
//! A line-by-line Rust rendering of `contracts/sources/*.move`: the same checks
//! in the same order, the same abort codes, the same events (built from the
//! domain's event types, whose BCS the shared vectors pin to the Move structs).
//! The executor maps PTB arguments onto these functions; this module knows
//! nothing about transactions, gas or objects beyond the ids it is handed.
//!
//! One submodule per Move module: [`staking`], [`gateway`], [`grants`],
//! [`nodes`], [`enclave`], each adding that module's entry functions to
//! [`ContractState`].

use std::collections::BTreeMap;

use daas_domain::{Address, Bytes, ObjectId, roles::Role};
use serde::{Deserialize, Serialize};

pub mod enclave;
pub mod gateway;
pub mod grants;
pub mod nodes;
pub mod staking;

pub use gateway::Request;

/// A Move abort: module and code, as the real VM reports them.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("MoveAbort in {module}::{function}: code {code}")]
pub struct Abort {
    /// Module that aborted.
    pub module: &'static str,
    /// Function that aborted.
    pub function: &'static str,
    /// Abort code (the `E*` constant).
    pub code: u64,
}

/// Abort codes, as in the Move sources.
pub mod codes {
    /// staking::EInvalidRole
    pub const E_INVALID_ROLE: u64 = 1;
    /// staking::EBelowMinimum
    pub const E_BELOW_MINIMUM: u64 = 2;
    /// staking::EAlreadyStaked
    pub const E_ALREADY_STAKED: u64 = 3;
    /// staking::ENoStake
    pub const E_NO_STAKE: u64 = 4;
    /// staking::EStillLocked
    pub const E_STILL_LOCKED: u64 = 5;
    /// staking::EAmountTooLarge
    pub const E_AMOUNT_TOO_LARGE: u64 = 6;
    /// staking::EZeroAmount
    pub const E_ZERO_AMOUNT: u64 = 7;
    /// staking::ENotPoolAdmin
    pub const E_NOT_POOL_ADMIN: u64 = 8;
    /// gateway::EInsufficientStake
    pub const E_INSUFFICIENT_STAKE: u64 = 101;
    /// gateway::EManifestTooLarge
    pub const E_MANIFEST_TOO_LARGE: u64 = 102;
    /// gateway::EUnknownVerb
    pub const E_UNKNOWN_VERB: u64 = 103;
    /// gateway::EEmptyName
    pub const E_EMPTY_NAME: u64 = 104;
    /// gateway::ENotClusterAdmin
    pub const E_NOT_CLUSTER_ADMIN: u64 = 105;
    /// gateway::EInvalidName
    pub const E_INVALID_NAME: u64 = 106;
    /// gateway::EInvalidNamespace
    pub const E_INVALID_NAMESPACE: u64 = 107;
    /// gateway::ENotClusterAuthority
    pub const E_NOT_CLUSTER_AUTHORITY: u64 = 108;
    /// gateway::EInvalidKind
    pub const E_INVALID_KIND: u64 = 109;
    /// gateway::EInvalidApiVersion
    pub const E_INVALID_API_VERSION: u64 = 110;
    /// grants::EInvalidNamespaceRole
    pub const E_INVALID_NAMESPACE_ROLE: u64 = 201;
    /// grants::ENoGrant
    pub const E_NO_GRANT: u64 = 202;
    /// grants::EEmptyNamespace
    pub const E_EMPTY_NAMESPACE: u64 = 203;
    /// grants::EInvalidNamespace
    pub const E_GRANT_INVALID_NAMESPACE: u64 = 204;
    /// nodes::ENoNodeStake
    pub const E_NO_NODE_STAKE: u64 = 301;
    /// nodes::ENodeExists
    pub const E_NODE_EXISTS: u64 = 302;
    /// nodes::EUnknownNode
    pub const E_UNKNOWN_NODE: u64 = 303;
    /// nodes::ENotOperator
    pub const E_NOT_OPERATOR: u64 = 304;
    /// nodes::EBadPublicKey
    pub const E_BAD_NODE_KEY: u64 = 305;
    /// nodes::EEmptyNodeName
    pub const E_EMPTY_NODE_NAME: u64 = 306;
    /// enclave::EBadPcrLength
    pub const E_BAD_PCR_LENGTH: u64 = 401;
    /// enclave::EUnknownPcrVersion (kept for its number; nothing aborts with it)
    pub const E_UNKNOWN_PCR_VERSION: u64 = 402;
    /// enclave::EBadPublicKey: the document's `public_key` is missing or not 32 bytes
    pub const E_BAD_ENCLAVE_KEY: u64 = 403;
    // 404 (enclave::EEmptyAttestation, the admin registration before issue 16) is retired.
    /// enclave::EBadSealingKey
    pub const E_BAD_SEALING_KEY: u64 = 405;
    /// enclave::EPcrMismatch: PCR0-2 differ from the latest set
    pub const E_PCR_MISMATCH: u64 = 406;
    /// enclave::ENoPcrSet
    pub const E_NO_PCR_SET: u64 = 407;
    /// enclave::EBadUserData: missing, not 80 bytes, or another magic
    pub const E_BAD_USER_DATA: u64 = 408;
    /// enclave::EWrongCluster: `user_data` names another cluster
    pub const E_WRONG_CLUSTER: u64 = 409;
    /// enclave::ESealingKeyVersion: neither the current sealing key nor the next version
    pub const E_SEALING_KEY_VERSION: u64 = 410;
    /// enclave::EStaleAttestation: not newer than the cluster's current enclave's document
    pub const E_STALE_ATTESTATION: u64 = 411;
    /// sui::nitro_attestation: the document does not parse (the native's code)
    pub const E_NITRO_PARSE: u64 = 1;
    /// sui::nitro_attestation: the document does not verify (the native's code)
    pub const E_NITRO_VERIFY: u64 = 2;
}

/// The transaction context a Move function sees.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// `ctx.sender()`.
    pub sender: Address,
    /// `ctx.epoch()`.
    pub epoch: u64,
    /// `clock.timestamp_ms()`.
    pub timestamp_ms: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Stake {
    amount: u64,
    locked_until_epoch: u64,
}

/// A shared `Cluster` object's fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cluster {
    /// Name.
    pub name: String,
    /// Creator.
    pub admin: Address,
    /// Pool whose AdminCap governs it.
    pub pool_id: ObjectId,
    /// Next request number.
    pub next_request_id: u64,
    /// `seq` of the cluster's next event (0 was its `ClusterCreated`).
    pub event_seq: u64,
    grants: BTreeMap<(String, Address), u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Node {
    operator: Address,
    public_key: Bytes,
    endpoint: String,
}

/// The state of every shared object of the package.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractState {
    /// Id of the one `StakingPool`.
    pub pool_id: ObjectId,
    stakes: BTreeMap<(Address, u8), Stake>,
    /// MIST of live stakes.
    pub locked: u64,
    /// MIST taken by slashing.
    pub slashed: u64,
    /// Clusters by object id.
    pub clusters: BTreeMap<ObjectId, Cluster>,
    nodes: BTreeMap<String, Node>,
    latest_pcr_version: u64,
    pcr_sets: BTreeMap<u64, [Bytes; 3]>,
    /// `EnclaveRegistry.enclaves`: every enclave key ever registered.
    enclaves: BTreeMap<Bytes, enclave::EnclaveInfo>,
    /// `EnclaveRegistry.current_enclave`: cluster -> its newest enclave's key.
    current_enclave: BTreeMap<ObjectId, Bytes>,
    /// Cluster id -> its current sealing key (version, X25519 public key).
    sealing_keys: BTreeMap<ObjectId, (u64, Bytes)>,
    /// `StakingPool.event_seq`: `seq` of the pool's next event.
    pub pool_event_seq: u64,
    /// `NodeRegistry.event_seq`.
    pub nodes_event_seq: u64,
    /// `EnclaveRegistry.event_seq`.
    pub enclave_event_seq: u64,
}

/// Returns `*counter` and counts it (the Move modules' `next_event_seq`).
fn next_seq(counter: &mut u64) -> u64 {
    let seq = *counter;
    *counter += 1;
    seq
}

const STAKING: &str = "staking";
const GATEWAY: &str = "gateway";
const GRANTS: &str = "grants";
const NODES: &str = "nodes";
const ENCLAVE: &str = "enclave";

fn check(cond: bool, module: &'static str, function: &'static str, code: u64) -> Result<(), Abort> {
    if cond {
        Ok(())
    } else {
        Err(Abort {
            module,
            function,
            code,
        })
    }
}

fn role_min(role: u8) -> u64 {
    Role::from_move(role).unwrap_or(Role::Admin).min_stake()
}

fn role_lock(role: u8) -> u64 {
    Role::from_move(role).unwrap_or(Role::Admin).lock_epochs()
}

impl ContractState {
    /// The state right after publish: an empty pool with id `pool_id`.
    pub fn new(pool_id: ObjectId) -> Self {
        Self {
            pool_id,
            ..Self::default()
        }
    }

    /// `staking::stake_of`.
    pub fn stake_of(&self, staker: Address, role: u8) -> u64 {
        self.stakes.get(&(staker, role)).map_or(0, |s| s.amount)
    }

    /// `staking::tier_stake`.
    pub fn tier_stake(&self, staker: Address) -> u64 {
        self.stake_of(staker, 0)
            .saturating_add(self.stake_of(staker, 2))
    }

    fn has_active_node_stake(&self, operator: Address) -> bool {
        self.stake_of(operator, 1) >= Role::Node.min_stake()
    }

    fn cluster_mut(
        &mut self,
        id: ObjectId,
        module: &'static str,
        function: &'static str,
    ) -> Result<&mut Cluster, Abort> {
        // The executor only passes ids of existing clusters; a missing one is an
        // input error caught before execution, so this code is never seen on chain.
        self.clusters.get_mut(&id).ok_or(Abort {
            module,
            function,
            code: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{codes::*, *};

    fn ctx(sender: u8, epoch: u64) -> Ctx {
        Ctx {
            sender: Address([sender; 32]),
            epoch,
            timestamp_ms: 1,
        }
    }

    #[test]
    fn minimums_locks_and_slashing_follow_the_contract() {
        let mut s = ContractState::new(Address([0xaa; 32]));
        let err = s
            .stake(ctx(1, 0), 499_999_999, 0)
            .expect_err("below minimum");
        assert_eq!((err.module, err.code), ("staking", E_BELOW_MINIMUM));
        s.stake(ctx(1, 0), 500_000_000, 0).expect("stake");
        assert_eq!(
            s.stake(ctx(1, 0), 500_000_000, 0).expect_err("twice").code,
            E_ALREADY_STAKED
        );
        assert_eq!(
            s.withdraw(ctx(1, 9), 0, 1).expect_err("locked").code,
            E_STILL_LOCKED
        );
        s.withdraw(ctx(1, 10), 0, 1).expect("unlocked");
        let foreign = Address([0xbb; 32]);
        assert_eq!(
            s.slash(ctx(9, 10), foreign, Address([1; 32]), 0, 1, "x".into())
                .expect_err("cap")
                .code,
            E_NOT_POOL_ADMIN
        );
        s.slash(ctx(9, 10), s.pool_id, Address([1; 32]), 0, 1, "x".into())
            .expect("slash");
        assert_eq!(s.stake_of(Address([1; 32]), 0), 499_999_998);
        assert_eq!((s.locked, s.slashed), (499_999_998, 1));
    }

    #[test]
    fn requests_need_the_tier() {
        let mut s = ContractState::new(Address([0xaa; 32]));
        let cluster = Address([0xc1; 32]);
        s.create_cluster(ctx(9, 0), s.pool_id, cluster, "c".into());
        s.stake(ctx(1, 0), 1_000_000_000, 0).expect("stake");
        let submit = |s: &mut ContractState, kind: &str| {
            let request = Request {
                verb: "apply".into(),
                api_version: "v1".into(),
                kind: kind.into(),
                namespace: "ns".into(),
                name: "n".into(),
                manifest: vec![],
            };
            s.submit_request(ctx(1, 0), cluster, request)
        };
        submit(&mut s, "ConfigMap").expect("1 SUI writes config maps");
        assert_eq!(
            submit(&mut s, "Deployment").expect_err("above tier").code,
            E_INSUFFICIENT_STAKE
        );
        assert_eq!(
            s.clusters[&cluster].next_request_id, 1,
            "an abort changes nothing"
        );
    }
}
