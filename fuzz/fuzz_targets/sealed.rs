//! Sealed values and sealed Secrets are tenant bytes the master opens: the
//! parser must never panic, what it accepts must re-encode to the same
//! bytes, and nothing a fuzzer makes without the key opens (an HPKE forgery).
//! The first byte picks the input: a sealed value's bytes, or a Secret
//! manifest (JSON) opened as the master opens one.
#![no_main]

use std::collections::BTreeMap;

use daas_domain::{
    Address,
    sealed::{Binding, SealedValue},
};
use daas_sealing::{SealingPrivateKey, open_secret, open_value};
use libfuzzer_sys::fuzz_target;

const CLUSTER: Address = Address([0xc1; 32]);

fn ring() -> BTreeMap<u32, SealingPrivateKey> {
    (1..=3)
        .filter_map(|v| Some((v, SealingPrivateKey::from_bytes(&[v as u8 + 0x10; 32]).ok()?)))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let ring = ring();
    if selector % 2 == 0 {
        let Ok(value) = SealedValue::parse(rest) else {
            return;
        };
        assert_eq!(value.to_bytes(), rest, "accepted bytes must re-encode identically");
        let binding = Binding {
            cluster: CLUSTER,
            namespace: "team-a",
            name: "db",
            key: "password",
            version: value.version,
        };
        if let Some(sk) = ring.get(&value.version) {
            assert!(open_value(sk, &binding, &value).is_err(), "a forgery opened");
        }
    } else if let Ok(object) = serde_json::from_slice::<serde_json::Value>(rest) {
        // Never panics; a sealed Secret the fuzzer made never opens.
        let opened = open_secret(&object, CLUSTER, "team-a", "db", &ring);
        if let (Ok(Some(_)), Ok(_)) = (daas_domain::sealed::sealed_version(&object), &opened) {
            let has_values = object
                .get("data")
                .and_then(|d| d.as_object())
                .is_some_and(|d| !d.is_empty());
            assert!(!has_values, "a forged sealed value opened");
        }
    }
});
