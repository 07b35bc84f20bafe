//! The Kubernetes kinds the master manages, and where kube-apiserver keeps them.
//!
//! kube-apiserver stores an object at `/registry/<resource>/<namespace>/<name>`
//! (cluster-scoped: `/registry/<resource>/<name>`); the group is not in the key,
//! and a few resources have historical names (services -> `services/specs`).
//! Any kind not listed here is rejected with a clear reason.

/// Which name rule a kind's objects follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    /// A DNS-1123 subdomain (most kinds).
    Subdomain,
    /// A DNS-1123 label (Namespace).
    Label,
    /// A DNS-1035 label (Service).
    Dns1035,
    /// A path segment name (RBAC kinds: `system:controller:x` is valid).
    PathSegment,
}

/// Who may write a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Tenants, in namespaces they own or were granted (and Namespaces).
    Tenant,
    /// Only the cluster admin: the kind grants power beyond one namespace.
    ClusterAdmin,
}

/// One managed kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// `kind`, e.g. `Deployment`.
    pub kind: &'static str,
    /// `apiVersion`, e.g. `apps/v1`.
    pub api_version: &'static str,
    /// Lower-case plural resource name, e.g. `deployments`.
    pub plural: &'static str,
    /// The resource's segment of the etcd key (usually the plural).
    pub etcd_resource: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// The rule its object names follow.
    pub name_rule: NameRule,
    /// Who may write it.
    pub scope: Scope,
}

impl KindInfo {
    /// kubectl's `resource.group` spelling, e.g. `deployment.apps`, `service`.
    pub fn kubectl_name(&self) -> String {
        let singular = self.kind.to_ascii_lowercase();
        match self.api_version.rsplit_once('/') {
            Some((group, _)) => format!("{singular}.{group}"),
            None => singular,
        }
    }

    /// The etcd key of object `name` in `namespace` under `prefix` (normally `/registry`).
    pub fn etcd_key(&self, prefix: &str, namespace: &str, name: &str) -> String {
        let prefix = prefix.trim_end_matches('/');
        if self.namespaced {
            format!("{prefix}/{}/{namespace}/{name}", self.etcd_resource)
        } else {
            format!("{prefix}/{}/{name}", self.etcd_resource)
        }
    }
}

/// A namespaced kind tenants may write.
const fn tenant(
    kind: &'static str,
    api_version: &'static str,
    plural: &'static str,
    etcd_resource: &'static str,
    name_rule: NameRule,
) -> KindInfo {
    KindInfo {
        kind,
        api_version,
        plural,
        etcd_resource,
        namespaced: true,
        name_rule,
        scope: Scope::Tenant,
    }
}

/// `kind` as a cluster-scoped kind only the cluster admin may write.
const fn admin_only(kind: KindInfo) -> KindInfo {
    KindInfo {
        namespaced: false,
        scope: Scope::ClusterAdmin,
        ..kind
    }
}

use NameRule::{Dns1035, Label, PathSegment, Subdomain};

const RBAC: &str = "rbac.authorization.k8s.io/v1";
const WEBHOOKS: &str = "admissionregistration.k8s.io/v1";

/// Every managed kind: the tenants' namespaced kinds and Namespace, then
/// the cluster-scoped kinds only the cluster admin may write.
pub const KINDS: [KindInfo; 24] = [
    KindInfo {
        kind: "Namespace",
        api_version: "v1",
        plural: "namespaces",
        etcd_resource: "namespaces",
        namespaced: false,
        name_rule: Label,
        scope: Scope::Tenant,
    },
    tenant("Pod", "v1", "pods", "pods", Subdomain),
    tenant("Service", "v1", "services", "services/specs", Dns1035),
    tenant("ConfigMap", "v1", "configmaps", "configmaps", Subdomain),
    tenant("Secret", "v1", "secrets", "secrets", Subdomain),
    tenant(
        "ServiceAccount",
        "v1",
        "serviceaccounts",
        "serviceaccounts",
        Subdomain,
    ),
    tenant(
        "Deployment",
        "apps/v1",
        "deployments",
        "deployments",
        Subdomain,
    ),
    tenant(
        "ReplicaSet",
        "apps/v1",
        "replicasets",
        "replicasets",
        Subdomain,
    ),
    tenant(
        "StatefulSet",
        "apps/v1",
        "statefulsets",
        "statefulsets",
        Subdomain,
    ),
    tenant(
        "DaemonSet",
        "apps/v1",
        "daemonsets",
        "daemonsets",
        Subdomain,
    ),
    tenant("Job", "batch/v1", "jobs", "jobs", Subdomain),
    tenant("CronJob", "batch/v1", "cronjobs", "cronjobs", Subdomain),
    tenant(
        "Ingress",
        "networking.k8s.io/v1",
        "ingresses",
        "ingress",
        Subdomain,
    ),
    tenant("Role", RBAC, "roles", "roles", PathSegment),
    tenant(
        "RoleBinding",
        RBAC,
        "rolebindings",
        "rolebindings",
        PathSegment,
    ),
    admin_only(tenant(
        "ClusterRole",
        RBAC,
        "clusterroles",
        "clusterroles",
        PathSegment,
    )),
    admin_only(tenant(
        "ClusterRoleBinding",
        RBAC,
        "clusterrolebindings",
        "clusterrolebindings",
        PathSegment,
    )),
    admin_only(tenant(
        "PersistentVolume",
        "v1",
        "persistentvolumes",
        "persistentvolumes",
        Subdomain,
    )),
    admin_only(tenant(
        "StorageClass",
        "storage.k8s.io/v1",
        "storageclasses",
        "storageclasses",
        Subdomain,
    )),
    admin_only(tenant(
        "PriorityClass",
        "scheduling.k8s.io/v1",
        "priorityclasses",
        "priorityclasses",
        Subdomain,
    )),
    admin_only(tenant(
        "ValidatingWebhookConfiguration",
        WEBHOOKS,
        "validatingwebhookconfigurations",
        "validatingwebhookconfigurations",
        Subdomain,
    )),
    admin_only(tenant(
        "MutatingWebhookConfiguration",
        WEBHOOKS,
        "mutatingwebhookconfigurations",
        "mutatingwebhookconfigurations",
        Subdomain,
    )),
    admin_only(tenant(
        "CustomResourceDefinition",
        "apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        "apiextensions.k8s.io/customresourcedefinitions",
        Subdomain,
    )),
    admin_only(tenant(
        "APIService",
        "apiregistration.k8s.io/v1",
        "apiservices",
        "apiregistration.k8s.io/apiservices",
        Subdomain,
    )),
];

