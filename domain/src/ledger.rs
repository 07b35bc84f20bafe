//! The ledger: a pure, deterministic state machine over decoded events.
//!
//! It holds what the chain says about stakes, nodes, clusters, namespace grants
//! and enclaves, plus what the ordered requests have made exist (namespaces and
//! their owners, tenant objects). From that it answers "may address A do verb V
//! on kind K in namespace N" and "is node X active", and it decides each
//! `K8sAPIRequest` (see [`crate::admission`]). The projector and the master both
//! run it over the same log, so they agree without talking to each other.
//!
//! Rules:
//! - A stake event's `total_after` is authoritative (the chain computed it).
//! - A node is active while it is registered and its operator's node stake is at
//!   least the node minimum; crossing that line emits [`Change::NodeActivity`].
//! - The address that creates a namespace owns it; the system namespaces of a
//!   cluster belong to the cluster's admin.
//! - Cluster authority (every namespace, the system namespaces, cluster-scoped
//!   kinds) belongs to the cluster's creator (the `AdminCap` holder that made
//!   it) and to addresses it granted cluster admin (`grants::grant_cluster_admin`,
//!   a `NamespaceGranted` under namespace `*` with role 2) while their
//!   admin-role stake is at least the admin minimum (10 SUI), a slashable bond.
//!   An admin-role stake alone gives no authority; a slash below the bond or a
//!   revoke ends it (decision 0009).
//! - A rejected request changes nothing.
//! - Every sealing key a cluster registered is remembered by (cluster,
//!   version): the highest version is the current one (what `daas` seals to),
//!   older ones still name the keys of older sealed records.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::{
    Address, Bytes, ObjectId,
    admission::{self, Decision},
    events::*,
    roles::{CLUSTER_ADMIN_GRANT, NamespaceRole, Role, Verb},
};

pub use crate::roles::SYSTEM_NAMESPACES;

/// A registered node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    /// Operator address.
    pub operator: Address,
    /// Ed25519 public key.
    pub public_key: Bytes,
    /// Agent endpoint.
    pub endpoint: String,
}

/// What the newest registration of an attested enclave key recorded
/// (`enclave::EnclaveRegistered`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnclaveEntry {
    /// The cluster its document's `user_data` names.
    pub cluster: ObjectId,
    /// The PCR set its document matched.
    pub pcr_version: u64,
    /// The sealing key version its document names.
    pub sealing_key_version: u64,
    /// That sealing key (X25519).
    pub sealing_public_key: Bytes,
    /// The document's `module_id` (a dev CA's starts with `k3s-daas-dev`).
    pub module_id: Bytes,
    /// The document's timestamp, ms.
    pub attestation_timestamp_ms: u64,
}

/// A known cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterEntry {
    /// Name.
    pub name: String,
    /// Creator.
    pub admin: Address,
}

/// A registered PCR set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PcrSet {
    /// PCR0.
    pub pcr0: Bytes,
    /// PCR1.
    pub pcr1: Bytes,
    /// PCR2.
    pub pcr2: Bytes,
}

/// A tenant object's identity inside a cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    /// Cluster.
    pub cluster: ObjectId,
    /// Kind.
    pub kind: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// The object a request names. A cluster-scoped kind has no namespace,
    /// whatever the request's namespace field says: admission, the ledger
    /// and the master must all name it the same way.
    pub fn of(req: &K8sApiRequest) -> Self {
        let namespaced = crate::kinds::lookup(&req.kind).is_none_or(|k| k.namespaced);
        ObjectKey {
            cluster: req.cluster_id,
            kind: req.kind.clone(),
            namespace: if namespaced {
                req.namespace.clone()
            } else {
                String::new()
            },
            name: req.name.clone(),
        }
    }
}

