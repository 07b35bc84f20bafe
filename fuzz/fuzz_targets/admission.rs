//! Admission of arbitrary manifest bytes, for every kind, verb and sender
//! role: never panics, and a refusal changes nothing.
#![no_main]

use daas_domain::{
    Address, Bytes, Event, Ledger,
    admission::Decision,
    events::{ClusterCreated, K8sApiRequest, StakeDeposited},
    kinds,
};
use libfuzzer_sys::fuzz_target;

const CLUSTER: Address = Address([0xc1; 32]);
const ADMIN: Address = Address([0xad; 32]);
const TENANT: Address = Address([0x7e; 32]);

fn ledger() -> Ledger {
    let mut l = Ledger::default();
    l.apply(&Event::ClusterCreated(ClusterCreated {
        cluster_id: CLUSTER,
        name: "c".into(),
        admin: ADMIN,
        timestamp_ms: 0,
    }));
    for who in [ADMIN, TENANT] {
        l.apply(&Event::StakeDeposited(StakeDeposited {
            staker: who,
            role: 0,
            amount: 10_000_000_000,
            total_after: 10_000_000_000,
            epoch: 1,
            timestamp_ms: 1,
        }));
    }
    l
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, manifest)) = data.split_first() else {
        return;
    };
    let info = &kinds::KINDS[usize::from(selector & 0x1f) % kinds::KINDS.len()];
    let verb = ["apply", "create", "replace", "delete"][usize::from(selector >> 5) % 4];
    let sender = if selector & 0x80 == 0 { TENANT } else { ADMIN };
    let mut l = ledger();
    let before = l.clone();
    let out = l.apply(&Event::K8sApiRequest(K8sApiRequest {
        cluster_id: CLUSTER,
        request_id: 1,
        sender,
        verb: verb.into(),
        api_version: info.api_version.into(),
        kind: info.kind.into(),
        namespace: if info.namespaced { "default".into() } else { String::new() },
        name: "web".into(),
        manifest: Bytes(manifest.to_vec()),
        stake: 0,
        timestamp_ms: 0,
    }));
    if let Some(Decision::Rejected(_)) = out.decision {
        assert!(out.changes.is_empty());
        assert!(l == before);
    }
});
