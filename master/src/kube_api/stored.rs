//! An etcd value as the API serves it: opened when it is a Secret in the
//! at-rest envelope, parsed, and given its `resourceVersion` (the key's
//! mod_revision; never stored, as kube-apiserver does).

use serde_json::Value;

use crate::encryption::SecretKey;

/// Why a stored value could not be served.
#[derive(Debug, thiserror::Error)]
pub enum StoredError {
    /// An at-rest envelope and no key, or a key that does not open it.
    #[error("{key}: cannot open the stored value: {why}")]
    Sealed {
        /// The etcd key.
        key: String,
        /// Why.
        why: String,
    },
    /// Not a JSON object.
    #[error("{key}: the stored value is not a JSON object: {why}")]
    NotJson {
        /// The etcd key.
        key: String,
        /// Why.
        why: String,
    },
}

/// The envelope prefix every at-rest encrypted value starts with.
const ENVELOPE: &[u8] = b"k8s:enc:";

/// The object stored at `key` (`value` at `mod_revision`), opened with
/// `secret_key` when sealed at rest, with `metadata.resourceVersion` set.
pub fn served(
    key: &str,
    value: &[u8],
    mod_revision: i64,
    secret_key: Option<&SecretKey>,
) -> Result<Value, StoredError> {
    let opened;
    let plain = if value.starts_with(ENVELOPE) {
        let k = secret_key.ok_or_else(|| StoredError::Sealed {
            key: key.to_owned(),
            why: "encrypted at rest and this master has no Secrets key".into(),
        })?;
        opened = k.open(key, value).map_err(|e| StoredError::Sealed {
            key: key.to_owned(),
            why: e.to_string(),
        })?;
        &opened[..]
    } else {
        value
    };
    let mut object: Value = serde_json::from_slice(plain).map_err(|e| StoredError::NotJson {
        key: key.to_owned(),
        why: e.to_string(),
    })?;
    let Some(map) = object.as_object_mut() else {
        return Err(StoredError::NotJson {
            key: key.to_owned(),
            why: "not an object".into(),
        });
    };
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Default::default()));
    if let Some(m) = metadata.as_object_mut() {
        m.insert(
            "resourceVersion".into(),
            Value::String(mod_revision.to_string()),
        );
    }
    Ok(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_versions_come_from_etcd() {
        let v = served(
            "/registry/configmaps/a/b",
            br#"{"kind":"ConfigMap","metadata":{"name":"b"}}"#,
            42,
            None,
        )
        .expect("served");
        assert_eq!(v["metadata"]["resourceVersion"], "42");
        assert_eq!(v["metadata"]["name"], "b");
        assert!(served("/k", b"[1]", 1, None).is_err());
        assert!(served("/k", b"\xff", 1, None).is_err());
        assert!(matches!(
            served("/k", b"k8s:enc:aesgcm:v1:key1:xxxx", 1, None),
            Err(StoredError::Sealed { .. })
        ));
    }

    #[test]
    fn sealed_values_open_with_the_key() {
        let key = SecretKey::parse(&format!("key1:{}", "A".repeat(43) + "=")).expect("key");
        let k = "/registry/secrets/a/s";
        let sealed = key.seal(k, b"pos", br#"{"kind":"Secret","data":{"p":"cw=="}}"#);
        let v = served(k, &sealed, 7, Some(&key)).expect("opened");
        assert_eq!(v["data"]["p"], "cw==");
        assert!(
            served("/registry/secrets/a/other", &sealed, 7, Some(&key)).is_err(),
            "bound to its key"
        );
    }
}
