//! Admission: the pure decision on one `K8sAPIRequest`, made from the ledger
//! state at the request's place in the log.
//!
//! The checks run in a fixed order and the first failure decides, so every
//! replica gives the same reason: cluster, verb, kind, tier, size, manifest,
//! namespace, then object existence. The master turns an admitted request into
//! etcd writes; a rejected one changes nothing anywhere.

use serde_json::Value;

use crate::{
    events::K8sApiRequest,
    kinds::{self, KindInfo, check_name},
    ledger::{Denied, Ledger, ObjectKey},
    manifest::{self, Claimed, ManifestError},
    roles::{MIST_PER_SUI, Verb},
};

/// What an admitted request does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// The object is new.
    Create,
    /// The object exists and is replaced by the manifest (status kept by the writer).
    Update,
    /// The object is removed.
    Delete,
}

/// An admitted request.
#[derive(Clone, Debug, PartialEq)]
pub struct Admitted {
    /// The kind.
    pub kind: &'static KindInfo,
    /// What to do.
    pub action: Action,
    /// The parsed manifest for create/update; `None` for delete.
    pub object: Option<Value>,
}

/// Why a request was refused. Mirrors `daas.v1.RejectCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectCode {
    /// Tier stake too low for the verb on the kind.
    InsufficientStake,
    /// Someone else's namespace, no grant, not an admin.
    NamespaceForbidden,
    /// The manifest does not parse or a field is wrong.
    MalformedManifest,
    /// The manifest is over the size limit.
    Oversize,
    /// The kind is not managed, or not at that apiVersion.
    UnsupportedKind,
    /// The verb is not applied from the log.
    UnsupportedVerb,
    /// Create of an existing object, or update/delete of a missing one.
    Conflict,
    /// The target namespace does not exist.
    NamespaceNotFound,
    /// The request names a cluster the ledger does not know.
    WrongCluster,
}

impl RejectCode {
    /// Stable snake_case name, as stored in SQL and printed by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectCode::InsufficientStake => "insufficient_stake",
            RejectCode::NamespaceForbidden => "namespace_forbidden",
            RejectCode::MalformedManifest => "malformed_manifest",
            RejectCode::Oversize => "oversize",
            RejectCode::UnsupportedKind => "unsupported_kind",
            RejectCode::UnsupportedVerb => "unsupported_verb",
            RejectCode::Conflict => "conflict",
            RejectCode::NamespaceNotFound => "namespace_not_found",
            RejectCode::WrongCluster => "wrong_cluster",
        }
    }
}

/// A refusal with its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Machine-readable reason.
    pub code: RejectCode,
    /// Human-readable detail.
    pub message: String,
}

/// The decision on one request.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Go ahead.
    Admitted(Admitted),
    /// Refused; nothing changes.
    Rejected(Rejection),
}

fn reject(code: RejectCode, message: impl Into<String>) -> Decision {
    Decision::Rejected(Rejection {
        code,
        message: message.into(),
    })
}

/// MIST as SUI for messages: `5 SUI`, `0.5 SUI`.
pub fn sui(mist: u64) -> String {
    let (whole, frac) = (mist / MIST_PER_SUI, mist % MIST_PER_SUI);
    if frac == 0 {
        format!("{whole} SUI")
    } else {
        format!("{whole}.{} SUI", format!("{frac:09}").trim_end_matches('0'))
    }
}

fn insufficient(req: &K8sApiRequest, kind: &str, need: u64, have: u64) -> Decision {
    reject(
        RejectCode::InsufficientStake,
        format!(
            "{} on {kind} needs a stake of {}; {} has {}",
            req.verb,
            sui(need),
            req.sender,
            sui(have)
        ),
    )
}

