//! Field validation of admitted objects, as kube-apiserver validates them
//! (`k8s.io/kubernetes/pkg/apis/<group>/validation`): types first (the
//! typed k8s-openapi structs used as a parser only: they ignore unknown
//! fields and enforce no required field), then the semantic rules, ours.
//!
//! - [`names`]: apimachinery's names, keys and values;
//! - [`meta`]: `metadata` (labels, annotations);
//! - [`types`]: the structural parse per kind;
//! - [`pod`]: pod specs (also inside templates);
//! - [`workloads`]: Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob;
//! - [`core`]: Secret, ConfigMap, Service, Ingress;
//! - [`rbac`]: Role, ClusterRole and their bindings.
//!
//! The first problem found decides (in that order). No defaulting happens
//! here: fields the API server would default are not required.

pub mod core;
pub mod meta;
pub mod names;
pub mod pod;
pub mod rbac;
pub mod types;
pub mod workloads;

use serde_json::Value;

use crate::kinds::KindInfo;

/// What kind of problem a field has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// An object's name or namespace is not a valid Kubernetes name.
    Name,
    /// A field's type, presence or value is wrong.
    Object,
}

/// A refused field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// What kind of problem.
    pub problem: Problem,
    /// The field path, e.g. `spec.replicas`.
    pub field: String,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// A field-validation result.
pub type Checked = Result<(), Invalid>;

/// An object-field problem at `field`.
pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Invalid {
    Invalid {
        problem: Problem::Object,
        field: field.into(),
        reason: reason.into(),
    }
}

/// Runs `check` on `text` and turns its refusal into an object problem at `field`.
pub fn text_rule(
    field: impl Into<String>,
    text: &str,
    check: fn(&str) -> Result<(), String>,
) -> Checked {
    check(text).map_err(|r| invalid(field, r))
}

/// `path` + `.` + `field` (or just `field` at the root).
pub fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// The string at `v[field]`, if present: a non-string is an error.
pub fn opt_str<'a>(v: &'a Value, path: &str, field: &str) -> Result<Option<&'a str>, Invalid> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(join(path, field), "must be a string")),
    }
}

/// The integer at `v[field]`, if present: a non-integer is an error.
pub fn opt_int(v: &Value, path: &str, field: &str) -> Result<Option<i64>, Invalid> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(n) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(join(path, field), "must be an integer")),
    }
}

/// `v[field]`, if present, must be at least `min`.
pub fn at_least(v: &Value, path: &str, field: &str, min: i64) -> Checked {
    match opt_int(v, path, field)? {
        Some(n) if n < min => Err(invalid(
            join(path, field),
            format!("{n} must be greater than or equal to {min}"),
        )),
        _ => Ok(()),
    }
}

/// `v[field]`, if present, must be one of `allowed`.
pub fn one_of(v: &Value, path: &str, field: &str, allowed: &[&str]) -> Checked {
    match opt_str(v, path, field)? {
        Some(s) if !allowed.contains(&s) => Err(invalid(
            join(path, field),
            format!(
                "unsupported value {s:?}: supported values: {}",
                allowed.join(", ")
            ),
        )),
        _ => Ok(()),
    }
}

/// The array at `v[field]` (empty when absent); a non-array is an error.
pub fn array<'a>(v: &'a Value, path: &str, field: &str) -> Result<&'a [Value], Invalid> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(invalid(join(path, field), "must be a list")),
    }
}

/// Validates `object` (of kind `info`, already parsed and matched against
/// the request's identity).
pub fn validate(info: &KindInfo, object: &Value) -> Checked {
    meta::validate(info, object)?;
    types::parse(info.kind, object)?;
    match info.kind {
        "Pod" => pod::validate_pod(object),
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" => {
            workloads::validate(info.kind, object)
        }
        "Secret" => core::validate_secret(object),
        "ConfigMap" => core::validate_config_map(object),
        "Service" => core::validate_service(object),
        "Ingress" => core::validate_ingress(object),
        "Role" | "ClusterRole" => rbac::validate_role(info.kind, object),
        "RoleBinding" | "ClusterRoleBinding" => rbac::validate_binding(info.kind, object),
        _ => Ok(()),
    }
}
