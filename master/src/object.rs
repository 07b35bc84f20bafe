//! The stored form of a tenant's object: the manifest plus the metadata
//! kube-apiserver would have set, merged with what is already stored.
//!
//! Deterministic: uid derives from (transaction digest, event index),
//! creationTimestamp is the checkpoint time, generation is 1 on create and +1
//! when the spec changes. On update the stored uid, creationTimestamp and
//! `status` are kept (a controller's status writes are never clobbered), and so
//! are fields the apiserver allocates (a Service's clusterIP). resourceVersion
//! is never stored (it is etcd's mod_revision).

use daas_domain::kinds::KindInfo;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// kubectl's word for what a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    /// A new object.
    Created,
    /// An existing object changed.
    Configured,
    /// The manifest matches what is stored: nothing written.
    Unchanged,
}

impl Written {
    /// `created` / `configured` / `unchanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            Written::Created => "created",
            Written::Configured => "configured",
            Written::Unchanged => "unchanged",
        }
    }
}

/// A UUID (version 8, RFC 9562 "custom") from the request's transaction digest
/// and event index: the same request always makes the same uid.
pub fn uid(transaction_digest: &[u8; 32], event_index: u64) -> String {
    let mut h = Sha256::new();
    h.update(b"k3s-daas uid");
    h.update(transaction_digest);
    h.update(event_index.to_be_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// RFC 3339 at second precision, as kube writes `creationTimestamp`.
pub fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 → (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Metadata the server owns: a manifest's values for these are ignored.
const SERVER_METADATA: [&str; 8] = [
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "selfLink",
];

/// Builds the object to store for an admitted create or update.
///
/// `existing` is the stored object (decrypted), when there is one.
pub fn render(
    info: &KindInfo,
    manifest: &Value,
    namespace: &str,
    existing: Option<&Value>,
    new_uid: &str,
    created_at: &str,
) -> (Value, Written) {
    let mut obj = manifest.as_object().cloned().unwrap_or_default();
    obj.remove("status");
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let Some(meta) = meta.as_object_mut() else {
        return (Value::Object(obj), Written::Unchanged);
    };
    for f in SERVER_METADATA {
        meta.remove(f);
    }
    if info.namespaced {
        meta.insert("namespace".into(), json!(namespace));
    } else {
        meta.remove("namespace");
    }
    if info.kind == "Namespace" {
        let name = meta.get("name").cloned().unwrap_or(Value::Null);
        let labels = meta.entry("labels").or_insert_with(|| json!({}));
        if let Some(labels) = labels.as_object_mut() {
            labels.insert("kubernetes.io/metadata.name".into(), name);
        }
        obj.insert("spec".into(), json!({"finalizers": ["kubernetes"]}));
    }

    let Some(old) = existing.and_then(Value::as_object) else {
        let meta = obj.get_mut("metadata").and_then(Value::as_object_mut);
        if let Some(meta) = meta {
            meta.insert("uid".into(), json!(new_uid));
            meta.insert("creationTimestamp".into(), json!(created_at));
            if obj_has_spec(info) {
                meta.insert("generation".into(), json!(1));
            }
        }
        if info.kind == "Namespace" {
            obj.insert("status".into(), json!({"phase": "Active"}));
        }
        return (Value::Object(obj), Written::Created);
    };

    // Update: keep what the server and the controllers own.
    let old_meta = old.get("metadata").and_then(Value::as_object);
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in ["uid", "creationTimestamp"] {
            if let Some(v) = old_meta.and_then(|m| m.get(f)) {
                meta.insert(f.into(), v.clone());
            }
        }
    }
    if info.kind == "Service"
        && let (Some(spec), Some(old_spec)) = (
            obj.get_mut("spec").and_then(Value::as_object_mut),
            old.get("spec").and_then(Value::as_object),
        )
    {
        for f in ["clusterIP", "clusterIPs"] {
            if !spec.contains_key(f)
                && let Some(v) = old_spec.get(f)
            {
                spec.insert(f.into(), v.clone());
            }
        }
    }
    let old_generation = old_meta
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64);
    if obj_has_spec(info) {
        let changed = obj.get("spec") != old.get("spec");
        let g = old_generation.unwrap_or(1) + i64::from(changed);
        if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("generation".into(), json!(g));
        }
    }
    if let Some(status) = old.get("status") {
        obj.insert("status".into(), status.clone());
    }
    let written = if Some(&obj) == existing.and_then(Value::as_object) {
        Written::Unchanged
    } else {
        Written::Configured
    };
    (Value::Object(obj), written)
}

/// Kinds whose spec changes bump `metadata.generation`.
fn obj_has_spec(info: &KindInfo) -> bool {
    !matches!(
        info.kind,
        "ConfigMap" | "Secret" | "ServiceAccount" | "Namespace"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use daas_domain::kinds::lookup;

    fn deployment(replicas: u64) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "namespace": "team-a", "uid": "forged", "resourceVersion": "9"},
               "spec": {"replicas": replicas}, "status": {"readyReplicas": 99}})
    }

    #[test]
    fn create_sets_server_metadata_and_drops_client_claims() {
        let info = lookup("Deployment").expect("managed");
        let (obj, w) = render(
            info,
            &deployment(1),
            "team-a",
            None,
            "u-1",
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(w, Written::Created);
        assert_eq!(obj["metadata"]["uid"], "u-1");
        assert_eq!(obj["metadata"]["generation"], 1);
        assert_eq!(obj["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
        assert!(obj["metadata"].get("resourceVersion").is_none());
        assert!(obj.get("status").is_none(), "tenants do not write status");
    }

    #[test]
    fn update_keeps_identity_and_status_and_bumps_generation_on_spec_change() {
        let info = lookup("Deployment").expect("managed");
        let (mut stored, _) = render(info, &deployment(1), "team-a", None, "u-1", "t0");
        stored["status"] = json!({"readyReplicas": 1});
        let (same, w) = render(info, &deployment(1), "team-a", Some(&stored), "u-2", "t1");
        assert_eq!(w, Written::Unchanged);
        assert_eq!(same, stored);
        let (next, w) = render(info, &deployment(3), "team-a", Some(&stored), "u-2", "t1");
        assert_eq!(w, Written::Configured);
        assert_eq!(next["metadata"]["uid"], "u-1");
        assert_eq!(next["metadata"]["creationTimestamp"], "t0");
        assert_eq!(next["metadata"]["generation"], 2);
        assert_eq!(
            next["status"],
            json!({"readyReplicas": 1}),
            "the controller's status is kept"
        );
    }

    #[test]
    fn uids_and_timestamps_are_deterministic_and_well_formed() {
        let u = uid(&[7; 32], 3);
        assert_eq!(u, uid(&[7; 32], 3));
        assert_ne!(u, uid(&[7; 32], 4));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "8", "version 8");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(timestamp(1_767_225_600_250), "2026-01-01T00:00:00Z");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29T00:00:00Z");
    }
}
