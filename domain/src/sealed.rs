//! Sealed Secrets: the `daas-seal-v1` wire format and the checks anyone can
//! make from public bytes (decision 0014).
//!
//! The chain is public, so a Secret's values travel sealed to the cluster's
//! sealing key (HPKE, RFC 9180; the crypto lives in the `daas-sealing`
//! crate, not here). A sealed Secret is an ordinary `v1` Secret with the
//! annotation [`ANNOTATION`] = `daas-seal-v1; key-version=N`, only `data`, and
//! every `data` value the base64 of a [`SealedValue`]:
//!
//! ```text
//! "DSS1" | key version (u32 BE) | binding tag (16) | HPKE enc (32) | ciphertext (+16)
//! ```
//!
//! The HPKE associated data is the [`Binding`]: cluster, namespace, name,
//! data key and key version, so a value copied into another Secret (or
//! under another key) does not open. Its tag travels in clear, so a copied
//! value is told apart from a tampered one without the private key.
//!
//! What the shared domain decides here (projector and master alike):
//! a Secret with values but no annotation, or with kubectl's last-applied
//! copy of itself ([`RejectCode::SecretUnsealed`]), a
//! key version the chain never registered for the cluster
//! ([`RejectCode::SealingKeyUnknown`]), a value that is not a sealed value
//! ([`RejectCode::SealedTampered`]) and a binding tag for another place
//! ([`RejectCode::SealedBindingMismatch`]). Whether a ciphertext
//! authenticates only the master can tell: it opens admitted Secrets through
//! [`Open`] before its ledger records them.
//!
//! No message here ever contains a value, sealed or not: they name the data key.

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::{
    ObjectId,
    admission::{RejectCode, Rejection},
    events::K8sApiRequest,
};

/// The annotation that marks a sealed Secret.
pub const ANNOTATION: &str = "k3s-daas.io/sealed";
/// kubectl's copy of the applied manifest (in clear): never on a Secret.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The format named in the annotation.
pub const FORMAT: &str = "daas-seal-v1";
/// First bytes of every sealed value.
pub const MAGIC: &[u8; 4] = b"DSS1";
/// HPKE `info` of every sealed value.
pub const HPKE_INFO: &[u8] = b"k3s-daas/sealed-secret/v1";
/// Bytes of the binding tag.
pub const TAG_BYTES: usize = 16;
/// Bytes of HPKE's encapsulated key (X25519).
pub const ENC_BYTES: usize = 32;
/// Bytes the AEAD adds (ChaCha20-Poly1305's tag).
pub const AEAD_TAG_BYTES: usize = 16;
/// Bytes a sealed value adds to its plaintext.
pub const OVERHEAD: usize = MAGIC.len() + 4 + TAG_BYTES + ENC_BYTES + AEAD_TAG_BYTES;

const BINDING_PREFIX: &[u8] = b"k3s-daas sealed secret v1\0";
const ANNOTATION_PREFIX: &str = "daas-seal-v1; key-version=";

/// Why bytes are not a sealed value or a sealed Secret's annotation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SealedError {
    /// Fewer bytes than the smallest sealed value.
    #[error("{0} bytes is shorter than a sealed value ({OVERHEAD} bytes at least)")]
    Short(usize),
    /// The first bytes are not [`MAGIC`].
    #[error("not a {FORMAT} value (bad magic)")]
    Magic,
    /// Key version 0 (versions start at 1).
    #[error("key version 0 does not exist")]
    VersionZero,
    /// The annotation is not `daas-seal-v1; key-version=N`.
    #[error("annotation {ANNOTATION} must be \"{ANNOTATION_PREFIX}N\" with N a key version from 1")]
    Annotation,
    /// The annotation is not a string.
    #[error("annotation {ANNOTATION} is not a string")]
    AnnotationType,
}

/// Where a sealed value belongs: its HPKE associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding<'a> {
    /// The cluster (its on-chain object id).
    pub cluster: ObjectId,
    /// The Secret's namespace.
    pub namespace: &'a str,
    /// The Secret's name.
    pub name: &'a str,
    /// The key within `data`.
    pub key: &'a str,
    /// The sealing key version.
    pub version: u32,
}

