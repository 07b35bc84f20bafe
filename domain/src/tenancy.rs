//! Rules that keep one tenant inside its own namespaces: what only the
//! cluster admin may do. Each returns the refused field and why.
//!
//! - system namespaces (`kube-system`, `kube-public`, `kube-node-lease`,
//!   and any `kube-` name) are the admin's: no tenant writes in them or
//!   creates a namespace named like them;
//! - a pod may not be pinned to a node (`nodeName`) nor tolerate our own
//!   `daas.io/*` taints (the stake eviction taint among them), including
//!   the wildcard toleration (`operator: Exists` with no key);
//! - a RoleBinding to the ClusterRoles `cluster-admin`, `admin` or `edit`
//!   only in a namespace the sender owns;
//! - only the admin labels a namespace `pod-security.kubernetes.io/enforce: privileged`.

use serde_json::Value;

use crate::{
    pod_security::{ENFORCE_LABEL, Level},
    templates::{at, pod_site},
};

/// The namespaces every cluster has, which only the admin writes in.
pub const SYSTEM_NAMESPACES: [&str; 3] = ["kube-system", "kube-public", "kube-node-lease"];

/// The prefix of our own taints (`daas.io/stake-evicted`).
pub const DAAS_TAINT_PREFIX: &str = "daas.io/";

/// ClusterRoles that grant a whole namespace (or more) when bound.
pub const POWERFUL_CLUSTER_ROLES: [&str; 3] = ["cluster-admin", "admin", "edit"];

/// A refused field and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The field path.
    pub field: String,
    /// Why.
    pub reason: String,
}

fn refusal(field: impl Into<String>, reason: impl Into<String>) -> Refusal {
    Refusal {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Whether `namespace` is a system namespace or named like one.
pub fn is_system_namespace(namespace: &str) -> bool {
    SYSTEM_NAMESPACES.contains(&namespace) || namespace.starts_with("kube-")
}

/// Node pinning in the pod `object` (of `kind`) carries: `nodeName`, or a
/// toleration of a `daas.io/*` taint or of every taint.
pub fn node_pinning(kind: &str, object: &Value) -> Option<Refusal> {
    let site = pod_site(kind, object)?;
    let spec = site.spec?;
    let path = site.spec_path;
    if spec
        .get("nodeName")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.is_empty())
    {
        return Some(refusal(
            format!("{path}.nodeName"),
            "tenants may not pin pods to a node; the scheduler places them",
        ));
    }
    let tolerations = spec.get("tolerations").and_then(Value::as_array)?;
    tolerations.iter().enumerate().find_map(|(i, t)| {
        let key = t.get("key").and_then(Value::as_str).unwrap_or_default();
        let op = t.get("operator").and_then(Value::as_str).unwrap_or("Equal");
        let field = format!("{path}.tolerations[{i}]");
        if key.starts_with(DAAS_TAINT_PREFIX) {
            Some(refusal(
                field,
                format!("tenants may not tolerate the operator's taint {key:?}"),
            ))
        } else if key.is_empty() && op == "Exists" {
            Some(refusal(
                field,
                "tenants may not tolerate every taint (operator Exists with no key)",
            ))
        } else {
            None
        }
    })
}

/// A RoleBinding that binds a powerful ClusterRole.
pub fn binds_powerful_role(kind: &str, object: &Value) -> Option<Refusal> {
    if kind != "RoleBinding" {
        return None;
    }
    let role_ref = object.get("roleRef")?;
    let name = role_ref.get("name").and_then(Value::as_str)?;
    (role_ref.get("kind").and_then(Value::as_str) == Some("ClusterRole")
        && POWERFUL_CLUSTER_ROLES.contains(&name))
    .then(|| {
        refusal(
            "roleRef",
            format!("binding the ClusterRole {name:?} is allowed only in a namespace you own"),
        )
    })
}

/// A Namespace labelled to enforce less than baseline.
pub fn privileged_label(kind: &str, object: &Value) -> Option<Refusal> {
    if kind != "Namespace" {
        return None;
    }
    let level = at(object, "metadata.labels")?
        .get(ENFORCE_LABEL)?
        .as_str()?;
    (Level::parse(level) == Some(Level::Privileged)).then(|| {
        refusal(
            format!("metadata.labels[{ENFORCE_LABEL}]"),
            "only the cluster admin may label a namespace privileged",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn system_namespaces_and_lookalikes() {
        for ns in [
            "kube-system",
            "kube-public",
            "kube-node-lease",
            "kube-anything",
        ] {
            assert!(is_system_namespace(ns), "{ns}");
        }
        for ns in ["default", "team-a", "kubernetes", "my-kube-system"] {
            assert!(!is_system_namespace(ns), "{ns}");
        }
    }

    #[test]
    fn pinning_is_found_in_templates() {
        let pinned = json!({"spec": {"template": {"spec": {"nodeName": "n1"}}}});
        let r = node_pinning("Deployment", &pinned).expect("pinned");
        assert_eq!(r.field, "spec.template.spec.nodeName");
        let evicted = json!({"spec": {"tolerations": [{"key": "a"}, {"key": "daas.io/stake-evicted", "operator": "Exists"}]}});
        assert_eq!(
            node_pinning("Pod", &evicted).expect("daas taint").field,
            "spec.tolerations[1]"
        );
        let all = json!({"spec": {"tolerations": [{"operator": "Exists"}]}});
        assert!(node_pinning("Pod", &all).is_some());
        let fine = json!({"spec": {"tolerations": [{"key": "gpu", "operator": "Exists"}], "nodeName": ""}});
        assert!(node_pinning("Pod", &fine).is_none());
    }
}
