//! Label and field selectors, as kube-apiserver parses and applies them.
//!
//! Labels: requirements joined by `,` (AND): `key=v`, `key==v`, `key!=v`,
//! `key in (a,b)`, `key notin (a,b)`, `key` (exists), `!key` (absent).
//! `!=` and `notin` also match objects without the key, as in kube.
//! Fields: `path=v`, `path==v`, `path!=v` joined by `,`, over dotted
//! paths (`metadata.name`, `spec.nodeName`, `involvedObject.uid`);
//! values compare as strings (absent = empty), `\,` `\=` `\\` escape.

use serde_json::Value;

/// The longest selector accepted, bytes.
pub const MAX_SELECTOR: usize = 4096;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    Absent,
}

/// A parsed `labelSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<(String, Op)>,
}

/// A parsed `fieldSelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    /// (path, value, equal?)
    terms: Vec<(String, String, bool)>,
}

fn check_len(text: &str) -> Result<(), String> {
    if text.len() > MAX_SELECTOR {
        return Err(format!("selector longer than {MAX_SELECTOR} bytes"));
    }
    Ok(())
}

/// Label keys and values: `[prefix/]name`, alphanumerics and `-_.`.
fn token(t: &str, what: &str, may_be_empty: bool) -> Result<String, String> {
    let t = t.trim();
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "-_./".contains(c);
    if (t.is_empty() && !may_be_empty) || t.len() > 316 || !t.chars().all(ok_char) {
        return Err(format!(
            "invalid label {what}: {:?}",
            super::paths::printable(t)
        ));
    }
    Ok(t.to_owned())
}

/// Splits on commas outside parentheses.
fn split_requirements(text: &str) -> Result<Vec<&str>, String> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err("unbalanced parentheses in the selector".into());
        }
    }
    if depth != 0 {
        return Err("unbalanced parentheses in the selector".into());
    }
    out.push(&text[start..]);
    Ok(out)
}

fn set(values: &str) -> Result<Vec<String>, String> {
    let inner = values
        .trim()
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| "expected (a,b,…) after in/notin".to_owned())?;
    inner.split(',').map(|v| token(v, "value", true)).collect()
}

fn requirement(r: &str) -> Result<(String, Op), String> {
    let r = r.trim();
    if let Some(key) = r.strip_prefix('!') {
        return Ok((token(key, "key", false)?, Op::Absent));
    }
    for (op, negate) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((k, v)) = r.split_once(op) {
            let v = vec![token(v, "value", true)?];
            let op = if negate { Op::NotIn(v) } else { Op::In(v) };
            return Ok((token(k, "key", false)?, op));
        }
    }
    if let Some((k, rest)) = r.split_once(' ') {
        let rest = rest.trim_start();
        if let Some(v) = rest.strip_prefix("notin") {
            return Ok((token(k, "key", false)?, Op::NotIn(set(v)?)));
        }
        if let Some(v) = rest.strip_prefix("in") {
            return Ok((token(k, "key", false)?, Op::In(set(v)?)));
        }
        return Err(format!(
            "unknown operator in {:?}",
            super::paths::printable(r)
        ));
    }
    Ok((token(r, "key", false)?, Op::Exists))
}

/// Parses a `labelSelector` (`None` or empty: everything).
pub fn labels(text: Option<&str>) -> Result<LabelSelector, String> {
    let text = text.unwrap_or_default().trim();
    check_len(text)?;
    if text.is_empty() {
        return Ok(LabelSelector::default());
    }
    let requirements = split_requirements(text)?
        .into_iter()
        .map(requirement)
        .collect::<Result<_, _>>()?;
    Ok(LabelSelector { requirements })
}