impl Binding<'_> {
    /// The associated data: a fixed prefix, the cluster id, then namespace,
    /// name and data key each with a u32 BE length, then the version (u32 BE).
    pub fn aad(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            BINDING_PREFIX.len()
                + 32
                + 16
                + self.namespace.len()
                + self.name.len()
                + self.key.len(),
        );
        out.extend_from_slice(BINDING_PREFIX);
        out.extend_from_slice(self.cluster.as_bytes());
        for part in [self.namespace, self.name, self.key] {
            // Kubernetes strings are far below 4 GiB; saturate rather than wrap.
            let len = u32::try_from(part.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out.extend_from_slice(&self.version.to_be_bytes());
        out
    }

    /// The first 16 bytes of SHA-256 over [`Binding::aad`], carried in clear.
    pub fn tag(&self) -> [u8; TAG_BYTES] {
        let digest = Sha256::digest(self.aad());
        let mut tag = [0; TAG_BYTES];
        tag.copy_from_slice(&digest[..TAG_BYTES]);
        tag
    }
}

/// One sealed value, parsed but not opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedValue {
    /// The sealing key version it was sealed to.
    pub version: u32,
    /// The binding tag (see [`Binding::tag`]).
    pub tag: [u8; TAG_BYTES],
    /// HPKE's encapsulated key.
    pub enc: [u8; ENC_BYTES],
    /// HPKE's ciphertext (plaintext and the AEAD tag).
    pub ciphertext: Vec<u8>,
}

impl SealedValue {
    /// Parses sealed bytes; never panics on any input.
    pub fn parse(bytes: &[u8]) -> Result<Self, SealedError> {
        if bytes.len() < OVERHEAD {
            return Err(SealedError::Short(bytes.len()));
        }
        let (magic, rest) = bytes.split_at(MAGIC.len());
        if magic != MAGIC {
            return Err(SealedError::Magic);
        }
        let (version, rest) = rest.split_at(4);
        let (tag, rest) = rest.split_at(TAG_BYTES);
        let (enc, ciphertext) = rest.split_at(ENC_BYTES);
        let version = u32::from_be_bytes(version.try_into().map_err(|_| SealedError::Magic)?);
        if version == 0 {
            return Err(SealedError::VersionZero);
        }
        Ok(Self {
            version,
            tag: tag.try_into().map_err(|_| SealedError::Magic)?,
            enc: enc.try_into().map_err(|_| SealedError::Magic)?,
            ciphertext: ciphertext.to_vec(),
        })
    }

    /// The wire bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(OVERHEAD - AEAD_TAG_BYTES + self.ciphertext.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.tag);
        out.extend_from_slice(&self.enc);
        out.extend_from_slice(&self.ciphertext);
        out
    }
}

/// The annotation's value for key `version`.
pub fn annotation_value(version: u32) -> String {
    format!("{ANNOTATION_PREFIX}{version}")
}

/// The key version an annotation value names.
pub fn parse_annotation(value: &str) -> Result<u32, SealedError> {
    let digits = value
        .strip_prefix(ANNOTATION_PREFIX)
        .ok_or(SealedError::Annotation)?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SealedError::Annotation);
    }
    digits.parse().map_err(|_| SealedError::Annotation)
}

/// The key version of a sealed Secret; `None` when it is not annotated.
pub fn sealed_version(object: &Value) -> Result<Option<u32>, SealedError> {
    let Some(value) = object
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(ANNOTATION))
    else {
        return Ok(None);
    };
    let text = value.as_str().ok_or(SealedError::AnnotationType)?;
    parse_annotation(text).map(Some)
}

/// A Secret's `data` map, if any (validation checks its shape later).
pub fn data(object: &Value) -> Option<&Map<String, Value>> {
    object.get("data").and_then(Value::as_object)
}