/// One change to the ledger's state, for stores that persist it row by row
/// (the projector's tables, the master's etcd keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// `staker`'s stake in `role` is now `amount` (0 = gone).
    Stake {
        /// Staker.
        staker: Address,
        /// Role.
        role: Role,
        /// New amount, MIST.
        amount: u64,
    },
    /// A node was registered (`Some`) or deregistered (`None`).
    Node {
        /// Node name.
        name: String,
        /// The entry, or `None` when removed.
        entry: Option<NodeEntry>,
    },
    /// A node became active or inactive.
    NodeActivity {
        /// Node name.
        name: String,
        /// Its operator.
        operator: Address,
        /// Whether it is active now.
        active: bool,
    },
    /// A cluster was created.
    Cluster {
        /// Cluster id.
        id: ObjectId,
        /// The entry.
        entry: ClusterEntry,
    },
    /// A namespace grant was set (`Some`) or removed (`None`).
    Grant {
        /// Cluster.
        cluster: ObjectId,
        /// Namespace.
        namespace: String,
        /// Grantee.
        grantee: Address,
        /// The role, or `None` when revoked.
        role: Option<NamespaceRole>,
    },
    /// A namespace came to exist with an owner (`Some`) or was deleted (`None`).
    NamespaceOwner {
        /// Cluster.
        cluster: ObjectId,
        /// Namespace.
        namespace: String,
        /// Owner, or `None` when deleted.
        owner: Option<Address>,
    },
    /// A tenant object came to exist (`true`) or was deleted (`false`).
    Object {
        /// Which object.
        key: ObjectKey,
        /// Whether it exists now.
        exists: bool,
        /// What admission remembers of it (see [`crate::memo`]); `None` when nothing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memo: Option<crate::memo::Memo>,
    },
    /// A PCR set was registered.
    PcrSet {
        /// Version.
        version: u64,
        /// The set.
        set: PcrSet,
    },
    /// An attested enclave key was registered (again: the newest registration counts).
    Enclave {
        /// The enclave's Ed25519 public key.
        public_key: Bytes,
        /// What its registration recorded.
        entry: EnclaveEntry,
    },
    /// A cluster's sealing key was registered under a version.
    SealingKey {
        /// Cluster.
        cluster: ObjectId,
        /// Key version (1..=u32::MAX).
        version: u32,
        /// The X25519 public key (`0x…` hex in JSON).
        #[serde(with = "hex32")]
        public_key: [u8; 32],
    },
}

/// A 32-byte key as `0x…` hex in human-readable formats (JSON), a plain array otherwise.
mod hex32 {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

    pub fn serialize<S: Serializer>(key: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(&format_args!("0x{}", hex::encode(key)))
        } else {
            key.serialize(s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        if !d.is_human_readable() {
            return <[u8; 32]>::deserialize(d);
        }
        let text = String::deserialize(d)?;
        let bytes =
            hex::decode(text.strip_prefix("0x").unwrap_or(&text)).map_err(D::Error::custom)?;
        <[u8; 32]>::try_from(bytes.as_slice())
            .map_err(|_| D::Error::custom(format!("a key is 32 bytes, not {}", bytes.len())))
    }
}

impl Change {
    /// Where a store keeps this change's entity, one key per entity
    /// (`stake/<staker>/<role>`, `node/<name>`, `object/<cluster>/<namespace>/<kind>/<name>`, …);
    /// the latest change of an entity is its state. `None` for derived facts
    /// (node activity follows from stakes and nodes). Objects are keyed
    /// namespace-first so a namespace's objects share a prefix.
    pub fn store_key(&self) -> Option<String> {
        Some(match self {
            Change::Stake { staker, role, .. } => format!("stake/{staker}/{}", role.as_str()),
            Change::Node { name, .. } => format!("node/{name}"),
            Change::NodeActivity { .. } => return None,
            Change::Cluster { id, .. } => format!("cluster/{id}"),
            Change::Grant {
                cluster,
                namespace,
                grantee,
                ..
            } => format!("grant/{cluster}/{namespace}/{grantee}"),
            Change::NamespaceOwner {
                cluster, namespace, ..
            } => format!("namespace/{cluster}/{namespace}"),
            Change::Object { key, .. } => {
                Self::object_prefix(key.cluster, &key.namespace)
                    + &format!("{}/{}", key.kind, key.name)
            }
            Change::PcrSet { version, .. } => format!("pcr/{version:020}"),
            Change::Enclave { public_key, .. } => {
                format!("enclave/{}", hex::encode(public_key.as_ref()))
            }
            Change::SealingKey {
                cluster, version, ..
            } => format!("sealing_key/{cluster}/{version}"),
        })
    }

