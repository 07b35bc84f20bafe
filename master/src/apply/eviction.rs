//! Node evictions: when an operator's node stake crosses the node minimum,
//! each of its nodes' `/registry/minions/<name>` gets (or loses)
//! `spec.unschedulable: true` and the `daas.io/stake-evicted:NoExecute`
//! taint, and `<state>/evictions/<name>` records it.
//!
//! One record can change as many nodes as its operator owns, more than one
//! Txn holds, so each node is a *unit*: the engine plans units one by one and
//! a record whose units do not fit is applied across several Txns, each
//! storing the cursor `<offset>:<units done>` (see [`Partial`]). The
//! rewrite of a Node object here is pure.

use std::collections::BTreeMap;

use daas_domain::{LogPosition, ledger::Change};
use serde_json::{Value, json};

/// The taint a node gets when its operator's stake falls below the minimum.
pub const EVICTION_TAINT: &str = "daas.io/stake-evicted";

/// One node whose activity a record changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Unit {
    /// The node's name.
    pub node: String,
    /// Whether it is active now.
    pub active: bool,
}

impl Unit {
    /// The unit a change is, if it is a node activity change.
    pub fn of(change: &Change) -> Option<Self> {
        match change {
            Change::NodeActivity { name, active, .. } => Some(Unit {
                node: name.clone(),
                active: *active,
            }),
            _ => None,
        }
    }
}

/// A record being applied unit by unit, possibly across several Txns.
///
/// Its other writes (its ledger keys) go in its last Txn only, so until then
/// the ledger stored in etcd is the one before the record: a reopened engine
/// applies the record again to that ledger, gets the same units in the same
/// order (the ledger lists an operator's nodes by name), and skips the
/// `units_done` the stored cursor names.
#[derive(Debug)]
pub(super) struct Partial {
    /// Where the record sits in the log.
    pub at: LogPosition,
    /// Its units, in the ledger's order.
    pub units: Vec<Unit>,
    /// Units planned so far (committed, or in a Txn planned before this one).
    pub done: usize,
    /// Its writes of the master's own keys, for its last Txn.
    pub state_writes: BTreeMap<String, Option<Vec<u8>>>,
}

impl Partial {
    /// True once every unit is planned.
    pub fn units_planned(&self) -> bool {
        self.done >= self.units.len()
    }

    /// Value bytes of the writes left for the last Txn.
    pub fn last_bytes(&self) -> usize {
        self.state_writes.values().flatten().map(Vec::len).sum()
    }
}

/// The eviction record of a node (`None`: the record is removed, the node is active).
pub(super) fn record(node: &str, active: bool, at: &LogPosition) -> Option<Vec<u8>> {
    (!active).then(|| {
        json!({"node": node, "reason": "operator stake below the node minimum",
               "position": [at.checkpoint, at.transaction_index, at.event_index]})
        .to_string()
        .into_bytes()
    })
}

/// The Node object after cordoning and tainting it (`active == false`) or
/// lifting both (`active == true`); `None` when there is no object (no
/// kubelet registered the node yet), it is not a JSON object, or nothing changes.
/// Taints of others are kept, in their order.
pub(super) fn node_after(stored: Option<&Value>, active: bool) -> Option<Value> {
    let Some(Value::Object(obj)) = stored else {
        return None;
    };
    let mut obj = obj.clone();
    let spec = obj
        .entry("spec")
        .or_insert_with(|| json!({}))
        .as_object_mut()?;
    let mut taints: Vec<Value> = spec
        .get("taints")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    taints.retain(|t| t.get("key").and_then(Value::as_str) != Some(EVICTION_TAINT));
    if active {
        spec.remove("unschedulable");
    } else {
        spec.insert("unschedulable".into(), json!(true));
        taints.push(json!({"key": EVICTION_TAINT, "effect": "NoExecute"}));
    }
    if taints.is_empty() {
        spec.remove("taints");
    } else {
        spec.insert("taints".into(), Value::Array(taints));
    }
    let after = Value::Object(obj);
    (stored != Some(&after)).then_some(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicting_cordons_and_taints_and_keeps_other_taints() {
        let node =
            json!({"kind": "Node", "spec": {"taints": [{"key": "gpu", "effect": "NoSchedule"}]}});
        let evicted = node_after(Some(&node), false).expect("changed");
        assert_eq!(
            evicted["spec"],
            json!({"unschedulable": true, "taints": [
                {"key": "gpu", "effect": "NoSchedule"},
                {"key": "daas.io/stake-evicted", "effect": "NoExecute"}]})
        );
        assert_eq!(node_after(Some(&evicted), false), None, "already evicted");
        let lifted = node_after(Some(&evicted), true).expect("changed");
        assert_eq!(lifted, node);
        assert_eq!(node_after(None, false), None, "no Node object yet");
        assert_eq!(node_after(Some(&json!("x")), false), None);
        assert_eq!(node_after(Some(&json!({"spec": 1})), false), None);
        let bare = node_after(Some(&json!({"kind": "Node"})), false).expect("changed");
        assert_eq!(bare["spec"]["taints"][0]["key"], EVICTION_TAINT);
    }

    #[test]
    fn records_name_the_position_and_go_when_active() {
        let at = LogPosition::new(7, 1, 2);
        let r = record("n1", false, &at).expect("evicted");
        let v: Value = serde_json::from_slice(&r).expect("json");
        assert_eq!(v["node"], "n1");
        assert_eq!(v["position"], json!([7, 1, 2]));
        assert_eq!(record("n1", true, &at), None);
    }
}
