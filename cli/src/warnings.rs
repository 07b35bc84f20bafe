//! Warnings about secrets that would go on chain in clear outside a Secret:
//! an env var of a pod (a Pod, or the template of a Deployment, ReplicaSet,
//! StatefulSet, DaemonSet, Job or CronJob) whose name looks secret
//! (`*PASSWORD*`, `*TOKEN*`, `*SECRET*`, `*KEY*`, any case) with a literal
//! `value`. Only Secrets are sealed; the warning names the container and the
//! variable, never the value, and points to `valueFrom.secretKeyRef`.

use daas_domain::templates;
use serde_json::Value;

use crate::files::Doc;

/// Parts of a variable name that suggest a secret (upper case).
pub const SECRET_NAME_PARTS: [&str; 4] = ["PASSWORD", "TOKEN", "SECRET", "KEY"];

/// Whether an env var named `name` looks like it holds a secret.
pub fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|p| upper.contains(p))
}

/// The warnings for one document (none for kinds without a pod).
pub fn env_warnings(doc: &Doc) -> Vec<String> {
    let Ok(object) = serde_json::from_slice::<Value>(&doc.manifest) else {
        return Vec::new();
    };
    let Some(spec) = templates::pod_site(&doc.kind, &object).and_then(|s| s.spec) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, container) in templates::containers(spec) {
        let Some(Value::Array(env)) = container.get("env") else {
            continue;
        };
        let container_name = container.get("name").and_then(Value::as_str).unwrap_or("");
        for var in env {
            let Some(name) = var.get("name").and_then(Value::as_str) else {
                continue;
            };
            let literal = var
                .get("value")
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty());
            if literal && looks_secret(name) {
                // Debug-quoted: the names are the tenant's bytes, shown safely.
                out.push(format!(
                    "{} ({}): container {container_name:?} ({path}) sets env var {name:?} to a \
                     literal value, which goes on chain in clear for anyone to read; put it in a \
                     Secret (`daas apply` seals Secrets) and use valueFrom.secretKeyRef",
                    doc.shown(),
                    doc.source
                ));
            }
        }
    }
    out
}

/// Prints every document's warnings on standard error, kubectl-style.
pub fn print(docs: &[Doc]) {
    for doc in docs {
        for w in env_warnings(doc) {
            eprintln!("Warning: {w}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files;

    #[test]
    fn names_that_look_secret_follow_the_four_patterns_in_any_case() {
        for yes in [
            "DB_PASSWORD",
            "api_token",
            "ClientSecret",
            "KEY",
            "ssh-key-file",
            "apikey",
        ] {
            assert!(looks_secret(yes), "{yes}");
        }
        for no in ["USER", "HOST", "PORT", "PASS", "TOKE", "", "K_E_Y"] {
            assert!(!looks_secret(no), "{no}");
        }
    }

    const WORKLOADS: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      initContainers:
      - name: migrate
        env:
        - {name: DB_PASSWORD, value: hunter2-v4lue}
      containers:
      - name: app
        env:
        - {name: HOST, value: db}
        - {name: API_TOKEN, valueFrom: {secretKeyRef: {name: api, key: token}}}
        - {name: EMPTY_SECRET, value: ''}
        - {name: signing_key, value: s3cr3t-v4lue}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: job
            env: [{name: Secret, value: plain-v4lue}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
data: {PASSWORD: not-a-pod}
";

    #[test]
    fn literal_secret_looking_env_vars_are_named_without_their_values() {
        let docs = files::parse("w.yaml", WORKLOADS, Some("team-a")).expect("parse");
        let all: Vec<String> = docs.iter().flat_map(env_warnings).collect();
        assert_eq!(all.len(), 3, "{all:#?}");
        assert!(
            all[0].starts_with(
                "deployment.apps/web (w.yaml#1): container \"app\" (containers[0]) sets env var \"signing_key\""
            ),
            "{}",
            all[0]
        );
        assert!(
            all[1]
                .contains("container \"migrate\" (initContainers[0]) sets env var \"DB_PASSWORD\""),
            "{}",
            all[1]
        );
        assert!(all[2].starts_with("cronjob.batch/nightly (w.yaml#2): container \"job\""));
        for w in &all {
            assert!(w.contains("valueFrom.secretKeyRef"), "{w}");
            assert!(!w.contains("v4lue"), "a value leaked into: {w}");
        }
    }

    #[test]
    fn hostile_names_are_quoted_and_odd_shapes_are_skipped() {
        let text = r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"containers": [
                {"name": "a\u001b[2J", "env": [{"name": "X_KEY\u0000\n", "value": "x-v4lue"}]},
                {"name": 7, "env": "not a list"},
                {"env": [{"name": ["no"], "value": "x"}, {"value": "no name"}, 5]}
            ]}}"#;
        let docs = files::parse("p.json", text, None).expect("parse");
        let all = env_warnings(&docs[0]);
        assert_eq!(all.len(), 1, "{all:#?}");
        assert!(all[0].contains(r#"container "a\u{1b}[2J""#), "{}", all[0]);
        assert!(all[0].contains(r#"env var "X_KEY\0\n""#), "{}", all[0]);
    }
}
