//! Hostile requests a tenant may send, at every stake tier: each is refused
//! with its own reason and changes nothing. The expected codes are written
//! by hand from Kubernetes' rules (Pod Security Standards, apimachinery
//! validation) and the tenancy rules of `docs/decisions/0010-admission.md`.

#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/requests.rs"]
mod requests;

use cluster::{ADMIN, CLUSTER, TENANT, stake};
use daas_domain::{
    Address, Event, Ledger,
    admission::{Action, Decision, RejectCode},
    events::*,
    roles::MIST_PER_SUI,
};
use requests::Target;

const OTHER: Address = Address([0x07; 32]);

fn api_version(kind: &str) -> &'static str {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => "apps/v1",
        "Job" | "CronJob" => "batch/v1",
        "ClusterRole" | "ClusterRoleBinding" | "Role" | "RoleBinding" => {
            "rbac.authorization.k8s.io/v1"
        }
        _ => "v1",
    }
}

/// A request event; `manifest` is used as is.
pub fn request(
    sender: Address,
    verb: &str,
    kind: &str,
    ns: &str,
    name: &str,
    manifest: &str,
) -> Event {
    let target = Target {
        cluster: CLUSTER,
        sender,
        verb,
        api: api_version(kind),
        kind,
        namespace: ns,
        name,
    };
    requests::request(target, 0, manifest.to_owned())
}

fn ns_manifest(name: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n{labels}")
}

/// A ledger where TENANT owns `team-a` and OTHER owns `team-b` (granting
/// TENANT editor there), then TENANT's stake is set to `tier`.
fn ledger(tier: u64) -> Ledger {
    let ten = 10 * MIST_PER_SUI;
    let mut l = cluster::with_stakes(&[(ADMIN, ten), (TENANT, ten), (OTHER, ten)]);
    for (who, ns) in [(TENANT, "team-a"), (OTHER, "team-b")] {
        let d = l
            .apply(&request(
                who,
                "create",
                "Namespace",
                "",
                ns,
                &ns_manifest(ns, ""),
            ))
            .decision;
        assert!(matches!(d, Some(Decision::Admitted(_))), "{d:?}");
    }
    l.apply(&Event::NamespaceGranted(NamespaceGranted {
        cluster_id: CLUSTER,
        namespace: "team-b".into(),
        grantee: TENANT,
        role: 1,
        granted_by: OTHER,
        timestamp_ms: 1,
        seq: 0,
    }));
    l.apply(&stake(TENANT, tier));
    l
}

fn pod(name: &str, spec: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: team-a\nspec:\n{spec}"
    )
}

const C: &str = "  containers:\n  - name: app\n    image: busybox:1.36\n";

fn deployment(replicas: &str, selector_app: &str, pod_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels:\n      app: {selector_app}\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n{pod_extra}"
    )
}

