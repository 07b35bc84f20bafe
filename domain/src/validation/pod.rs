//! Pod specs, as `ValidatePodSpec` checks them: containers (names unique
//! and DNS-1123 labels, image present, ports in range with unique names),
//! volumes (names unique, at most one source, mounts refer to them),
//! enumerations (restartPolicy, dnsPolicy, protocols), tolerations.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{Checked, array, at_least, invalid, join, names, one_of, opt_int, opt_str, text_rule};

/// Validates a Pod object.
pub fn validate_pod(object: &Value) -> Checked {
    let spec = object
        .get("spec")
        .ok_or_else(|| invalid("spec", "required value"))?;
    if !array(spec, "spec", "ephemeralContainers")?.is_empty() {
        return Err(invalid(
            "spec.ephemeralContainers",
            "cannot be set on create",
        ));
    }
    pod_spec(spec, "spec")
}

/// Validates a pod spec at `path` (a Pod's `spec` or a template's).
pub fn pod_spec(spec: &Value, path: &str) -> Checked {
    if !spec.is_object() {
        return Err(invalid(path, "must be a mapping"));
    }
    let volumes = volumes(spec, path)?;
    let mut seen = BTreeSet::new();
    let containers = array(spec, path, "containers")?;
    if containers.is_empty() {
        return Err(invalid(join(path, "containers"), "required value"));
    }
    for list in crate::templates::CONTAINER_LISTS {
        for (i, c) in array(spec, path, list)?.iter().enumerate() {
            let at = format!("{}[{i}]", join(path, list));
            container(c, &at, list != "ephemeralContainers", &volumes, &mut seen)?;
        }
    }
    one_of(
        spec,
        path,
        "restartPolicy",
        &["Always", "OnFailure", "Never"],
    )?;
    one_of(
        spec,
        path,
        "dnsPolicy",
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
    )?;
    at_least(spec, path, "terminationGracePeriodSeconds", 0)?;
    at_least(spec, path, "activeDeadlineSeconds", 1)?;
    for f in ["serviceAccountName", "nodeName"] {
        if let Some(n) = opt_str(spec, path, f)?
            && !n.is_empty()
        {
            text_rule(join(path, f), n, names::dns1123_subdomain)?;
        }
    }
    tolerations(spec, path)
}

/// Volume names (unique DNS-1123 labels), each with at most one source.
fn volumes(spec: &Value, path: &str) -> Result<BTreeSet<String>, super::Invalid> {
    let mut names = BTreeSet::new();
    for (i, v) in array(spec, path, "volumes")?.iter().enumerate() {
        let at = format!("{}[{i}]", join(path, "volumes"));
        let name =
            opt_str(v, &at, "name")?.ok_or_else(|| invalid(join(&at, "name"), "required value"))?;
        text_rule(join(&at, "name"), name, names::dns1123_label)?;
        if !names.insert(name.to_owned()) {
            return Err(invalid(
                join(&at, "name"),
                format!("duplicate value {name:?}"),
            ));
        }
        let sources = v.as_object().map_or(0, |m| {
            m.iter()
                .filter(|(k, v)| *k != "name" && !v.is_null())
                .count()
        });
        if sources > 1 {
            return Err(invalid(&at, "may not specify more than 1 volume type"));
        }
    }
    Ok(names)
}

fn container(
    c: &Value,
    at: &str,
    needs_image: bool,
    volumes: &BTreeSet<String>,
    seen: &mut BTreeSet<String>,
) -> Checked {
    if !c.is_object() {
        return Err(invalid(at, "must be a mapping"));
    }
    let name =
        opt_str(c, at, "name")?.ok_or_else(|| invalid(join(at, "name"), "required value"))?;
    text_rule(join(at, "name"), name, names::dns1123_label)?;
    if !seen.insert(name.to_owned()) {
        return Err(invalid(
            join(at, "name"),
            format!("duplicate value {name:?}"),
        ));
    }
    let image = opt_str(c, at, "image")?.unwrap_or_default();
    if needs_image && image.is_empty() {
        return Err(invalid(join(at, "image"), "required value"));
    }
    if image.trim() != image {
        return Err(invalid(
            join(at, "image"),
            "must not have leading or trailing whitespace",
        ));
    }
    one_of(
        c,
        at,
        "imagePullPolicy",
        &["Always", "IfNotPresent", "Never"],
    )?;
    ports(c, at)?;
    for (i, m) in array(c, at, "volumeMounts")?.iter().enumerate() {
        let mat = format!("{}[{i}]", join(at, "volumeMounts"));
        let vname = opt_str(m, &mat, "name")?.unwrap_or_default();
        if !volumes.contains(vname) {
            return Err(invalid(
                join(&mat, "name"),
                format!("not found: no volume named {vname:?}"),
            ));
        }
        if opt_str(m, &mat, "mountPath")?
            .unwrap_or_default()
            .is_empty()
        {
            return Err(invalid(join(&mat, "mountPath"), "required value"));
        }
    }
    Ok(())
}

fn ports(c: &Value, at: &str) -> Checked {
    let mut port_names = BTreeSet::new();
    for (i, p) in array(c, at, "ports")?.iter().enumerate() {
        let pat = format!("{}[{i}]", join(at, "ports"));
        let n = opt_int(p, &pat, "containerPort")?
            .ok_or_else(|| invalid(join(&pat, "containerPort"), "required value"))?;
        names::port_number(n).map_err(|r| invalid(join(&pat, "containerPort"), r))?;
        if let Some(h) = opt_int(p, &pat, "hostPort")?
            && h != 0
        {
            names::port_number(h).map_err(|r| invalid(join(&pat, "hostPort"), r))?;
        }
        if let Some(name) = opt_str(p, &pat, "name")? {
            text_rule(join(&pat, "name"), name, names::port_name)?;
            if !port_names.insert(name.to_owned()) {
                return Err(invalid(
                    join(&pat, "name"),
                    format!("duplicate value {name:?}"),
                ));
            }
        }
        one_of(p, &pat, "protocol", &["TCP", "UDP", "SCTP"])?;
    }
    Ok(())
}

/// Tolerations: operator `Exists` (no value) or `Equal`; an empty key only
/// with `Exists`; keys are qualified names; known effects.
fn tolerations(spec: &Value, path: &str) -> Checked {
    for (i, t) in array(spec, path, "tolerations")?.iter().enumerate() {
        let at = format!("{}[{i}]", join(path, "tolerations"));
        let key = opt_str(t, &at, "key")?.unwrap_or_default();
        let op = opt_str(t, &at, "operator")?.unwrap_or("Equal");
        let value = opt_str(t, &at, "value")?.unwrap_or_default();
        if !key.is_empty() {
            text_rule(join(&at, "key"), key, names::qualified_name)?;
        }
        match op {
            "Exists" if !value.is_empty() => {
                return Err(invalid(
                    join(&at, "value"),
                    "must be empty when operator is Exists",
                ));
            }
            "Equal" if key.is_empty() => {
                return Err(invalid(
                    join(&at, "operator"),
                    "must be Exists when key is empty",
                ));
            }
            "Exists" | "Equal" => {}
            other => {
                return Err(invalid(
                    join(&at, "operator"),
                    format!("unsupported value {other:?}: supported values: Equal, Exists"),
                ));
            }
        }
        if !value.is_empty() {
            text_rule(join(&at, "value"), value, names::label_value)?;
        }
        one_of(
            t,
            &at,
            "effect",
            &["", "NoSchedule", "PreferNoSchedule", "NoExecute"],
        )?;
    }
    Ok(())
}
