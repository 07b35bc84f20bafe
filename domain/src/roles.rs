//! Roles, minimums, lock periods and stake tiers: the constants of the Move
//! package, in one place on the Rust side.
//!
//! The dev chain enforces these natively and the ledger uses them to authorise
//! requests, so both must say exactly what `contracts/sources/` says.

use serde::{Deserialize, Serialize};

/// One SUI in MIST.
pub const MIST_PER_SUI: u64 = 1_000_000_000;

/// A staking role (`staking::ROLE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A tenant (Move value 0).
    User,
    /// A worker node operator (Move value 1).
    Node,
    /// A cluster administrator (Move value 2).
    Admin,
}

impl Role {
    /// All roles, in Move value order.
    pub const ALL: [Role; 3] = [Role::User, Role::Node, Role::Admin];

    /// From the Move `u8`; `None` for a value the contract never emits.
    pub fn from_move(v: u8) -> Option<Role> {
        Role::ALL.get(usize::from(v)).copied()
    }

    /// The Move `u8`.
    pub fn to_move(self) -> u8 {
        match self {
            Role::User => 0,
            Role::Node => 1,
            Role::Admin => 2,
        }
    }

    /// Minimum first stake, MIST (`staking::min_stake`).
    pub fn min_stake(self) -> u64 {
        match self {
            Role::User => MIST_PER_SUI / 2,
            Role::Node => MIST_PER_SUI,
            Role::Admin => 10 * MIST_PER_SUI,
        }
    }

    /// Lock period, epochs (`staking::lock_epochs`).
    pub fn lock_epochs(self) -> u64 {
        match self {
            Role::User => 10,
            Role::Node => 100,
            Role::Admin => 50,
        }
    }

    /// Lower-case name, as in SQL and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Node => "node",
            Role::Admin => "admin",
        }
    }
}

/// A role inside one namespace (`grants::NS_ROLE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NamespaceRole {
    /// May read (Move value 0).
    Viewer,
    /// May read and write (Move value 1).
    Editor,
    /// Cluster admin (Move value 2): granted by the `AdminCap` holder, only
    /// under [`CLUSTER_ADMIN_GRANT`], and only with the admin-role bond.
    ClusterAdmin,
}

impl NamespaceRole {
    /// From the Move `u8`; `None` for a value the contract never emits.
    pub fn from_move(v: u8) -> Option<NamespaceRole> {
        match v {
            0 => Some(NamespaceRole::Viewer),
            1 => Some(NamespaceRole::Editor),
            2 => Some(NamespaceRole::ClusterAdmin),
            _ => None,
        }
    }

    /// The Move `u8`.
    pub fn to_move(self) -> u8 {
        match self {
            NamespaceRole::Viewer => 0,
            NamespaceRole::Editor => 1,
            NamespaceRole::ClusterAdmin => 2,
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            NamespaceRole::Viewer => "viewer",
            NamespaceRole::Editor => "editor",
            NamespaceRole::ClusterAdmin => "cluster-admin",
        }
    }

    /// Whether this role permits `verb` (a cluster-admin grant permits
    /// nothing by itself: see [`crate::Ledger::is_admin`]).
    pub fn allows(self, verb: Verb) -> bool {
        match self {
            NamespaceRole::Viewer => verb.is_read(),
            NamespaceRole::Editor => true,
            NamespaceRole::ClusterAdmin => false,
        }
    }

    /// Whether a grant of this role may be recorded under `namespace`: the
    /// cluster-admin role only under [`CLUSTER_ADMIN_GRANT`], the others
    /// never there (`grants::grant` refuses it as an invalid namespace).
    pub fn fits_namespace(self, namespace: &str) -> bool {
        (self == NamespaceRole::ClusterAdmin) == (namespace == CLUSTER_ADMIN_GRANT)
    }
}

/// The namespace under which cluster-admin grants are recorded and announced
/// (`gateway::CLUSTER_ADMIN_GRANT`): never a valid namespace name.
pub const CLUSTER_ADMIN_GRANT: &str = "*";

/// Namespaces every k3s cluster starts with (`gateway::SYSTEM_NAMESPACES`),
/// owned by the cluster's creator; with every `kube-*` name they are reserved
/// to cluster authority on chain.
pub const SYSTEM_NAMESPACES: [&str; 4] =
    ["default", "kube-system", "kube-public", "kube-node-lease"];

/// Namespaces starting with this are reserved to cluster authority on chain
/// (`gateway::RESERVED_NAMESPACE_PREFIX`).
pub const RESERVED_NAMESPACE_PREFIX: &str = "kube-";

/// Built-in cluster-scoped kinds other than Namespace that the gateway
/// refuses from senders without cluster authority, whatever namespace the
/// request names (`gateway::CLUSTER_SCOPED_KINDS`).
pub const CLUSTER_SCOPED_KINDS: [&str; 31] = [
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "PriorityClass",
    "CustomResourceDefinition",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "VolumeAttributesClass",
    "RuntimeClass",
    "IngressClass",
    "CertificateSigningRequest",
    "ClusterTrustBundle",
    "FlowSchema",
    "PriorityLevelConfiguration",
    "ComponentStatus",
    "DeviceClass",
    "ResourceSlice",
    "StorageVersion",
    "StorageVersionMigration",
    "IPAddress",
    "ServiceCIDR",
];

/// Whether `namespace` is reserved to cluster authority on chain
/// (`gateway::is_reserved_namespace`).
pub fn is_reserved_namespace(namespace: &str) -> bool {
    SYSTEM_NAMESPACES.contains(&namespace) || namespace.starts_with(RESERVED_NAMESPACE_PREFIX)
}

