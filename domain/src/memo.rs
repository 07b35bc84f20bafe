//! What admission remembers of an admitted object, for deciding later
//! requests from the ledger alone (the previous manifest is not in the
//! ledger, and the projector, which runs the same decisions, has no etcd):
//!
//! - a Namespace's enforced Pod Security level (its
//!   `pod-security.kubernetes.io/enforce` label);
//! - a digest of each field kube-apiserver refuses to change on update
//!   (a workload's selector, a binding's roleRef, a Secret's type, the data
//!   of an `immutable` Secret or ConfigMap, a Pod's spec but for the
//!   fields kube lets change), so an update that changes one is refused.
//!
//! The ledger keeps a memo beside each object entry and persists it with
//! the entry (`Change::Object`), so a restored ledger decides the same.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::{
    pod_security::{ENFORCE_LABEL, Level},
    templates::at,
};

/// What admission remembers of one object.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Memo {
    /// A Namespace's enforced Pod Security level, when labelled.
    pub pod_security: Option<Level>,
    /// Immutable field path -> digest of its value (canonical JSON, SHA-256, 16 bytes hex).
    pub immutable: BTreeMap<String, String>,
}

impl Memo {
    /// True when there is nothing to remember.
    pub fn is_empty(&self) -> bool {
        self.pod_security.is_none() && self.immutable.is_empty()
    }

    /// The memo of `object` (of `kind`), as admitted.
    pub fn of(kind: &str, object: &Value) -> Memo {
        let pod_security = (kind == "Namespace")
            .then(|| at(object, "metadata.labels").and_then(|l| l.get(ENFORCE_LABEL)))
            .flatten()
            .and_then(Value::as_str)
            .and_then(Level::parse);
        let mut immutable = BTreeMap::new();
        for path in immutable_fields(kind, object) {
            let value = if path == "spec" && kind == "Pod" {
                mutable_pod_fields_cleared(object.get("spec"))
            } else {
                at(object, path).cloned().unwrap_or(Value::Null)
            };
            immutable.insert(path.to_owned(), digest(&value));
        }
        if kind == "Secret" && !immutable.contains_key("type") {
            let ty = object.get("type").cloned().unwrap_or(Value::from("Opaque"));
            immutable.insert("type".into(), digest(&ty));
        }
        Memo {
            pod_security,
            immutable,
        }
    }

    /// The first immutable field whose value differs in `next` (the memo of
    /// the update), if any.
    pub fn changed_field<'a>(&'a self, next: &Memo) -> Option<&'a str> {
        self.immutable
            .iter()
            .find(|(field, d)| next.immutable.get(*field) != Some(*d))
            .map(|(field, _)| field.as_str())
    }
}

/// The fields of `kind` that may not change once set.
fn immutable_fields(kind: &str, object: &Value) -> Vec<&'static str> {
    let frozen = object.get("immutable").and_then(Value::as_bool) == Some(true);
    match kind {
        "Deployment" | "ReplicaSet" | "DaemonSet" => vec!["spec.selector"],
        "StatefulSet" => vec![
            "spec.selector",
            "spec.serviceName",
            "spec.podManagementPolicy",
            "spec.volumeClaimTemplates",
        ],
        "Job" => vec!["spec.selector", "spec.template", "spec.completionMode"],
        "RoleBinding" | "ClusterRoleBinding" => vec!["roleRef"],
        "Pod" => vec!["spec"],
        "Secret" if frozen => vec!["immutable", "data", "stringData", "type"],
        "ConfigMap" if frozen => vec!["immutable", "data", "binaryData"],
        _ => Vec::new(),
    }
}

/// A Pod's spec with the fields kube lets an update change blanked:
/// container images, activeDeadlineSeconds, terminationGracePeriodSeconds,
/// tolerations (kube allows additions only; here any change).
fn mutable_pod_fields_cleared(spec: Option<&Value>) -> Value {
    let mut spec = spec.cloned().unwrap_or(Value::Null);
    if let Value::Object(m) = &mut spec {
        for f in [
            "activeDeadlineSeconds",
            "terminationGracePeriodSeconds",
            "tolerations",
        ] {
            m.remove(f);
        }
        for list in ["containers", "initContainers"] {
            if let Some(Value::Array(cs)) = m.get_mut(list) {
                for c in cs.iter_mut().filter_map(Value::as_object_mut) {
                    c.remove("image");
                }
            }
        }
    }
    spec
}

/// JSON with mapping keys sorted at every level.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(k.as_str()).to_string());
                out.push(':');
                canonical(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// SHA-256 of the canonical JSON, first 16 bytes as hex.
fn digest(v: &Value) -> String {
    let mut text = String::new();
    canonical(v, &mut text);
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter_but_values_do() {
        let a = json!({"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}});
        let b = json!({"spec": {"selector": {"matchLabels": {"b": "2", "a": "1"}}}});
        let c = json!({"spec": {"selector": {"matchLabels": {"a": "1"}}}});
        let (ma, mb, mc) = (
            Memo::of("Deployment", &a),
            Memo::of("Deployment", &b),
            Memo::of("Deployment", &c),
        );
        assert_eq!(ma.changed_field(&mb), None);
        assert_eq!(ma.changed_field(&mc), Some("spec.selector"));
    }

    #[test]
    fn namespaces_remember_their_level_and_pods_their_fixed_spec() {
        let ns = json!({"metadata": {"labels": {ENFORCE_LABEL: "restricted"}}});
        assert_eq!(
            Memo::of("Namespace", &ns).pod_security,
            Some(Level::Restricted)
        );
        let pod = |image: &str, host: bool| json!({"spec": {"containers": [{"name": "a", "image": image}], "hostNetwork": host}});
        let old = Memo::of("Pod", &pod("a:1", false));
        assert_eq!(
            old.changed_field(&Memo::of("Pod", &pod("a:2", false))),
            None
        );
        assert_eq!(
            old.changed_field(&Memo::of("Pod", &pod("a:1", true))),
            Some("spec")
        );
    }
}
