//! Hostile requests through the real master into a real etcd, by tenants
//! at every stake tier: each is refused with its own reason code on the
//! outcome topic, nothing under the registry changes, and the master then
//! applies a valid request as usual.

mod support;

use daas_domain::Address;
use daas_master::apply::Engine;
use support::*;

const SUI: u64 = 1_000_000_000;

fn pod(ns: &str, spec: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: {ns}\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n{spec}"
    )
}

fn deployment(ns: &str, replicas: i64, selected: &str) -> String {
    format!(
        r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"web","namespace":"{ns}"}},"spec":{{"replicas":{replicas},"selector":{{"matchLabels":{{"app":"{selected}"}}}},"template":{{"metadata":{{"labels":{{"app":"web"}}}},"spec":{{"containers":[{{"name":"web","image":"nginx:1.27"}}]}}}}}}}}"#
    )
}

/// (kind, apiVersion, namespace, name, manifest, expected code) for a tenant owning `ns`.
fn hostile(
    ns: &str,
) -> Vec<(
    &'static str,
    &'static str,
    String,
    String,
    String,
    &'static str,
)> {
    let own = |s: &str| s.to_owned();
    let rbac = "rbac.authorization.k8s.io/v1";
    vec![
        ("Pod", "v1", own(ns), own("p"), pod(ns, "    securityContext:\n      privileged: true\n"), "pod_security"),
        ("Pod", "v1", own(ns), own("p"), pod(ns, "  hostNetwork: true\n  hostPID: true\n"), "pod_security"),
        ("Pod", "v1", own(ns), own("p"), pod(ns, "  volumes:\n  - name: root\n    hostPath:\n      path: /\n"), "pod_security"),
        ("Pod", "v1", own(ns), own("p"), pod(ns, "    ports:\n    - containerPort: 22\n      hostPort: 22\n"), "pod_security"),
        ("Pod", "v1", own(ns), own("p"), pod(ns, "    securityContext:\n      capabilities:\n        add: [NET_ADMIN]\n"), "pod_security"),
        ("Pod", "v1", own(ns), own("p"), pod(ns, "  nodeName: worker-1\n"), "node_pinning"),
        ("Pod", "v1", own(ns), own("p"), pod(ns, "  tolerations:\n  - key: daas.io/stake-evicted\n    operator: Exists\n    effect: NoExecute\n"), "node_pinning"),
        ("ClusterRoleBinding", rbac, own(""), own("take-over"), "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: take-over\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n- kind: ServiceAccount\n  name: default\n  namespace: default\n".into(), "cluster_scoped_forbidden"),
        ("Namespace", "v1", own(""), own("kube-system"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-system\n".into(), "system_namespace"),
        ("Namespace", "v1", own(""), own("kube-tenant"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: kube-tenant\n".into(), "system_namespace"),
        ("ConfigMap", "v1", own(ns), own("nul\u{0}byte"), format!("{{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{{\"name\":\"nul\\u0000byte\",\"namespace\":\"{ns}\"}}}}"), "invalid_name"),
        ("ConfigMap", "v1", own(ns), own("UPPER"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: UPPER\n".into(), "invalid_name"),
        ("Deployment", "apps/v1", own(ns), own("web"), deployment(ns, -3, "web"), "invalid_object"),
        ("Deployment", "apps/v1", own(ns), own("web"), deployment(ns, 1, "other"), "invalid_object"),
        ("Secret", "v1", own(ns), own("s"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: not*base64\n".into(), "secret_unsealed"),
        ("ConfigMap", "v1", own(ns), own("d"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n  name: d\n".into(), "duplicate_key"),
    ]
}

/// The log of the test: set-up, hostile requests, one valid request.
struct Plan {
    log: Log,
    /// Offsets where the set-up and the hostile requests end.
    setup_end: i64,
    hostile_end: i64,
    /// (request id, expected code, what it is) per hostile request.
    expected: Vec<(u64, &'static str, String)>,
    valid_id: u64,
}

/// The cluster, four tenants each owning a namespace and then lowered to
/// their tier (0.5, 1, 5, 10 SUI), every hostile request from each, and
/// a valid ConfigMap from the 10 SUI tenant.
fn plan() -> Plan {
    let mut log = Log::with_cluster();
    let tiers = [SUI / 2, SUI, 5 * SUI, 10 * SUI];
    let tenants: Vec<(Address, u64, String)> = (0u8..)
        .zip(tiers)
        .map(|(i, t)| (Address([0x40 + i; 32]), t, format!("tier-{i}")))
        .collect();
    for (who, _, ns) in &tenants {
        log.stake(*who, 10 * SUI);
        log.namespace(*who, ns);
    }
    for (who, tier, _) in &tenants {
        log.stake(*who, *tier);
    }
    let setup_end = log.records.len() as i64;
    let mut expected = Vec::new();
    for (who, tier, ns) in &tenants {
        for (kind, api, rns, name, manifest, code) in hostile(ns) {
            let id = log.request(*who, kind, api, &rns, &name, &manifest);
            expected.push((id, code, format!("{kind} {name:?} at tier {tier}")));
        }
    }
    let hostile_end = log.records.len() as i64;
    let (rich, _, ns) = &tenants[3];
    let m = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  namespace: {ns}\ndata:\n  ok: \"yes\"\n"
    );
    let valid_id = log.request(*rich, "ConfigMap", "v1", ns, "after", &m);
    Plan {
        log,
        setup_end,
        hostile_end,
        expected,
        valid_id,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_are_refused_with_their_code_and_change_nothing() -> anyhow::Result<()> {
    let slice = Slice::new("hostile").await?;
    let plan = plan();
    let end = plan.log.records.len() as i64;
    slice.produce(&plan.log.records).await?;

    let mut applier = slice.applier()?;
    let mut engine = Engine::open(slice.etcd.client.clone(), config(&slice.prefix)).await?;
    let mut registries = Vec::new();
    for until in [plan.setup_end, plan.hostile_end, end] {
        let (next, registry) = applier.to(engine, until).await?;
        engine = next;
        registries.push(registry);
    }
    assert_eq!(
        registries[0].len(),
        4,
        "the four namespaces: {:?}",
        registries[0]
    );
    assert_eq!(
        registries[1], registries[0],
        "hostile requests change nothing in etcd"
    );
    assert_eq!(registries[2].len(), 5, "the valid ConfigMap was written");

    let outcomes = slice.outcomes()?;
    let code_of = |id: u64| outcome_code(&outcomes, id);
    for (id, code, what) in &plan.expected {
        assert_eq!(code_of(*id).as_deref(), Some(*code), "{what}");
    }
    assert_eq!(code_of(plan.valid_id).as_deref(), Some("applied (created)"));
    Ok(())
}