/// Whether the gateway asks for cluster authority for a request on `kind` in
/// `namespace` named `name` (`gateway::needs_cluster_authority`): a Namespace
/// with a reserved name, a request without a namespace or in a reserved one,
/// or a built-in cluster-scoped kind.
pub fn needs_cluster_authority(kind: &str, namespace: &str, name: &str) -> bool {
    if kind == "Namespace" {
        return is_reserved_namespace(name);
    }
    namespace.is_empty() || is_reserved_namespace(namespace) || CLUSTER_SCOPED_KINDS.contains(&kind)
}

/// A kubectl verb the gateway accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    /// Read one object.
    Get,
    /// Read a collection.
    List,
    /// Stream changes.
    Watch,
    /// Create; fails if it exists.
    Create,
    /// Create or update.
    Apply,
    /// Update; fails if missing.
    Replace,
    /// Remove.
    Delete,
}

impl Verb {
    /// Parses the verb string of a request; `None` for anything else (the
    /// contract aborts `EUnknownVerb` on those).
    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "get" => Verb::Get,
            "list" => Verb::List,
            "watch" => Verb::Watch,
            "create" => Verb::Create,
            "apply" => Verb::Apply,
            "replace" => Verb::Replace,
            "delete" => Verb::Delete,
            _ => return None,
        })
    }

    /// The verb string.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Apply => "apply",
            Verb::Replace => "replace",
            Verb::Delete => "delete",
        }
    }

    /// True for get, list, watch.
    pub fn is_read(self) -> bool {
        matches!(self, Verb::Get | Verb::List | Verb::Watch)
    }
}

/// The tier stake that `verb` on `kind` needs, MIST (`gateway::required_stake`).
///
/// - 0.5 SUI: read Pod, Service, ConfigMap
/// - 1 SUI: write Pod, Service, ConfigMap
/// - 5 SUI: read and write Deployment, Namespace; read Secret
/// - 10 SUI: everything
pub fn required_stake(verb: Verb, kind: &str) -> u64 {
    match kind {
        "Pod" | "Service" | "ConfigMap" if verb.is_read() => MIST_PER_SUI / 2,
        "Pod" | "Service" | "ConfigMap" => MIST_PER_SUI,
        "Deployment" | "Namespace" => 5 * MIST_PER_SUI,
        "Secret" if verb.is_read() => 5 * MIST_PER_SUI,
        _ => 10 * MIST_PER_SUI,
    }
}

/// Largest manifest the gateway accepts, bytes (`gateway::MAX_MANIFEST_BYTES`).
pub const MAX_MANIFEST_BYTES: usize = 65_536;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn move_values_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::from_move(r.to_move()), Some(r));
        }
        assert_eq!(Role::from_move(3), None);
        for r in [
            NamespaceRole::Viewer,
            NamespaceRole::Editor,
            NamespaceRole::ClusterAdmin,
        ] {
            assert_eq!(NamespaceRole::from_move(r.to_move()), Some(r));
        }
        assert_eq!(NamespaceRole::from_move(3), None);
    }

    #[test]
    fn tiers_match_the_seed() {
        let half = MIST_PER_SUI / 2;
        assert_eq!(required_stake(Verb::Get, "Pod"), half);
        assert_eq!(required_stake(Verb::Create, "ConfigMap"), MIST_PER_SUI);
        assert_eq!(required_stake(Verb::Apply, "Deployment"), 5 * MIST_PER_SUI);
        assert_eq!(required_stake(Verb::Get, "Secret"), 5 * MIST_PER_SUI);
        assert_eq!(required_stake(Verb::Create, "Secret"), 10 * MIST_PER_SUI);
        assert_eq!(required_stake(Verb::Get, "CronJob"), 10 * MIST_PER_SUI);
    }

    #[test]
    fn viewers_only_read() {
        assert!(NamespaceRole::Viewer.allows(Verb::List));
        assert!(!NamespaceRole::Viewer.allows(Verb::Delete));
        assert!(NamespaceRole::Editor.allows(Verb::Delete));
        assert!(!NamespaceRole::ClusterAdmin.allows(Verb::Get));
    }

    #[test]
    fn the_cluster_admin_role_lives_only_under_the_marker() {
        assert!(NamespaceRole::ClusterAdmin.fits_namespace("*"));
        assert!(!NamespaceRole::ClusterAdmin.fits_namespace("team-a"));
        assert!(!NamespaceRole::Editor.fits_namespace("*"));
        assert!(NamespaceRole::Viewer.fits_namespace("team-a"));
    }

    #[test]
    fn reserved_namespaces_and_cluster_scoped_kinds_need_authority() {
        assert!(needs_cluster_authority("ConfigMap", "kube-system", "x"));
        assert!(needs_cluster_authority("ConfigMap", "kube-foo", "x"));
        assert!(needs_cluster_authority("ConfigMap", "default", "x"));
        assert!(needs_cluster_authority("ConfigMap", "", "x"));
        assert!(needs_cluster_authority("ClusterRoleBinding", "team-a", "x"));
        assert!(needs_cluster_authority("Namespace", "", "kube-public"));
        assert!(!needs_cluster_authority("Namespace", "", "team-a"));
        assert!(!needs_cluster_authority("ConfigMap", "team-a", "x"));
        assert!(!needs_cluster_authority("ConfigMap", "kube", "x"));
    }
}
