//! Admission: the pure decision on one `K8sAPIRequest`, made from the ledger
//! state at the request's place in the log. It does what kube-apiserver's
//! validation and Pod Security admission would have done, because the
//! master writes admitted objects straight into etcd.
//!
//! The checks run in a fixed order and the first failure decides, so every
//! replica gives the same reason:
//!
//! 1. the request: cluster, verb, kind, size, names ([`request`]);
//! 2. authority that no stake buys: admin-only kinds, system namespaces;
//! 3. the manifest: syntax and duplicate keys, identity; a Secret's values
//!    sealed ([`crate::sealed`]); field validation
//!    ([`crate::manifest`], [`crate::validation`]);
//! 4. tenancy of the content: node pinning, powerful RoleBindings,
//!    privileged namespace labels ([`crate::tenancy`]), then Pod Security
//!    ([`crate::pod_security`]; restricted findings become warnings);
//! 5. the stake tier, then the namespace (ownership, grants);
//! 6. the object's existence (create/update/delete), then immutable fields.
//!
//! Content comes before the tier so a hostile manifest is refused for what
//! it is at every tier. The master turns an admitted request into etcd
//! writes; a rejected one changes nothing anywhere.

use serde_json::Value;

use crate::{
    events::K8sApiRequest,
    kinds::{self, KindInfo, Scope},
    ledger::{Denied, Ledger, ObjectKey},
    manifest::{self, Claimed, ManifestError},
    memo::Memo,
    pod_security::{self, Level},
    roles::{MIST_PER_SUI, Verb},
    sealed, templates, tenancy,
    validation::{self, Problem},
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
    /// Warnings for the requester (Pod Security `restricted` findings), as kubectl prints them.
    pub warnings: Vec<String>,
    /// What the ledger remembers of the object (`None` for delete).
    pub memo: Option<Memo>,
}

/// Why a request was refused. Mirrors `daas.v1.RejectCode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RejectCode {
    /// Tier stake too low for the verb on the kind.
    InsufficientStake,
    /// Someone else's namespace, no grant, not an admin.
    NamespaceForbidden,
    /// The manifest does not parse, or disagrees with the request's identity.
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
    /// A pod (or pod template) violates the namespace's enforced Pod Security level.
    PodSecurity,
    /// The kind grants cluster-wide power: cluster admin only.
    ClusterScopedForbidden,
    /// The object's name or namespace is not a valid Kubernetes name.
    InvalidName,
    /// A field fails kube-apiserver's validation.
    InvalidObject,
    /// The manifest holds a mapping key twice.
    DuplicateKey,
    /// A system namespace (or a namespace named like one): cluster admin only.
    SystemNamespace,
    /// `nodeName` or a toleration of the operator's `daas.io/*` taints.
    NodePinning,
    /// An update changes a field kube keeps immutable.
    ImmutableField,
    /// Only the cluster admin may label a namespace `privileged`.
    PrivilegedNamespace,
    /// A RoleBinding to cluster-admin/admin/edit outside the sender's own namespace.
    RoleEscalation,
    /// A Secret carries values in clear (no sealed annotation, or `stringData`).
    SecretUnsealed,
    /// The sealing key version is not registered for the cluster (or, in the
    /// master, its private key is not held).
    SealingKeyUnknown,
    /// A sealed value was sealed for another Secret, data key or key version.
    SealedBindingMismatch,
    /// A sealed value does not parse, or does not authenticate when opened.
    SealedTampered,
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
            RejectCode::PodSecurity => "pod_security",
            RejectCode::ClusterScopedForbidden => "cluster_scoped_forbidden",
            RejectCode::InvalidName => "invalid_name",
            RejectCode::InvalidObject => "invalid_object",
            RejectCode::DuplicateKey => "duplicate_key",
            RejectCode::SystemNamespace => "system_namespace",
            RejectCode::NodePinning => "node_pinning",
            RejectCode::ImmutableField => "immutable_field",
            RejectCode::PrivilegedNamespace => "privileged_namespace",
            RejectCode::RoleEscalation => "role_escalation",
            RejectCode::SecretUnsealed => "secret_unsealed",
            RejectCode::SealingKeyUnknown => "sealing_key_unknown",
            RejectCode::SealedBindingMismatch => "sealed_binding_mismatch",
            RejectCode::SealedTampered => "sealed_tampered",
        }
    }
}

/// A reject code name that is not one of [`RejectCode::as_str`]'s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown reject code {0:?}")]
pub struct UnknownRejectCode(pub String);

impl std::str::FromStr for RejectCode {
    type Err = UnknownRejectCode;