    /// The store prefix of every object of `namespace` in `cluster`.
    pub fn object_prefix(cluster: ObjectId, namespace: &str) -> String {
        format!("object/{cluster}/{namespace}/")
    }

    /// True when the entity is gone after this change (the store deletes its key).
    pub fn is_removal(&self) -> bool {
        match self {
            Change::Stake { amount, .. } => *amount == 0,
            Change::Node { entry, .. } => entry.is_none(),
            Change::Grant { role, .. } => role.is_none(),
            Change::NamespaceOwner { owner, .. } => owner.is_none(),
            Change::Object { exists, .. } => !exists,
            Change::NodeActivity { .. }
            | Change::Cluster { .. }
            | Change::PcrSet { .. }
            | Change::Enclave { .. }
            | Change::SealingKey { .. } => false,
        }
    }
}

/// The ledger state. Construct with `Ledger::default()` and feed it events in log order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    stakes: BTreeMap<(Address, Role), u64>,
    total_stake: u128,
    nodes: BTreeMap<String, NodeEntry>,
    clusters: BTreeMap<ObjectId, ClusterEntry>,
    grants: BTreeMap<(ObjectId, String, Address), NamespaceRole>,
    namespaces: BTreeMap<(ObjectId, String), Address>,
    objects: BTreeSet<ObjectKey>,
    /// Admission's memo per object (only non-empty ones).
    memos: BTreeMap<ObjectKey, crate::memo::Memo>,
    pcr_sets: BTreeMap<u64, PcrSet>,
    enclaves: BTreeMap<Bytes, EnclaveEntry>,
    /// Every registered sealing key by (cluster, version).
    sealing_keys: BTreeMap<(ObjectId, u32), [u8; 32]>,
}

/// What applying one event did.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Applied {
    /// State changes, in the order they happened.
    pub changes: Vec<Change>,
    /// For a `K8sAPIRequest`: admitted (what to write) or rejected (why).
    pub decision: Option<Decision>,
}

impl Ledger {
    /// Applies one event. Deterministic: the same state and event always give
    /// the same changes. Sealed Secrets stay sealed (see [`Ledger::apply_with`]).
    pub fn apply(&mut self, event: &Event) -> Applied {
        self.apply_with(event, &crate::sealed::NoOpen)
    }

    /// [`Ledger::apply`], opening an admitted sealed Secret with `opener`
    /// before the request is recorded: a value that does not open turns the
    /// decision into a rejection, which changes nothing (the master, which
    /// holds the sealing keys). Deterministic for a given set of keys.
    pub fn apply_with(&mut self, event: &Event, opener: &dyn crate::sealed::Open) -> Applied {
        let mut changes = Vec::new();
        let mut decision = None;
        let c = &mut changes;
        match event {
            Event::StakeDeposited(e) => self.set_stake(e.staker, e.role, e.total_after, c),
            Event::StakeWithdrawn(e) => self.set_stake(e.staker, e.role, e.total_after, c),
            Event::StakeSlashed(e) => self.set_stake(e.staker, e.role, e.total_after, c),
            Event::ClusterCreated(e) => self.add_cluster(e, c),
            Event::K8sApiRequest(req) => {
                let d = open_sealed(admission::decide(self, req), req, opener);
                if let Decision::Admitted(a) = &d {
                    self.record_admitted(req, a, c);
                }
                decision = Some(d);
            }
            Event::NodeRegistered(e) => self.add_node(e, c),
            Event::NodeDeregistered(e) => {
                if self.nodes.remove(&e.node_name).is_some() {
                    c.push(Change::Node {
                        name: e.node_name.clone(),
                        entry: None,
                    });
                }
            }
            Event::NamespaceGranted(e) => self.grant_namespace(e, c),
            Event::NamespaceRevoked(e) => self.revoke_namespace(e, c),
            Event::PcrSetRegistered(e) => {
                let set = PcrSet {
                    pcr0: e.pcr0.clone(),
                    pcr1: e.pcr1.clone(),
                    pcr2: e.pcr2.clone(),
                };
                self.pcr_sets.insert(e.version, set.clone());
                c.push(Change::PcrSet {
                    version: e.version,
                    set,
                });
            }
            Event::EnclaveRegistered(e) => {
                let entry = EnclaveEntry {
                    cluster: e.cluster_id,
                    pcr_version: e.pcr_version,
                    sealing_key_version: e.sealing_key_version,
                    sealing_public_key: e.sealing_public_key.clone(),
                    module_id: e.module_id.clone(),
                    attestation_timestamp_ms: e.attestation_timestamp_ms,
                };
                self.enclaves.insert(e.public_key.clone(), entry.clone());
                c.push(Change::Enclave {
                    public_key: e.public_key.clone(),
                    entry,
                });
            }
            Event::SealingKeyRegistered(e) => self.add_sealing_key(e, c),
        }
        Applied { changes, decision }
    }

