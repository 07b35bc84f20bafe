//! Field validation, per rule: a valid object and the invalid variants
//! kube-apiserver refuses, with the field it names (cases written from
//! `pkg/apis/{core,apps,batch,rbac}/validation`).

use daas_domain::{
    kinds::lookup,
    validation::{Problem, validate},
};
use serde_json::{Value, json};

fn check(kind: &str, object: Value) -> Result<(), (Problem, String)> {
    let info = lookup(kind).expect("managed kind");
    validate(info, &object).map_err(|e| (e.problem, e.field))
}

fn invalid_at(kind: &str, object: Value, field: &str) {
    match check(kind, object.clone()) {
        Err((Problem::Object, f)) => assert_eq!(f, field, "{object}"),
        other => panic!("{object}: expected invalid {field}, got {other:?}"),
    }
}

fn deployment(patch: impl FnOnce(&mut Value)) -> Value {
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web", "tier": "f"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx", "ports": [{"containerPort": 80, "name": "http"}]}]}}}});
    patch(&mut d);
    d
}

#[test]
fn deployments() {
    assert_eq!(check("Deployment", deployment(|_| {})), Ok(()));
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["replicas"] = json!(-1)),
        "spec.replicas",
    );
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["replicas"] = json!("2")),
        "spec.replicas",
    );
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["selector"] = json!({"matchLabels": {"app": "api"}})),
        "spec.template.metadata.labels",
    );
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["selector"] = json!({})),
        "spec.selector",
    );
    invalid_at(
        "Deployment",
        deployment(|d| {
            d["spec"].as_object_mut().map(|s| s.remove("selector"));
        }),
        "spec.selector",
    );
    let exprs =
        json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["f", "b"]}]});
    assert_eq!(
        check("Deployment", deployment(|d| d["spec"]["selector"] = exprs)),
        Ok(())
    );
    let not_in =
        json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["f"]}]});
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["selector"] = not_in),
        "spec.template.metadata.labels",
    );
    let bad_op =
        json!({"matchExpressions": [{"key": "tier", "operator": "Near", "values": ["f"]}]});
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["selector"] = bad_op),
        "spec.selector.matchExpressions[0].operator",
    );
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["restartPolicy"] = json!("Never")),
        "spec.template.spec.restartPolicy",
    );
    invalid_at(
        "Deployment",
        deployment(|d| d["metadata"]["labels"] = json!({"bad key!": "x"})),
        "metadata.labels[bad key!]",
    );
    invalid_at(
        "Deployment",
        deployment(|d| d["metadata"]["labels"] = json!({"k": "-bad"})),
        "metadata.labels[k]",
    );
}

#[test]
fn pod_specs() {
    let tpl = "spec.template.spec";
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["containers"] = json!([])),
        &format!("{tpl}.containers"),
    );
    let twins = json!([{"name": "a", "image": "x"}, {"name": "a", "image": "y"}]);
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["containers"] = twins),
        &format!("{tpl}.containers[1].name"),
    );
    let init_twin = json!([{"name": "web", "image": "x"}]);
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["initContainers"] = init_twin),
        &format!("{tpl}.initContainers[0].name"),
    );
    let c0 = format!("{tpl}.containers[0]");
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["containers"][0]["name"] = json!("Web")),
        &format!("{c0}.name"),
    );
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("")),
        &format!("{c0}.image"),
    );
    for port in [0, 65_536, -5] {
        invalid_at(
            "Deployment",
            deployment(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] =
                    json!(port)
            }),
            &format!("{c0}.ports[0].containerPort"),
        );
    }
    let dup_ports =
        json!([{"containerPort": 80, "name": "http"}, {"containerPort": 81, "name": "http"}]);
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["containers"][0]["ports"] = dup_ports),
        &format!("{c0}.ports[1].name"),
    );
    invalid_at(
        "Deployment",
        deployment(|d| {
            d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] = json!("ICMP")
        }),
        &format!("{c0}.ports[0].protocol"),
    );
    let mounts = json!([{"name": "missing", "mountPath": "/x"}]);
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = mounts),
        &format!("{c0}.volumeMounts[0].name"),
    );
    let two_sources = json!([{"name": "v", "emptyDir": {}, "configMap": {"name": "c"}}]);
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["volumes"] = two_sources),
        &format!("{tpl}.volumes[0]"),
    );
    let tol = json!([{"key": "a", "operator": "Exists", "value": "v"}]);
    invalid_at(
        "Deployment",
        deployment(|d| d["spec"]["template"]["spec"]["tolerations"] = tol),
        &format!("{tpl}.tolerations[0].value"),
    );
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                     "spec": {"containers": [{"name": "a", "image": "x"}], "ephemeralContainers": [{"name": "e", "image": "x"}]}});
    invalid_at("Pod", pod, "spec.ephemeralContainers");
}

