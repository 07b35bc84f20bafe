//! Whole Secret manifests: sealed by `daas`, opened by the master.
//!
//! Sealing moves `stringData` into `data` (as kube-apiserver does on write;
//! a key in both takes the `stringData` value), seals every value to the
//! cluster's key bound to (cluster, namespace, name, data key, version), and
//! adds the [`ANNOTATION`]. Opening reverses it: plaintext `data` (base64,
//! as kube stores it) and the annotation removed.

use crate::rng::CryptoRng;
use base64::{Engine as _, engine::general_purpose::STANDARD};
use daas_domain::{
    ObjectId,
    admission::{RejectCode, Rejection},
    sealed::{ANNOTATION, Binding, SealedValue, annotation_value, printable, sealed_version},
};
use serde_json::{Map, Value};

use crate::{KeyRing, OpenError, SealError, SealingPublicKey, open_value, seal_value};

fn manifest_error(message: impl Into<String>) -> SealError {
    SealError::Manifest(message.into())
}

fn metadata_str<'v>(manifest: &'v Value, field: &str) -> Result<&'v str, SealError> {
    manifest
        .get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| manifest_error(format!("a Secret to seal needs metadata.{field}")))
}

/// The plaintext values of a Secret manifest: `data` decoded from base64,
/// then `stringData` over it.
fn plaintexts(manifest: &Value) -> Result<Vec<(String, Vec<u8>)>, SealError> {
    let mut out = std::collections::BTreeMap::new();
    if let Some(data) = map(manifest, "data")? {
        for (k, v) in data {
            let text = v
                .as_str()
                .ok_or_else(|| manifest_error(format!("data[{}] is not a string", printable(k))))?;
            let bytes = STANDARD
                .decode(text)
                .map_err(|_| manifest_error(format!("data[{}] is not base64", printable(k))))?;
            out.insert(k.clone(), bytes);
        }
    }
    if let Some(string_data) = map(manifest, "stringData")? {
        for (k, v) in string_data {
            let text = v.as_str().ok_or_else(|| {
                manifest_error(format!("stringData[{}] is not a string", printable(k)))
            })?;
            out.insert(k.clone(), text.as_bytes().to_vec());
        }
    }
    Ok(out.into_iter().collect())
}

fn map<'v>(manifest: &'v Value, field: &str) -> Result<Option<&'v Map<String, Value>>, SealError> {
    match manifest.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(manifest_error(format!("{field} is not a map"))),
    }
}

/// `manifest` (a `v1` Secret in clear) sealed to `pk`, key `version`, for
/// `cluster`: what may go on chain.
pub fn seal_secret(
    manifest: &Value,
    cluster: ObjectId,
    version: u32,
    pk: &SealingPublicKey,
    rng: &mut impl CryptoRng,
) -> Result<Value, SealError> {
    if manifest.get("kind").and_then(Value::as_str) != Some("Secret") {
        return Err(manifest_error("only a Secret can be sealed"));
    }
    if sealed_version(manifest)
        .map_err(|e| manifest_error(e.to_string()))?
        .is_some()
    {
        return Err(manifest_error("the Secret is already sealed"));
    }
    let namespace = metadata_str(manifest, "namespace")?;
    let name = metadata_str(manifest, "name")?;
    let mut data = Map::new();
    for (key, plain) in plaintexts(manifest)? {
        let binding = Binding {
            cluster,
            namespace,
            name,
            key: &key,
            version,
        };
        let sealed = seal_value(pk, &binding, &plain, rng)?;
        data.insert(key, Value::String(STANDARD.encode(sealed)));
    }
    let mut out = manifest.clone();
    let obj = out
        .as_object_mut()
        .ok_or_else(|| manifest_error("not an object"))?;
    obj.remove("stringData");
    obj.insert("data".into(), Value::Object(data));
    set_annotation(obj, Some(annotation_value(version)));
    Ok(out)
}

/// Sets (or, with `None`, removes) the sealed annotation; an annotations
/// map left empty is removed.
fn set_annotation(obj: &mut Map<String, Value>, value: Option<String>) {
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(meta) = meta.as_object_mut() else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(a) = annotations.as_object_mut() {
        match value {
            Some(v) => {
                a.insert(ANNOTATION.into(), Value::String(v));
            }
            None => {
                a.remove(ANNOTATION);
            }
        }
    }
    if annotations.as_object().is_some_and(Map::is_empty) {
        meta.remove("annotations");
    }
}

fn refusal(code: RejectCode, message: String) -> Rejection {
    Rejection { code, message }
}

/// The Secret `object` (sealed for `namespace`/`name` in `cluster`) with
/// every value opened and the annotation removed; an object without the
/// annotation comes back unchanged. Refusals name the data key, never a value.
pub fn open_secret(
    object: &Value,
    cluster: ObjectId,
    namespace: &str,
    name: &str,
    keys: &dyn KeyRing,
) -> Result<Value, Rejection> {
    let version = match sealed_version(object) {
        Ok(Some(v)) => v,
        Ok(None) => return Ok(object.clone()),
        Err(e) => return Err(refusal(RejectCode::SecretUnsealed, e.to_string())),
    };
    let sk = keys.private_key(version).ok_or_else(|| {
        refusal(
            RejectCode::SealingKeyUnknown,
            format!("this master holds no private key for sealing key version {version}"),
        )
    })?;
    let mut out = object.clone();
    let Some(obj) = out.as_object_mut() else {
        return Err(refusal(RejectCode::SealedTampered, "not an object".into()));
    };
    if let Some(Value::Object(data)) = obj.get_mut("data") {
        for (key, value) in data.iter_mut() {
            let binding = Binding {
                cluster,
                namespace,
                name,
                key,
                version,
            };
            let plain = open_one(value, &binding, sk)?;
            *value = Value::String(STANDARD.encode(plain));
        }
    }
    set_annotation(obj, None);
    Ok(out)
}