    fn add_node(&mut self, e: &NodeRegistered, changes: &mut Vec<Change>) {
        let entry = NodeEntry {
            operator: e.operator,
            public_key: e.public_key.clone(),
            endpoint: e.endpoint.clone(),
        };
        self.nodes.insert(e.node_name.clone(), entry.clone());
        changes.push(Change::Node {
            name: e.node_name.clone(),
            entry: Some(entry),
        });
        changes.push(Change::NodeActivity {
            name: e.node_name.clone(),
            operator: e.operator,
            active: self.node_stake_active(e.operator),
        });
    }

    fn grant_namespace(&mut self, e: &NamespaceGranted, changes: &mut Vec<Change>) {
        // Decoding refused roles out of range or outside their namespace; a
        // record that slipped past it (an older log) changes nothing.
        let Some(role) =
            NamespaceRole::from_move(e.role).filter(|r| r.fits_namespace(&e.namespace))
        else {
            return;
        };
        self.grants
            .insert((e.cluster_id, e.namespace.clone(), e.grantee), role);
        changes.push(Change::Grant {
            cluster: e.cluster_id,
            namespace: e.namespace.clone(),
            grantee: e.grantee,
            role: Some(role),
        });
    }

    fn revoke_namespace(&mut self, e: &NamespaceRevoked, changes: &mut Vec<Change>) {
        let key = (e.cluster_id, e.namespace.clone(), e.grantee);
        if self.grants.remove(&key).is_some() {
            changes.push(Change::Grant {
                cluster: e.cluster_id,
                namespace: e.namespace.clone(),
                grantee: e.grantee,
                role: None,
            });
        }
    }

    fn add_sealing_key(&mut self, e: &SealingKeyRegistered, changes: &mut Vec<Change>) {
        // Decoding refused other key sizes and versions outside 1..=u32::MAX; a
        // record that slipped past it (an older log) changes nothing.
        let (Some(version), Some(public_key)) = (e.version_u32(), e.key_bytes()) else {
            return;
        };
        self.sealing_keys
            .insert((e.cluster_id, version), public_key);
        changes.push(Change::SealingKey {
            cluster: e.cluster_id,
            version,
            public_key,
        });
    }

    fn set_stake(&mut self, staker: Address, role: u8, amount: u64, changes: &mut Vec<Change>) {
        // Decoding already rejected roles the contract never emits.
        let Some(role) = Role::from_move(role) else {
            return;
        };
        let was_active = role == Role::Node && self.node_stake_active(staker);
        let before = if amount == 0 {
            self.stakes.remove(&(staker, role))
        } else {
            self.stakes.insert((staker, role), amount)
        };
        self.total_stake = self
            .total_stake
            .saturating_sub(u128::from(before.unwrap_or(0)))
            + u128::from(amount);
        changes.push(Change::Stake {
            staker,
            role,
            amount,
        });
        if role == Role::Node {
            let active = self.node_stake_active(staker);
            if active != was_active {
                for (name, node) in self.nodes.iter().filter(|(_, n)| n.operator == staker) {
                    changes.push(Change::NodeActivity {
                        name: name.clone(),
                        operator: node.operator,
                        active,
                    });
                }
            }
        }
    }

