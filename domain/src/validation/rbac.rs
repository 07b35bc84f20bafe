//! RBAC objects, as `rbac/validation` checks them: rules with verbs and
//! resources (non-resource URLs only in ClusterRoles), bindings with a
//! valid roleRef (a Role or ClusterRole; only a ClusterRole from a
//! ClusterRoleBinding) and valid subjects.

use serde_json::Value;

use super::{Checked, array, invalid, join, names, opt_str, text_rule};

const GROUP: &str = "rbac.authorization.k8s.io";

/// A Role or ClusterRole: every rule names verbs, and resources or (in a
/// ClusterRole only) non-resource URLs.
pub fn validate_role(kind: &str, object: &Value) -> Checked {
    let aggregated = object.get("aggregationRule").is_some_and(|a| !a.is_null());
    for (i, r) in array(object, "", "rules")?.iter().enumerate() {
        let at = format!("rules[{i}]");
        if array(r, &at, "verbs")?.is_empty() {
            return Err(invalid(
                join(&at, "verbs"),
                "verbs must contain at least one value",
            ));
        }
        let urls = array(r, &at, "nonResourceURLs")?;
        if !urls.is_empty() && kind == "Role" {
            return Err(invalid(
                join(&at, "nonResourceURLs"),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        let resources = array(r, &at, "resources")?;
        if urls.is_empty() && (resources.is_empty() || array(r, &at, "apiGroups")?.is_empty()) {
            return Err(invalid(
                &at,
                "resource rules must supply at least one api group and one resource",
            ));
        }
    }
    if aggregated && kind == "Role" {
        return Err(invalid("aggregationRule", "only ClusterRoles aggregate"));
    }
    Ok(())
}

/// A RoleBinding or ClusterRoleBinding: roleRef and subjects.
pub fn validate_binding(kind: &str, object: &Value) -> Checked {
    let role_ref = object
        .get("roleRef")
        .ok_or_else(|| invalid("roleRef", "required value"))?;
    if opt_str(role_ref, "roleRef", "apiGroup")? != Some(GROUP) {
        return Err(invalid("roleRef.apiGroup", format!("must be {GROUP}")));
    }
    let allowed: &[&str] = if kind == "RoleBinding" {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    let ref_kind = opt_str(role_ref, "roleRef", "kind")?.unwrap_or_default();
    if !allowed.contains(&ref_kind) {
        return Err(invalid(
            "roleRef.kind",
            format!(
                "unsupported value {ref_kind:?}: supported values: {}",
                allowed.join(", ")
            ),
        ));
    }
    let name = opt_str(role_ref, "roleRef", "name")?.unwrap_or_default();
    path_segment_name(name).map_err(|r| invalid("roleRef.name", r))?;
    for (i, s) in array(object, "", "subjects")?.iter().enumerate() {
        subject(s, &format!("subjects[{i}]"), kind == "ClusterRoleBinding")?;
    }
    Ok(())
}

/// A name usable as a URL path segment: not empty, `.` or `..`, no `/` or `%`.
fn path_segment_name(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("required value".into());
    }
    if s == "."
        || s == ".."
        || s.contains('/')
        || s.contains('%')
        || s.chars().any(char::is_control)
    {
        return Err(format!(
            "{s:?} may not be '.' or '..' or contain '/', '%' or control characters"
        ));
    }
    Ok(())
}

fn subject(s: &Value, at: &str, cluster_wide: bool) -> Checked {
    let name = opt_str(s, at, "name")?.unwrap_or_default();
    let group = opt_str(s, at, "apiGroup")?.unwrap_or_default();
    match opt_str(s, at, "kind")?.unwrap_or_default() {
        "ServiceAccount" => {
            text_rule(join(at, "name"), name, names::dns1123_subdomain)?;
            if !group.is_empty() {
                return Err(invalid(
                    join(at, "apiGroup"),
                    "must be empty for a ServiceAccount",
                ));
            }
            if cluster_wide && opt_str(s, at, "namespace")?.unwrap_or_default().is_empty() {
                return Err(invalid(join(at, "namespace"), "required value"));
            }
            Ok(())
        }
        "User" | "Group" => {
            if group != GROUP {
                return Err(invalid(join(at, "apiGroup"), format!("must be {GROUP}")));
            }
            path_segment_name(name).map_err(|r| invalid(join(at, "name"), r))
        }
        other => Err(invalid(
            join(at, "kind"),
            format!("unsupported value {other:?}: supported values: ServiceAccount, User, Group"),
        )),
    }
}
