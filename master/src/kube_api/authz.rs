//! What a caller may read, from the committed ledger ([`Access`]): the
//! same rule as admission ([`daas_domain::access::may`]), per verb.
//!
//! - A namespaced kind in one namespace: the kind's read tier, and the
//!   namespace owned, granted, or under cluster authority.
//! - A namespaced kind in all namespaces: the tier, then only the
//!   namespaces that pass (an empty list is not an error).
//! - Namespaces: each is read as if it were in itself (its owner and
//!   grantees see it), at the Namespace tier (5 SUI).
//! - Other cluster-scoped kinds (ClusterRoles, CRDs, …): cluster authority
//!   and the tier.
//!
//! A namespace that does not exist and one owned by someone else give the
//! same 403 text, so the answer does not tell whether it exists.

use daas_domain::{
    access::Access,
    ledger::Denied,
    roles::{MIST_PER_SUI, Verb},
};

use super::{Caller, Status, Target};

/// Where a read may look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visible {
    /// These namespaces (for Namespaces themselves: these names), in name order.
    Namespaces(Vec<String>),
    /// The whole cluster-scoped collection.
    Cluster,
}

impl Visible {
    /// Whether an object in `namespace` (a Namespace: named `namespace`) may be shown.
    pub fn shows(&self, namespace: &str) -> bool {
        match self {
            Visible::Cluster => true,
            Visible::Namespaces(n) => n.binary_search_by(|x| x.as_str().cmp(namespace)).is_ok(),
        }
    }
}

/// What `caller` may `verb` (get, list or watch) of `target`, or the 403.
pub fn visible(
    access: &Access,
    caller: &Caller,
    verb: Verb,
    target: &Target,
) -> Result<Visible, Status> {
    let kind = target.info.kind;
    let who = caller.address;
    let deny = |why: Denied| forbidden(caller, verb, target, &why);
    let namespace = if kind == "Namespace" {
        // A Namespace is read as if it were in itself.
        &target.name
    } else if target.info.namespaced {
        &target.namespace
    } else {
        access.may(who, verb, kind, "").map_err(deny)?;
        if !access.is_cluster_admin(who) {
            return Err(forbidden_text(
                caller,
                verb,
                target,
                "cluster-scoped kinds are readable only with cluster authority",
            ));
        }
        return Ok(Visible::Cluster);
    };
    match namespace {
        Some(ns) => access
            .may(who, verb, kind, ns)
            .map(|()| Visible::Namespaces(vec![ns.clone()]))
            .map_err(deny),
        None => access
            .namespaces_for(who, verb, kind)
            .map(Visible::Namespaces)
            .map_err(deny),
    }
}

/// SUI with up to 9 decimals, trailing zeros cut (`0.5`, `10`).
fn sui(mist: u64) -> String {
    let whole = mist / MIST_PER_SUI;
    let frac = mist % MIST_PER_SUI;
    if frac == 0 {
        return whole.to_string();
    }
    let f = format!("{frac:09}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

fn forbidden(caller: &Caller, verb: Verb, target: &Target, why: &Denied) -> Status {
    forbidden_text(caller, verb, target, &reason(verb, why))
}

/// Why the ledger said no, in words that name no other tenant.
pub fn reason(verb: Verb, why: &Denied) -> String {
    match why {
        Denied::Tier { need, have } => format!(
            "{} needs a tier stake of {} SUI; yours is {} SUI",
            verb.as_str(),
            sui(*need),
            sui(*have)
        ),
        Denied::NoNamespace | Denied::NotYours { .. } => {
            "not a namespace you own or were granted on chain".to_owned()
        }
    }
}

/// kube's wording: `configmaps is forbidden: User "sui:0x…" cannot list
/// resource "configmaps" in API group "" in the namespace "team-b": why`.
pub fn forbidden_text(caller: &Caller, verb: Verb, target: &Target, why: &str) -> Status {
    let resource = target.info.plural;
    let group = target
        .info
        .api_version
        .rsplit_once('/')
        .map(|(g, _)| g)
        .unwrap_or("");
    let name = target
        .name
        .as_deref()
        .map(|n| format!("{resource} {n:?} is forbidden"))
        .unwrap_or_else(|| format!("{resource} is forbidden"));
    let scope = match (&target.namespace, target.info.namespaced) {
        (Some(ns), true) => format!(" in the namespace {ns:?}"),
        (None, true) => " at the cluster scope".to_owned(),
        _ => String::new(),
    };
    Status::forbidden(format!(
        "{name}: User {:?} cannot {} resource {resource:?} in API group {group:?}{scope}: {why}",
        caller.username,
        verb.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sui_amounts_read_as_people_write_them() {
        assert_eq!(sui(MIST_PER_SUI / 2), "0.5");
        assert_eq!(sui(10 * MIST_PER_SUI), "10");
        assert_eq!(sui(0), "0");
        assert_eq!(sui(1), "0.000000001");
    }
}