/// Whether a Secret's `data` or `stringData` (`field`) holds anything.
pub fn has_values(object: &Value, field: &str) -> bool {
    match object.get(field) {
        None | Some(Value::Null) => false,
        Some(Value::Object(m)) => !m.is_empty(),
        Some(_) => true,
    }
}

fn refuse(code: RejectCode, message: String) -> Result<(), Rejection> {
    Err(Rejection { code, message })
}

/// The public checks of a Secret about to be written (see the module docs).
/// `registered` answers whether the chain registered key `version` for
/// the request's cluster.
pub fn check(
    req: &K8sApiRequest,
    object: &Value,
    registered: impl Fn(u32) -> bool,
) -> Result<(), Rejection> {
    let annotations = object.get("metadata").and_then(|m| m.get("annotations"));
    if annotations.and_then(|a| a.get(LAST_APPLIED)).is_some() {
        return refuse(
            RejectCode::SecretUnsealed,
            format!(
                "Secret {:?} carries kubectl's {LAST_APPLIED} annotation, a copy of the \
                 manifest in clear: the chain is public",
                req.name
            ),
        );
    }
    let version = match sealed_version(object) {
        Err(e) => return refuse(RejectCode::SecretUnsealed, e.to_string()),
        Ok(None) if has_values(object, "data") || has_values(object, "stringData") => {
            return refuse(
                RejectCode::SecretUnsealed,
                format!(
                    "Secret {:?} carries data in clear: the chain is public, so Secrets must be \
                     sealed to the cluster's key (daas seals them; annotation {ANNOTATION})",
                    req.name
                ),
            );
        }
        Ok(None) => return Ok(()),
        Ok(Some(v)) => v,
    };
    check_sealed(
        req.cluster_id,
        &req.namespace,
        &req.name,
        object,
        version,
        registered,
    )
}

/// The checks of a Secret annotated as sealed to key `version`, for
/// `namespace`/`name` in `cluster`: no `stringData`, a registered version,
/// and every `data` value a sealed value bound to this very place. Shared
/// by admission and by `daas` (which checks a Secret sealed elsewhere
/// before sending it).
pub fn check_sealed(
    cluster: ObjectId,
    namespace: &str,
    name: &str,
    object: &Value,
    version: u32,
    registered: impl Fn(u32) -> bool,
) -> Result<(), Rejection> {
    if has_values(object, "stringData") {
        return refuse(
            RejectCode::SecretUnsealed,
            "a sealed Secret has stringData, which is never sealed: move it into data".into(),
        );
    }
    if !registered(version) {
        return refuse(
            RejectCode::SealingKeyUnknown,
            format!("sealing key version {version} is not registered on chain for this cluster"),
        );
    }
    for (key, value) in data(object).into_iter().flatten() {
        let binding = Binding {
            cluster,
            namespace,
            name,
            key,
            version,
        };
        check_value(&binding, value)?;
    }
    Ok(())
}

fn check_value(binding: &Binding<'_>, value: &Value) -> Result<(), Rejection> {
    let key = printable(binding.key);
    let tampered = |why: String| {
        refuse(
            RejectCode::SealedTampered,
            format!("data key {key} is not a sealed value: {why}"),
        )
    };
    let Some(text) = value.as_str() else {
        return tampered("not a string".into());
    };
    let bytes = match STANDARD.decode(text) {
        Ok(b) => b,
        Err(_) => return tampered("not base64".into()),
    };
    let sealed = match SealedValue::parse(&bytes) {
        Ok(s) => s,
        Err(e) => return tampered(e.to_string()),
    };
    if sealed.version != binding.version || sealed.tag != binding.tag() {
        return refuse(
            RejectCode::SealedBindingMismatch,
            format!(
                "data key {key} was sealed for another Secret, key or key version (a copied value?)"
            ),
        );
    }
    Ok(())
}

/// A data key for messages: at most 64 characters, control characters escaped.
pub fn printable(key: &str) -> String {
    let short: String = key.chars().take(64).collect();
    format!("{short:?}")
}

