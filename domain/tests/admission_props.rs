//! Random and hostile manifests never panic admission, and a refusal
//! never changes the ledger.

#[path = "support/cluster.rs"]
mod cluster;

use cluster::{CLUSTER, TENANT};
use daas_domain::{
    Bytes, Event, Ledger, admission::Decision, events::*, kinds::KINDS, roles::MIST_PER_SUI,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn ledger() -> Ledger {
    let mut l = cluster::with_stakes(&[(TENANT, 10 * MIST_PER_SUI)]);
    let ns = b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n".to_vec();
    let created = l.apply(&request(0, "team-a".into(), String::new(), ns, "create"));
    assert!(matches!(created.decision, Some(Decision::Admitted(_))));
    l
}

/// Strings that break naive code: NUL, control characters, non-ASCII,
/// very long, path-like, and the values checks look for.
fn nasty_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\u{0}".to_string()),
        Just("a\u{1b}[31mb".to_string()),
        Just("ÄÖ💥".to_string()),
        Just("x".repeat(70_000)),
        Just("../..".to_string()),
        Just("privileged".to_string()),
        Just("Exists".to_string()),
        Just("daas.io/stake-evicted".to_string()),
        Just("ALL".to_string()),
        "[a-zA-Z0-9./_-]{0,20}",
        any::<String>(),
    ]
}

/// Keys that the checks read, and random ones.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("spec".to_string()),
        Just("template".to_string()),
        Just("containers".to_string()),
        Just("securityContext".to_string()),
        Just("privileged".to_string()),
        Just("hostNetwork".to_string()),
        Just("tolerations".to_string()),
        Just("nodeName".to_string()),
        Just("selector".to_string()),
        Just("matchLabels".to_string()),
        Just("matchExpressions".to_string()),
        Just("volumes".to_string()),
        Just("ports".to_string()),
        Just("data".to_string()),
        Just("labels".to_string()),
        Just("replicas".to_string()),
        Just("roleRef".to_string()),
        nasty_string(),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        nasty_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn request(kind_index: usize, name: String, ns: String, manifest: Vec<u8>, verb: &str) -> Event {
    let info = &KINDS[kind_index % KINDS.len()];
    Event::K8sApiRequest(K8sApiRequest {
        cluster_id: CLUSTER,
        request_id: 1,
        sender: TENANT,
        verb: verb.into(),
        api_version: info.api_version.into(),
        kind: info.kind.into(),
        namespace: ns,
        name,
        manifest: Bytes(manifest),
        stake: 0,
        timestamp_ms: 0,
        seq: 0,
    })
}

fn decide_and_check(event: &Event) -> Result<(), TestCaseError> {
    let mut l = ledger();
    let before = l.clone();
    let out = l.apply(event);
    if let Some(Decision::Rejected(_)) = out.decision {
        prop_assert!(out.changes.is_empty());
        prop_assert_eq!(l, before);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(kind in any::<usize>(), name in nasty_string(), ns in nasty_string(),
                                bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        decide_and_check(&request(kind, name, ns, bytes, "apply"))?;
    }

    #[test]
    fn random_objects_with_the_right_identity_never_panic(kind in any::<usize>(), body in value(), spec in value()) {
        let info = &KINDS[kind % KINDS.len()];
        let mut object = json!({"apiVersion": info.api_version, "kind": info.kind, "metadata": {"name": "x"}});
        object["spec"] = spec;
        if let (Value::Object(o), Value::Object(extra)) = (&mut object, body) {
            for (k, v) in extra {
                o.entry(k).or_insert(v);
            }
        }
        let ns = if info.namespaced { "team-a" } else { "" };
        let bytes = serde_json::to_vec(&object).unwrap_or_default();
        decide_and_check(&request(kind, "x".into(), ns.into(), bytes.clone(), "apply"))?;
        decide_and_check(&request(kind, "x".into(), ns.into(), bytes, "create"))?;
    }

    #[test]
    fn hostile_pod_specs_in_every_template_never_panic(spec in value(), which in 0usize..6) {
        let (kind, wrap): (&str, fn(Value) -> Value) = [
            ("Pod", (|s| s) as fn(Value) -> Value),
            ("Deployment", |s| json!({"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": s}})),
            ("StatefulSet", |s| json!({"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": s}})),
            ("DaemonSet", |s| json!({"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": s}})),
            ("Job", |s| json!({"template": {"spec": s}})),
            ("CronJob", |s| json!({"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": s}}}})),
        ][which];
        let index = KINDS.iter().position(|k| k.kind == kind).unwrap_or(0);
        let info = &KINDS[index];
        let object = json!({"apiVersion": info.api_version, "kind": kind, "metadata": {"name": "x"}, "spec": wrap(spec)});
        let bytes = serde_yaml_ng::to_string(&object).unwrap_or_default().into_bytes();
        decide_and_check(&request(index, "x".into(), "team-a".into(), bytes, "apply"))?;
    }
}
