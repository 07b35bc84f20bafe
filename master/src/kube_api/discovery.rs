//! Discovery: `/version`, `/api`, `/apis`, and each group version's
//! resources, in the legacy (non-aggregated) form kubectl falls back to.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::paths::served_kinds;

/// The Kubernetes version this API speaks (kubectl warns beyond one minor apart).
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0-daas",
        "gitCommit": env!("CARGO_PKG_VERSION"),
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "none (k3s-daas master, Rust)",
        "compiler": "rustc",
        "platform": "linux/amd64"
    })
}

/// `/api`.
pub fn api() -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": ""}]
    })
}

/// The named groups, their versions in order of first appearance.
fn groups() -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let gvs = served_kinds()
        .map(|k| k.api_version)
        .chain(["authorization.k8s.io/v1"]);
    for gv in gvs {
        if let Some((g, v)) = gv.split_once('/')
            && seen.insert(g.to_owned())
        {
            out.push((g.to_owned(), v.to_owned()));
        }
    }
    out
}

/// `/apis`.
pub fn apis() -> Value {
    let groups: Vec<Value> = groups()
        .into_iter()
        .map(|(g, v)| {
            let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// The short names kubectl users type.
fn short_names(plural: &str) -> &'static [&'static str] {
    match plural {
        "pods" => &["po"],
        "services" => &["svc"],
        "configmaps" => &["cm"],
        "namespaces" => &["ns"],
        "serviceaccounts" => &["sa"],
        "deployments" => &["deploy"],
        "replicasets" => &["rs"],
        "daemonsets" => &["ds"],
        "statefulsets" => &["sts"],
        "cronjobs" => &["cj"],
        "ingresses" => &["ing"],
        "persistentvolumeclaims" => &["pvc"],
        "horizontalpodautoscalers" => &["hpa"],
        "networkpolicies" => &["netpol"],
        "poddisruptionbudgets" => &["pdb"],
        "events" => &["ev"],
        "customresourcedefinitions" => &["crd", "crds"],
        _ => &[],
    }
}

/// `/api/v1` or `/apis/G/V`; `None` for a group version we do not serve.
pub fn resources(group_version: &str) -> Option<Value> {
    let mut list: Vec<Value> = served_kinds()
        .filter(|k| k.api_version == group_version)
        .map(|k| {
            json!({
                "name": k.plural,
                "singularName": k.kind.to_ascii_lowercase(),
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": ["get", "list", "watch"],
                "shortNames": short_names(k.plural),
            })
        })
        .collect();
    if group_version == "authorization.k8s.io/v1" {
        list.push(json!({
            "name": "selfsubjectaccessreviews",
            "singularName": "selfsubjectaccessreview",
            "namespaced": false,
            "kind": "SelfSubjectAccessReview",
            "verbs": ["create"],
        }));
    }
    (!list.is_empty()).then(|| {
        json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": list,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_served_group_version_is_discoverable() {
        let apis = apis();
        let groups = apis["groups"].as_array().expect("groups");
        assert!(groups.iter().any(|g| g["name"] == "apps"));
        assert!(groups.iter().any(|g| g["name"] == "authorization.k8s.io"));
        for g in groups {
            let gv = g["preferredVersion"]["groupVersion"].as_str().expect("gv");
            assert!(resources(gv).is_some(), "{gv}");
        }
        let core = resources("v1").expect("core");
        let names: Vec<&str> = core["resources"]
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|r| r["name"].as_str())
            .collect();
        for n in [
            "pods",
            "services",
            "configmaps",
            "secrets",
            "namespaces",
            "events",
        ] {
            assert!(names.contains(&n), "{n}");
        }
        assert!(resources("nothing/v9").is_none());
    }
}
