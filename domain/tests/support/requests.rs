//! Requests for the ledger's tests: a `K8sAPIRequest` event with a minimal
//! manifest that names the object as the request does.

#![allow(dead_code)] // each test binary uses its own subset

use daas_domain::{Address, Bytes, Event, Ledger, events::K8sApiRequest};

/// The manifest of `kind` `name` in `namespace` ("" for none).
pub fn manifest(api: &str, kind: &str, namespace: &str, name: &str) -> String {
    let ns_line = if namespace.is_empty() {
        String::new()
    } else {
        format!("\n  namespace: {namespace}")
    };
    format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: {name}{ns_line}\n")
}

/// The identity of a request: who, what, where.
pub struct Target<'a> {
    /// Cluster.
    pub cluster: Address,
    /// Sender.
    pub sender: Address,
    /// Verb.
    pub verb: &'a str,
    /// apiVersion.
    pub api: &'a str,
    /// Kind.
    pub kind: &'a str,
    /// Namespace.
    pub namespace: &'a str,
    /// Name.
    pub name: &'a str,
}

/// The request event for `t` with `manifest`, numbered `request_id`.
pub fn request(t: Target<'_>, request_id: u64, manifest: String) -> Event {
    Event::K8sApiRequest(K8sApiRequest {
        cluster_id: t.cluster,
        request_id,
        sender: t.sender,
        verb: t.verb.into(),
        api_version: t.api.into(),
        kind: t.kind.into(),
        namespace: t.namespace.into(),
        name: t.name.into(),
        manifest: Bytes(manifest.into_bytes()),
        stake: 0,
        timestamp_ms: 0,
        seq: 0,
    })
}

/// `sender`'s `apply` in `cluster` of `[api, kind, namespace, name]` with
/// `manifest`, numbered 0.
pub fn apply(cluster: Address, sender: Address, what: [&str; 4], manifest: String) -> Event {
    let [api, kind, namespace, name] = what;
    let t = Target {
        cluster,
        sender,
        verb: "apply",
        api,
        kind,
        namespace,
        name,
    };
    request(t, 0, manifest)
}

/// `sender` applies the Namespace `namespace` in `cluster` to `ledger`
/// (owning it from then on, given the stake).
pub fn own_namespace(ledger: &mut Ledger, cluster: Address, sender: Address, namespace: &str) {
    let m = manifest("v1", "Namespace", "", namespace);
    ledger.apply(&apply(
        cluster,
        sender,
        ["v1", "Namespace", "", namespace],
        m,
    ));
}
