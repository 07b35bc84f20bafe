//! Shared test vectors: one file per event type in `contracts/vectors/`, with
//! the BCS bytes and the decoded JSON. The Rust side checks that every vector
//! decodes to its JSON and re-encodes to its bytes; the Move side
//! (`contracts/tests/vectors_tests.move`, generated from the same files) checks
//! that the Move struct serialises to the same bytes. So the two cannot drift.
//!
//! Regenerate both after a deliberate change: `UPDATE_VECTORS=1 cargo test -p daas-domain --test vectors`.

use std::{fmt::Write as _, path::PathBuf};

use daas_domain::{
    Address, Bytes, Decoded, Event,
    events::{self, *},
};
use serde_json::Value;

fn contracts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contracts")
}

fn addr(b: u8) -> Address {
    let mut a = [0u8; 32];
    a[0] = 0xa0;
    a[31] = b;
    Address(a)
}

/// One sample of each event, with values that exercise every field type
/// (multi-byte ULEB128 lengths, non-ASCII UTF-8, large u64s).
fn samples() -> Vec<Event> {
    let t = 1_764_288_000_123;
    vec![
        Event::StakeDeposited(StakeDeposited {
            staker: addr(1),
            role: 0,
            amount: 500_000_000,
            total_after: 500_000_000,
            epoch: 7,
            timestamp_ms: t,
            // The dev chain's scenario (devnet/tests/vectors_scenario.rs) makes each
            // event at the `seq` its vector holds.
            seq: 0,
        }),
        Event::StakeWithdrawn(StakeWithdrawn {
            staker: addr(2),
            role: 1,
            amount: 250_000_000,
            total_after: 1_000_000_000,
            epoch: 120,
            timestamp_ms: t + 1,
            seq: 2,
        }),
        Event::StakeSlashed(StakeSlashed {
            staker: addr(3),
            role: 1,
            amount: 600_000_000,
            total_after: 400_000_000,
            reason: "missed heartbeats — node offline".into(),
            slashed_by: addr(9),
            epoch: 121,
            timestamp_ms: t + 2,
            seq: 4,
        }),
        Event::ClusterCreated(ClusterCreated {
            cluster_id: addr(0x10),
            name: "default".into(),
            admin: addr(9),
            timestamp_ms: t + 3,
        }),
        Event::K8sApiRequest(K8sApiRequest {
            cluster_id: addr(0x10),
            request_id: 41,
            sender: addr(1),
            verb: "apply".into(),
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: "team-a".into(),
            name: "web".into(),
            // 200 bytes: a two-byte ULEB128 length prefix.
            manifest: Bytes(
                format!(
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: team-a\nspec:\n  replicas: 2\n{}",
                    "#".repeat(200 - 89)
                )
                .into_bytes(),
            ),
            stake: 5_000_000_000,
            timestamp_ms: t + 4,
            // The cluster's 41 earlier requests are 1..=41; 0 is its creation.
            seq: 42,
        }),
        Event::NodeRegistered(NodeRegistered {
            operator: addr(2),
            node_name: "node-1".into(),
            public_key: Bytes((0..32).collect()),
            endpoint: "10.0.0.7:10250".into(),
            timestamp_ms: t + 5,
            seq: 0,
        }),
        Event::NodeDeregistered(NodeDeregistered {
            operator: addr(2),
            node_name: "node-1".into(),
            timestamp_ms: t + 6,
            seq: 1,
        }),
        Event::NamespaceGranted(NamespaceGranted {
            cluster_id: addr(0x10),
            namespace: "team-a".into(),
            grantee: addr(4),
            role: 1,
            granted_by: addr(9),
            timestamp_ms: t + 7,
            seq: 43,
        }),
        Event::NamespaceRevoked(NamespaceRevoked {
            cluster_id: addr(0x10),
            namespace: "team-a".into(),
            grantee: addr(4),
            revoked_by: addr(9),
            timestamp_ms: t + 8,
            seq: 44,
        }),
        Event::PcrSetRegistered(PcrSetRegistered {
            version: 1,
            pcr0: Bytes(vec![0x11; 48]),
            pcr1: Bytes(vec![0x22; 48]),
            pcr2: Bytes(vec![0x33; 48]),
            registered_by: addr(9),
            timestamp_ms: t + 9,
            seq: 0,
        }),
        // The dev chain's scenario: the admin registers the sealing key (seq
        // 1), then an operator registers an attested enclave whose document
        // names that key (no second sealing key event).
        Event::EnclaveRegistered(EnclaveRegistered {
            cluster_id: addr(0x10),
            pcr_version: 1,
            public_key: Bytes(vec![0x44; 32]),
            sealing_key_version: 1,
            sealing_public_key: Bytes((0x40..0x60).collect()),
            // 148 bytes: a two-byte ULEB128 length prefix.
            module_id: Bytes(format!("k3s-daas-dev-enclave{}", "-".repeat(128)).into_bytes()),
            attestation_timestamp_ms: 1_764_287_999_000,
            registered_by: addr(2),
            timestamp_ms: u64::MAX,
            seq: 2,
        }),
        Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id: addr(0x10),
            // The first version.
            version: 1,
            public_key: Bytes((0x40..0x60).collect()),
            registered_by: addr(9),
            timestamp_ms: t + 10,
            seq: 1,
        }),
    ]
}

fn fields_json(e: &Event) -> Value {
    let v = serde_json::to_value(e).expect("events serialise");
    v["fields"].clone()
}

