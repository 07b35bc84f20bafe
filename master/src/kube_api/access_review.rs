//! `SelfSubjectAccessReview`: `kubectl auth can-i` answered from the
//! ledger, for every verb (writes are answered as the chain would decide
//! them: this API itself is read-only, they go through `daas apply`).

use daas_domain::{access::Access, roles::Verb};
use serde_json::{Value, json};

use super::{Caller, Status, authz::reason, paths::served_kinds};

/// kube's verb → ours (`update`/`patch` are applies; `deletecollection` a delete).
fn verb(v: &str) -> Option<Verb> {
    Some(match v {
        "get" => Verb::Get,
        "list" => Verb::List,
        "watch" => Verb::Watch,
        "create" => Verb::Create,
        "update" | "patch" => Verb::Apply,
        "delete" | "deletecollection" => Verb::Delete,
        _ => return None,
    })
}

/// kube's protobuf envelope: `k8s\0` then a `runtime.Unknown`.
const PROTOBUF_MAGIC: &[u8] = b"k8s\0";

#[derive(Clone, PartialEq, prost::Message)]
struct Unknown {
    #[prost(message, optional, tag = "1")]
    type_meta: Option<TypeMeta>,
    #[prost(bytes = "vec", optional, tag = "2")]
    raw: Option<Vec<u8>>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct TypeMeta {
    #[prost(string, optional, tag = "1")]
    api_version: Option<String>,
    #[prost(string, optional, tag = "2")]
    kind: Option<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProtoReview {
    #[prost(message, optional, tag = "2")]
    spec: Option<ProtoSpec>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProtoSpec {
    #[prost(message, optional, tag = "1")]
    resource_attributes: Option<ProtoAttributes>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ProtoAttributes {
    #[prost(string, optional, tag = "1")]
    namespace: Option<String>,
    #[prost(string, optional, tag = "2")]
    verb: Option<String>,
    #[prost(string, optional, tag = "3")]
    group: Option<String>,
    #[prost(string, optional, tag = "4")]
    version: Option<String>,
    #[prost(string, optional, tag = "5")]
    resource: Option<String>,
    #[prost(string, optional, tag = "6")]
    subresource: Option<String>,
    #[prost(string, optional, tag = "7")]
    name: Option<String>,
}

/// A review sent as protobuf (what kubectl sends), as its JSON form.
fn from_protobuf(body: &[u8]) -> Result<Value, String> {
    use prost::Message as _;
    let rest = body
        .strip_prefix(PROTOBUF_MAGIC)
        .ok_or("not kube protobuf")?;
    let unknown = Unknown::decode(rest).map_err(|e| e.to_string())?;
    let kind = unknown.type_meta.and_then(|t| t.kind).unwrap_or_default();
    let review = ProtoReview::decode(unknown.raw.unwrap_or_default().as_slice())
        .map_err(|e| e.to_string())?;
    let attrs = review.spec.and_then(|s| s.resource_attributes);
    let spec = match attrs {
        Some(a) => json!({"resourceAttributes": {
            "namespace": a.namespace, "verb": a.verb, "group": a.group,
            "version": a.version, "resource": a.resource,
            "subresource": a.subresource, "name": a.name,
        }}),
        None => json!({}),
    };
    Ok(json!({"kind": kind, "apiVersion": "authorization.k8s.io/v1", "spec": spec}))
}

/// The answer to the review in `body` (JSON, or kube's protobuf) for `caller`.
pub fn review(access: &Access, caller: &Caller, body: &[u8]) -> Result<Value, Status> {
    let review: Value = if body.starts_with(PROTOBUF_MAGIC) {
        from_protobuf(body)
    } else {
        serde_json::from_slice(body).map_err(|e| e.to_string())
    }
    .map_err(|e| Status::bad_request(format!("not a SelfSubjectAccessReview: {e}")))?;
    if review["kind"] != "SelfSubjectAccessReview" {
        return Err(Status::bad_request("not a SelfSubjectAccessReview"));
    }
    let attrs = &review["spec"]["resourceAttributes"];
    let (allowed, reason) = if attrs.is_object() {
        decide(access, caller, attrs)
    } else {
        (false, "only resource attributes are answered".to_owned())
    };
    let mut out = json!({
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": review["spec"],
        "status": {"allowed": allowed, "reason": reason},
    });
    if !allowed {
        out["status"]["denied"] = json!(false);
    }
    Ok(out)
}

fn decide(access: &Access, caller: &Caller, attrs: &Value) -> (bool, String) {
    let text = |k: &str| attrs[k].as_str().unwrap_or_default();
    let Some(v) = verb(text("verb")) else {
        return (
            false,
            format!("the verb {:?} is not one the ledger decides", text("verb")),
        );
    };
    let group = text("group");
    let Some(info) = served_kinds().find(|k| {
        k.plural == text("resource")
            && k.api_version.rsplit_once('/').map_or("", |(g, _)| g) == group
    }) else {
        return (false, "not a kind this cluster serves".to_owned());
    };
    let ns = if info.kind == "Namespace" {
        text("name")
    } else {
        text("namespace")
    };
    let decided =
        if info.namespaced && ns.is_empty() || !info.namespaced && info.kind != "Namespace" {
            // Every namespace, or a cluster-scoped kind: cluster authority.
            access
                .may(caller.address, v, info.kind, "")
                .map_err(|e| reason(v, &e))
                .and_then(|()| {
                    if access.is_cluster_admin(caller.address) {
                        Ok(())
                    } else {
                        Err("needs cluster authority".to_owned())
                    }
                })
        } else {
            access
                .may(caller.address, v, info.kind, ns)
                .map_err(|e| reason(v, &e))
        };
    match decided {
        Ok(()) if v.is_read() => (true, "allowed by the ledger".to_owned()),
        Ok(()) => (
            true,
            "allowed by the ledger; write with `daas apply` (this API is read-only)".to_owned(),
        ),
        Err(why) => (false, format!("denied by the ledger: {why}")),
    }
}
