//! Admission benchmark, next to its raw baseline in the same run: requests/s
//! decided (parse with duplicate-key refusal, typed parse, validation,
//! Pod Security, tenancy, ledger update) for ~1 KiB Deployment manifests in
//! JSON, against plain `serde_json` parsing of the same bytes (the least any
//! admission must do), as a ratio.
//!
//! `cargo bench -p daas-domain --bench admission` (`ADMISSION_BENCH_REQUESTS`,
//! default 20,000).

#[path = "../tests/support/cluster.rs"]
mod cluster;
#[path = "../tests/support/requests.rs"]
mod requests;

use std::time::Instant;

use cluster::{CLUSTER, TENANT};
use daas_domain::{Event, Ledger, admission::Decision, roles::MIST_PER_SUI};

fn deployment(name: &str, revision: usize) -> String {
    format!(
        r#"{{"apiVersion":"apps/v1","kind":"Deployment","metadata":{{"name":"{name}","namespace":"team-a","labels":{{"app":"{name}","revision":"{revision}"}}}},"spec":{{"replicas":2,"selector":{{"matchLabels":{{"app":"{name}"}}}},"template":{{"metadata":{{"labels":{{"app":"{name}"}}}},"spec":{{"containers":[{{"name":"{name}","image":"registry.example.com/{name}:1.{revision}","ports":[{{"containerPort":8080,"name":"http"}}],"env":[{{"name":"REVISION","value":"{revision}"}}],"resources":{{"requests":{{"cpu":"100m","memory":"128Mi"}},"limits":{{"cpu":"500m","memory":"512Mi"}}}},"readinessProbe":{{"httpGet":{{"path":"/healthz","port":8080}}}}}}]}}}}}}}}"#
    )
}

/// The cluster and a tenant with 10 SUI owning `team-a`.
fn ledger() -> Ledger {
    let mut l = cluster::with_stakes(&[(TENANT, 10 * MIST_PER_SUI)]);
    requests::own_namespace(&mut l, CLUSTER, TENANT, "team-a");
    l
}

fn main() {
    let n: usize = std::env::var("ADMISSION_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let events: Vec<Event> = (0..n)
        .map(|i| {
            let name = format!("app-{}", i % 500);
            let what = ["apps/v1", "Deployment", "team-a", &name];
            requests::apply(CLUSTER, TENANT, what, deployment(&name, i))
        })
        .collect();
    let bytes: usize = events
        .iter()
        .map(|e| match e {
            Event::K8sApiRequest(r) => r.manifest.len(),
            _ => 0,
        })
        .sum();

    let t = Instant::now();
    let mut parsed = 0usize;
    for e in &events {
        if let Event::K8sApiRequest(r) = e {
            parsed += usize::from(
                serde_json::from_slice::<serde_json::Value>(r.manifest.as_ref()).is_ok(),
            );
        }
    }
    let raw = n as f64 / t.elapsed().as_secs_f64();

    let mut l = ledger();
    let t = Instant::now();
    let mut admitted = 0usize;
    for e in &events {
        admitted += usize::from(matches!(l.apply(e).decision, Some(Decision::Admitted(_))));
    }
    let decided = n as f64 / t.elapsed().as_secs_f64();
    assert_eq!(
        (parsed, admitted),
        (n, n),
        "every manifest parses and is admitted"
    );
    println!(
        "admission: {n} Deployment applies ({} B avg): {decided:.0} requests/s decided; \
         raw serde_json parse {raw:.0}/s; ratio {:.2}",
        bytes / n.max(1),
        decided / raw
    );
}
