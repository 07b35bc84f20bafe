//! The event decoder takes outside bytes: whatever they are, it returns a
//! typed result and never panics; what it accepts is canonical.

use daas_domain::{
    Address, Bytes, DecodeError, Decoded, Event,
    events::{self, EVENT_TYPES, SealingKeyRegistered},
};
use proptest::prelude::*;

fn vector_bytes(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../contracts/vectors/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vector")).expect("json");
    hex::decode(v["bcs"].as_str().expect("bcs").trim_start_matches("0x")).expect("hex")
}

fn malformed(r: Result<Decoded, DecodeError>) -> bool {
    matches!(r, Err(DecodeError::Malformed { .. }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic_and_accepted_bytes_are_canonical(
        ty in 0..EVENT_TYPES.len(),
        bytes in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let (module, name) = EVENT_TYPES[ty];
        if let Ok(Decoded::Known(event)) = events::decode(module, name, &bytes) {
            prop_assert_eq!(event.to_bcs(), bytes);
        }
    }

    #[test]
    fn every_truncation_of_a_vector_is_malformed(ty in 0..EVENT_TYPES.len(), cut in any::<prop::sample::Index>()) {
        let (module, name) = EVENT_TYPES[ty];
        let bytes = vector_bytes(name);
        let at = cut.index(bytes.len());
        prop_assert!(malformed(events::decode(module, name, &bytes[..at])));
    }

    #[test]
    fn trailing_bytes_are_malformed(ty in 0..EVENT_TYPES.len(), extra in prop::collection::vec(any::<u8>(), 1..16)) {
        let (module, name) = EVENT_TYPES[ty];
        let mut bytes = vector_bytes(name);
        bytes.extend(extra);
        prop_assert!(malformed(events::decode(module, name, &bytes)));
    }

    #[test]
    fn single_byte_flips_never_panic(ty in 0..EVENT_TYPES.len(), at in any::<prop::sample::Index>(), x in 1u8..=255) {
        let (module, name) = EVENT_TYPES[ty];
        let mut bytes = vector_bytes(name);
        let i = at.index(bytes.len());
        bytes[i] ^= x;
        if let Ok(Decoded::Known(event)) = events::decode(module, name, &bytes) {
            prop_assert_eq!(event.to_bcs(), bytes);
        }
    }
}

/// Versions around every edge of 1..=u32::MAX, and any other u64.
fn version() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(u64::from(u32::MAX)),
        Just(u64::from(u32::MAX) + 1),
        Just(u64::MAX),
        any::<u64>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A sealing key decodes exactly when its key is 32 bytes and its version
    /// is 1..=4294967295 (what the contract emits and the sealed format
    /// carries); otherwise it is out of range, naming the field.
    #[test]
    fn sealing_keys_decode_only_with_32_bytes_and_a_u32_version(
        version in version(),
        len in prop_oneof![Just(32usize), 0usize..=64],
        fill in any::<u8>(),
    ) {
        let event = Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id: Address([0xc1; 32]),
            version,
            public_key: Bytes(vec![fill; len]),
            registered_by: Address([9; 32]),
            timestamp_ms: 1, seq: 0,
        });
        let got = events::decode("enclave", "SealingKeyRegistered", &event.to_bcs());
        let version_ok = version != 0 && version <= 4_294_967_295;
        match got {
            Ok(Decoded::Known(back)) => {
                prop_assert!(version_ok && len == 32);
                prop_assert_eq!(back, event);
            }
            Err(DecodeError::OutOfRange { field, value, .. }) => {
                prop_assert!(!(version_ok && len == 32));
                let want = if version_ok { ("public_key", len as u64) } else { ("version", version) };
                prop_assert_eq!((field, value), want);
            }
            other => prop_assert!(false, "unexpected {:?}", other),
        }
    }
}

#[test]
fn an_oversize_length_prefix_is_malformed_not_an_allocation() {
    // NodeRegistered: 32-byte operator, then node_name's ULEB128 length.
    let mut bytes = vector_bytes("NodeRegistered");
    bytes.splice(32..33, [0xff, 0xff, 0xff, 0xff, 0x0f]);
    assert!(malformed(events::decode("nodes", "NodeRegistered", &bytes)));
}

#[test]
fn invalid_utf8_in_a_string_is_malformed() {
    let mut bytes = vector_bytes("NodeRegistered");
    bytes[33] = 0xff; // first byte of node_name
    let err = events::decode("nodes", "NodeRegistered", &bytes).expect_err("invalid UTF-8");
    assert!(matches!(err, DecodeError::Malformed { .. }), "{err}");
}
