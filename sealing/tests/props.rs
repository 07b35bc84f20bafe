//! Properties over hostile inputs (the unit tests in `src/` cover fixed
//! cases, round trips and one changed byte):
//!
//! - a value sealed for any place (NUL, control characters, long strings in
//!   namespace, name and data key) opens there and nowhere else;
//! - any shorter prefix, or the bytes with anything appended, fails to
//!   parse or to open;
//! - whole Secrets with any data round trip through `seal_secret` and
//!   `open_secret` to the very manifest sealed;
//! - `open_secret` on arbitrary objects never panics, and never returns
//!   data that was not sealed to the key.

use std::collections::BTreeMap;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use daas_domain::{
    Address,
    sealed::{ANNOTATION, Binding, SealedValue, annotation_value},
};
use daas_sealing::{SealingPrivateKey, open_secret, open_value, rng, seal_secret, seal_value};
use proptest::prelude::*;
use serde_json::{Value, json};

const CLUSTER: Address = Address([0xc1; 32]);

fn key() -> SealingPrivateKey {
    SealingPrivateKey::from_bytes(&[0x2a; 32]).expect("a fixed key")
}

/// Any string: NUL, control characters, any Unicode, up to 300 chars.
fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[\\x00-\\x1f]{0,8}",
        "\\PC{200,300}",
        Just(String::new())
    ]
}

/// Arbitrary JSON values a tenant could put in `data`.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop::collection::vec(any::<u8>(), 0..120).prop_map(|b| Value::from(STANDARD.encode(b))),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn values_open_at_their_own_place_only(
        plaintext in prop::collection::vec(any::<u8>(), 0..512),
        namespace in hostile(), name in hostile(), data_key in hostile(),
        version in 1u32..,
        other in hostile(),
    ) {
        let sk = key();
        let b = Binding { cluster: CLUSTER, namespace: &namespace, name: &name, key: &data_key, version };
        let sealed = seal_value(&sk.public_key(), &b, &plaintext, &mut rng::os()).expect("seal");
        let parsed = SealedValue::parse(&sealed).expect("parses");
        prop_assert_eq!(open_value(&sk, &b, &parsed).expect("opens"), plaintext);
        let elsewhere = [
            Binding { namespace: &other, ..b },
            Binding { name: &other, ..b },
            Binding { key: &other, ..b },
            Binding { version: if version == u32::MAX { 1 } else { version + 1 }, ..b },
            Binding { cluster: Address([0xc2; 32]), ..b },
        ];
        for e in elsewhere.iter().filter(|e| **e != b) {
            prop_assert!(open_value(&sk, e, &parsed).is_err(), "opened at {:?}", e);
        }
    }

    #[test]
    fn cut_or_extended_bytes_fail(
        plaintext in prop::collection::vec(any::<u8>(), 0..256),
        cut in any::<prop::sample::Index>(),
        extra in prop::collection::vec(any::<u8>(), 1..40),
    ) {
        let sk = key();
        let b = Binding { cluster: CLUSTER, namespace: "team-a", name: "db", key: "password", version: 1 };
        let sealed = seal_value(&sk.public_key(), &b, &plaintext, &mut rng::os()).expect("seal");
        let opens = |bytes: &[u8]| {
            SealedValue::parse(bytes).ok().and_then(|v| open_value(&sk, &b, &v).ok())
        };
        prop_assert_eq!(opens(&sealed[..cut.index(sealed.len())]), None);
        let longer: Vec<u8> = sealed.iter().chain(&extra).copied().collect();
        prop_assert_eq!(opens(&longer), None);
    }

    #[test]
    fn secrets_round_trip_to_the_manifest_sealed(
        data in prop::collection::btree_map("[-._a-zA-Z0-9]{1,30}", prop::collection::vec(any::<u8>(), 0..200), 0..6),
        labels in prop::collection::btree_map("[a-z]{1,8}", "[a-z0-9]{0,8}", 0..3),
        version in 1u32..,
    ) {
        let sk = key();
        let encoded: BTreeMap<&String, String> = data.iter().map(|(k, v)| (k, STANDARD.encode(v))).collect();
        let manifest = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "db", "namespace": "team-a", "labels": labels},
            "data": encoded});
        let sealed = seal_secret(&manifest, CLUSTER, version, &sk.public_key(), &mut rng::os()).expect("seal");
        prop_assert_eq!(&sealed["metadata"]["annotations"][ANNOTATION], &json!(annotation_value(version)));
        for (k, v) in &data {
            let bytes = STANDARD.decode(sealed["data"][k].as_str().unwrap_or_default()).expect("base64");
            prop_assert_eq!(bytes.len(), v.len() + daas_domain::sealed::OVERHEAD);
        }
        let ring = BTreeMap::from([(version, sk)]);
        let opened = open_secret(&sealed, CLUSTER, "team-a", "db", &ring).expect("opens");
        prop_assert_eq!(&opened, &manifest);
        if !data.is_empty() {
            prop_assert!(open_secret(&sealed, CLUSTER, "team-a", "db2", &ring).is_err());
        }
    }

    #[test]
    fn opening_hostile_objects_never_panics_nor_invents_data(
        data in prop_oneof![
            prop::collection::btree_map(any::<String>(), json_value(), 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            json_value(),
        ],
        annotation in prop_oneof![
            (1u32..4).prop_map(|v| json!(annotation_value(v))),
            any::<String>().prop_map(Value::from),
            json_value(),
        ],
        string_data in proptest::option::of(json_value()),
    ) {
        let ring = BTreeMap::from([(1, key()), (2, SealingPrivateKey::from_bytes(&[7; 32]).expect("key"))]);
        let mut object = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "team-a", "annotations": {ANNOTATION: annotation}},
            "data": data});
        if let Some(s) = string_data {
            object["stringData"] = s;
        }
        if let Ok(opened) = open_secret(&object, CLUSTER, "team-a", "db", &ring) {
            // Nothing was sealed to these keys: only an empty `data` opens.
            let values = opened.get("data").and_then(Value::as_object).map_or(0, |d| d.len());
            prop_assert_eq!(values, 0, "{}", opened);
        }
    }
}