/// Splits on unescaped `sep`, unescaping `\x`.
fn split_escaped(text: &str, sep: char) -> Vec<String> {
    let (mut out, mut cur, mut escaped) = (Vec::new(), String::new(), false);
    for c in text.chars() {
        match c {
            _ if escaped => {
                cur.push(c);
                escaped = false;
            }
            '\\' => escaped = true,
            c if c == sep => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Parses a `fieldSelector` (`None` or empty: everything).
pub fn fields(text: Option<&str>) -> Result<FieldSelector, String> {
    let text = text.unwrap_or_default().trim();
    check_len(text)?;
    if text.is_empty() {
        return Ok(FieldSelector::default());
    }
    let mut terms = Vec::new();
    for term in split_escaped(text, ',') {
        let (path, value, equal) = if let Some((p, v)) = term.split_once("!=") {
            (p, v, false)
        } else if let Some((p, v)) = term.split_once("==") {
            (p, v, true)
        } else if let Some((p, v)) = term.split_once('=') {
            (p, v, true)
        } else {
            return Err(format!(
                "invalid field selector {:?}: expected path=value",
                super::paths::printable(&term)
            ));
        };
        let path = path.trim();
        if path.is_empty() || !path.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
            return Err(format!(
                "invalid field path {:?}",
                super::paths::printable(path)
            ));
        }
        terms.push((path.to_owned(), value.to_owned(), equal));
    }
    Ok(FieldSelector { terms })
}

impl LabelSelector {
    /// Whether `object`'s `metadata.labels` match.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        self.requirements.iter().all(|(key, op)| {
            let v = labels.get(key).and_then(Value::as_str);
            match op {
                Op::In(set) => v.is_some_and(|v| set.iter().any(|s| s == v)),
                Op::NotIn(set) => v.is_none_or(|v| !set.iter().any(|s| s == v)),
                Op::Exists => v.is_some(),
                Op::Absent => v.is_none(),
            }
        })
    }
}

/// The string at dotted `path` of `object` (numbers and booleans as text; absent: empty).
fn field(object: &Value, path: &str) -> String {
    let v = path.split('.').fold(object, |v, seg| &v[seg]);
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

impl FieldSelector {
    /// Whether `object`'s fields match.
    pub fn matches(&self, object: &Value) -> bool {
        self.terms
            .iter()
            .all(|(path, value, equal)| (field(object, path) == *value) == *equal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "web", "namespace": "a", "labels": labels}, "status": {"phase": "Running"}})
    }

    #[test]
    fn label_selectors_as_kube_documents_them() {
        let o = obj(json!({"environment": "production", "tier": "frontend"}));
        let yes = [
            "environment=production",
            "environment==production,tier",
            "tier!=backend",
            "environment in (production, qa)",
            "tier notin (frontend2,backend)",
            "!partition",
            "partition!=x",
            "",
        ];
        for s in yes {
            assert!(labels(Some(s)).expect(s).matches(&o), "{s}");
        }
        let no = [
            "environment=qa",
            "partition",
            "!tier",
            "environment notin (production)",
            "tier in (a)",
        ];
        for s in no {
            assert!(!labels(Some(s)).expect(s).matches(&o), "{s}");
        }
        for bad in [
            "a b c", "(x", "x in a", "=v", "a=b=c d", "k=\u{0}", "x in (a", "a)",
        ] {
            assert!(labels(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn field_selectors_compare_strings() {
        let o = obj(json!({}));
        for s in [
            "metadata.name=web",
            "metadata.namespace==a,status.phase=Running",
            "spec.nodeName=",
            "metadata.name!=x",
        ] {
            assert!(fields(Some(s)).expect(s).matches(&o), "{s}");
        }
        for s in ["metadata.name=x", "metadata.name!=web"] {
            assert!(!fields(Some(s)).expect(s).matches(&o), "{s}");
        }
        let escaped = json!({"metadata": {"name": "a,b"}});
        assert!(
            fields(Some("metadata.name=a\\,b"))
                .expect("escaped")
                .matches(&escaped)
        );
        for bad in ["name", "a b=c", "=x"] {
            assert!(fields(Some(bad)).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn selectors_never_panic(s in "\\PC{0,300}") {
            let o = obj(json!({"a": "b"}));
            if let Ok(l) = labels(Some(&s)) { let _ = l.matches(&o); }
            if let Ok(f) = fields(Some(&s)) { let _ = f.matches(&o); }
        }
    }
}
