//! Parsing and checking a request's manifest: outside bytes, so every failure
//! is a typed error with a reason a tenant can act on.

use serde_json::Value;

use crate::{
    kinds::{KindInfo, check_name},
    roles::MAX_MANIFEST_BYTES,
};

/// Why a manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Larger than the gateway's limit.
    #[error("manifest is {size} bytes; the limit is {limit}")]
    Oversize {
        /// Bytes received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not UTF-8, not YAML/JSON, not one mapping.
    #[error("manifest is not a YAML or JSON object: {0}")]
    Syntax(String),
    /// A mapping holds the same key twice.
    #[error("manifest has a duplicate key: {0}")]
    DuplicateKey(String),
    /// A field disagrees with the request or is invalid.
    #[error("manifest {field}: {reason}")]
    Field {
        /// The field path, e.g. `metadata.name`.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The identity a request claims for its object.
#[derive(Debug, Clone, Copy)]
pub struct Claimed<'a> {
    /// The request's `api_version`.
    pub api_version: &'a str,
    /// The request's `kind`.
    pub kind: &'a str,
    /// The request's `namespace` (empty for cluster-scoped kinds).
    pub namespace: &'a str,
    /// The request's `name`.
    pub name: &'a str,
}

/// A JSON value that refuses duplicate mapping keys (anywhere in the
/// document), as kube-apiserver's strict decoding does. Keys must be
/// strings; YAML integer and boolean keys become their text, as
/// `sigs.k8s.io/yaml` converts them.
struct Strict(Value);

struct StrictVisitor;

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct Key(String);

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string key")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(v.to_owned()))
            }
            fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Key, E> {
                Ok(Key(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// The marker that tells a duplicate key from other syntax errors.
const DUPLICATE: &str = "duplicate key ";

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a YAML or JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(Key(k)) = map.next_key()? {
            if out.contains_key(&k) {
                return Err(serde::de::Error::custom(format!("{DUPLICATE}{k:?}")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }
}

/// Parses YAML or JSON text into one value, refusing duplicate keys.
pub fn parse_strict(text: &str) -> Result<Value, ManifestError> {
    // JSON first when it looks like JSON: kubectl and `daas apply` send JSON,
    // and the JSON parser is several times faster. Anything it refuses for
    // its syntax gets the YAML parser's verdict, so both forms accept the
    // same documents; a duplicate key is refused by either.
    let duplicate = |e: &str| e.contains(DUPLICATE) || e.contains("duplicate entry");
    let sorted = |e: String| {
        if duplicate(&e) {
            ManifestError::DuplicateKey(e)
        } else {
            ManifestError::Syntax(e)
        }
    };
    if text.trim_start().starts_with('{') {
        match serde_json::from_str::<Strict>(text) {
            Ok(Strict(v)) => return Ok(v),
            Err(e) if duplicate(&e.to_string()) => return Err(sorted(e.to_string())),
            Err(_) => {}
        }
    }
    serde_yaml_ng::from_str::<Strict>(text)
        .map(|Strict(v)| v)
        .map_err(|e| sorted(e.to_string()))
}

/// Parses `bytes` (YAML or JSON) into one object and checks it against what the
/// request claims: same apiVersion, kind, name and namespace.
pub fn parse(bytes: &[u8], info: &KindInfo, claimed: Claimed<'_>) -> Result<Value, ManifestError> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::Oversize {
            size: bytes.len(),
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let text =
        std::str::from_utf8(bytes).map_err(|e| ManifestError::Syntax(format!("not UTF-8: {e}")))?;
    let value = parse_strict(text)?;
    let Value::Object(ref obj) = value else {
        return Err(ManifestError::Syntax(
            "the document is not a mapping".into(),
        ));
    };
    let field = |field, reason: String| ManifestError::Field { field, reason };
    let text_at = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);

    let api_version =
        text_at(obj.get("apiVersion")).ok_or_else(|| field("apiVersion", "missing".into()))?;
    if api_version != claimed.api_version {
        return Err(field(
            "apiVersion",
            format!(
                "is {api_version:?} but the request says {:?}",
                claimed.api_version
            ),
        ));
    }
    let kind = text_at(obj.get("kind")).ok_or_else(|| field("kind", "missing".into()))?;
    if kind != claimed.kind {
        return Err(field(
            "kind",
            format!("is {kind:?} but the request says {:?}", claimed.kind),
        ));
    }
    let Some(Value::Object(meta)) = obj.get("metadata") else {
        return Err(field("metadata", "missing or not a mapping".into()));
    };
    let name = text_at(meta.get("name")).ok_or_else(|| field("metadata.name", "missing".into()))?;
    if name != claimed.name {
        return Err(field(
            "metadata.name",
            format!("is {name:?} but the request says {:?}", claimed.name),
        ));
    }
    check_name(info, &name).map_err(|r| field("metadata.name", r))?;
    let namespace = text_at(meta.get("namespace")).unwrap_or_default();
    if info.namespaced {
        if !namespace.is_empty() && namespace != claimed.namespace {
            return Err(field(
                "metadata.namespace",
                format!(
                    "is {namespace:?} but the request says {:?}",
                    claimed.namespace
                ),
            ));
        }
    } else if !namespace.is_empty() {
        return Err(field(
            "metadata.namespace",
            format!("{} is cluster-scoped and takes no namespace", info.kind),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::lookup;

    fn claimed<'a>(kind: &'a str, ns: &'a str, name: &'a str) -> Claimed<'a> {
        Claimed {
            api_version: if kind == "Deployment" {
                "apps/v1"
            } else {
                "v1"
            },
            kind,
            namespace: ns,
            name,
        }
    }

    #[test]
    fn yaml_and_json_both_parse() {
        let info = lookup("ConfigMap").expect("kind");
        let yaml = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  namespace: team\ndata:\n  a: b\n";
        let json =
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg"},"data":{"a":"b"}}"#;
        let a = parse(yaml, info, claimed("ConfigMap", "team", "cfg")).expect("yaml");
        let b = parse(json, info, claimed("ConfigMap", "team", "cfg")).expect("json");
        assert_eq!(a["data"], b["data"]);
    }

    #[test]
    fn mismatches_are_field_errors() {
        let info = lookup("Deployment").expect("kind");
        let m =
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: other\n";
        let err =
            parse(m, info, claimed("Deployment", "team", "web")).expect_err("namespace mismatch");
        assert!(
            matches!(
                err,
                ManifestError::Field {
                    field: "metadata.namespace",
                    ..
                }
            ),
            "{err}"
        );
        let err = parse(m, info, claimed("Deployment", "other", "api")).expect_err("name mismatch");
        assert!(
            matches!(
                err,
                ManifestError::Field {
                    field: "metadata.name",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn garbage_is_a_syntax_error() {
        let info = lookup("Pod").expect("kind");
        for bad in [&b"\xff\xfe"[..], b"[1, 2]", b"a: [unclosed", b"just text"] {
            assert!(
                matches!(
                    parse(bad, info, claimed("Pod", "t", "p")),
                    Err(ManifestError::Syntax(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn duplicate_keys_are_refused_in_yaml_and_json() {
        let info = lookup("ConfigMap").expect("kind");
        let c = claimed("ConfigMap", "team", "cfg");
        let yaml =
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: b\n  a: c\n";
        let json =
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","name":"cfg"}}"#;
        let top = b"apiVersion: v1\nkind: ConfigMap\nkind: ConfigMap\nmetadata:\n  name: cfg\n";
        for m in [&yaml[..], json, top] {
            assert!(
                matches!(parse(m, info, c), Err(ManifestError::DuplicateKey(_))),
                "{}",
                String::from_utf8_lossy(m)
            );
        }
        let ints = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  8080: x\n";
        let v = parse(ints, info, c).expect("integer keys become text");
        assert_eq!(v["data"]["8080"], "x");
    }

    #[test]
    fn oversize_is_refused_before_parsing() {
        let info = lookup("Pod").expect("kind");
        let big = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(matches!(
            parse(&big, info, claimed("Pod", "t", "p")),
            Err(ManifestError::Oversize { .. })
        ));
    }
}