fn open_one(
    value: &Value,
    binding: &Binding<'_>,
    sk: &crate::SealingPrivateKey,
) -> Result<Vec<u8>, Rejection> {
    let key = printable(binding.key);
    let tampered = |why: &str| refusal(RejectCode::SealedTampered, format!("data[{key}]: {why}"));
    let bytes = value
        .as_str()
        .and_then(|t| STANDARD.decode(t).ok())
        .ok_or_else(|| tampered("not a base64 string"))?;
    let sealed = SealedValue::parse(&bytes).map_err(|e| tampered(&e.to_string()))?;
    open_value(sk, binding, &sealed).map_err(|e| match e {
        OpenError::Binding => refusal(
            RejectCode::SealedBindingMismatch,
            format!("data[{key}]: {e}"),
        ),
        OpenError::Tampered | OpenError::PrivateKey => tampered(&e.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use daas_domain::Address;
    use serde_json::json;

    use super::*;
    use crate::SealingPrivateKey;

    const CLUSTER: Address = Address([5; 32]);

    fn ring() -> BTreeMap<u32, SealingPrivateKey> {
        BTreeMap::from([(1, SealingPrivateKey::from_bytes(&[0x11; 32]).expect("key"))])
    }

    fn secret() -> Value {
        json!({"apiVersion": "v1", "kind": "Secret",
               "metadata": {"name": "db", "namespace": "team-a", "labels": {"app": "db"}},
               "type": "Opaque",
               "data": {"user": "YWRtaW4=", "password": "b2xk"},
               "stringData": {"password": "hunter2"}})
    }

    fn sealed(ring: &BTreeMap<u32, SealingPrivateKey>) -> Value {
        let pk = ring[&1].public_key();
        seal_secret(&secret(), CLUSTER, 1, &pk, &mut crate::rng::os()).expect("seal")
    }

    #[test]
    fn sealing_moves_string_data_and_hides_every_value() {
        let ring = ring();
        let s = sealed(&ring);
        assert!(s.get("stringData").is_none());
        assert_eq!(
            s["metadata"]["annotations"][ANNOTATION],
            "daas-seal-v1; key-version=1"
        );
        let text = s.to_string();
        for plain in ["hunter2", "admin", "YWRtaW4=", "aHVudGVyMg==", "b2xk"] {
            assert!(!text.contains(plain), "{plain} in {text}");
        }
        assert_eq!(s["metadata"]["labels"]["app"], "db", "the rest is kept");
    }

    #[test]
    fn opening_gives_kube_data_with_string_data_winning() {
        let ring = ring();
        let opened = open_secret(&sealed(&ring), CLUSTER, "team-a", "db", &ring).expect("open");
        // Independent: base64 of "admin" and of "hunter2" as kube stores them.
        assert_eq!(
            opened["data"],
            json!({"password": "aHVudGVyMg==", "user": "YWRtaW4="})
        );
        assert!(opened["metadata"].get("annotations").is_none());
    }

    #[test]
    fn opening_elsewhere_or_without_the_key_is_refused_by_code() {
        let ring = ring();
        let s = sealed(&ring);
        let code = |r: Result<Value, Rejection>| r.expect_err("refused").code;
        assert_eq!(
            code(open_secret(&s, CLUSTER, "team-b", "db", &ring)),
            RejectCode::SealedBindingMismatch
        );
        assert_eq!(
            code(open_secret(&s, Address([6; 32]), "team-a", "db", &ring)),
            RejectCode::SealedBindingMismatch
        );
        let empty: BTreeMap<u32, SealingPrivateKey> = BTreeMap::new();
        assert_eq!(
            code(open_secret(&s, CLUSTER, "team-a", "db", &empty)),
            RejectCode::SealingKeyUnknown
        );
        let mut flipped = s.clone();
        let v = flipped["data"]["user"].as_str().expect("str").to_owned();
        let mut bytes = STANDARD.decode(v).expect("b64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        flipped["data"]["user"] = Value::String(STANDARD.encode(bytes));
        let refused = open_secret(&flipped, CLUSTER, "team-a", "db", &ring).expect_err("tampered");
        assert_eq!(refused.code, RejectCode::SealedTampered);
        assert!(refused.message.contains("\"user\""), "{}", refused.message);
    }

    #[test]
    fn only_unsealed_namespaced_secrets_are_sealed() {
        let pk = ring()[&1].public_key();
        let mut no_ns = secret();
        no_ns["metadata"]
            .as_object_mut()
            .expect("meta")
            .remove("namespace");
        assert!(seal_secret(&no_ns, CLUSTER, 1, &pk, &mut crate::rng::os()).is_err());
        let cm = json!({"kind": "ConfigMap", "metadata": {"name": "a", "namespace": "b"}});
        assert!(seal_secret(&cm, CLUSTER, 1, &pk, &mut crate::rng::os()).is_err());
        let twice = sealed(&ring());
        assert!(seal_secret(&twice, CLUSTER, 1, &pk, &mut crate::rng::os()).is_err());
    }
}
