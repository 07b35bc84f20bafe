//! Admission of arbitrary manifest bytes, for every kind, verb and sender
//! role: never panics, and a refusal changes nothing.
#![no_main]

use daas_domain::{Bytes, Event, admission::Decision, events::K8sApiRequest, kinds};
use libfuzzer_sys::fuzz_target;

#[path = "../../domain/tests/support/cluster.rs"]
mod cluster;
use cluster::{ADMIN, CLUSTER, TENANT};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, manifest)) = data.split_first() else {
        return;
    };
    let info = &kinds::KINDS[usize::from(selector & 0x1f) % kinds::KINDS.len()];
    let verb = ["apply", "create", "replace", "delete"][usize::from(selector >> 5) % 4];
    let sender = if selector & 0x80 == 0 { TENANT } else { ADMIN };
    let mut l = cluster::with_stakes(&[(ADMIN, 10_000_000_000), (TENANT, 10_000_000_000)]);
    let before = l.clone();
    let out = l.apply(&Event::K8sApiRequest(K8sApiRequest {
        cluster_id: CLUSTER,
        request_id: 1,
        sender,
        verb: verb.into(),
        api_version: info.api_version.into(),
        kind: info.kind.into(),
        namespace: if info.namespaced {
            "default".into()
        } else {
            String::new()
        },
        name: "web".into(),
        manifest: Bytes(manifest.to_vec()),
        stake: 0,
        timestamp_ms: 0,
        seq: 2,
    }));
    if let Some(Decision::Rejected(_)) = out.decision {
        assert!(out.changes.is_empty());
        assert!(l == before);
    }
});