fn vector_json(e: &Event) -> Value {
    let (module, name) = e.move_type();
    serde_json::json!({
        "type": format!("{module}::{name}"),
        "bcs": format!("0x{}", hex::encode(e.to_bcs())),
        "event": fields_json(e),
    })
}

fn vector_path(e: &Event) -> PathBuf {
    contracts()
        .join("vectors")
        .join(format!("{}.json", e.move_type().1))
}

fn updating() -> bool {
    std::env::var_os("UPDATE_VECTORS").is_some()
}

#[test]
fn every_event_type_has_a_vector() {
    let names: Vec<_> = samples().iter().map(|e| e.move_type()).collect();
    assert_eq!(names, events::EVENT_TYPES.to_vec());
}

#[test]
fn every_vector_decodes_to_its_json_and_reencodes_to_its_bytes() {
    for sample in samples() {
        let path = vector_path(&sample);
        if updating() {
            let text = serde_json::to_string_pretty(&vector_json(&sample)).expect("json") + "\n";
            std::fs::write(&path, text).expect("write vector");
        }
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file: Value = serde_json::from_str(&text).expect("vector is JSON");
        let ty = file["type"].as_str().expect("type");
        let (module, name) = ty.split_once("::").expect("module::Name");
        let bytes =
            hex::decode(file["bcs"].as_str().expect("bcs").trim_start_matches("0x")).expect("hex");

        let Ok(Decoded::Known(event)) = events::decode(module, name, &bytes) else {
            panic!("{ty}: vector does not decode");
        };
        assert_eq!(
            fields_json(&event),
            file["event"],
            "{ty}: decoded JSON differs"
        );
        assert_eq!(event.to_bcs(), bytes, "{ty}: re-encoding differs");
        assert_eq!(
            event, sample,
            "{ty}: vector file and sample differ (UPDATE_VECTORS=1 to regenerate)"
        );
    }
}

/// The Move literal for one JSON field value, given the Move field type.
fn move_literal(ty: &str, v: &Value) -> String {
    match ty {
        "address" | "ID" => {
            let a = v.as_str().expect("address");
            if ty == "ID" {
                format!("object::id_from_address(@{a})")
            } else {
                format!("@{a}")
            }
        }
        "String" => format!(
            "x\"{}\".to_string()",
            hex::encode(v.as_str().expect("string").as_bytes())
        ),
        "vector<u8>" => format!(
            "x\"{}\"",
            v.as_str().expect("bytes").trim_start_matches("0x")
        ),
        "u8" | "u64" => v.as_u64().expect("integer").to_string(),
        other => panic!("no Move literal for type {other}"),
    }
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let prev_lower = i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        if c.is_uppercase() && i > 0 && (prev_lower || next_lower) {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

#[path = "support/move_source.rs"]
mod move_source;

fn generated_move_tests() -> String {
    let structs =
        move_source::event_structs(&contracts().join("sources")).expect("parse Move sources");
    let mut out = String::from(
        "// GENERATED by `UPDATE_VECTORS=1 cargo test -p daas-domain --test vectors` from\n\
         // contracts/vectors/*.json. Do not edit: the Rust tests fail if this file and\n\
         // the vectors disagree.\n\
         #[test_only]\n\
         module daas::vectors_tests;\n\n",
    );
    for sample in samples() {
        let (module, name) = sample.move_type();
        let fields = &structs[&format!("{module}::{name}")];
        let json = fields_json(&sample);
        let args: Vec<String> = fields
            .iter()
            .map(|(f, ty)| move_literal(ty, &json[f]))
            .collect();
        let fun = snake(name);
        writeln!(out, "#[test]\nfun {fun}_matches_vector() {{").ok();
        writeln!(
            out,
            "    let e = daas::{module}::new_{fun}_for_testing(\n        {},\n    );",
            args.join(",\n        ")
        )
        .ok();
        writeln!(
            out,
            "    assert!(std::bcs::to_bytes(&e) == x\"{}\", 0);\n}}\n",
            hex::encode(sample.to_bcs())
        )
        .ok();
    }
    out
}

#[test]
fn move_vector_tests_are_up_to_date() {
    let path = contracts().join("tests/vectors_tests.move");
    let want = generated_move_tests();
    if updating() {
        std::fs::write(&path, &want).expect("write Move tests");
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale; run UPDATE_VECTORS=1 cargo test -p daas-domain --test vectors",
        path.display()
    );
}

#[test]
fn snake_case_of_move_names() {
    assert_eq!(snake("K8sAPIRequest"), "k8s_api_request");
    assert_eq!(snake("StakeDeposited"), "stake_deposited");
    assert_eq!(snake("PcrSetRegistered"), "pcr_set_registered");
}

#[test]
fn every_event_round_trips_through_the_log_record() {
    for sample in samples() {
        let (module, name) = sample.move_type();
        let entry = daas_domain::LogEntry::from_chain(
            daas_domain::LogPosition::new(1, 2, 3),
            [7; 32],
            1,
            format!("0x{}::{module}::{name}", "ab".repeat(32)),
            addr(1),
            sample.to_bcs(),
        );
        assert_eq!(entry.body, daas_domain::Body::Event(sample.clone()));
        let back = daas_domain::LogEntry::decode(&entry.encode()).expect("decodes");
        assert_eq!(back, entry, "{name}");
    }
}
