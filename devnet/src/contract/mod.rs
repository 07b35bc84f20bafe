//! The `daas` Move package, executed natively.
//!
//! A line-by-line Rust rendering of `contracts/sources/*.move`: the same checks
//! in the same order, the same abort codes, the same events (built from the
//! domain's event types, whose BCS the shared vectors pin to the Move structs).
//! The executor maps PTB arguments onto these functions; this module knows
//! nothing about transactions, gas or objects beyond the ids it is handed.

use std::collections::BTreeMap;

use daas_domain::{
    Address, Bytes, ObjectId,
    events::*,
    roles::{MAX_MANIFEST_BYTES, Role, Verb, required_stake},
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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
    /// grants::EInvalidNamespaceRole
    pub const E_INVALID_NAMESPACE_ROLE: u64 = 201;
    /// grants::ENoGrant
    pub const E_NO_GRANT: u64 = 202;
    /// grants::EEmptyNamespace
    pub const E_EMPTY_NAMESPACE: u64 = 203;
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
    /// enclave::EUnknownPcrVersion
    pub const E_UNKNOWN_PCR_VERSION: u64 = 402;
    /// enclave::EBadPublicKey
    pub const E_BAD_ENCLAVE_KEY: u64 = 403;
    /// enclave::EEmptyAttestation
    pub const E_EMPTY_ATTESTATION: u64 = 404;
}
use codes::*;

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
    enclaves: BTreeMap<Bytes, u64>,
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

    /// `staking::stake`: `payment` MIST for a new stake in `role`.
    pub fn stake(&mut self, ctx: Ctx, payment: u64, role: u8) -> Result<Event, Abort> {
        const F: &str = "stake";
        check(role <= 2, STAKING, F, E_INVALID_ROLE)?;
        check(
            !self.stakes.contains_key(&(ctx.sender, role)),
            STAKING,
            F,
            E_ALREADY_STAKED,
        )?;
        check(payment >= role_min(role), STAKING, F, E_BELOW_MINIMUM)?;
        self.locked += payment;
        self.stakes.insert(
            (ctx.sender, role),
            Stake {
                amount: payment,
                locked_until_epoch: ctx.epoch + role_lock(role),
            },
        );
        Ok(Event::StakeDeposited(StakeDeposited {
            staker: ctx.sender,
            role,
            amount: payment,
            total_after: payment,
            epoch: ctx.epoch,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `staking::top_up`.
    pub fn top_up(&mut self, ctx: Ctx, payment: u64, role: u8) -> Result<Event, Abort> {
        const F: &str = "top_up";
        check(role <= 2, STAKING, F, E_INVALID_ROLE)?;
        check(
            self.stakes.contains_key(&(ctx.sender, role)),
            STAKING,
            F,
            E_NO_STAKE,
        )?;
        check(payment > 0, STAKING, F, E_ZERO_AMOUNT)?;
        self.locked += payment;
        let s = self.stakes.get_mut(&(ctx.sender, role)).ok_or(Abort {
            module: STAKING,
            function: F,
            code: E_NO_STAKE,
        })?;
        s.amount += payment;
        s.locked_until_epoch = ctx.epoch + role_lock(role);
        Ok(Event::StakeDeposited(StakeDeposited {
            staker: ctx.sender,
            role,
            amount: payment,
            total_after: s.amount,
            epoch: ctx.epoch,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `staking::withdraw`: returns the event; the caller pays `amount` out as a new coin.
    pub fn withdraw(&mut self, ctx: Ctx, role: u8, amount: u64) -> Result<Event, Abort> {
        const F: &str = "withdraw";
        check(role <= 2, STAKING, F, E_INVALID_ROLE)?;
        let key = (ctx.sender, role);
        let Some(s) = self.stakes.get_mut(&key) else {
            return Err(Abort {
                module: STAKING,
                function: F,
                code: E_NO_STAKE,
            });
        };
        check(amount > 0, STAKING, F, E_ZERO_AMOUNT)?;
        check(
            ctx.epoch >= s.locked_until_epoch,
            STAKING,
            F,
            E_STILL_LOCKED,
        )?;
        check(amount <= s.amount, STAKING, F, E_AMOUNT_TOO_LARGE)?;
        s.amount -= amount;
        let total_after = s.amount;
        if total_after == 0 {
            self.stakes.remove(&key);
        }
        self.locked -= amount;
        Ok(Event::StakeWithdrawn(StakeWithdrawn {
            staker: ctx.sender,
            role,
            amount,
            total_after,
            epoch: ctx.epoch,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `staking::slash` with an AdminCap for pool `cap_pool_id`.
    pub fn slash(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        staker: Address,
        role: u8,
        amount: u64,
        reason: String,
    ) -> Result<Event, Abort> {
        const F: &str = "slash";
        check(cap_pool_id == self.pool_id, STAKING, F, E_NOT_POOL_ADMIN)?;
        check(role <= 2, STAKING, F, E_INVALID_ROLE)?;
        let key = (staker, role);
        let Some(s) = self.stakes.get_mut(&key) else {
            return Err(Abort {
                module: STAKING,
                function: F,
                code: E_NO_STAKE,
            });
        };
        check(amount > 0, STAKING, F, E_ZERO_AMOUNT)?;
        check(amount <= s.amount, STAKING, F, E_AMOUNT_TOO_LARGE)?;
        s.amount -= amount;
        let total_after = s.amount;
        if total_after == 0 {
            self.stakes.remove(&key);
        }
        self.locked -= amount;
        self.slashed += amount;
        Ok(Event::StakeSlashed(StakeSlashed {
            staker,
            role,
            amount,
            total_after,
            reason,
            slashed_by: ctx.sender,
            epoch: ctx.epoch,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `gateway::create_cluster`: `new_id` is the fresh object id the executor assigned.
    pub fn create_cluster(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        new_id: ObjectId,
        name: String,
    ) -> Event {
        self.clusters.insert(
            new_id,
            Cluster {
                name: name.clone(),
                admin: ctx.sender,
                pool_id: cap_pool_id,
                next_request_id: 0,
                grants: BTreeMap::new(),
            },
        );
        Event::ClusterCreated(ClusterCreated {
            cluster_id: new_id,
            name,
            admin: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
        })
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

    /// `gateway::submit_request`.
    #[allow(clippy::too_many_arguments)] // mirrors the Move entry function
    pub fn submit_request(
        &mut self,
        ctx: Ctx,
        cluster_id: ObjectId,
        verb: String,
        api_version: String,
        kind: String,
        namespace: String,
        name: String,
        manifest: Vec<u8>,
    ) -> Result<Event, Abort> {
        const F: &str = "submit_request";
        check(
            manifest.len() <= MAX_MANIFEST_BYTES,
            GATEWAY,
            F,
            E_MANIFEST_TOO_LARGE,
        )?;
        check(!name.is_empty(), GATEWAY, F, E_EMPTY_NAME)?;
        let Some(v) = Verb::parse(&verb) else {
            return Err(Abort {
                module: GATEWAY,
                function: F,
                code: E_UNKNOWN_VERB,
            });
        };
        let required = required_stake(v, &kind);
        let stake = self.tier_stake(ctx.sender);
        check(stake >= required, GATEWAY, F, E_INSUFFICIENT_STAKE)?;
        let cluster = self.cluster_mut(cluster_id, GATEWAY, F)?;
        let request_id = cluster.next_request_id;
        cluster.next_request_id += 1;
        Ok(Event::K8sApiRequest(K8sApiRequest {
            cluster_id,
            request_id,
            sender: ctx.sender,
            verb,
            api_version,
            kind,
            namespace,
            name,
            manifest: Bytes(manifest),
            stake,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `grants::grant`.
    pub fn grant(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        cluster_id: ObjectId,
        namespace: String,
        grantee: Address,
        role: u8,
    ) -> Result<Event, Abort> {
        const F: &str = "grant";
        let cluster = self.cluster_mut(cluster_id, GRANTS, F)?;
        check(
            cap_pool_id == cluster.pool_id,
            GATEWAY,
            "assert_admin",
            E_NOT_CLUSTER_ADMIN,
        )?;
        check(role <= 1, GRANTS, F, E_INVALID_NAMESPACE_ROLE)?;
        check(!namespace.is_empty(), GRANTS, F, E_EMPTY_NAMESPACE)?;
        cluster.grants.insert((namespace.clone(), grantee), role);
        Ok(Event::NamespaceGranted(NamespaceGranted {
            cluster_id,
            namespace,
            grantee,
            role,
            granted_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `grants::revoke`.
    pub fn revoke(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        cluster_id: ObjectId,
        namespace: String,
        grantee: Address,
    ) -> Result<Event, Abort> {
        const F: &str = "revoke";
        let cluster = self.cluster_mut(cluster_id, GRANTS, F)?;
        check(
            cap_pool_id == cluster.pool_id,
            GATEWAY,
            "assert_admin",
            E_NOT_CLUSTER_ADMIN,
        )?;
        check(
            cluster
                .grants
                .remove(&(namespace.clone(), grantee))
                .is_some(),
            GRANTS,
            F,
            E_NO_GRANT,
        )?;
        Ok(Event::NamespaceRevoked(NamespaceRevoked {
            cluster_id,
            namespace,
            grantee,
            revoked_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `nodes::register_node`.
    pub fn register_node(
        &mut self,
        ctx: Ctx,
        node_name: String,
        public_key: Vec<u8>,
        endpoint: String,
    ) -> Result<Event, Abort> {
        const F: &str = "register_node";
        check(!node_name.is_empty(), NODES, F, E_EMPTY_NODE_NAME)?;
        check(public_key.len() == 32, NODES, F, E_BAD_NODE_KEY)?;
        check(
            self.has_active_node_stake(ctx.sender),
            NODES,
            F,
            E_NO_NODE_STAKE,
        )?;
        check(
            !self.nodes.contains_key(&node_name),
            NODES,
            F,
            E_NODE_EXISTS,
        )?;
        self.nodes.insert(
            node_name.clone(),
            Node {
                operator: ctx.sender,
                public_key: Bytes(public_key.clone()),
                endpoint: endpoint.clone(),
            },
        );
        Ok(Event::NodeRegistered(NodeRegistered {
            operator: ctx.sender,
            node_name,
            public_key: Bytes(public_key),
            endpoint,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `nodes::deregister_node`.
    pub fn deregister_node(&mut self, ctx: Ctx, node_name: String) -> Result<Event, Abort> {
        const F: &str = "deregister_node";
        let Some(node) = self.nodes.get(&node_name) else {
            return Err(Abort {
                module: NODES,
                function: F,
                code: E_UNKNOWN_NODE,
            });
        };
        check(node.operator == ctx.sender, NODES, F, E_NOT_OPERATOR)?;
        self.nodes.remove(&node_name);
        Ok(Event::NodeDeregistered(NodeDeregistered {
            operator: ctx.sender,
            node_name,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `enclave::register_pcrs`.
    pub fn register_pcrs(
        &mut self,
        ctx: Ctx,
        pcr0: Vec<u8>,
        pcr1: Vec<u8>,
        pcr2: Vec<u8>,
    ) -> Result<Event, Abort> {
        check(
            pcr0.len() == 48 && pcr1.len() == 48 && pcr2.len() == 48,
            ENCLAVE,
            "register_pcrs",
            E_BAD_PCR_LENGTH,
        )?;
        let version = self.latest_pcr_version + 1;
        self.latest_pcr_version = version;
        let set = [Bytes(pcr0), Bytes(pcr1), Bytes(pcr2)];
        self.pcr_sets.insert(version, set.clone());
        let [pcr0, pcr1, pcr2] = set;
        Ok(Event::PcrSetRegistered(PcrSetRegistered {
            version,
            pcr0,
            pcr1,
            pcr2,
            registered_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }

    /// `enclave::register_enclave`.
    pub fn register_enclave(
        &mut self,
        ctx: Ctx,
        pcr_version: u64,
        public_key: Vec<u8>,
        attestation: Vec<u8>,
    ) -> Result<Event, Abort> {
        const F: &str = "register_enclave";
        check(
            self.pcr_sets.contains_key(&pcr_version),
            ENCLAVE,
            F,
            E_UNKNOWN_PCR_VERSION,
        )?;
        check(public_key.len() == 32, ENCLAVE, F, E_BAD_ENCLAVE_KEY)?;
        check(!attestation.is_empty(), ENCLAVE, F, E_EMPTY_ATTESTATION)?;
        self.enclaves.insert(Bytes(public_key.clone()), pcr_version);
        Ok(Event::EnclaveRegistered(EnclaveRegistered {
            pcr_version,
            public_key: Bytes(public_key),
            attestation_digest: Bytes(Sha256::digest(&attestation).to_vec()),
            registered_by: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            s.submit_request(
                ctx(1, 0),
                cluster,
                "apply".into(),
                "v1".into(),
                kind.into(),
                "ns".into(),
                "n".into(),
                vec![],
            )
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