/// Opens admitted sealed Secrets before the ledger records them: the
/// master implements it with its private keys. The projector has none and
/// uses [`NoOpen`].
pub trait Open {
    /// The Secret `object` (admitted for `req`, sealed to key `version`)
    /// with its values opened and [`ANNOTATION`] removed; or why it is
    /// refused ([`RejectCode::SealedTampered`], [`RejectCode::SealingKeyUnknown`]).
    fn open(&self, req: &K8sApiRequest, object: &Value, version: u32) -> Result<Value, Rejection>;
}

/// Opens nothing: an admitted sealed Secret stays sealed (the projector).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoOpen;

impl Open for NoOpen {
    fn open(&self, _: &K8sApiRequest, object: &Value, _: u32) -> Result<Value, Rejection> {
        Ok(object.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(key: &str) -> Binding<'_> {
        Binding {
            cluster: crate::Address([7; 32]),
            namespace: "team-a",
            name: "db",
            key,
            version: 3,
        }
    }

    #[test]
    fn the_binding_is_laid_out_as_documented() {
        let aad = binding("password").aad();
        let mut want = b"k3s-daas sealed secret v1\0".to_vec();
        want.extend([7; 32]);
        want.extend([0, 0, 0, 6]);
        want.extend(b"team-a");
        want.extend([0, 0, 0, 2]);
        want.extend(b"db");
        want.extend([0, 0, 0, 8]);
        want.extend(b"password");
        want.extend([0, 0, 0, 3]);
        assert_eq!(aad, want);
    }

    #[test]
    fn length_prefixes_keep_bindings_apart() {
        // "ab"+"c" and "a"+"bc" would collide without them.
        let a = Binding {
            namespace: "ab",
            name: "c",
            ..binding("k")
        };
        let b = Binding {
            namespace: "a",
            name: "bc",
            ..binding("k")
        };
        assert_ne!(a.tag(), b.tag());
    }

    #[test]
    fn values_round_trip_and_short_or_foreign_bytes_fail() {
        let v = SealedValue {
            version: 9,
            tag: [1; 16],
            enc: [2; 32],
            ciphertext: vec![3; 20],
        };
        let bytes = v.to_bytes();
        assert_eq!(&bytes[..4], b"DSS1");
        assert_eq!(&bytes[4..8], &[0, 0, 0, 9]);
        assert_eq!(SealedValue::parse(&bytes), Ok(v));
        assert_eq!(
            SealedValue::parse(&bytes[..OVERHEAD - 1]),
            Err(SealedError::Short(OVERHEAD - 1))
        );
        let mut other = bytes.clone();
        other[0] = b'X';
        assert_eq!(SealedValue::parse(&other), Err(SealedError::Magic));
        let mut zero = bytes;
        zero[4..8].copy_from_slice(&[0; 4]);
        assert_eq!(SealedValue::parse(&zero), Err(SealedError::VersionZero));
    }

    #[test]
    fn annotations_parse_strictly() {
        assert_eq!(annotation_value(12), "daas-seal-v1; key-version=12");
        assert_eq!(parse_annotation("daas-seal-v1; key-version=12"), Ok(12));
        for bad in [
            "",
            "daas-seal-v1; key-version=",
            "daas-seal-v1; key-version=0",
            "daas-seal-v1; key-version=012",
            "daas-seal-v1; key-version=-1",
            "daas-seal-v1; key-version=4294967296",
            "daas-seal-v1; key-version=1 ",
            "daas-seal-v2; key-version=1",
            "daas-seal-v1;key-version=1",
        ] {
            assert_eq!(
                parse_annotation(bad),
                Err(SealedError::Annotation),
                "{bad:?}"
            );
        }
    }

    fn request() -> K8sApiRequest {
        K8sApiRequest {
            cluster_id: crate::Address([7; 32]),
            request_id: 1,
            sender: crate::Address([1; 32]),
            verb: "apply".into(),
            api_version: "v1".into(),
            kind: "Secret".into(),
            namespace: "team-a".into(),
            name: "db".into(),
            manifest: crate::Bytes(Vec::new()),
            stake: 0,
            timestamp_ms: 0,
            seq: 0,
        }
    }

    /// A value as a sealer would lay it out for `b` (ciphertext not real:
    /// only the master can tell, see `daas-sealing`).
    fn value_for(b: &Binding<'_>) -> Value {
        let v = SealedValue {
            version: b.version,
            tag: b.tag(),
            enc: [4; 32],
            ciphertext: vec![5; 24],
        };
        Value::String(STANDARD.encode(v.to_bytes()))
    }

    fn secret(annotation: Option<&str>, data: Value) -> Value {
        let mut s = serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db", "namespace": "team-a"}, "data": data});
        if let Some(a) = annotation {
            s["metadata"]["annotations"] = serde_json::json!({ ANNOTATION: a });
        }
        s
    }

    fn code(object: &Value) -> Option<RejectCode> {
        check(&request(), object, |v| v == 3).err().map(|r| r.code)
    }

    #[test]
    fn public_checks_give_each_problem_its_code() {
        let here = binding("password");
        let good = secret(
            Some("daas-seal-v1; key-version=3"),
            serde_json::json!({"password": value_for(&here)}),
        );
        assert_eq!(code(&good), None);
        let empty = secret(None, serde_json::json!({}));
        assert_eq!(code(&empty), None, "a Secret without values needs no seal");

        let clear = secret(None, serde_json::json!({"password": "aHVudGVyMg=="}));
        assert_eq!(code(&clear), Some(RejectCode::SecretUnsealed));
        let mut string_data = good.clone();
        string_data["stringData"] = serde_json::json!({"x": "y"});
        assert_eq!(code(&string_data), Some(RejectCode::SecretUnsealed));
        let mut last_applied = good.clone();
        last_applied["metadata"]["annotations"][LAST_APPLIED] = Value::from("{}");
        assert_eq!(code(&last_applied), Some(RejectCode::SecretUnsealed));
        let bad_annotation = secret(Some("daas-seal-v1; key-version=x"), serde_json::json!({}));
        assert_eq!(code(&bad_annotation), Some(RejectCode::SecretUnsealed));

        let v4 = Binding { version: 4, ..here };
        let unknown = secret(
            Some("daas-seal-v1; key-version=4"),
            serde_json::json!({"password": value_for(&v4)}),
        );
        assert_eq!(code(&unknown), Some(RejectCode::SealingKeyUnknown));

        for other in [
            Binding {
                namespace: "team-b",
                ..here
            },
            Binding {
                name: "web",
                ..here
            },
            Binding {
                key: "user",
                ..here
            },
            Binding {
                cluster: crate::Address([8; 32]),
                ..here
            },
        ] {
            let copied = secret(
                Some("daas-seal-v1; key-version=3"),
                serde_json::json!({"password": value_for(&other)}),
            );
            assert_eq!(
                code(&copied),
                Some(RejectCode::SealedBindingMismatch),
                "{other:?}"
            );
        }
        for junk in [Value::from(7), Value::from("%%%"), Value::from("aGVsbG8=")] {
            let tampered = secret(
                Some("daas-seal-v1; key-version=3"),
                serde_json::json!({"password": junk}),
            );
            assert_eq!(code(&tampered), Some(RejectCode::SealedTampered));
        }
    }

    #[test]
    fn messages_never_quote_a_value() {
        let clear = secret(None, serde_json::json!({"password": "aHVudGVyMg=="}));
        let r = check(&request(), &clear, |_| true).expect_err("unsealed");
        assert!(!r.message.contains("aHVudGVyMg=="), "{}", r.message);
        let junk = secret(
            Some("daas-seal-v1; key-version=3"),
            serde_json::json!({"password": "aHVudGVyMg=="}),
        );
        let r = check(&request(), &junk, |_| true).expect_err("tampered");
        assert!(
            !r.message.contains("aHVudGVyMg==") && r.message.contains("\"password\""),
            "{}",
            r.message
        );
    }

    #[test]
    fn printable_keys_are_short_and_escaped() {
        assert_eq!(printable("a\0b"), "\"a\\0b\"");
        assert_eq!(printable(&"k".repeat(500)).len(), 66);
    }
}
