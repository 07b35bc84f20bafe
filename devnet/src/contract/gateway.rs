//! `daas::gateway`: clusters, and the checks every request passes before it is
//! numbered and announced (manifest size; name, namespace, kind and apiVersion
//! well-formed as Kubernetes requires; the stake tier; cluster authority for
//! cluster-scoped kinds and reserved namespaces).

use std::collections::BTreeMap;

use daas_domain::{
    Address, Bytes, ObjectId,
    events::*,
    roles::{
        CLUSTER_ADMIN_GRANT, MAX_MANIFEST_BYTES, Role, Verb, needs_cluster_authority,
        required_stake,
    },
};

use super::{Abort, Cluster, ContractState, Ctx, GATEWAY, check, codes::*, next_seq};

/// Longest object name (a DNS-1123 subdomain), bytes (`gateway::MAX_NAME_BYTES`).
pub const MAX_NAME_BYTES: usize = 253;
/// Longest namespace (a DNS-1123 label), bytes (`gateway::MAX_LABEL_BYTES`).
pub const MAX_LABEL_BYTES: usize = 63;

/// The string arguments and manifest of `gateway::submit_request`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// kubectl verb.
    pub verb: String,
    /// apiVersion.
    pub api_version: String,
    /// Kind.
    pub kind: String,
    /// Namespace ("" for cluster-scoped).
    pub namespace: String,
    /// Object name.
    pub name: String,
    /// Manifest bytes.
    pub manifest: Vec<u8>,
}

impl ContractState {
    /// `gateway::assert_admin` on the cluster, as `module::function` calls it.
    pub(super) fn assert_admin(
        &mut self,
        cap_pool_id: ObjectId,
        cluster_id: ObjectId,
        module: &'static str,
        function: &'static str,
    ) -> Result<(), Abort> {
        let cluster = self.cluster_mut(cluster_id, module, function)?;
        check(
            cap_pool_id == cluster.pool_id,
            GATEWAY,
            "assert_admin",
            E_NOT_CLUSTER_ADMIN,
        )
    }

    /// `gateway::create_cluster`: `new_id` is the fresh object id the executor assigned.
    pub fn create_cluster(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        new_id: ObjectId,
        name: String,
    ) -> Event {
        self.clusters.insert(
            new_id,
            Cluster {
                name: name.clone(),
                admin: ctx.sender,
                pool_id: cap_pool_id,
                next_request_id: 0,
                // 0 is this `ClusterCreated`'s.
                event_seq: 1,
                grants: BTreeMap::new(),
            },
        );
        Event::ClusterCreated(ClusterCreated {
            cluster_id: new_id,
            name,
            admin: ctx.sender,
            timestamp_ms: ctx.timestamp_ms,
        })
    }

    /// `gateway::submit_request`.
    pub fn submit_request(
        &mut self,
        ctx: Ctx,
        cluster_id: ObjectId,
        r: Request,
    ) -> Result<Event, Abort> {
        const F: &str = "submit_request";
        let fails = |code| Abort {
            module: GATEWAY,
            function: F,
            code,
        };
        check_identity(&r).map_err(fails)?;
        let verb = Verb::parse(&r.verb).ok_or(fails(E_UNKNOWN_VERB))?;
        let stake = self.tier_stake(ctx.sender);
        check(
            stake >= required_stake(verb, &r.kind),
            GATEWAY,
            F,
            E_INSUFFICIENT_STAKE,
        )?;
        if needs_cluster_authority(&r.kind, &r.namespace, &r.name) {
            let cluster = self.clusters.get(&cluster_id);
            let authority = cluster.is_some_and(|c| self.has_cluster_authority(c, ctx.sender));
            check(authority, GATEWAY, F, E_NOT_CLUSTER_AUTHORITY)?;
        }
        let cluster = self.cluster_mut(cluster_id, GATEWAY, F)?;
        let request_id = cluster.next_request_id;
        cluster.next_request_id += 1;
        Ok(Event::K8sApiRequest(K8sApiRequest {
            cluster_id,
            request_id,
            sender: ctx.sender,
            verb: r.verb,
            api_version: r.api_version,
            kind: r.kind,
            namespace: r.namespace,
            name: r.name,
            manifest: Bytes(r.manifest),
            stake,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut cluster.event_seq),
        }))
    }

    /// `gateway::has_cluster_authority`: the cluster's creator, or a granted
    /// cluster admin whose admin-role stake is at least the admin minimum.
    pub fn has_cluster_authority(&self, cluster: &Cluster, who: Address) -> bool {
        who == cluster.admin
            || (cluster
                .grants
                .contains_key(&(CLUSTER_ADMIN_GRANT.to_owned(), who))
                && self.stake_of(who, Role::Admin.to_move()) >= Role::Admin.min_stake())
    }
}

/// The checks of `submit_request` before the verb, in the Move order; the
/// abort code of the first that fails.
fn check_identity(r: &Request) -> Result<(), u64> {
    let first_failing = [
        (r.manifest.len() <= MAX_MANIFEST_BYTES, E_MANIFEST_TOO_LARGE),
        (!r.name.is_empty(), E_EMPTY_NAME),
        (is_dns1123_subdomain(&r.name), E_INVALID_NAME),
        (
            r.namespace.is_empty() || is_dns1123_label(&r.namespace),
            E_INVALID_NAMESPACE,
        ),
        (is_kind(&r.kind), E_INVALID_KIND),
        (is_api_version(&r.api_version), E_INVALID_API_VERSION),
    ]
    .into_iter()
    .find(|(ok, _)| !ok);
    match first_failing {
        Some((_, code)) => Err(code),
        None => Ok(()),
    }
}

/// `gateway::is_dns1123_subdomain`: 1-253 bytes of dot-separated parts of
/// `[a-z0-9-]`, each starting and ending alphanumeric.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    is_dns_name(s.as_bytes(), true, MAX_NAME_BYTES)
}

/// `gateway::is_dns1123_label`: 1-63 bytes of `[a-z0-9-]`, starting and ending alphanumeric.
pub fn is_dns1123_label(s: &str) -> bool {
    is_dns_name(s.as_bytes(), false, MAX_LABEL_BYTES)
}

/// `gateway::is_dns_name` over the whole of `b`.
fn is_dns_name(b: &[u8], dots: bool, max: usize) -> bool {
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if b.len() > max || !is_alnum(first) || !is_alnum(last) {
        return false;
    }
    b.iter().enumerate().all(|(i, &c)| match c {
        // Neither end is a '.', so both neighbours exist.
        b'.' => dots && is_alnum(b[i - 1]) && is_alnum(b[i + 1]),
        b'-' => true,
        c => is_alnum(c),
    })
}

/// `gateway::is_kind`: 1-63 ASCII letters and digits, starting upper-case.
pub fn is_kind(kind: &str) -> bool {
    let b = kind.as_bytes();
    b.first().is_some_and(u8::is_ascii_uppercase)
        && b.len() <= MAX_LABEL_BYTES
        && b.iter().all(u8::is_ascii_alphanumeric)
}

/// `gateway::is_api_version`: `version` (a label) or `group/version` (a subdomain, a label).
pub fn is_api_version(api_version: &str) -> bool {
    match api_version.split_once('/') {
        None => is_dns1123_label(api_version),
        Some((group, version)) => {
            is_dns_name(group.as_bytes(), true, MAX_NAME_BYTES) && is_dns1123_label(version)
        }
    }
}

/// `[a-z0-9]`.
fn is_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}