    fn add_cluster(&mut self, e: &ClusterCreated, changes: &mut Vec<Change>) {
        let entry = ClusterEntry {
            name: e.name.clone(),
            admin: e.admin,
        };
        self.clusters.insert(e.cluster_id, entry.clone());
        changes.push(Change::Cluster {
            id: e.cluster_id,
            entry,
        });
        for ns in SYSTEM_NAMESPACES {
            if self
                .namespaces
                .insert((e.cluster_id, ns.to_owned()), e.admin)
                .is_none()
            {
                changes.push(Change::NamespaceOwner {
                    cluster: e.cluster_id,
                    namespace: ns.to_owned(),
                    owner: Some(e.admin),
                });
            }
        }
    }
}

/// An admitted sealed Secret, opened by `opener` (or refused by it).
fn open_sealed(
    decision: Decision,
    req: &K8sApiRequest,
    opener: &dyn crate::sealed::Open,
) -> Decision {
    let Decision::Admitted(mut a) = decision else {
        return decision;
    };
    let Some(object) = a.object.as_ref().filter(|_| a.kind.kind == "Secret") else {
        return Decision::Admitted(a);
    };
    let Ok(Some(version)) = crate::sealed::sealed_version(object) else {
        return Decision::Admitted(a);
    };
    match opener.open(req, object, version) {
        Ok(opened) => {
            a.object = Some(opened);
            Decision::Admitted(a)
        }
        Err(r) => Decision::Rejected(r),
    }
}

impl Ledger {
    fn record_admitted(
        &mut self,
        req: &K8sApiRequest,
        a: &admission::Admitted,
        changes: &mut Vec<Change>,
    ) {
        let key = ObjectKey::of(req);
        let exists = a.action != admission::Action::Delete;
        if exists {
            let memo = a.memo.clone().filter(|m| !m.is_empty());
            let memo_changed = self.memos.get(&key) != memo.as_ref();
            match &memo {
                Some(m) => self.memos.insert(key.clone(), m.clone()),
                None => self.memos.remove(&key),
            };
            if self.objects.insert(key.clone()) || memo_changed {
                changes.push(Change::Object {
                    key,
                    exists: true,
                    memo,
                });
            }
        } else if self.objects.remove(&key) {
            self.memos.remove(&key);
            changes.push(Change::Object {
                key,
                exists: false,
                memo: None,
            });
        }
        if req.kind != "Namespace" {
            return;
        }
        let ns_key = (req.cluster_id, req.name.clone());
        if exists {
            if let std::collections::btree_map::Entry::Vacant(slot) = self.namespaces.entry(ns_key)
            {
                slot.insert(req.sender);
                changes.push(Change::NamespaceOwner {
                    cluster: req.cluster_id,
                    namespace: req.name.clone(),
                    owner: Some(req.sender),
                });
            }
        } else {
            // Deleting a namespace deletes everything in it (kube's namespace controller does the same).
            self.namespaces.remove(&ns_key);
            changes.push(Change::NamespaceOwner {
                cluster: req.cluster_id,
                namespace: req.name.clone(),
                owner: None,
            });
            let inside: Vec<ObjectKey> = self
                .objects
                .iter()
                .filter(|k| k.cluster == req.cluster_id && k.namespace == req.name)
                .cloned()
                .collect();
            for k in inside {
                self.objects.remove(&k);
                self.memos.remove(&k);
                changes.push(Change::Object {
                    memo: None,
                    key: k,
                    exists: false,
                });
            }
        }
    }