    /// The code whose [`RejectCode::as_str`] is `s` (exactly).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RejectCode::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownRejectCode(s.chars().take(64).collect()))
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

/// A step's refusal.
type Step<T = ()> = Result<T, Rejection>;

/// Longest rejection message, bytes. Messages quote tenant strings (a name of
/// 64 KiB, escaped); bounding them keeps every stored and published outcome
/// small whatever the request carried.
pub const MAX_MESSAGE_BYTES: usize = 2048;

fn reject<T>(code: RejectCode, message: impl Into<String>) -> Step<T> {
    Err(Rejection {
        code,
        message: bounded(message.into()),
    })
}

/// `message` cut to [`MAX_MESSAGE_BYTES`] at a character boundary, saying so.
fn bounded(mut message: String) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message;
    }
    let total = message.len();
    let mut cut = MAX_MESSAGE_BYTES - 64;
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    message.truncate(cut);
    message.push_str(&format!("… (message cut at {cut} of {total} bytes)"));
    message
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

/// Decides `req` against `ledger` (the state just before the request).
pub fn decide(ledger: &Ledger, req: &K8sApiRequest) -> Decision {
    match decide_steps(ledger, req) {
        Ok(a) => Decision::Admitted(a),
        Err(r) => Decision::Rejected(r),
    }
}

/// Who asks for what, once the request itself is known to be well formed.
struct Asked<'r> {
    req: &'r K8sApiRequest,
    verb: Verb,
    info: &'static KindInfo,
    /// The namespace the object lives in ("" for cluster-scoped kinds).
    namespace: &'r str,
    /// The namespace whose owner decides (for a Namespace: itself).
    scope: &'r str,
    admin: bool,
}

fn decide_steps(ledger: &Ledger, req: &K8sApiRequest) -> Step<Admitted> {
    let asked = request::check(ledger, req)?;
    authority(&asked)?;
    let (object, warnings) = match asked.verb {
        Verb::Delete => (None, Vec::new()),
        _ => {
            let object = parse(&asked)?;
            sealing(ledger, &asked, &object)?;
            validate(&asked, &object)?;
            content(&asked, &object)?;
            role_escalation(ledger, &asked, &object)?;
            let warnings = pod_security_warnings(ledger, &asked, &object)?;
            (Some(object), warnings)
        }
    };
    access(ledger, &asked)?;
    let action = action(ledger, &asked)?;
    let memo = object.as_ref().map(|o| Memo::of(asked.info.kind, o));
    if action == Action::Update
        && let Some(next) = &memo
    {
        immutable(ledger, req, next)?;
    }
    Ok(Admitted {
        kind: asked.info,
        action,
        object,
        warnings,
        memo,
    })
}

mod request {
    //! Step 1: the request's own fields.
    use super::*;

