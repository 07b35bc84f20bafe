//! The Rust mirror of each Move event must have the same fields, in the same
//! order, with the same types, because event contents are BCS without names.
//! This reads `contracts/sources/*.move` and compares with the serde layout of
//! the Rust types (traced with serde-reflection).

use std::{collections::BTreeMap, path::PathBuf};

use daas_domain::events::{self, *};
use serde_reflection::{ContainerFormat, Format, Named, Tracer, TracerConfig};

#[path = "support/move_source.rs"]
mod move_source;

type Layouts = BTreeMap<String, Vec<(String, String)>>;

/// The Rust side as (field, Move type) lists.
fn rust_layouts() -> Layouts {
    let mut tracer = Tracer::new(TracerConfig::default());
    let samples = serde_reflection::Samples::new();
    let mut names = Vec::new();
    macro_rules! trace {
        ($($module:literal, $move_name:literal => $ty:ty;)*) => {$(
            tracer.trace_type::<$ty>(&samples).expect("trace");
            let rust_name = std::any::type_name::<$ty>().rsplit("::").next().unwrap_or_default();
            names.push((format!("{}::{}", $module, $move_name), rust_name));
        )*};
    }
    trace! {
        "staking", "StakeDeposited" => StakeDeposited;
        "staking", "StakeWithdrawn" => StakeWithdrawn;
        "staking", "StakeSlashed" => StakeSlashed;
        "gateway", "ClusterCreated" => ClusterCreated;
        "gateway", "K8sAPIRequest" => K8sApiRequest;
        "nodes", "NodeRegistered" => NodeRegistered;
        "nodes", "NodeDeregistered" => NodeDeregistered;
        "grants", "NamespaceGranted" => NamespaceGranted;
        "grants", "NamespaceRevoked" => NamespaceRevoked;
        "enclave", "PcrSetRegistered" => PcrSetRegistered;
        "enclave", "EnclaveRegistered" => EnclaveRegistered;
        "enclave", "SealingKeyRegistered" => SealingKeyRegistered;
    }
    let registry = tracer.registry_unchecked();
    names
        .into_iter()
        .map(|(move_name, rust_name)| {
            let Some(ContainerFormat::Struct(fields)) = registry.get(rust_name) else {
                panic!("{rust_name} is not a struct");
            };
            (move_name, fields.iter().map(move_type).collect())
        })
        .collect()
}

/// The Move type a serde format stands for (addresses and IDs are both 32 raw bytes).
fn move_type(field: &Named<Format>) -> (String, String) {
    let ty = match &field.value {
        Format::U8 => "u8",
        Format::U64 => "u64",
        Format::Str => "String",
        Format::Seq(inner) if matches!(**inner, Format::U8) => "vector<u8>",
        Format::TupleArray { content, size: 32 } if matches!(**content, Format::U8) => "address|ID",
        other => panic!("{}: no Move type for {other:?}", field.name),
    };
    (field.name.clone(), ty.to_owned())
}

/// Differences between the Move structs and the Rust mirror, one line each.
fn differences(moved: &Layouts, rust: &Layouts) -> Vec<String> {
    let mut out = Vec::new();
    for (name, rust_fields) in rust {
        let Some(move_fields) = moved.get(name) else {
            out.push(format!("{name}: no such event struct in the Move sources"));
            continue;
        };
        if move_fields.len() != rust_fields.len() {
            out.push(format!(
                "{name}: Move has {} fields, Rust has {}",
                move_fields.len(),
                rust_fields.len()
            ));
        }
        for (i, ((mn, mt), (rn, rt))) in move_fields.iter().zip(rust_fields).enumerate() {
            if mn != rn {
                out.push(format!(
                    "{name}: field {i} is `{mn}` in Move but `{rn}` in Rust"
                ));
            }
            let same_type = rt.split('|').any(|t| t == mt);
            if !same_type {
                out.push(format!(
                    "{name}.{mn}: Move type `{mt}` but Rust maps to `{rt}`"
                ));
            }
        }
    }
    for name in moved.keys() {
        if !rust.contains_key(name) {
            out.push(format!("{name}: Move event has no Rust mirror"));
        }
    }
    out
}

fn sources() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../contracts/sources")
}

#[test]
fn rust_mirror_matches_move_structs() {
    let moved = move_source::event_structs(&sources()).expect("parse Move");
    let rust = rust_layouts();
    assert_eq!(rust.len(), events::EVENT_TYPES.len());
    let diff = differences(&moved, &rust);
    assert!(
        diff.is_empty(),
        "Move and Rust event layouts differ:\n{}",
        diff.join("\n")
    );
}

#[test]
fn a_renamed_field_in_a_doctored_copy_is_caught() {
    let staking = std::fs::read_to_string(sources().join("staking.move")).expect("read");
    let doctored = staking.replacen("    total_after: u64,", "    total: u64,", 1);
    assert_ne!(doctored, staking, "the doctoring must change something");
    let mut moved = move_source::event_structs(&sources()).expect("parse Move");
    moved.extend(move_source::parse_events(&doctored).expect("parse doctored"));
    let diff = differences(&moved, &rust_layouts());
    assert!(
        diff.iter()
            .any(|d| d.contains("StakeDeposited") && d.contains("`total`")),
        "the renamed field must be reported: {diff:?}"
    );
}

#[test]
fn a_swapped_field_order_in_a_doctored_copy_is_caught() {
    let gateway = std::fs::read_to_string(sources().join("gateway.move")).expect("read");
    let doctored = gateway.replacen(
        "    namespace: String,\n    name: String,",
        "    name: String,\n    namespace: String,",
        1,
    );
    assert_ne!(doctored, gateway);
    let mut moved = move_source::event_structs(&sources()).expect("parse Move");
    moved.extend(move_source::parse_events(&doctored).expect("parse doctored"));
    let diff = differences(&moved, &rust_layouts());
    assert!(diff.iter().any(|d| d.contains("K8sAPIRequest")), "{diff:?}");
}