    /// Rebuilds state from stored changes (the latest change of each entity,
    /// see [`Change::store_key`]), in any order: what a store persisted as
    /// changes comes back as the same ledger.
    pub fn restore(&mut self, change: &Change) {
        match change {
            Change::Stake {
                staker,
                role,
                amount,
            } => {
                let before = if *amount == 0 {
                    self.stakes.remove(&(*staker, *role))
                } else {
                    self.stakes.insert((*staker, *role), *amount)
                };
                self.total_stake = self
                    .total_stake
                    .saturating_sub(u128::from(before.unwrap_or(0)))
                    + u128::from(*amount);
            }
            Change::Node { name, entry } => match entry {
                Some(e) => {
                    self.nodes.insert(name.clone(), e.clone());
                }
                None => {
                    self.nodes.remove(name);
                }
            },
            Change::NodeActivity { .. } => {}
            Change::Cluster { id, entry } => {
                self.clusters.insert(*id, entry.clone());
            }
            Change::Grant {
                cluster,
                namespace,
                grantee,
                role,
            } => {
                let k = (*cluster, namespace.clone(), *grantee);
                match role {
                    Some(r) => self.grants.insert(k, *r),
                    None => self.grants.remove(&k),
                };
            }
            Change::NamespaceOwner {
                cluster,
                namespace,
                owner,
            } => {
                let k = (*cluster, namespace.clone());
                match owner {
                    Some(o) => self.namespaces.insert(k, *o),
                    None => self.namespaces.remove(&k),
                };
            }
            Change::Object { key, exists, memo } => {
                if *exists {
                    self.objects.insert(key.clone());
                } else {
                    self.objects.remove(key);
                }
                match memo.as_ref().filter(|_| *exists) {
                    Some(m) => self.memos.insert(key.clone(), m.clone()),
                    None => self.memos.remove(key),
                };
            }
            Change::PcrSet { version, set } => {
                self.pcr_sets.insert(*version, set.clone());
            }
            Change::Enclave { public_key, entry } => {
                self.enclaves.insert(public_key.clone(), entry.clone());
            }
            Change::SealingKey {
                cluster,
                version,
                public_key,
            } => {
                self.sealing_keys.insert((*cluster, *version), *public_key);
            }
        }
    }

    // ----------------------------------------------------------- questions

    /// `staker`'s stake in `role`, MIST.
    pub fn stake_of(&self, staker: Address, role: Role) -> u64 {
        self.stakes.get(&(staker, role)).copied().unwrap_or(0)
    }

    /// The stake that sets `staker`'s tier: user plus admin stake (as `staking::tier_stake`).
    pub fn tier_stake(&self, staker: Address) -> u64 {
        self.stake_of(staker, Role::User)
            .saturating_add(self.stake_of(staker, Role::Admin))
    }

    /// Sum of all stakes, MIST.
    pub fn total_stake(&self) -> u128 {
        self.total_stake
    }