/// (what, kind, namespace, name, manifest, the code Kubernetes' rules give).
fn hostile() -> Vec<(
    &'static str,
    &'static str,
    String,
    String,
    String,
    RejectCode,
)> {
    use RejectCode::*;
    let s = String::from;
    let p = |name: &str, extra: &str| pod(name, &format!("{C}{extra}"));
    vec![
        ("privileged container", "Pod", s("team-a"), s("p"), p("p", "    securityContext:\n      privileged: true\n"), PodSecurity),
        ("hostNetwork", "Pod", s("team-a"), s("p"), p("p", "  hostNetwork: true\n"), PodSecurity),
        ("hostPID", "Pod", s("team-a"), s("p"), p("p", "  hostPID: true\n"), PodSecurity),
        ("hostIPC", "Pod", s("team-a"), s("p"), p("p", "  hostIPC: true\n"), PodSecurity),
        ("hostPath /", "Pod", s("team-a"), s("p"), p("p", "  volumes:\n  - name: root\n    hostPath:\n      path: /\n"), PodSecurity),
        ("hostPort", "Pod", s("team-a"), s("p"), p("p", "    ports:\n    - containerPort: 80\n      hostPort: 80\n"), PodSecurity),
        ("added capability", "Pod", s("team-a"), s("p"), p("p", "    securityContext:\n      capabilities:\n        add: [SYS_ADMIN]\n"), PodSecurity),
        ("privileged template", "Deployment", s("team-a"), s("web"), deployment("1", "web", "        securityContext:\n          privileged: true\n"), PodSecurity),
        ("CronJob with hostPID", "CronJob", s("team-a"), s("c"), "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: c\nspec:\n  schedule: '*/5 * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          hostPID: true\n          restartPolicy: Never\n          containers:\n          - name: a\n            image: busybox\n".into(), PodSecurity),
        ("nodeName", "Pod", s("team-a"), s("p"), p("p", "  nodeName: worker-1\n"), NodePinning),
        ("tolerates daas.io/stake-evicted", "Pod", s("team-a"), s("p"), p("p", "  tolerations:\n  - key: daas.io/stake-evicted\n    operator: Exists\n"), NodePinning),
        ("tolerates every taint", "Pod", s("team-a"), s("p"), p("p", "  tolerations:\n  - operator: Exists\n"), NodePinning),
        ("ClusterRoleBinding to cluster-admin", "ClusterRoleBinding", s(""), s("me-admin"), "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: me-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: me\n".into(), ClusterScopedForbidden),
        ("ClusterRole", "ClusterRole", s(""), s("all"), "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: all\nrules:\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n".into(), ClusterScopedForbidden),
        ("Node", "Node", s(""), s("n1"), "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n".into(), ClusterScopedForbidden),
        ("PersistentVolume", "PersistentVolume", s(""), s("pv"), "apiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: pv\nspec:\n  hostPath:\n    path: /\n".into(), ClusterScopedForbidden),
        ("namespace kube-system", "Namespace", s(""), s("kube-system"), ns_manifest("kube-system", ""), SystemNamespace),
        ("namespace named like a system one", "Namespace", s(""), s("kube-mine"), ns_manifest("kube-mine", ""), SystemNamespace),
        ("ConfigMap in kube-system", "ConfigMap", s("kube-system"), s("x"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n".into(), SystemNamespace),
        ("name with NUL", "ConfigMap", s("team-a"), s("nul\u{0}byte"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"nul\\0byte\"\n".into(), InvalidName),
        ("upper-case name", "ConfigMap", s("team-a"), s("Upper"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Upper\n".into(), InvalidName),
        ("namespace with a control character", "ConfigMap", s("team\u{7}a"), s("x"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n".into(), InvalidName),
        ("negative replicas", "Deployment", s("team-a"), s("web"), deployment("-1", "web", ""), InvalidObject),
        ("selector not matching the template", "Deployment", s("team-a"), s("web"), deployment("1", "api", ""), InvalidObject),
        ("Secret data not base64", "Secret", s("team-a"), s("s"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: '%%% not base64'\n".into(), SecretUnsealed),
        ("Secret sealed with junk", "Secret", s("team-a"), s("s"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    k3s-daas.io/sealed: 'daas-seal-v1; key-version=1'\ndata:\n  password: '%%% not base64'\n".into(), SealingKeyUnknown),
        ("duplicate keys (YAML)", "ConfigMap", s("team-a"), s("x"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: one\n  a: two\n".into(), DuplicateKey),
        ("duplicate keys (JSON)", "Pod", s("team-a"), s("p"), r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"hostNetwork":false,"hostNetwork":true,"containers":[{"name":"a","image":"b"}]}}"#.into(), DuplicateKey),
        ("namespace labelled privileged", "Namespace", s(""), s("team-a"), ns_manifest("team-a", "  labels:\n    pod-security.kubernetes.io/enforce: privileged\n"), PrivilegedNamespace),
        ("RoleBinding to admin in a granted namespace", "RoleBinding", s("team-b"), s("me"), "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: me\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: admin\nsubjects:\n- kind: User\n  apiGroup: rbac.authorization.k8s.io\n  name: me\n".into(), RoleEscalation),
    ]
}

#[test]
fn every_hostile_request_is_refused_with_its_own_code_at_every_tier() {
    let tiers = [
        MIST_PER_SUI / 2,
        MIST_PER_SUI,
        5 * MIST_PER_SUI,
        10 * MIST_PER_SUI,
    ];
    for tier in tiers {
        for (what, kind, ns, name, manifest, code) in hostile() {
            let mut l = ledger(tier);
            let before = l.clone();
            let out = l.apply(&request(TENANT, "apply", kind, &ns, &name, &manifest));
            let at = format!("{what} at {tier} MIST");
            match out.decision {
                Some(Decision::Rejected(r)) => assert_eq!(r.code, code, "{at}: {}", r.message),
                other => panic!("{at}: expected {code:?}, got {other:?}"),
            }
            assert!(out.changes.is_empty(), "{at}: a rejection changes nothing");
            assert_eq!(l, before, "{at}");
        }
    }
}

#[test]
fn pod_security_messages_name_the_field() {
    let mut l = ledger(10 * MIST_PER_SUI);
    let m = deployment(
        "1",
        "web",
        "        securityContext:\n          privileged: true\n",
    );
    let Some(Decision::Rejected(r)) = l
        .apply(&request(TENANT, "apply", "Deployment", "team-a", "web", &m))
        .decision
    else {
        panic!("refused");
    };
    assert!(
        r.message
            .contains("spec.template.spec.containers[0].securityContext.privileged"),
        "{}",
        r.message
    );
    assert!(r.message.contains("baseline:latest"), "{}", r.message);
}

fn admitted(l: &mut Ledger, e: &Event) -> daas_domain::admission::Admitted {
    match l.apply(e).decision {
        Some(Decision::Admitted(a)) => a,
        other => panic!("expected admission, got {other:?}"),
    }
}

fn refused(l: &mut Ledger, e: &Event) -> RejectCode {
    match l.apply(e).decision {
        Some(Decision::Rejected(r)) => r.code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn restricted_findings_are_warnings_unless_the_namespace_enforces_restricted() {
    let mut l = ledger(10 * MIST_PER_SUI);
    let plain = pod("p", C);
    let a = admitted(
        &mut l,
        &request(TENANT, "apply", "Pod", "team-a", "p", &plain),
    );
    assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
    let w = &a.warnings[0];
    assert!(w.contains("restricted:latest"), "{w}");
    assert!(
        w.contains("spec.containers[0].securityContext.allowPrivilegeEscalation"),
        "{w}"
    );
    assert!(
        w.contains("spec.containers[0].securityContext.runAsNonRoot"),
        "{w}"
    );

    let restricted = ns_manifest(
        "team-a",
        "  labels:\n    pod-security.kubernetes.io/enforce: restricted\n",
    );
    admitted(
        &mut l,
        &request(TENANT, "apply", "Namespace", "", "team-a", &restricted),
    );
    assert_eq!(
        refused(
            &mut l,
            &request(TENANT, "apply", "Pod", "team-a", "q", &pod("q", C))
        ),
        RejectCode::PodSecurity
    );
    let hardened = pod(
        "q",
        &format!(
            "  securityContext:\n    runAsNonRoot: true\n    seccompProfile:\n      type: RuntimeDefault\n{C}    securityContext:\n      allowPrivilegeEscalation: false\n      capabilities:\n        drop: [ALL]\n"
        ),
    );
    let a = admitted(
        &mut l,
        &request(TENANT, "apply", "Pod", "team-a", "q", &hardened),
    );
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

#[test]
fn only_the_admin_labels_a_namespace_privileged_and_then_privileged_pods_run_there() {
    let mut l = ledger(10 * MIST_PER_SUI);
    let privileged = ns_manifest(
        "team-a",
        "  labels:\n    pod-security.kubernetes.io/enforce: privileged\n",
    );
    admitted(
        &mut l,
        &request(ADMIN, "apply", "Namespace", "", "team-a", &privileged),
    );
    let p = pod(
        "p",
        &format!("{C}    securityContext:\n      privileged: true\n"),
    );
    let a = admitted(&mut l, &request(TENANT, "apply", "Pod", "team-a", "p", &p));
    assert!(a.warnings[0].contains("privileged"), "{:?}", a.warnings);
    // The label survives a rebuild from stored changes (the master's restart).
    let mut stored = std::collections::BTreeMap::new();
    let mut replay = ledger(10 * MIST_PER_SUI);
    for e in [request(
        ADMIN,
        "apply",
        "Namespace",
        "",
        "team-a",
        &privileged,
    )] {
        for c in replay.apply(&e).changes {
            if let Some(k) = c.store_key() {
                stored.insert(k, c);
            }
        }
    }
    let mut restored = ledger(10 * MIST_PER_SUI);
    for c in stored.values() {
        restored.restore(c);
    }
    admitted(
        &mut restored,
        &request(TENANT, "apply", "Pod", "team-a", "p", &p),
    );
}

#[test]
fn admins_may_pin_and_write_cluster_kinds() {
    let mut l = ledger(10 * MIST_PER_SUI);
    let crb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: ops\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: Group\n  apiGroup: rbac.authorization.k8s.io\n  name: ops\n";
    assert_eq!(
        admitted(
            &mut l,
            &request(ADMIN, "apply", "ClusterRoleBinding", "", "ops", crb)
        )
        .action,
        Action::Create
    );
    let pinned = pod("p", &format!("{C}  nodeName: worker-1\n"));
    admitted(
        &mut l,
        &request(ADMIN, "apply", "Pod", "team-a", "p", &pinned),
    );
    assert_eq!(
        refused(
            &mut l,
            &request(
                ADMIN,
                "apply",
                "Node",
                "",
                "n1",
                "apiVersion: v1\nkind: Node\nmetadata:\n  name: n1\n"
            )
        ),
        RejectCode::UnsupportedKind,
        "nodes register through their kubelets"
    );
    // A tenant may bind admin in its own namespace.
    let rb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: me\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: admin\nsubjects:\n- kind: ServiceAccount\n  name: default\n";
    admitted(
        &mut l,
        &request(TENANT, "apply", "RoleBinding", "team-a", "me", rb),
    );
}

#[test]
fn immutable_fields_stay_as_created() {
    let mut l = ledger(10 * MIST_PER_SUI);
    admitted(
        &mut l,
        &request(
            TENANT,
            "apply",
            "Deployment",
            "team-a",
            "web",
            &deployment("1", "web", ""),
        ),
    );
    let scaled = deployment("3", "web", "");
    assert_eq!(
        admitted(
            &mut l,
            &request(TENANT, "apply", "Deployment", "team-a", "web", &scaled)
        )
        .action,
        Action::Update
    );
    let reselected = scaled.replace(
        "      app: web\n  template",
        "      app: web\n      tier: x\n  template",
    );
    let reselected = reselected.replace(
        "        app: web\n    spec",
        "        app: web\n        tier: x\n    spec",
    );
    let before = l.clone();
    assert_eq!(
        refused(
            &mut l,
            &request(TENANT, "apply", "Deployment", "team-a", "web", &reselected)
        ),
        RejectCode::ImmutableField
    );
    assert_eq!(l, before);
    // After a delete, the name is free for a new selector.
    admitted(
        &mut l,
        &request(TENANT, "delete", "Deployment", "team-a", "web", ""),
    );
    admitted(
        &mut l,
        &request(TENANT, "apply", "Deployment", "team-a", "web", &reselected),
    );

    let job = |image: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: a\n        image: {image}\n"
        )
    };
    admitted(
        &mut l,
        &request(TENANT, "apply", "Job", "team-a", "j", &job("x:1")),
    );
    admitted(
        &mut l,
        &request(TENANT, "apply", "Job", "team-a", "j", &job("x:1")),
    );
    assert_eq!(
        refused(
            &mut l,
            &request(TENANT, "apply", "Job", "team-a", "j", &job("x:2"))
        ),
        RejectCode::ImmutableField,
        "a Job's template is immutable"
    );

    let frozen =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: f\nimmutable: true\ndata:\n  k: v\n";
    admitted(
        &mut l,
        &request(TENANT, "apply", "ConfigMap", "team-a", "f", frozen),
    );
    admitted(
        &mut l,
        &request(TENANT, "apply", "ConfigMap", "team-a", "f", frozen),
    );
    assert_eq!(
        refused(
            &mut l,
            &request(
                TENANT,
                "apply",
                "ConfigMap",
                "team-a",
                "f",
                &frozen.replace("k: v", "k: w")
            )
        ),
        RejectCode::ImmutableField
    );
}

#[test]
fn the_repositorys_examples_are_admitted_under_baseline() {
    let mut l = ledger(10 * MIST_PER_SUI);
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
    let files = ["web.yaml", "db.yaml", "app/config.yaml", "app/worker.yaml"];
    for f in files {
        let text = std::fs::read_to_string(format!("{root}/{f}")).expect(f);
        for doc in text.split("\n---\n") {
            let v: serde_json::Value = serde_yaml_ng::from_str(doc).expect(f);
            let kind = v["kind"].as_str().expect("kind");
            let name = v["metadata"]["name"].as_str().expect("name");
            admitted(&mut l, &request(TENANT, "apply", kind, "team-a", name, doc));
        }
    }
}
