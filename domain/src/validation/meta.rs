//! `metadata` as `ValidateObjectMeta` checks it: label keys and values,
//! annotation keys and their total size; for a Namespace, the Pod Security
//! labels' values.

use serde_json::{Map, Value};

use super::{Checked, invalid, join, names};
use crate::{kinds::KindInfo, pod_security};

/// Largest total size of a object's annotations (keys and values), bytes.
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// The string map at `path` (labels, annotations, selectors): absent is
/// empty; anything but strings is an error.
pub fn string_map<'a>(
    v: Option<&'a Value>,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, super::Invalid> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => {
            if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
                return Err(invalid(format!("{path}[{k}]"), "must be a string"));
            }
            Ok(Some(m))
        }
        Some(_) => Err(invalid(path, "must be a map of strings")),
    }
}

/// Label keys and values (`metadata.labels`, template labels, selectors).
pub fn labels(v: Option<&Value>, path: &str) -> Checked {
    let Some(map) = string_map(v, path)? else {
        return Ok(());
    };
    for (k, value) in map {
        names::qualified_name(k).map_err(|r| invalid(format!("{path}[{k}]"), r))?;
        let value = value.as_str().unwrap_or_default();
        names::label_value(value).map_err(|r| invalid(format!("{path}[{k}]"), r))?;
    }
    Ok(())
}

/// Annotation keys (qualified names, compared lower-case) and total size.
pub fn annotations(v: Option<&Value>, path: &str) -> Checked {
    let Some(map) = string_map(v, path)? else {
        return Ok(());
    };
    let mut total = 0usize;
    for (k, value) in map {
        names::qualified_name(&k.to_ascii_lowercase())
            .map_err(|r| invalid(format!("{path}[{k}]"), r))?;
        total += k.len() + value.as_str().map_or(0, str::len);
    }
    if total > ANNOTATIONS_MAX_BYTES {
        return Err(invalid(
            path,
            format!("annotations are {total} bytes; the limit is {ANNOTATIONS_MAX_BYTES}"),
        ));
    }
    Ok(())
}

/// A metadata mapping at `path` (an object's or a template's).
pub fn object_meta(meta: Option<&Value>, path: &str) -> Checked {
    let Some(meta) = meta else { return Ok(()) };
    if !meta.is_object() {
        return Err(invalid(path, "must be a mapping"));
    }
    labels(meta.get("labels"), &join(path, "labels"))?;
    annotations(meta.get("annotations"), &join(path, "annotations"))
}

/// A Namespace's Pod Security labels must hold a level (`privileged`,
/// `baseline`, `restricted`) or, for `*-version`, `latest` or `v1.N`.
fn pod_security_labels(meta: &Value) -> Checked {
    let Some(Value::Object(labels)) = meta.get("labels") else {
        return Ok(());
    };
    for (k, v) in labels {
        let v = v.as_str().unwrap_or_default();
        let field = format!("metadata.labels[{k}]");
        if pod_security::LEVEL_LABELS.contains(&k.as_str())
            && pod_security::Level::parse(v).is_none()
        {
            return Err(invalid(
                field,
                format!("{v:?} must be one of privileged, baseline, restricted"),
            ));
        }
        let version_ok = v == "latest"
            || v.strip_prefix("v1.")
                .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if pod_security::VERSION_LABELS.contains(&k.as_str()) && !version_ok {
            return Err(invalid(field, format!("{v:?} must be latest or v1.N")));
        }
    }
    Ok(())
}

/// Validates an object's `metadata`.
pub fn validate(info: &KindInfo, object: &Value) -> Checked {
    let meta = object.get("metadata");
    object_meta(meta, "metadata")?;
    if info.kind == "Namespace"
        && let Some(meta) = meta
    {
        pod_security_labels(meta)?;
    }
    Ok(())
}
