//! Pod Security Standards, one table row per control: a spec that passes
//! and one that fails, with the field and level Kubernetes' Pod Security
//! admission reports (`k8s.io/pod-security-admission/policy/check_*.go`).

use daas_domain::{
    pod_security::{Level, evaluate},
    templates::pod_site,
};
use serde_json::{Value, json};

fn violations(spec: Value) -> Vec<(Level, String)> {
    let pod = json!({"metadata": {"name": "p"}, "spec": spec});
    let site = pod_site("Pod", &pod).expect("pods carry a pod");
    evaluate(&site)
        .into_iter()
        .map(|v| (v.level, v.field))
        .collect()
}

/// A container that passes every restricted check.
fn hardened() -> Value {
    json!({"name": "app", "image": "x", "securityContext": {
        "allowPrivilegeEscalation": false, "runAsNonRoot": true,
        "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}})
}

fn with_container_context(patch: Value) -> Value {
    let mut c = hardened();
    for (k, v) in patch.as_object().expect("patch").iter() {
        c["securityContext"][k] = v.clone();
    }
    json!({"containers": [c]})
}

#[test]
fn a_hardened_pod_passes_every_check() {
    assert_eq!(violations(json!({"containers": [hardened()]})), vec![]);
}

#[test]
fn baseline_controls() {
    use Level::Baseline as B;
    let c = |f: &str| format!("spec.containers[0].securityContext.{f}");
    let cases: Vec<(Value, Vec<(Level, String)>)> = vec![
        (
            with_container_context(json!({"privileged": true})),
            vec![(B, c("privileged"))],
        ),
        (with_container_context(json!({"privileged": false})), vec![]),
        (
            json!({"hostNetwork": true, "hostPID": true, "hostIPC": true, "containers": [hardened()]}),
            vec![
                (B, "spec.hostNetwork".into()),
                (B, "spec.hostPID".into()),
                (B, "spec.hostIPC".into()),
            ],
        ),
        (
            json!({"hostNetwork": false, "containers": [hardened()]}),
            vec![],
        ),
        (
            with_container_context(json!({"windowsOptions": {"hostProcess": true}})),
            vec![(B, c("windowsOptions.hostProcess"))],
        ),
        (
            with_container_context(json!({"procMount": "Unmasked"})),
            vec![(B, c("procMount"))],
        ),
        (
            with_container_context(json!({"procMount": "Default"})),
            vec![],
        ),
        (
            with_container_context(json!({"seLinuxOptions": {"type": "spc_t"}})),
            vec![(B, c("seLinuxOptions.type"))],
        ),
        (
            with_container_context(
                json!({"seLinuxOptions": {"type": "container_init_t", "level": "s0:c1"}}),
            ),
            vec![],
        ),
        (
            with_container_context(json!({"seLinuxOptions": {"user": "root"}})),
            vec![(B, c("seLinuxOptions.user"))],
        ),
        (
            with_container_context(json!({"appArmorProfile": {"type": "Unconfined"}})),
            vec![(B, c("appArmorProfile.type"))],
        ),
        (
            with_container_context(
                json!({"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}),
            ),
            vec![],
        ),
        (
            json!({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "1"}, {"name": "net.ipv4.tcp_syncookies", "value": "1"}]}, "containers": [hardened()]}),
            vec![(B, "spec.securityContext.sysctls[0].name".into())],
        ),
        (
            json!({"volumes": [{"name": "root", "hostPath": {"path": "/"}}], "containers": [hardened()]}),
            vec![
                (B, "spec.volumes[0].hostPath".into()),
                (Level::Restricted, "spec.volumes[0].hostPath".into()),
            ],
        ),
    ];
    for (spec, expected) in cases {
        assert_eq!(violations(spec.clone()), expected, "{spec}");
    }
}

#[test]
fn capabilities_and_host_ports() {
    let added = with_container_context(
        json!({"capabilities": {"drop": ["ALL"], "add": ["CHOWN", "SYS_ADMIN"]}}),
    );
    assert_eq!(
        violations(added),
        vec![
            (
                Level::Baseline,
                "spec.containers[0].securityContext.capabilities.add[1]".into()
            ),
            (
                Level::Restricted,
                "spec.containers[0].securityContext.capabilities.add[0]".into()
            ),
            (
                Level::Restricted,
                "spec.containers[0].securityContext.capabilities.add[1]".into()
            ),
        ]
    );
    let bind = with_container_context(
        json!({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}),
    );
    assert_eq!(violations(bind), vec![]);
    let mut c = hardened();
    c["ports"] =
        json!([{"containerPort": 80, "hostPort": 0}, {"containerPort": 81, "hostPort": 8081}]);
    assert_eq!(
        violations(json!({"containers": [c]})),
        vec![(
            Level::Baseline,
            "spec.containers[0].ports[1].hostPort".into()
        )]
    );
}

#[test]
fn seccomp_at_both_levels() {
    let unconfined = json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}},
                            "containers": [hardened()]});
    // The container's own RuntimeDefault satisfies restricted; the pod's Unconfined is still baseline's.
    assert_eq!(
        violations(unconfined),
        vec![(
            Level::Baseline,
            "spec.securityContext.seccompProfile.type".into()
        )]
    );
    let mut c = hardened();
    c["securityContext"]
        .as_object_mut()
        .expect("ctx")
        .remove("seccompProfile");
    let pod_level = json!({"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "x"}}, "containers": [c.clone()]});
    assert_eq!(violations(pod_level), vec![]);
    assert_eq!(
        violations(json!({"containers": [c]})),
        vec![(
            Level::Restricted,
            "spec.containers[0].securityContext.seccompProfile.type".into()
        )]
    );
}

#[test]
fn restricted_controls() {
    use Level::Restricted as R;
    let bare = json!({"name": "app", "image": "x"});
    let c = |f: &str| format!("spec.containers[0].securityContext.{f}");
    assert_eq!(
        violations(json!({"containers": [bare]})),
        vec![
            (R, c("allowPrivilegeEscalation")),
            (R, c("runAsNonRoot")),
            (R, c("seccompProfile.type")),
            (R, c("capabilities.drop"))
        ]
    );
    assert_eq!(
        violations(with_container_context(json!({"runAsUser": 0}))),
        vec![(R, c("runAsUser"))]
    );
    assert_eq!(
        violations(with_container_context(json!({"runAsNonRoot": false}))),
        vec![(R, c("runAsNonRoot"))]
    );
    let mut c0 = hardened();
    c0["securityContext"]
        .as_object_mut()
        .expect("ctx")
        .remove("runAsNonRoot");
    assert_eq!(
        violations(json!({"securityContext": {"runAsNonRoot": true}, "containers": [c0]})),
        vec![]
    );
    let vols = json!({"volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "nfs": {"server": "s", "path": "/"}},
                                  {"name": "c", "projected": {"sources": []}}], "containers": [hardened()]});
    assert_eq!(violations(vols), vec![(R, "spec.volumes[1].nfs".into())]);
}

