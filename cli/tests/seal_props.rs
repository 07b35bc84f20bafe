//! Whatever Secret a user hands `daas` (values in `data` or `stringData`,
//! any annotation, odd shapes), what it would send never holds a value in
//! clear nor its base64, and neither does the error when it refuses; and
//! every Secret it lets through opens to the values it was given.

use std::collections::BTreeMap;

use base64::{Engine, engine::general_purpose::STANDARD};
use daas_cli::{
    files,
    seal::{self, ClusterKey},
};
use daas_sealing::{SealingPrivateKey, open_secret};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const CLUSTER: daas_domain::ObjectId = daas_domain::Address([4; 32]);

/// A value no sealed output could contain by chance.
fn clear_value() -> impl Strategy<Value = String> {
    "CLEAR-[ -~]{8,40}"
}

#[derive(Clone, Debug)]
enum Annotation {
    None,
    Version(u32),
    Text(String),
}

fn annotation() -> impl Strategy<Value = Annotation> {
    prop_oneof![
        Just(Annotation::None),
        (1u32..4).prop_map(Annotation::Version),
        "\\PC{0,30}".prop_map(Annotation::Text),
    ]
}

fn secret(
    data: &BTreeMap<String, String>,
    string_data: &BTreeMap<String, String>,
    annotation: &Annotation,
    odd: bool,
) -> Value {
    let mut object = json!({"apiVersion": "v1", "kind": "Secret",
                            "metadata": {"name": "db", "namespace": "team-a"}});
    let encoded: Map<String, Value> = data
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(STANDARD.encode(v))))
        .collect();
    if !encoded.is_empty() {
        object["data"] = Value::Object(encoded);
    }
    if !string_data.is_empty() {
        object["stringData"] = json!(string_data);
    }
    if odd {
        // A clear value where a map belongs.
        object["data"] = json!(data.values().next().cloned().unwrap_or_default());
    }
    let text = match annotation {
        Annotation::None => return object,
        Annotation::Version(v) => format!("daas-seal-v1; key-version={v}"),
        Annotation::Text(t) => t.clone(),
    };
    object["metadata"]["annotations"] = json!({"k3s-daas.io/sealed": text});
    object
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn nothing_leaves_daas_in_clear(
        data in proptest::collection::btree_map("[a-z._-]{1,12}", clear_value(), 0..4),
        string_data in proptest::collection::btree_map("[A-Z_]{1,12}", clear_value(), 0..4),
        annotation in annotation(),
        odd in proptest::bool::weighted(0.1),
    ) {
        let sk = SealingPrivateKey::generate(&mut daas_sealing::rng::os());
        let key = ClusterKey { cluster: CLUSTER, version: 2, public_key: sk.public_key().0 };
        let object = secret(&data, &string_data, &annotation, odd);
        let docs = files::parse("p.json", &object.to_string(), None).expect("a document");
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let result = runtime.block_on(seal::seal_docs(docs, CLUSTER, || async { Ok(key) }));
        let said = match &result {
            Ok(docs) => String::from_utf8_lossy(&docs[0].manifest).into_owned(),
            Err(e) => format!("{e:#}"),
        };
        for v in data.values().chain(string_data.values()) {
            prop_assert!(!said.contains(v.as_str()), "{v:?} in {said}");
            prop_assert!(!said.contains(&STANDARD.encode(v)), "base64 of {v:?} in {said}");
        }
        if let Ok(docs) = result {
            let sent: Value = serde_json::from_slice(&docs[0].manifest).expect("json");
            if data.is_empty() && string_data.is_empty() {
                return Ok(());
            }
            let ring = BTreeMap::from([(2, sk)]);
            let opened = open_secret(&sent, CLUSTER, "team-a", "db", &ring)
                .map_err(|r| TestCaseError::fail(format!("{r:?}")))?;
            let mut want: BTreeMap<&str, String> =
                data.iter().map(|(k, v)| (k.as_str(), STANDARD.encode(v))).collect();
            want.extend(string_data.iter().map(|(k, v)| (k.as_str(), STANDARD.encode(v))));
            prop_assert_eq!(opened["data"].clone(), json!(want));
        }
    }
}