    /// Cluster, verb, kind, size and names; who asks for what.
    pub(super) fn check<'r>(ledger: &Ledger, req: &'r K8sApiRequest) -> Step<Asked<'r>> {
        use RejectCode::*;
        if ledger.cluster(req.cluster_id).is_none() {
            return reject(
                WrongCluster,
                format!("cluster {} is not known", req.cluster_id),
            );
        }
        let verb = match Verb::parse(&req.verb) {
            None => {
                return reject(
                    UnsupportedVerb,
                    format!("verb {:?} is not supported", req.verb),
                );
            }
            Some(v) if v.is_read() => {
                return reject(
                    UnsupportedVerb,
                    format!(
                        "{} is a read; reads are served by the API server, not applied from the log",
                        req.verb
                    ),
                );
            }
            Some(v) => v,
        };
        let admin = ledger.is_admin(req.cluster_id, req.sender);
        let info = kind(req, admin)?;
        if req.manifest.len() > crate::roles::MAX_MANIFEST_BYTES {
            let e = ManifestError::Oversize {
                size: req.manifest.len(),
                limit: crate::roles::MAX_MANIFEST_BYTES,
            };
            return reject(Oversize, e.to_string());
        }
        let namespace = if info.namespaced {
            req.namespace.as_str()
        } else {
            ""
        };
        names(info, req, namespace)?;
        let scope = if info.namespaced {
            namespace
        } else {
            req.name.as_str()
        };
        Ok(Asked {
            req,
            verb,
            info,
            namespace,
            scope,
            admin,
        })
    }

    fn kind(req: &K8sApiRequest, admin: bool) -> Step<&'static KindInfo> {
        use RejectCode::*;
        if !admin && kinds::UNMANAGED_ADMIN_KINDS.contains(&req.kind.as_str()) {
            return reject(
                ClusterScopedForbidden,
                format!(
                    "{} grants cluster-wide power: only the cluster admin may write it",
                    req.kind
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
        Ok(info)
    }

    fn names(info: &KindInfo, req: &K8sApiRequest, namespace: &str) -> Step {
        if let Err(reason) = kinds::check_name(info, &req.name) {
            return reject(RejectCode::InvalidName, format!("metadata.name: {reason}"));
        }
        if info.namespaced {
            if namespace.is_empty() {
                return reject(
                    RejectCode::InvalidName,
                    format!(
                        "metadata.namespace: {} is namespaced: a namespace is required",
                        info.kind
                    ),
                );
            }
            if let Err(reason) = validation::names::dns1123_label(namespace) {
                return reject(
                    RejectCode::InvalidName,
                    format!("metadata.namespace: {reason}"),
                );
            }
        }
        Ok(())
    }
}

/// Step 2: what no stake buys.
fn authority(asked: &Asked<'_>) -> Step {
    if asked.admin {
        return Ok(());
    }
    if asked.info.scope == Scope::ClusterAdmin {
        return reject(
            RejectCode::ClusterScopedForbidden,
            format!(
                "{} grants cluster-wide power: only the cluster admin may write it",
                asked.info.kind
            ),
        );
    }
    if tenancy::is_system_namespace(asked.scope) {
        return reject(
            RejectCode::SystemNamespace,
            format!(
                "{:?} is a system namespace (or named like one): only the cluster admin may write there",
                asked.scope
            ),
        );
    }
    Ok(())
}

/// Step 3a: the manifest parses and matches the request.
fn parse(asked: &Asked<'_>) -> Step<Value> {
    let req = asked.req;
    let claimed = Claimed {
        api_version: &req.api_version,
        kind: &req.kind,
        namespace: asked.namespace,
        name: &req.name,
    };
    let object = match manifest::parse(req.manifest.as_ref(), asked.info, claimed) {
        Ok(v) => v,
        Err(e @ ManifestError::Oversize { .. }) => {
            return reject(RejectCode::Oversize, e.to_string());
        }
        Err(e @ ManifestError::DuplicateKey(_)) => {
            return reject(RejectCode::DuplicateKey, e.to_string());
        }
        Err(e) => return reject(RejectCode::MalformedManifest, e.to_string()),
    };
    Ok(object)
}

/// Step 3b: a Secret's values are sealed, to a key the chain registered, for
/// this very Secret ([`sealed::check`]). Before field validation, so no
/// validation message can quote a value sent in clear.
fn sealing(ledger: &Ledger, asked: &Asked<'_>, object: &Value) -> Step {
    if asked.info.kind != "Secret" {
        return Ok(());
    }
    let cluster = asked.req.cluster_id;
    sealed::check(asked.req, object, |v| {
        ledger.sealing_key(cluster, v).is_some()
    })
    .map_err(|r| Rejection {
        code: r.code,
        message: bounded(r.message),
    })
}

/// Step 3c: the fields are valid, as kube-apiserver's validation says.
fn validate(asked: &Asked<'_>, object: &Value) -> Step {
    let req = asked.req;
    if let Err(invalid) = validation::validate(asked.info, object) {
        let code = match invalid.problem {
            Problem::Name => RejectCode::InvalidName,
            Problem::Object => RejectCode::InvalidObject,
        };
        return reject(
            code,
            format!("{} {:?} is invalid: {invalid}", asked.info.kind, req.name),
        );
    }
    Ok(())
}

/// Step 4a: what tenants may not put in an object.
fn content(asked: &Asked<'_>, object: &Value) -> Step {
    if asked.admin {
        return Ok(());
    }
    let kind = asked.info.kind;
    if let Some(r) = tenancy::node_pinning(kind, object) {
        return reject(
            RejectCode::NodePinning,
            format!("{}: {}", r.field, r.reason),
        );
    }
    if let Some(r) = tenancy::privileged_label(kind, object) {
        return reject(
            RejectCode::PrivilegedNamespace,
            format!("{}: {}", r.field, r.reason),
        );
    }
    Ok(())
}

/// Step 4b: Pod Security at the namespace's level; the warnings at `restricted`.
fn pod_security_warnings(ledger: &Ledger, asked: &Asked<'_>, object: &Value) -> Step<Vec<String>> {
    let Some(site) = templates::pod_site(asked.info.kind, object) else {
        return Ok(Vec::new());
    };
    let level = namespace_level(ledger, asked);
    let found = pod_security::evaluate(&site);
    let enforced: Vec<String> = found
        .iter()
        .filter(|v| v.level <= level)
        .map(ToString::to_string)
        .collect();
    if !enforced.is_empty() {
        return reject(
            RejectCode::PodSecurity,
            format!(
                "violates PodSecurity \"{}:latest\": {}",
                level.as_str(),
                enforced.join("; ")
            ),
        );
    }
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let all: Vec<String> = found.iter().map(ToString::to_string).collect();
    Ok(vec![format!(
        "would violate PodSecurity \"restricted:latest\": {}",
        all.join("; ")
    )])
}

/// The enforced Pod Security level of the request's namespace: its
/// Namespace's label when the ledger remembers one, else `baseline`.
fn namespace_level(ledger: &Ledger, asked: &Asked<'_>) -> Level {
    let key = ObjectKey {
        cluster: asked.req.cluster_id,
        kind: "Namespace".into(),
        namespace: String::new(),
        name: asked.namespace.to_owned(),
    };
    ledger
        .memo(&key)
        .and_then(|m| m.pod_security)
        .unwrap_or(Level::Baseline)
}

/// Step 5: the stake tier, then the namespace (ownership, grants).
fn access(ledger: &Ledger, asked: &Asked<'_>) -> Step {
    let req = asked.req;
    let insufficient = |need: u64, have: u64| {
        reject(
            RejectCode::InsufficientStake,
            format!(
                "{} on {} needs a stake of {}; {} has {}",
                req.verb,
                asked.info.kind,
                sui(need),
                req.sender,
                sui(have)
            ),
        )
    };
    if let Err(Denied::Tier { need, have }) =
        ledger.may(req.cluster_id, req.sender, asked.verb, asked.info.kind, "")
    {
        return insufficient(need, have);
    }
    let ns_exists = ledger
        .namespace_owner(req.cluster_id, asked.scope)
        .is_some();
    if (asked.info.kind == "Namespace" && !ns_exists) || asked.info.scope == Scope::ClusterAdmin {
        return Ok(());
    }
    match ledger.may(
        req.cluster_id,
        req.sender,
        asked.verb,
        asked.info.kind,
        asked.scope,
    ) {
        Ok(()) => {}
        Err(Denied::NoNamespace) => {
            return reject(
                RejectCode::NamespaceNotFound,
                format!("namespace {:?} does not exist", asked.scope),
            );
        }
        Err(Denied::NotYours { owner }) => {
            return reject(
                RejectCode::NamespaceForbidden,
                format!(
                    "namespace {:?} belongs to {owner}; {} has no grant there",
                    asked.scope, req.sender
                ),
            );
        }
        Err(Denied::Tier { need, have }) => return insufficient(need, have),
    }
    Ok(())
}

/// Step 4a: a RoleBinding to a powerful ClusterRole only where the sender
/// owns the namespace (a namespace that does not exist is refused later).
fn role_escalation(ledger: &Ledger, asked: &Asked<'_>, object: &Value) -> Step {
    let req = asked.req;
    let owner = ledger.namespace_owner(req.cluster_id, asked.namespace);
    if asked.admin || owner.is_none_or(|o| o == req.sender) {
        return Ok(());
    }
    match tenancy::binds_powerful_role(asked.info.kind, object) {
        Some(r) => reject(
            RejectCode::RoleEscalation,
            format!("{}: {}", r.field, r.reason),
        ),
        None => Ok(()),
    }
}

/// Step 6: what the request does to the object, given whether it exists.
fn action(ledger: &Ledger, asked: &Asked<'_>) -> Step<Action> {
    let req = asked.req;
    let ns_exists = ledger
        .namespace_owner(req.cluster_id, asked.scope)
        .is_some();
    let exists =
        ledger.object_exists(&ObjectKey::of(req)) || (asked.info.kind == "Namespace" && ns_exists);
    let shown = format!("{} {:?}", asked.info.kubectl_name(), req.name);
    match (asked.verb, exists) {
        (Verb::Create, true) => reject(RejectCode::Conflict, format!("{shown} already exists")),
        (Verb::Create | Verb::Apply, false) => Ok(Action::Create),
        (Verb::Apply | Verb::Replace, true) => Ok(Action::Update),
        (Verb::Replace | Verb::Delete, false) => {
            reject(RejectCode::Conflict, format!("{shown} does not exist"))
        }
        (Verb::Delete, true) => Ok(Action::Delete),
        (Verb::Get | Verb::List | Verb::Watch, _) => reject(
            RejectCode::UnsupportedVerb,
            format!("{} is a read", req.verb),
        ),
    }
}

/// Step 6b: an update keeps the fields kube keeps immutable.
fn immutable(ledger: &Ledger, req: &K8sApiRequest, next: &Memo) -> Step {
    let Some(previous) = ledger.memo(&ObjectKey::of(req)) else {
        return Ok(());
    };
    match previous.changed_field(next) {
        Some(field) => reject(
            RejectCode::ImmutableField,
            format!(
                "{} {:?} is invalid: {field}: field is immutable",
                req.kind, req.name
            ),
        ),
        None => Ok(()),
    }
}
