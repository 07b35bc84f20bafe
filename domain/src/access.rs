//! Who may read what in one cluster: the part of the ledger the master's
//! Kubernetes API and its RBAC mirror need (decision 0022), as a small
//! snapshot the apply path publishes after each batch that changed it.
//!
//! [`may`] is the one rule, shared by [`crate::Ledger::may`] (admission)
//! and [`Access::may`] (reads): the tier stake the verb and kind need
//! ([`required_stake`]), then, for a namespaced question, the namespace's
//! owner, a grant that allows the verb, or cluster authority.

use std::collections::BTreeMap;

use crate::{
    Address, ObjectId,
    ledger::Denied,
    roles::{CLUSTER_ADMIN_GRANT, MIST_PER_SUI, NamespaceRole, Role, Verb, required_stake},
};

/// The questions [`may`] asks, answered by the ledger or a snapshot of it.
pub trait Authority {
    /// `who`'s tier stake (user plus admin stake), MIST.
    fn tier_stake(&self, who: Address) -> u64;
    /// The owner of `namespace` in `cluster`, if it exists.
    fn namespace_owner(&self, cluster: ObjectId, namespace: &str) -> Option<Address>;
    /// Whether `who` has cluster authority in `cluster`.
    fn is_admin(&self, cluster: ObjectId, who: Address) -> bool;
    /// `who`'s granted role in `namespace` of `cluster`.
    fn grant(&self, cluster: ObjectId, namespace: &str, who: Address) -> Option<NamespaceRole>;
}

/// May `who` do `verb` on `kind` in `namespace` (empty: cluster-scoped) of
/// `cluster`? The tier first, then ownership, grants and cluster authority.
pub fn may(
    auth: &impl Authority,
    cluster: ObjectId,
    who: Address,
    verb: Verb,
    kind: &str,
    namespace: &str,
) -> Result<(), Denied> {
    let need = required_stake(verb, kind);
    let have = auth.tier_stake(who);
    if have < need {
        return Err(Denied::Tier { need, have });
    }
    if namespace.is_empty() {
        return Ok(());
    }
    let Some(owner) = auth.namespace_owner(cluster, namespace) else {
        return Err(Denied::NoNamespace);
    };
    if owner == who
        || auth.is_admin(cluster, who)
        || auth
            .grant(cluster, namespace, who)
            .is_some_and(|r| r.allows(verb))
    {
        Ok(())
    } else {
        Err(Denied::NotYours { owner })
    }
}

/// The group every caller with cluster authority is in.
pub const CLUSTER_ADMIN_GROUP: &str = "daas:cluster-admin";

/// The stake groups: a caller is in each whose tier stake it meets
/// (`daas:stake:0.5` reads pods, services and configmaps; `daas:stake:1`
/// writes them; `daas:stake:5` reads and writes deployments and
/// namespaces and reads secrets; `daas:stake:10` everything).
pub const STAKE_GROUPS: [(u64, &str); 4] = [
    (MIST_PER_SUI / 2, "daas:stake:0.5"),
    (MIST_PER_SUI, "daas:stake:1"),
    (5 * MIST_PER_SUI, "daas:stake:5"),
    (10 * MIST_PER_SUI, "daas:stake:10"),
];

/// One cluster's authority: tier stakes, namespaces and their owners,
/// grants, and who holds cluster authority. Built by
/// [`crate::Ledger::access`]; answers exactly as the ledger would.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    cluster: ObjectId,
    /// The cluster's creator (the `AdminCap` holder), if the cluster is known.
    creator: Option<Address>,
    /// Tier stake per address (only non-zero).
    tiers: BTreeMap<Address, u64>,
    /// Admin-role stake per address (only non-zero): the cluster-admin bond.
    admin_stakes: BTreeMap<Address, u64>,
    /// Namespace → owner.
    namespaces: BTreeMap<String, Address>,
    /// (namespace, grantee) → role; cluster-admin grants under `*`.
    grants: BTreeMap<(String, Address), NamespaceRole>,
}

