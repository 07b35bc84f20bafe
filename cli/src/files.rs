//! `-f FILE|DIR|-`: the objects to submit, one per YAML or JSON document.
//!
//! Each document becomes one request; a list document (`kind: List` with
//! `items`) becomes one request per item, as kubectl sends them. Its manifest
//! goes on chain as compact JSON (the master parses JSON first, and it is
//! smaller than the YAML).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use daas_domain::kinds;
use serde::Deserialize;
use serde_json::Value;

/// One object to submit.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    /// Where it came from (`web.yaml#2`).
    pub source: String,
    /// `apiVersion`.
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// Namespace ("" for cluster-scoped kinds).
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// The manifest as compact JSON.
    pub manifest: Vec<u8>,
}

impl Doc {
    /// kubectl's name for the object: `deployment.apps/web`.
    pub fn shown(&self) -> String {
        shown(&self.kind, &self.name)
    }
}

/// kubectl's `resource.group/name` for `kind` (the kind lowercased if unknown).
pub fn shown(kind: &str, name: &str) -> String {
    match kinds::lookup(kind) {
        Some(info) => format!("{}/{name}", info.kubectl_name()),
        None => format!("{}/{name}", kind.to_lowercase()),
    }
}

/// Reads every document of `path` (a file, a folder's `*.yaml|*.yml|*.json`
/// in name order, or `-` for standard input). `namespace` is `-n`.
pub fn read(path: &Path, namespace: Option<&str>) -> anyhow::Result<Vec<Doc>> {
    let mut out = Vec::new();
    for (source, text) in sources(path)? {
        out.extend(parse(&source, &text, namespace)?);
    }
    if out.is_empty() {
        bail!("{}: no objects found", path.display());
    }
    Ok(out)
}

fn sources(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    if path == Path::new("-") {
        let text = std::io::read_to_string(std::io::stdin()).context("reading standard input")?;
        return Ok(vec![("stdin".into(), text)]);
    }
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            })
            .collect();
        files.sort();
        return files
            .into_iter()
            .map(|f| {
                let text = std::fs::read_to_string(&f)
                    .with_context(|| format!("reading {}", f.display()))?;
                Ok((f.display().to_string(), text))
            })
            .collect();
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(vec![(path.display().to_string(), text)])
}

/// The documents of one text (YAML, which includes JSON).
pub fn parse(source: &str, text: &str, namespace: Option<&str>) -> anyhow::Result<Vec<Doc>> {
    let mut out = Vec::new();
    for (i, de) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let at = format!("{source}#{}", i + 1);
        let mut value = Value::deserialize(de).with_context(|| format!("{at}: not valid YAML"))?;
        if value.is_null() {
            continue; // an empty document (`---` at the end)
        }
        let Some(items) = list_items(&mut value) else {
            out.push(doc(&at, value, namespace)?);
            continue;
        };
        for (j, mut item) in items.into_iter().enumerate() {
            let at = format!("{at}.items[{j}]");
            if list_items(&mut item).is_some() {
                bail!("{at}: a list inside a list is not supported");
            }
            out.push(doc(&at, item, namespace)?);
        }
    }
    Ok(out)
}

/// The items of a list document (`kind: List`, `SecretList`, ...: any kind
/// ending in `List` with an `items` array), taken out of it; kubectl sends
/// each item as an object of its own, and so does `daas`.
fn list_items(value: &mut Value) -> Option<Vec<Value>> {
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && value.get("items").is_some_and(Value::is_array);
    if !is_list {
        return None;
    }
    match value.get_mut("items").map(Value::take) {
        Some(Value::Array(items)) => Some(items),
        _ => None,
    }
}

fn doc(at: &str, mut value: Value, namespace: Option<&str>) -> anyhow::Result<Doc> {
    let text = |v: &Value, field: &str| -> anyhow::Result<String> {
        match v.pointer(field) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => bail!(
                "{at}: {} is missing",
                field.trim_start_matches('/').replace('/', ".")
            ),
        }
    };
    let api_version = text(&value, "/apiVersion")?;
    let kind = text(&value, "/kind")?;
    let name = text(&value, "/metadata/name")?;
    let namespaced = kinds::lookup(&kind).is_none_or(|k| k.namespaced);
    let in_doc = value
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let namespace = if namespaced {
        match (in_doc, namespace) {
            (Some(d), Some(n)) if d != n => {
                bail!("{at}: the object's namespace {d:?} does not match -n {n:?}")
            }
            (Some(d), _) => d,
            (None, Some(n)) => n.to_owned(),
            (None, None) => "default".to_owned(),
        }
    } else {
        String::new()
    };
    // The stored object names its namespace, as kubectl sends it.
    if namespaced && let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("namespace".into(), Value::String(namespace.clone()));
    }
    let manifest = serde_json::to_vec(&value).with_context(|| format!("{at}: encoding"))?;
    Ok(Doc {
        source: at.to_owned(),
        api_version,
        kind,
        namespace,
        name,
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
---
apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
";

    #[test]
    fn multi_document_yaml_becomes_one_doc_each() {
        let docs = parse("t.yaml", TWO, Some("team-a")).expect("parse");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].shown(), "deployment.apps/web");
        assert_eq!(docs[0].namespace, "team-a");
        let m: Value = serde_json::from_slice(&docs[0].manifest).expect("json");
        assert_eq!(m["metadata"]["namespace"], "team-a");
        assert_eq!(m["spec"]["replicas"], 2);
        assert_eq!(
            (docs[1].kind.as_str(), docs[1].namespace.as_str()),
            ("Namespace", "")
        );
        let defaulted = parse("t.yaml", TWO, None).expect("parse");
        assert_eq!(defaulted[0].namespace, "default");
    }

    #[test]
    fn list_documents_become_one_doc_per_item() {
        let text = "\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: Secret, metadata: {name: b}, data: {k: djE=}}
---
{\"apiVersion\": \"v1\", \"kind\": \"SecretList\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"metadata\": {\"name\": \"c\"}}]}
";
        let docs = parse("l.yaml", text, Some("team-a")).expect("parse");
        let seen: Vec<(&str, &str, &str)> = docs
            .iter()
            .map(|d| (d.source.as_str(), d.kind.as_str(), d.name.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("l.yaml#1.items[0]", "ConfigMap", "a"),
                ("l.yaml#1.items[1]", "Secret", "b"),
                ("l.yaml#2.items[0]", "Secret", "c"),
            ]
        );
        assert!(docs.iter().all(|d| d.namespace == "team-a"));
        let nested = "kind: List\nitems: [{kind: List, items: []}]\n";
        let err = parse("n.yaml", nested, None).expect_err("nested");
        assert!(err.to_string().contains("n.yaml#1.items[0]"), "{err}");
    }

    #[test]
    fn bad_documents_say_where_and_what() {
        let err =
            parse("t.yaml", "kind: Pod\nmetadata: {name: p}\n", None).expect_err("no apiVersion");
        assert_eq!(err.to_string(), "t.yaml#1: apiVersion is missing");
        let err = parse(
            "t.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n",
            Some("b"),
        )
        .expect_err("mismatch");
        assert!(err.to_string().contains("does not match -n"), "{err}");
        assert!(parse("t.yaml", "a: [", None).is_err());
    }
}
