//! Where an object carries a pod: the Pod itself, or the pod template of a
//! workload (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job) or of a
//! CronJob's job template. Pod Security and node pinning look at every one.

use serde_json::Value;

/// One pod spec inside an object, with where it sits.
#[derive(Clone, Copy, Debug)]
pub struct PodSite<'a> {
    /// The path of the pod's metadata, e.g. `spec.template.metadata` (`metadata` for a Pod).
    pub metadata_path: &'static str,
    /// The path of the pod spec, e.g. `spec.template.spec` (`spec` for a Pod).
    pub spec_path: &'static str,
    /// The pod's metadata, when present.
    pub metadata: Option<&'a Value>,
    /// The pod spec, when present.
    pub spec: Option<&'a Value>,
}

/// Where `kind` keeps its pod, as (metadata path, spec path); `None` for
/// kinds that carry no pod.
pub fn pod_paths(kind: &str) -> Option<(&'static str, &'static str)> {
    match kind {
        "Pod" => Some(("metadata", "spec")),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => {
            Some(("spec.template.metadata", "spec.template.spec"))
        }
        "CronJob" => Some((
            "spec.jobTemplate.spec.template.metadata",
            "spec.jobTemplate.spec.template.spec",
        )),
        _ => None,
    }
}

/// The value at a dotted path (`a.b.c`), if every step is a mapping key.
pub fn at<'a>(object: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(object, |v, key| v.get(key))
}

/// The pod `object` (of `kind`) carries, if its kind carries one.
pub fn pod_site<'a>(kind: &str, object: &'a Value) -> Option<PodSite<'a>> {
    let (metadata_path, spec_path) = pod_paths(kind)?;
    Some(PodSite {
        metadata_path,
        spec_path,
        metadata: at(object, metadata_path),
        spec: at(object, spec_path),
    })
}

/// The three container lists of a pod spec, by field name.
pub const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];

/// Every container of a pod spec as (`containers[0]`-style path, container).
pub fn containers(spec: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for list in CONTAINER_LISTS {
        if let Some(Value::Array(items)) = spec.get(list) {
            for (i, c) in items.iter().enumerate() {
                out.push((format!("{list}[{i}]"), c));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_kind_is_found() {
        let cron =
            json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostPID": true}}}}}});
        let site = pod_site("CronJob", &cron).expect("cronjob carries a pod");
        assert_eq!(site.spec.and_then(|s| s.get("hostPID")), Some(&json!(true)));
        assert!(pod_site("ConfigMap", &cron).is_none());
        let pod = json!({"spec": {"containers": [{"name": "a"}], "initContainers": [{"name": "b"}],
                                   "ephemeralContainers": [{"name": "c"}]}});
        let spec = pod_site("Pod", &pod).and_then(|s| s.spec).expect("spec");
        let paths: Vec<String> = containers(spec).into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            [
                "containers[0]",
                "initContainers[0]",
                "ephemeralContainers[0]"
            ]
        );
    }
}