    /// Every live stake.
    pub fn stakes(&self) -> impl Iterator<Item = (Address, Role, u64)> + '_ {
        self.stakes.iter().map(|(&(a, r), &v)| (a, r, v))
    }

    /// Whether `operator`'s node stake meets the node minimum.
    pub fn node_stake_active(&self, operator: Address) -> bool {
        self.stake_of(operator, Role::Node) >= Role::Node.min_stake()
    }

    /// Whether node `name` is registered and its operator's node stake meets the minimum.
    pub fn is_node_active(&self, name: &str) -> bool {
        self.nodes
            .get(name)
            .is_some_and(|n| self.node_stake_active(n.operator))
    }

    /// Registered nodes by name.
    pub fn nodes(&self) -> &BTreeMap<String, NodeEntry> {
        &self.nodes
    }

    /// A known cluster.
    pub fn cluster(&self, id: ObjectId) -> Option<&ClusterEntry> {
        self.clusters.get(&id)
    }

    /// Whether `who` has cluster authority in `cluster`: its creator, or a
    /// cluster admin granted by the `AdminCap` holder whose admin-role stake
    /// (the bond) is at least the admin minimum. An admin-role stake without a
    /// grant is not enough (`gateway::has_cluster_authority`).
    pub fn is_admin(&self, cluster: ObjectId, who: Address) -> bool {
        self.clusters.get(&cluster).is_some_and(|c| c.admin == who)
            || (self.is_cluster_admin_granted(cluster, who)
                && self.stake_of(who, Role::Admin) >= Role::Admin.min_stake())
    }

    /// Whether `who` holds a cluster-admin grant in `cluster` (bonded or not).
    pub fn is_cluster_admin_granted(&self, cluster: ObjectId, who: Address) -> bool {
        self.grant(cluster, CLUSTER_ADMIN_GRANT, who) == Some(NamespaceRole::ClusterAdmin)
    }

    /// Owner of `namespace` in `cluster`, if it exists.
    pub fn namespace_owner(&self, cluster: ObjectId, namespace: &str) -> Option<Address> {
        self.namespaces
            .get(&(cluster, namespace.to_owned()))
            .copied()
    }

    /// `grantee`'s granted role in `namespace` of `cluster`.
    pub fn grant(
        &self,
        cluster: ObjectId,
        namespace: &str,
        grantee: Address,
    ) -> Option<NamespaceRole> {
        self.grants
            .get(&(cluster, namespace.to_owned(), grantee))
            .copied()
    }

    /// Whether the tenant object exists.
    pub fn object_exists(&self, key: &ObjectKey) -> bool {
        self.objects.contains(key)
    }

    /// What admission remembers of an existing object (see [`crate::memo`]).
    pub fn memo(&self, key: &ObjectKey) -> Option<&crate::memo::Memo> {
        self.memos.get(key)
    }

    /// What the newest registration of enclave key `public_key` recorded, if any.
    pub fn enclave(&self, public_key: &[u8]) -> Option<&EnclaveEntry> {
        self.enclaves.get(&Bytes(public_key.to_vec()))
    }

    /// The sealing key `cluster` registered as `version`, if any.
    pub fn sealing_key(&self, cluster: ObjectId, version: u32) -> Option<&[u8; 32]> {
        self.sealing_keys.get(&(cluster, version))
    }

    /// `cluster`'s current sealing key: the highest registered version and its key.
    pub fn current_sealing_key(&self, cluster: ObjectId) -> Option<(u32, &[u8; 32])> {
        self.sealing_keys
            .range((cluster, 0)..=(cluster, u32::MAX))
            .next_back()
            .map(|(&(_, version), key)| (version, key))
    }

    /// May `who` do `verb` on `kind` in `namespace` of `cluster`? Checks the
    /// stake tier and, for namespaced kinds, ownership, grants and admin
    /// rights ([`crate::access::may`], the one rule reads share).
    pub fn may(
        &self,
        cluster: ObjectId,
        who: Address,
        verb: Verb,
        kind: &str,
        namespace: &str,
    ) -> Result<(), Denied> {
        crate::access::may(self, cluster, who, verb, kind, namespace)
    }

    /// A snapshot of `cluster`'s authority (stakes, namespaces, grants,
    /// creator) that answers [`Ledger::may`]'s question as the ledger does.
    pub fn access(&self, cluster: ObjectId) -> crate::access::Access {
        let namespaces = self
            .namespaces
            .range((cluster, String::new())..)
            .take_while(|((c, _), _)| *c == cluster)
            .map(|((_, ns), owner)| (ns.clone(), *owner))
            .collect();
        let grants = self
            .grants
            .range((cluster, String::new(), Address([0; 32]))..)
            .take_while(|((c, _, _), _)| *c == cluster)
            .map(|((_, ns, who), role)| ((ns.clone(), *who), *role))
            .collect();
        crate::access::Access::new(
            cluster,
            self.clusters.get(&cluster).map(|c| c.admin),
            self.stakes(),
            namespaces,
            grants,
        )
    }
}

impl crate::access::Authority for Ledger {
    fn tier_stake(&self, who: Address) -> u64 {
        Ledger::tier_stake(self, who)
    }

    fn namespace_owner(&self, cluster: ObjectId, namespace: &str) -> Option<Address> {
        Ledger::namespace_owner(self, cluster, namespace)
    }

    fn is_admin(&self, cluster: ObjectId, who: Address) -> bool {
        Ledger::is_admin(self, cluster, who)
    }

    fn grant(&self, cluster: ObjectId, namespace: &str, who: Address) -> Option<NamespaceRole> {
        Ledger::grant(self, cluster, namespace, who)
    }
}

/// Why [`Ledger::may`] said no.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The tier stake is too low.
    Tier {
        /// MIST needed.
        need: u64,
        /// MIST held.
        have: u64,
    },
    /// The namespace does not exist.
    NoNamespace,
    /// Another address owns the namespace and no grant or admin right applies.
    NotYours {
        /// The owner.
        owner: Address,
    },
}