#[test]
fn every_container_list_and_every_template_is_checked() {
    let bad = json!({"name": "x", "image": "x", "securityContext": {"privileged": true}});
    let spec = json!({"containers": [hardened()], "initContainers": [bad.clone()], "ephemeralContainers": [bad]});
    let fields: Vec<String> = violations(spec)
        .into_iter()
        .filter(|(l, _)| *l == Level::Baseline)
        .map(|(_, f)| f)
        .collect();
    assert_eq!(
        fields,
        [
            "spec.initContainers[0].securityContext.privileged",
            "spec.ephemeralContainers[0].securityContext.privileged"
        ]
    );
    let cron = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostIPC": true, "containers": [hardened()]}}}}}});
    let site = pod_site("CronJob", &cron).expect("cronjobs carry a pod");
    let found: Vec<String> = evaluate(&site).into_iter().map(|v| v.field).collect();
    assert_eq!(found, ["spec.jobTemplate.spec.template.spec.hostIPC"]);
    let deploy = json!({"spec": {"template": {"metadata": {"annotations": {
        "container.apparmor.security.beta.kubernetes.io/app": "unconfined"}}, "spec": {"containers": [hardened()]}}}});
    let site = pod_site("Deployment", &deploy).expect("deployments carry a pod");
    let found: Vec<String> = evaluate(&site).into_iter().map(|v| v.field).collect();
    assert_eq!(
        found,
        ["spec.template.metadata.annotations[container.apparmor.security.beta.kubernetes.io/app]"]
    );
}