impl Access {
    /// A snapshot for `cluster` from its parts (see [`crate::Ledger::access`]).
    pub fn new(
        cluster: ObjectId,
        creator: Option<Address>,
        stakes: impl IntoIterator<Item = (Address, Role, u64)>,
        namespaces: BTreeMap<String, Address>,
        grants: BTreeMap<(String, Address), NamespaceRole>,
    ) -> Self {
        let mut tiers = BTreeMap::new();
        let mut admin_stakes = BTreeMap::new();
        for (who, role, amount) in stakes {
            if amount == 0 {
                continue;
            }
            if matches!(role, Role::User | Role::Admin) {
                let t: &mut u64 = tiers.entry(who).or_default();
                *t = t.saturating_add(amount);
            }
            if role == Role::Admin {
                admin_stakes.insert(who, amount);
            }
        }
        Access {
            cluster,
            creator,
            tiers,
            admin_stakes,
            namespaces,
            grants,
        }
    }

    /// The cluster this snapshot is of.
    pub fn cluster(&self) -> ObjectId {
        self.cluster
    }

    /// May `who` do `verb` on `kind` in `namespace` (empty: cluster-scoped)?
    pub fn may(&self, who: Address, verb: Verb, kind: &str, namespace: &str) -> Result<(), Denied> {
        may(self, self.cluster, who, verb, kind, namespace)
    }

    /// The namespaces in which `who` may do `verb` on `kind`, in name
    /// order; `Err` when its tier is too low for `kind` anywhere.
    pub fn namespaces_for(
        &self,
        who: Address,
        verb: Verb,
        kind: &str,
    ) -> Result<Vec<String>, Denied> {
        may(self, self.cluster, who, verb, kind, "")?;
        Ok(self
            .namespaces
            .keys()
            .filter(|ns| self.may(who, verb, kind, ns).is_ok())
            .cloned()
            .collect())
    }

    /// Every namespace and its owner, in name order.
    pub fn namespaces(&self) -> impl Iterator<Item = (&str, Address)> + '_ {
        self.namespaces.iter().map(|(n, a)| (n.as_str(), *a))
    }

    /// Every grant (namespace, grantee, role); cluster-admin grants under `*`.
    pub fn grants(&self) -> impl Iterator<Item = (&str, Address, NamespaceRole)> + '_ {
        self.grants.iter().map(|((n, a), r)| (n.as_str(), *a, *r))
    }

    /// Every address with a non-zero tier stake, and that stake.
    pub fn tiers(&self) -> impl Iterator<Item = (Address, u64)> + '_ {
        self.tiers.iter().map(|(a, t)| (*a, *t))
    }

    /// Whether `who` has cluster authority here.
    pub fn is_cluster_admin(&self, who: Address) -> bool {
        self.is_admin(self.cluster, who)
    }

    /// The Kubernetes groups of `who`: each stake group it meets, then
    /// [`CLUSTER_ADMIN_GROUP`] if it has cluster authority.
    pub fn groups(&self, who: Address) -> Vec<String> {
        let tier = self.tier_stake(who);
        let mut groups: Vec<String> = STAKE_GROUPS
            .iter()
            .filter(|(need, _)| tier >= *need)
            .map(|(_, g)| (*g).to_owned())
            .collect();
        if self.is_cluster_admin(who) {
            groups.push(CLUSTER_ADMIN_GROUP.to_owned());
        }
        groups
    }
}

impl Authority for Access {
    fn tier_stake(&self, who: Address) -> u64 {
        self.tiers.get(&who).copied().unwrap_or(0)
    }

    fn namespace_owner(&self, cluster: ObjectId, namespace: &str) -> Option<Address> {
        (cluster == self.cluster)
            .then(|| self.namespaces.get(namespace).copied())
            .flatten()
    }

    fn is_admin(&self, cluster: ObjectId, who: Address) -> bool {
        cluster == self.cluster
            && (self.creator == Some(who)
                || (self.grant(cluster, CLUSTER_ADMIN_GRANT, who)
                    == Some(NamespaceRole::ClusterAdmin)
                    && self.admin_stakes.get(&who).copied().unwrap_or(0)
                        >= Role::Admin.min_stake()))
    }

    fn grant(&self, cluster: ObjectId, namespace: &str, who: Address) -> Option<NamespaceRole> {
        (cluster == self.cluster)
            .then(|| self.grants.get(&(namespace.to_owned(), who)).copied())
            .flatten()
    }
}
