//! Watches: newline-delimited JSON events over a chunked response, from an
//! etcd watch of the target's prefix.
//!
//! - Start: after `resourceVersion` when given; otherwise the current
//!   objects are sent first as `ADDED` (kube's initial state) and the
//!   watch starts after the revision they were read at.
//! - Events: `ADDED` when the key was created at that revision, else
//!   `MODIFIED`; `DELETED` carries the object as it was (etcd's prev_kv).
//!   Each passes selectors and a check against the latest authority: a
//!   namespace the caller may no longer read sends nothing more.
//! - `BOOKMARK` every `bookmark_interval` when `allowWatchBookmarks`
//!   (the revision last seen); a compacted start ends the stream with one
//!   `ERROR` event carrying `Status` 410 `Expired`; `timeoutSeconds` ends it.

use std::{sync::Arc, time::Duration};

use axum::{
    body::Body,
    http::header,
    response::{IntoResponse, Response},
};
use daas_domain::roles::Verb;
use etcd_client::{EventType, WatchOptions};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::{
    Caller, KubeApi, ListQuery, Status, Target, authz,
    authz::Visible,
    objects, stored,
    table::{self, Include},
};
use crate::state::prefix_end;

/// Longest watch without `timeoutSeconds`: 30 minutes (kube's default range).
const MAX_WATCH: Duration = Duration::from_secs(1800);

/// The watch `caller` asked for on `target` (already authorised: `visible`).
pub async fn serve(
    api: Arc<KubeApi>,
    caller: Caller,
    target: Target,
    visible: Visible,
    query: ListQuery,
    table: Option<Include>,
) -> Response {
    let (labels, fields) = match objects::selectors_of(&query) {
        Ok(s) => s,
        Err(s) => return s.into_response(),
    };
    let start_after = match query
        .resource_version
        .as_deref()
        .filter(|v| !v.is_empty() && *v != "0")
    {
        Some(v) => match v.parse::<i64>() {
            Ok(rv) => Some(rv),
            Err(_) => {
                return Status::bad_request(format!("resourceVersion {v:?} is not a number"))
                    .into_response();
            }
        },
        None => None,
    };
    let (tx, rx) = mpsc::channel::<Vec<u8>>(256);
    let mut initial = Vec::new();
    let revision = match start_after {
        Some(rv) => rv,
        None => {
            let list_query = ListQuery {
                limit: None,
                continue_token: None,
                ..query.clone()
            };
            match objects::list(&api, &target, &visible, &list_query).await {
                Ok(l) => {
                    initial = l.items;
                    l.revision
                }
                Err(s) => return s.into_response(),
            }
        }
    };
    let timeout = query
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(MAX_WATCH)
        .min(MAX_WATCH);
    let job = Watch {
        api: api.clone(),
        caller,
        target,
        labels,
        fields,
        bookmarks: query.allow_watch_bookmarks,
        table,
    };
    tokio::spawn(async move {
        api.metrics.watches_open.inc();
        for o in initial {
            if !job.send(&tx, "ADDED", o).await {
                break;
            }
        }
        let _ = tokio::time::timeout(timeout, job.run(&tx, revision)).await;
        api.metrics.watches_open.dec();
    });
    let stream =
        tokio_stream::wrappers::ReceiverStream::new(rx).map(Ok::<_, std::convert::Infallible>);
    let mut r = Body::from_stream(stream).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    r
}

use tokio_stream::StreamExt as _;

struct Watch {
    api: Arc<KubeApi>,
    caller: Caller,
    target: Target,
    labels: super::selectors::LabelSelector,
    fields: super::selectors::FieldSelector,
    bookmarks: bool,
    /// Send objects as one-row Tables (kubectl's `get -w`).
    table: Option<Include>,
}