/// Kinds that grant cluster-wide power but are not applied from the log:
/// a tenant asking for one is refused as for the admin-only kinds above,
/// an admin is told the kind is not managed. Nodes register themselves
/// through their kubelets (the master only taints them).
pub const UNMANAGED_ADMIN_KINDS: [&str; 1] = ["Node"];

/// Looks up a kind by its `kind` string.
pub fn lookup(kind: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Why a name is not a valid name for objects of `info`.
pub fn check_name(info: &KindInfo, name: &str) -> Result<(), String> {
    use crate::validation::names;
    match info.name_rule {
        NameRule::Subdomain => names::dns1123_subdomain(name),
        NameRule::Label => names::dns1123_label(name),
        NameRule::Dns1035 => names::dns1035_label(name),
        NameRule::PathSegment => path_segment(name),
    }
}

/// RBAC names: 1-253 characters, not `.`/`..`, no `/`, `%` or control
/// characters (kube's `ValidatePathSegmentName`; `system:x` is valid).
fn path_segment(name: &str) -> Result<(), String> {
    let bad = name.is_empty()
        || name.len() > crate::validation::names::SUBDOMAIN_MAX
        || name == "."
        || name == ".."
        || name.contains(['/', '%'])
        || name.chars().any(|c| c.is_control() || !c.is_ascii());
    if bad {
        Err(format!(
            "{name:?} is not a valid name (1-253 printable ASCII characters, not '.' or '..', no '/' or '%')"
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_apiserver_layout() {
        let svc = lookup("Service").expect("service");
        assert_eq!(
            svc.etcd_key("/registry", "default", "web"),
            "/registry/services/specs/default/web"
        );
        let ns = lookup("Namespace").expect("namespace");
        assert_eq!(
            ns.etcd_key("/registry/", "", "team-a"),
            "/registry/namespaces/team-a"
        );
        let ing = lookup("Ingress").expect("ingress");
        assert_eq!(ing.etcd_key("/registry", "a", "b"), "/registry/ingress/a/b");
        let deploy = lookup("Deployment").expect("deployment");
        assert_eq!(
            deploy.etcd_key("/registry", "a", "web"),
            "/registry/deployments/a/web"
        );
        assert_eq!(deploy.kubectl_name(), "deployment.apps");
        assert_eq!(svc.kubectl_name(), "service");
    }

    #[test]
    fn names_are_checked() {
        use crate::validation::names::{
            dns1123_label as check_dns1123_label, dns1123_subdomain as check_dns1123_subdomain,
        };
        assert!(check_dns1123_label("web-1").is_ok());
        assert!(check_dns1123_label("Web").is_err());
        assert!(check_dns1123_label("-web").is_err());
        assert!(check_dns1123_label(&"a".repeat(64)).is_err());
        assert!(check_dns1123_subdomain("web.v1").is_ok());
        assert!(check_dns1123_subdomain("web..v1").is_err());
        assert!(lookup("CustomThing").is_none());
        let svc = lookup("Service").expect("service");
        assert!(
            check_name(svc, "1web").is_err(),
            "Service names are DNS-1035"
        );
        let cr = lookup("ClusterRole").expect("clusterrole");
        assert!(check_name(cr, "system:aggregate-to-edit").is_ok());
        assert!(check_name(cr, "a/b").is_err());
        assert_eq!(cr.scope, Scope::ClusterAdmin);
        assert!(!cr.namespaced);
        assert!(lookup("RoleBinding").expect("rb").namespaced);
        assert!(!lookup("Namespace").expect("ns").namespaced);
        let crd = lookup("CustomResourceDefinition").expect("crd");
        assert_eq!(
            crd.etcd_key("/registry", "", "x.example.com"),
            "/registry/apiextensions.k8s.io/customresourcedefinitions/x.example.com"
        );
    }
}
