//! The Kubernetes kinds the master manages, and where kube-apiserver keeps them.
//!
//! kube-apiserver stores an object at `/registry/<resource>/<namespace>/<name>`
//! (cluster-scoped: `/registry/<resource>/<name>`); the group is not in the key,
//! and a few resources have historical names (services -> `services/specs`).
//! Any kind not listed here is rejected with a clear reason.

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
    /// Whether the name must be a DNS-1123 label (63 chars, no dots) rather than a subdomain.
    pub label_name: bool,
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

const fn kind(
    kind: &'static str,
    api_version: &'static str,
    plural: &'static str,
    etcd_resource: &'static str,
    namespaced: bool,
    label_name: bool,
) -> KindInfo {
    KindInfo {
        kind,
        api_version,
        plural,
        etcd_resource,
        namespaced,
        label_name,
    }
}

/// Every managed kind.
pub const KINDS: [KindInfo; 12] = [
    kind("Namespace", "v1", "namespaces", "namespaces", false, true),
    kind("Pod", "v1", "pods", "pods", true, false),
    kind("Service", "v1", "services", "services/specs", true, true),
    kind("ConfigMap", "v1", "configmaps", "configmaps", true, false),
    kind("Secret", "v1", "secrets", "secrets", true, false),
    kind(
        "ServiceAccount",
        "v1",
        "serviceaccounts",
        "serviceaccounts",
        true,
        false,
    ),
    kind(
        "Deployment",
        "apps/v1",
        "deployments",
        "deployments",
        true,
        false,
    ),
    kind(
        "StatefulSet",
        "apps/v1",
        "statefulsets",
        "statefulsets",
        true,
        false,
    ),
    kind(
        "DaemonSet",
        "apps/v1",
        "daemonsets",
        "daemonsets",
        true,
        false,
    ),
    kind("Job", "batch/v1", "jobs", "jobs", true, false),
    kind("CronJob", "batch/v1", "cronjobs", "cronjobs", true, false),
    kind(
        "Ingress",
        "networking.k8s.io/v1",
        "ingresses",
        "ingress",
        true,
        false,
    ),
];

/// Looks up a kind by its `kind` string.
pub fn lookup(kind: &str) -> Option<&'static KindInfo> {
    KINDS.iter().find(|k| k.kind == kind)
}

/// Why a name is not a valid Kubernetes object name.
pub fn check_name(info: &KindInfo, name: &str) -> Result<(), String> {
    if info.label_name {
        check_dns1123_label(name)
    } else {
        check_dns1123_subdomain(name)
    }
}

/// A DNS-1123 label: 1-63 of `[a-z0-9-]`, starting and ending alphanumeric.
pub fn check_dns1123_label(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 63 {
        return Err(format!("{name:?} must be 1-63 characters"));
    }
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !name.chars().all(ok_char) || !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Err(format!(
            "{name:?} is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit)"
        ));
    }
    Ok(())
}

/// A DNS-1123 subdomain: at most 253 characters of dot-separated labels.
pub fn check_dns1123_subdomain(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 253 {
        return Err(format!("{name:?} must be 1-253 characters"));
    }
    if name.split('.').all(|l| check_dns1123_label(l).is_ok()) {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.')"
        ))
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
        assert!(check_dns1123_label("web-1").is_ok());
        assert!(check_dns1123_label("Web").is_err());
        assert!(check_dns1123_label("-web").is_err());
        assert!(check_dns1123_label(&"a".repeat(64)).is_err());
        assert!(check_dns1123_subdomain("web.v1").is_ok());
        assert!(check_dns1123_subdomain("web..v1").is_err());
        assert!(lookup("CustomThing").is_none());
    }
}