/// Decides `req` against `ledger` (the state just before the request).
pub fn decide(ledger: &Ledger, req: &K8sApiRequest) -> Decision {
    use RejectCode::*;
    if ledger.cluster(req.cluster_id).is_none() {
        return reject(
            WrongCluster,
            format!("cluster {} is not known", req.cluster_id),
        );
    }
    let Some(verb) = Verb::parse(&req.verb) else {
        return reject(
            UnsupportedVerb,
            format!("verb {:?} is not supported", req.verb),
        );
    };
    if verb.is_read() {
        return reject(
            UnsupportedVerb,
            format!(
                "{} is a read; reads are served by the API server, not applied from the log",
                req.verb
            ),
        );
    }
    let Some(info) = kinds::lookup(&req.kind) else {
        return reject(
            UnsupportedKind,
            format!("kind {:?} is not managed", req.kind),
        );
    };
    if info.api_version != req.api_version {
        return reject(
            UnsupportedKind,
            format!(
                "{} is served as {}, not {}",
                info.kind, info.api_version, req.api_version
            ),
        );
    }
    let namespace = if info.namespaced {
        req.namespace.as_str()
    } else {
        ""
    };
    if let Err(Denied::Tier { need, have }) =
        ledger.may(req.cluster_id, req.sender, verb, info.kind, "")
    {
        return insufficient(req, info.kind, need, have);
    }
    if req.manifest.len() > crate::roles::MAX_MANIFEST_BYTES {
        return reject(
            Oversize,
            ManifestError::Oversize {
                size: req.manifest.len(),
                limit: crate::roles::MAX_MANIFEST_BYTES,
            }
            .to_string(),
        );
    }
    let object = if verb == Verb::Delete {
        if let Err(reason) = check_name(info, &req.name) {
            return reject(MalformedManifest, format!("name: {reason}"));
        }
        None
    } else {
        let claimed = Claimed {
            api_version: &req.api_version,
            kind: &req.kind,
            namespace,
            name: &req.name,
        };
        match manifest::parse(req.manifest.as_ref(), info, claimed) {
            Ok(v) => Some(v),
            Err(e @ ManifestError::Oversize { .. }) => return reject(Oversize, e.to_string()),
            Err(e) => return reject(MalformedManifest, e.to_string()),
        }
    };
    if info.namespaced && namespace.is_empty() {
        return reject(
            MalformedManifest,
            format!("{} is namespaced: a namespace is required", info.kind),
        );
    }

    // Who may touch the namespace (for Namespace objects: the namespace itself).
    let scope = if info.namespaced {
        namespace
    } else {
        req.name.as_str()
    };
    let ns_exists = ledger.namespace_owner(req.cluster_id, scope).is_some();
    let creating_namespace = info.kind == "Namespace" && !ns_exists;
    if !creating_namespace {
        match ledger.may(req.cluster_id, req.sender, verb, info.kind, scope) {
            Ok(()) => {}
            Err(Denied::NoNamespace) => {
                return reject(
                    NamespaceNotFound,
                    format!("namespace {scope:?} does not exist"),
                );
            }
            Err(Denied::NotYours { owner }) => {
                return reject(
                    NamespaceForbidden,
                    format!(
                        "namespace {scope:?} belongs to {owner}; {} has no grant there",
                        req.sender
                    ),
                );
            }
            Err(Denied::Tier { need, have }) => return insufficient(req, info.kind, need, have),
        }
    }

    let key = ObjectKey::of(req);
    let exists = ledger.object_exists(&key) || (info.kind == "Namespace" && ns_exists);
    let shown = format!("{} {:?}", info.kubectl_name(), req.name);
    let action = match (verb, exists) {
        (Verb::Create, true) => return reject(Conflict, format!("{shown} already exists")),
        (Verb::Create | Verb::Apply, false) => Action::Create,
        (Verb::Apply | Verb::Replace, true) => Action::Update,
        (Verb::Replace | Verb::Delete, false) => {
            return reject(Conflict, format!("{shown} does not exist"));
        }
        (Verb::Delete, true) => Action::Delete,
        (Verb::Get | Verb::List | Verb::Watch, _) => {
            return reject(UnsupportedVerb, format!("{} is a read", req.verb));
        }
    };
    Decision::Admitted(Admitted {
        kind: info,
        action,
        object,
    })
}