impl Watch {
    /// Sends one event line; false when the client is gone.
    async fn send(&self, tx: &mpsc::Sender<Vec<u8>>, kind: &'static str, object: Value) -> bool {
        self.api
            .metrics
            .watch_events
            .get_or_create(&vec![("type", kind)])
            .inc();
        let object = match self.table {
            Some(include) if kind != "ERROR" && kind != "BOOKMARK" => {
                let rv = object["metadata"]["resourceVersion"]
                    .as_str()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_default();
                let now_s = (self.api.clock)() / 1000;
                table::table(self.target.info.kind, &[object], rv, include, now_s)
            }
            _ => object,
        };
        let mut line =
            serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
        line.push(b'\n');
        tx.send(line).await.is_ok()
    }

    /// Whether an object (in `scope`) may still be shown, by the latest authority.
    fn may_show(&self, scope: &str) -> bool {
        self.api
            .authority()
            .and_then(|access| authz::visible(&access, &self.caller, Verb::Watch, &self.target))
            .is_ok_and(|v| v.shows(scope))
    }

    async fn run(&self, tx: &mpsc::Sender<Vec<u8>>, after: i64) {
        let ns = self.target.namespace.as_deref();
        let prefix = self.target.prefix(&self.api.registry, ns);
        let opts = WatchOptions::new()
            .with_range(prefix_end(prefix.as_bytes()))
            .with_start_revision(after + 1)
            .with_prev_key()
            .with_progress_notify();
        let mut etcd = self.api.etcd.clone();
        let mut stream = match etcd.watch(prefix.as_bytes(), Some(opts)).await {
            Ok(s) => s,
            Err(e) => {
                self.send(tx, "ERROR", objects::unavailable(e).to_json())
                    .await;
                return;
            }
        };
        let mut seen = after;
        let mut tick = tokio::time::interval(self.api.bookmark_interval);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick(), if self.bookmarks => {
                    let mark = json!({"kind": self.target.info.kind, "apiVersion": self.target.info.api_version,
                                      "metadata": {"resourceVersion": seen.to_string()}});
                    if !self.send(tx, "BOOKMARK", mark).await { return; }
                }
                _ = tx.closed() => return,
                msg = stream.message() => {
                    let resp = match msg {
                        Ok(Some(r)) => r,
                        Ok(None) => return,
                        Err(e) => { self.send(tx, "ERROR", objects::unavailable(e).to_json()).await; return; }
                    };
                    if resp.compact_revision() > 0 || (resp.canceled() && resp.cancel_reason().contains("compacted")) {
                        let s = Status::gone(format!("too old resource version: {} ({})", after, resp.compact_revision()));
                        self.send(tx, "ERROR", s.to_json()).await;
                        return;
                    }
                    if let Some(h) = resp.header() { seen = seen.max(h.revision()); }
                    for ev in resp.events() {
                        if !self.event(tx, ev).await { return; }
                    }
                }
            }
        }
    }

    /// Sends `ev` if the caller may see it; false when the client is gone.
    async fn event(&self, tx: &mpsc::Sender<Vec<u8>>, ev: &etcd_client::Event) -> bool {
        let Some(kv) = ev.kv() else { return true };
        let Ok(key) = kv.key_str() else { return true };
        let root = self.target.prefix(&self.api.registry, None);
        let scope = objects::scope_of(&self.target, &root, key);
        if !self.may_show(scope) {
            return true;
        }
        let secret = self.api.secret_key.as_ref();
        let (kind, object) = match ev.event_type() {
            EventType::Put => {
                let kind = if kv.create_revision() == kv.mod_revision() {
                    "ADDED"
                } else {
                    "MODIFIED"
                };
                (
                    kind,
                    stored::served(key, kv.value(), kv.mod_revision(), secret),
                )
            }
            EventType::Delete => {
                let Some(prev) = ev.prev_kv() else {
                    return true;
                };
                (
                    "DELETED",
                    stored::served(key, prev.value(), kv.mod_revision(), secret),
                )
            }
        };
        match object {
            Ok(o) if self.labels.matches(&o) && self.fields.matches(&o) => {
                self.send(tx, kind, o).await
            }
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(error = %e, "a watched object could not be served");
                true
            }
        }
    }
}
