//! Rejection messages stay small whatever the request carried: they quote
//! tenant strings, and every message is stored in etcd, published on the
//! outcome topic and projected into Postgres.

#[path = "support/cluster.rs"]
mod cluster;

use cluster::{CLUSTER, TENANT};
use daas_domain::{
    Bytes,
    admission::{Decision, MAX_MESSAGE_BYTES, RejectCode, decide},
    events::K8sApiRequest,
    roles::MIST_PER_SUI,
};
use proptest::prelude::*;

fn request(kind: &str, namespace: &str, name: &str, manifest: &[u8]) -> K8sApiRequest {
    K8sApiRequest {
        cluster_id: CLUSTER,
        request_id: 0,
        sender: TENANT,
        verb: "apply".into(),
        api_version: "v1".into(),
        kind: kind.into(),
        namespace: namespace.into(),
        name: name.into(),
        manifest: Bytes(manifest.to_vec()),
        stake: 0,
        timestamp_ms: 0,
        seq: 0,
    }
}

fn rejection(req: &K8sApiRequest) -> (RejectCode, String) {
    let ledger = cluster::with_stakes(&[(TENANT, 10 * MIST_PER_SUI)]);
    match decide(&ledger, req) {
        Decision::Rejected(r) => (r.code, r.message),
        Decision::Admitted(a) => panic!("admitted: {a:?}"),
    }
}

#[test]
fn a_64_kib_name_of_control_characters_gives_a_bounded_message() {
    // Debug-escaped, each \u{1} is 6 bytes: the unbounded message was ~390 KiB.
    let name = "\u{1}".repeat(65_536);
    let (code, message) = rejection(&request("ConfigMap", "team-a", &name, b"{}"));
    assert_eq!(code, RejectCode::InvalidName);
    assert!(
        message.len() <= MAX_MESSAGE_BYTES,
        "{} bytes",
        message.len()
    );
    assert!(
        message.ends_with(" bytes)"),
        "says it was cut: {message:.80}"
    );
    assert!(message.starts_with("metadata.name: "), "{message:.80}");
}

#[test]
fn a_short_message_is_kept_whole() {
    let (code, message) = rejection(&request("ConfigMap", "team-a", "Upper", b"{}"));
    assert_eq!(code, RejectCode::InvalidName);
    assert!(message.contains("\"Upper\""), "{message}");
    assert!(!message.contains("cut at"), "{message}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any kind, namespace, name and manifest bytes: never a message over the bound.
    #[test]
    fn every_message_is_bounded(
        kind in prop_oneof![Just("ConfigMap".to_owned()), Just("Pod".to_owned()), ".{0,300}"],
        namespace in prop_oneof![Just("team-a".to_owned()), "\\PC{0,4000}"],
        name in prop_oneof!["[a-z]{1,10}", "\\PC{1,8000}", "[\\x00-\\x1f]{1,8000}"],
        manifest in prop::collection::vec(any::<u8>(), 0..9000),
    ) {
        let ledger = cluster::with_stakes(&[(TENANT, 10 * MIST_PER_SUI)]);
        if let Decision::Rejected(r) = decide(&ledger, &request(&kind, &namespace, &name, &manifest)) {
            prop_assert!(r.message.len() <= MAX_MESSAGE_BYTES, "{} bytes", r.message.len());
        }
    }
}
