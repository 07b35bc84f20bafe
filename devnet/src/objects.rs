//! The object store: every live object with its version, owner and digest.
//!
//! Objects are real `sui_sdk_types::Object`s as far as clients can see (type,
//! version, owner, digest, BCS contents starting with the id), so transaction
//! builders can reference them. Our package's shared objects carry only their
//! id as contents: their state lives natively in [`crate::contract`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sui_sdk_types::{
    Address, Digest, Identifier, MoveStruct, Object, ObjectData, ObjectReference, Owner, StructTag,
};

/// What an object is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    /// `0x2::coin::Coin<0x2::sui::SUI>` with its balance in MIST.
    Coin {
        /// MIST held.
        balance: u64,
    },
    /// `staking::AdminCap` for `pool_id`.
    AdminCap {
        /// The pool it governs.
        pool_id: Address,
    },
    /// `staking::StakingPool` (shared).
    Pool,
    /// `nodes::NodeRegistry` (shared).
    NodeRegistry,
    /// `enclave::EnclaveRegistry` (shared).
    EnclaveRegistry,
    /// `gateway::Cluster` (shared).
    Cluster,
    /// `0x2::clock::Clock` (shared, id 0x6).
    Clock,
}

/// One live object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obj {
    /// Object id.
    pub id: Address,
    /// Lamport version.
    pub version: u64,
    /// Owner.
    pub owner: Owner,
    /// What it is.
    pub kind: Kind,
    /// Transaction that last wrote it.
    pub previous_transaction: Digest,
}

impl Obj {
    /// The object's Move type.
    pub fn type_tag(&self, package: Address) -> StructTag {
        let ours = |module: &'static str, name: &'static str| {
            StructTag::new(
                package,
                Identifier::from_static(module),
                Identifier::from_static(name),
                vec![],
            )
        };
        match &self.kind {
            Kind::Coin { .. } => StructTag::gas_coin(),
            Kind::AdminCap { .. } => ours("staking", "AdminCap"),
            Kind::Pool => ours("staking", "StakingPool"),
            Kind::NodeRegistry => ours("nodes", "NodeRegistry"),
            Kind::EnclaveRegistry => ours("enclave", "EnclaveRegistry"),
            Kind::Cluster => ours("gateway", "Cluster"),
            Kind::Clock => StructTag::new(
                Address::TWO,
                Identifier::from_static("clock"),
                Identifier::from_static("Clock"),
                vec![],
            ),
        }
    }

    /// The BCS contents: the id, then the fields we model.
    pub fn contents(&self, clock_ms: u64) -> Vec<u8> {
        let mut out = self.id.into_inner().to_vec();
        match &self.kind {
            Kind::Coin { balance } => out.extend(balance.to_le_bytes()),
            Kind::AdminCap { pool_id } => out.extend(pool_id.into_inner()),
            Kind::Clock => out.extend(clock_ms.to_le_bytes()),
            Kind::Pool | Kind::NodeRegistry | Kind::EnclaveRegistry | Kind::Cluster => {}
        }
        out
    }

    /// The full SDK object (for digests and RPC answers).
    pub fn to_sdk(&self, package: Address, clock_ms: u64) -> Object {
        let data = MoveStruct::new(
            self.type_tag(package),
            !matches!(
                self.kind,
                Kind::Pool
                    | Kind::NodeRegistry
                    | Kind::EnclaveRegistry
                    | Kind::Cluster
                    | Kind::Clock
            ),
            self.version,
            self.contents(clock_ms),
        );
        // `contents` always starts with the 32-byte id, which is all `new` checks.
        let data = data.expect("object contents start with the object id");
        Object::new(
            ObjectData::Struct(data),
            self.owner,
            self.previous_transaction,
            0,
        )
    }

    /// The object's digest (the clock's changes every checkpoint; callers pass the time).
    pub fn digest(&self, package: Address, clock_ms: u64) -> Digest {
        self.to_sdk(package, clock_ms).digest()
    }

    /// `(id, version, digest)`.
    pub fn reference(&self, package: Address, clock_ms: u64) -> ObjectReference {
        ObjectReference::new(self.id, self.version, self.digest(package, clock_ms))
    }

    /// The version it became shared at, for shared objects.
    pub fn initial_shared_version(&self) -> Option<u64> {
        match self.owner {
            Owner::Shared(v) => Some(v),
            _ => None,
        }
    }

    /// Balance if it is a coin.
    pub fn balance(&self) -> Option<u64> {
        match self.kind {
            Kind::Coin { balance } => Some(balance),
            _ => None,
        }
    }
}

/// All live objects, with an index by owner address.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ObjectStore {
    objects: BTreeMap<Address, Obj>,
    by_owner: BTreeMap<Address, BTreeSet<Address>>,
}

impl ObjectStore {
    /// An object by id.
    pub fn get(&self, id: &Address) -> Option<&Obj> {
        self.objects.get(id)
    }

    /// Inserts or replaces an object, keeping the owner index right.
    pub fn put(&mut self, obj: Obj) {
        if let Some(old) = self.objects.get(&obj.id)
            && let Owner::Address(a) = old.owner
            && let Some(set) = self.by_owner.get_mut(&a)
        {
            set.remove(&obj.id);
        }
        if let Owner::Address(a) = obj.owner {
            self.by_owner.entry(a).or_default().insert(obj.id);
        }
        self.objects.insert(obj.id, obj);
    }

    /// Removes an object.
    pub fn remove(&mut self, id: &Address) -> Option<Obj> {
        let obj = self.objects.remove(id)?;
        if let Owner::Address(a) = obj.owner
            && let Some(set) = self.by_owner.get_mut(&a)
        {
            set.remove(id);
        }
        Some(obj)
    }

    /// Objects owned by `owner`, in id order.
    pub fn owned_by(&self, owner: &Address) -> impl Iterator<Item = &Obj> {
        self.by_owner
            .get(owner)
            .into_iter()
            .flatten()
            .filter_map(|id| self.objects.get(id))
    }

    /// Total MIST in coins owned by `owner`.
    pub fn balance_of(&self, owner: &Address) -> u128 {
        self.owned_by(owner)
            .filter_map(Obj::balance)
            .map(u128::from)
            .sum()
    }
}
