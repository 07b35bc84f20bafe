//! `get` and `list`: etcd reads of what the apply path wrote, filtered by
//! what the caller may see and by selectors, in pages.
//!
//! A list reads etcd in pages of at most [`PAGE`] keys at one revision
//! (etcd answers at most 4 MiB). With `limit`, the answer stops after that
//! many items and carries a `continue` token: base64url of
//! `{"rv":<revision>,"start":"<next key>"}`; the next page reads at the
//! same revision, and a compacted revision answers 410.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use etcd_client::GetOptions;
use serde_json::{Value, json};

use super::{
    KubeApi, ListQuery, Status, Target,
    authz::Visible,
    selectors::{self, FieldSelector, LabelSelector},
    stored,
};
use crate::state::prefix_end;

/// Keys read from etcd per range request.
pub const PAGE: i64 = 500;

/// One object, or 404.
pub async fn get(api: &KubeApi, target: &Target) -> Result<Value, Status> {
    let key = target
        .key(&api.registry)
        .ok_or_else(|| Status::bad_request("a namespaced object needs a namespace"))?;
    let mut etcd = api.etcd.clone();
    let resp = etcd.get(key.as_bytes(), None).await.map_err(unavailable)?;
    let name = target.name.as_deref().unwrap_or_default();
    let kv = resp
        .kvs()
        .first()
        .ok_or_else(|| Status::not_found(target.info.plural, name))?;
    stored::served(&key, kv.value(), kv.mod_revision(), api.secret_key.as_ref())
        .map_err(|e| Status::internal(e.to_string()))
}

/// etcd failures: compaction is 410, the rest 503.
pub fn unavailable(e: etcd_client::Error) -> Status {
    let text = e.to_string();
    if text.contains("compacted") {
        Status::gone(format!("too old resource version: {text}"))
    } else {
        Status::unavailable(format!("etcd: {text}"))
    }
}

/// Where a continued list resumes.
#[derive(serde::Serialize, serde::Deserialize)]
struct Continue {
    rv: i64,
    start: String,
}

fn decode_continue(token: &str, prefix: &str) -> Result<Continue, Status> {
    let bad = || Status::bad_request("the continue token is not valid");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| bad())?;
    let c: Continue = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if !c.start.starts_with(prefix) || c.rv <= 0 {
        return Err(bad());
    }
    Ok(c)
}

/// A list's items and where it stands.
pub struct Listed {
    /// The objects, in key order.
    pub items: Vec<Value>,
    /// The revision read at.
    pub revision: i64,
    /// The continue token, when `limit` cut the list.
    pub next: Option<String>,
}

/// The namespace (or, for Namespaces, the name) an object key under the
/// kind's `root` prefix is in.
pub fn scope_of<'k>(target: &Target, root: &str, key: &'k str) -> &'k str {
    let rest = key.get(root.len()..).unwrap_or_default();
    if target.info.namespaced {
        rest.split('/').next().unwrap_or_default()
    } else {
        rest
    }
}

/// Parsed selectors of `query` (400 when malformed).
pub fn selectors_of(query: &ListQuery) -> Result<(LabelSelector, FieldSelector), Status> {
    let labels = selectors::labels(query.label_selector.as_deref()).map_err(Status::bad_request)?;
    let fields = selectors::fields(query.field_selector.as_deref()).map_err(Status::bad_request)?;
    Ok((labels, fields))
}

/// The collection `target` names, as far as `visible` shows it.
pub async fn list(
    api: &KubeApi,
    target: &Target,
    visible: &Visible,
    query: &ListQuery,
) -> Result<Listed, Status> {
    let (labels, fields) = selectors_of(query)?;
    let one_ns = match visible {
        Visible::Namespaces(n) if target.info.namespaced && n.len() == 1 => Some(n[0].as_str()),
        _ => None,
    };
    let prefix = target.prefix(&api.registry, one_ns);
    let root = target.prefix(&api.registry, None);
    let (mut start, mut revision) = match &query.continue_token {
        Some(t) => {
            let c = decode_continue(t, &prefix)?;
            (c.start, c.rv)
        }
        None => (prefix.clone(), 0),
    };
    let want = query.limit.unwrap_or(i64::MAX).max(1) as usize;
    let end = prefix_end(prefix.as_bytes());
    let mut items = Vec::new();
    let mut etcd = api.etcd.clone();
    loop {
        let mut opts = GetOptions::new().with_range(end.clone()).with_limit(PAGE);
        if revision > 0 {
            opts = opts.with_revision(revision);
        }
        let resp = etcd
            .get(start.as_bytes(), Some(opts))
            .await
            .map_err(unavailable)?;
        if revision == 0 {
            revision = resp.header().map(|h| h.revision()).unwrap_or_default();
        }
        let kvs = resp.kvs();
        for (i, kv) in kvs.iter().enumerate() {
            let Ok(key) = kv.key_str() else { continue };
            if !visible.shows(scope_of(target, &root, key)) {
                continue;
            }
            match stored::served(key, kv.value(), kv.mod_revision(), api.secret_key.as_ref()) {
                Ok(o) if labels.matches(&o) && fields.matches(&o) => items.push(o),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "a stored object could not be served"),
            }
            if items.len() == want {
                let next = kvs
                    .get(i + 1)
                    .map(|n| n.key().to_vec())
                    .or_else(|| resp.more().then(|| next_key(key)));
                let next = next.and_then(|k| String::from_utf8(k).ok()).map(|start| {
                    URL_SAFE_NO_PAD.encode(
                        serde_json::to_vec(&Continue {
                            rv: revision,
                            start,
                        })
                        .unwrap_or_default(),
                    )
                });
                return Ok(Listed {
                    items,
                    revision,
                    next,
                });
            }
        }
        match kvs.last() {
            Some(last) if resp.more() => {
                start = String::from_utf8(next_key(last.key_str().unwrap_or_default()))
                    .unwrap_or_default();
            }
            _ => {
                return Ok(Listed {
                    items,
                    revision,
                    next: None,
                });
            }
        }
    }
}

/// The smallest key after `key`.
fn next_key(key: &str) -> Vec<u8> {
    let mut k = key.as_bytes().to_vec();
    k.push(0);
    k
}

/// A `<Kind>List` of `listed`.
pub fn list_object(target: &Target, listed: Listed) -> Value {
    let mut metadata = json!({ "resourceVersion": listed.revision.to_string() });
    if let Some(next) = listed.next {
        metadata["continue"] = Value::String(next);
    }
    json!({
        "kind": format!("{}List", target.info.kind),
        "apiVersion": target.info.api_version,
        "metadata": metadata,
        "items": listed.items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_are_checked() {
        let prefix = "/registry/configmaps/a/";
        let good = URL_SAFE_NO_PAD.encode(br#"{"rv":5,"start":"/registry/configmaps/a/x"}"#);
        assert_eq!(decode_continue(&good, prefix).expect("good").rv, 5);
        let other = URL_SAFE_NO_PAD.encode(br#"{"rv":5,"start":"/registry/secrets/a/x"}"#);
        assert_eq!(
            decode_continue(&other, prefix).err().map(|s| s.code),
            Some(400)
        );
        assert!(decode_continue("!!", prefix).is_err());
        assert!(decode_continue(&URL_SAFE_NO_PAD.encode(b"{}"), prefix).is_err());
    }
}