#[test]
fn jobs_and_cron_jobs() {
    let job = |restart: &str, extra: Value| {
        let mut j = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"},
            "spec": {"template": {"spec": {"restartPolicy": restart, "containers": [{"name": "a", "image": "x"}]}}}});
        for (k, v) in extra.as_object().expect("extra") {
            j["spec"][k] = v.clone();
        }
        j
    };
    assert_eq!(check("Job", job("Never", json!({}))), Ok(()));
    invalid_at(
        "Job",
        job("Always", json!({})),
        "spec.template.spec.restartPolicy",
    );
    invalid_at(
        "Job",
        job("Never", json!({"backoffLimit": -1})),
        "spec.backoffLimit",
    );
    invalid_at(
        "Job",
        job("Never", json!({"selector": {"matchLabels": {"a": "b"}}})),
        "spec.selector",
    );
    let cron = |schedule: &str| {
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
        "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "a", "image": "x"}]}}}}}})
    };
    assert_eq!(check("CronJob", cron("*/5 * * * *")), Ok(()));
    assert_eq!(check("CronJob", cron("@hourly")), Ok(()));
    invalid_at("CronJob", cron("every minute"), "spec.schedule");
    invalid_at("CronJob", cron("TZ=UTC 0 * * * *"), "spec.schedule");
}

#[test]
fn secrets_and_config_maps() {
    let secret = |data: Value, ty: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": ty, "data": data});
    assert_eq!(
        check("Secret", secret(json!({"password": "c2VjcmV0"}), "Opaque")),
        Ok(())
    );
    invalid_at(
        "Secret",
        secret(json!({"password": "c2VjcmV0!"}), "Opaque"),
        "data.password",
    );
    invalid_at(
        "Secret",
        secret(json!({"bad/key": "c2VjcmV0"}), "Opaque"),
        "data[bad/key]",
    );
    invalid_at(
        "Secret",
        secret(json!({"tls.crt": "YQ=="}), "kubernetes.io/tls"),
        "data[tls.key]",
    );
    let cm = |data: Value, binary: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": data, "binaryData": binary});
    assert_eq!(
        check(
            "ConfigMap",
            cm(json!({"settings.yaml": "x"}), json!({"blob": "AAE="}))
        ),
        Ok(())
    );
    invalid_at("ConfigMap", cm(json!({"..": "x"}), json!({})), "data[..]");
    invalid_at("ConfigMap", cm(json!({"k": 1}), json!({})), "data.k");
    invalid_at(
        "ConfigMap",
        cm(json!({"k": "x"}), json!({"k": "AAE="})),
        "data[k]",
    );
}

#[test]
fn services_ingresses_and_rbac() {
    let svc = |ports: Value| json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"selector": {"app": "web"}, "ports": ports}});
    assert_eq!(
        check("Service", svc(json!([{"port": 80, "targetPort": "http"}]))),
        Ok(())
    );
    invalid_at("Service", svc(json!([{"port": 0}])), "spec.ports[0].port");
    invalid_at(
        "Service",
        svc(json!([{"port": 80, "name": "a"}, {"port": 81}])),
        "spec.ports[1].name",
    );
    invalid_at(
        "Service",
        svc(json!([{"port": 80, "name": "a"}, {"port": 81, "name": "a"}])),
        "spec.ports[1].name",
    );
    invalid_at(
        "Service",
        svc(json!([{"port": 80, "targetPort": 70000}])),
        "spec.ports[0].targetPort",
    );
    invalid_at("Service", svc(json!([])), "spec.ports");
    let ing = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"},
        "spec": {"rules": [{"host": "Bad_Host", "http": {"paths": []}}]}});
    invalid_at("Ingress", ing, "spec.rules[0].host");
    let rb = |kind: &str, subject: Value| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": "view"}, "subjects": [subject]})
    };
    assert_eq!(
        check(
            "RoleBinding",
            rb(
                "ClusterRole",
                json!({"kind": "ServiceAccount", "name": "default"})
            )
        ),
        Ok(())
    );
    invalid_at(
        "RoleBinding",
        rb(
            "Group",
            json!({"kind": "ServiceAccount", "name": "default"}),
        ),
        "roleRef.kind",
    );
    invalid_at(
        "RoleBinding",
        rb("Role", json!({"kind": "Robot", "name": "r"})),
        "subjects[0].kind",
    );
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r"},
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]});
    invalid_at("Role", role, "rules[0].nonResourceURLs");
}

#[test]
fn namespaces_pod_security_labels() {
    let ns = |k: &str, v: &str| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n", "labels": {k: v}}});
    assert_eq!(
        check(
            "Namespace",
            ns("pod-security.kubernetes.io/enforce", "restricted")
        ),
        Ok(())
    );
    assert_eq!(
        check(
            "Namespace",
            ns("pod-security.kubernetes.io/warn-version", "v1.33")
        ),
        Ok(())
    );
    invalid_at(
        "Namespace",
        ns("pod-security.kubernetes.io/enforce", "strict"),
        "metadata.labels[pod-security.kubernetes.io/enforce]",
    );
    invalid_at(
        "Namespace",
        ns("pod-security.kubernetes.io/audit-version", "1.33"),
        "metadata.labels[pod-security.kubernetes.io/audit-version]",
    );
}
