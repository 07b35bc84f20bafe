//! One Txn being planned: the objects it reads and writes (each with its
//! guard), the master's own keys it writes, prefix deletes and outcomes; and
//! the Txn they become.

use std::collections::{BTreeMap, BTreeSet};

use daas_domain::Outcome;
use etcd_client::{Compare, CompareOp, DeleteOptions, Txn, TxnOp};
use serde_json::Value;

use crate::{state::Layout, state_mac::StateKey};

/// How a write to a key is guarded.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Guard {
    /// Its mod_revision is this (0 = absent).
    Rev(i64),
    /// Written by batch `seq`, whose Txn may not have committed yet: the
    /// value must still be what that batch wrote (`None` = still absent).
    Pending {
        /// The batch.
        seq: u64,
        /// What it wrote.
        bytes: Option<Vec<u8>>,
    },
}

impl Guard {
    fn compare(&self, key: &str) -> Compare {
        match self {
            Guard::Rev(r) => Compare::mod_revision(key, CompareOp::Equal, *r),
            Guard::Pending { bytes: Some(v), .. } => {
                Compare::value(key, CompareOp::Equal, v.clone())
            }
            Guard::Pending { bytes: None, .. } => Compare::version(key, CompareOp::Equal, 0),
        }
    }
}

/// A key's state during planning.
pub(super) struct Slot {
    /// The stored object, decoded (decrypted).
    pub stored: Option<Value>,
    /// How to guard a write.
    pub rev: Guard,
    /// Planned write: `Some(Some(bytes))` put, `Some(None)` delete.
    pub write: Option<Option<Vec<u8>>>,
}

impl Slot {
    /// A key known to be absent.
    pub fn absent() -> Self {
        Slot {
            stored: None,
            rev: Guard::Rev(0),
            write: None,
        }
    }
}

/// What one Txn will do, gathered record by record.
#[derive(Default)]
pub(super) struct BatchPlan {
    /// Objects read, and written when `write` is set (guarded).
    pub slots: BTreeMap<String, Slot>,
    /// Objects the plan decided *not* to write because of what it read (a
    /// Node absent or already evicted): guarded all the same, so a value the
    /// cache or a serializable read did not see yet (a kubelet registering
    /// the Node) fails the Txn instead of being skipped silently.
    pub read_guards: BTreeSet<String>,
    /// The master's own keys (ledger, evictions): unguarded, the position
    /// guards them.
    pub state_writes: BTreeMap<String, Option<Vec<u8>>>,
    /// Prefixes deleted (a namespace's contents).
    pub prefix_deletes: Vec<String>,
    /// Outcomes of the requests, in log order.
    pub outcomes: Vec<Outcome>,
    /// Value bytes written so far.
    pub bytes: usize,
    /// Records completely planned.
    pub consumed: usize,
    /// Of those, records at the log's next offsets (the rest were released
    /// ahead of their place to fill a gap: they do not move the position).
    pub advanced: usize,
}

/// What [`BatchPlan::txn`] needs besides the plan.
pub(super) struct Seal<'a> {
    /// Where the keys live.
    pub layout: &'a Layout,
    /// The offset this Txn starts from (its outcome batch's key).
    pub from: i64,
    /// The position's stored bytes this Txn starts from (its guard; `None`:
    /// absent).
    pub from_value: Option<&'a [u8]>,
    /// The position it stores (tagged).
    pub to_value: &'a [u8],
    /// Tags the outcome batch.
    pub key: &'a StateKey,
    /// Outcome batches to delete: keys in `[.0, .1)`.
    pub prune: Option<(String, String)>,
}

impl BatchPlan {
    /// Operations it holds so far (the position, outcome batch and prune
    /// come on top: `RESERVED_OPS`).
    pub fn ops(&self) -> usize {
        self.slots.values().filter(|s| s.write.is_some()).count()
            + self.state_writes.len()
            + self.prefix_deletes.len()
    }

    /// True while it writes nothing and has consumed no record.
    pub fn is_empty(&self) -> bool {
        self.consumed == 0 && self.ops() == 0
    }

    /// Writes (or deletes, `None`) one of the master's own keys.
    pub fn state_write(&mut self, key: String, value: Option<Vec<u8>>) {
        self.bytes += value.as_ref().map_or(0, Vec::len);
        self.state_writes.insert(key, value);
    }

    /// Adds a record's last writes of the master's own keys and counts it
    /// as consumed.
    pub fn complete_record(&mut self, state_writes: BTreeMap<String, Option<Vec<u8>>>) {
        for (k, v) in state_writes {
            self.state_write(k, v);
        }
        self.consumed += 1;
    }

    /// The Txn: if the position still holds `from_value`, every guarded
    /// write, the state writes (already tagged), the outcome batch (tagged
    /// here), the prune and the position `to_value`.
    pub fn txn(&self, seal: &Seal<'_>) -> Txn {
        let position_key = seal.layout.position();
        let mut compares = vec![match seal.from_value {
            None => Compare::version(position_key.as_str(), CompareOp::Equal, 0),
            Some(v) => Compare::value(position_key.as_str(), CompareOp::Equal, v.to_vec()),
        }];
        let mut ops = Vec::new();
        for d in &self.prefix_deletes {
            ops.push(TxnOp::delete(
                d.as_str(),
                Some(DeleteOptions::new().with_prefix()),
            ));
        }
        for (key, slot) in &self.slots {
            let Some(write) = &slot.write else { continue };
            compares.push(slot.rev.compare(key));
            ops.push(put_or_delete(key, write));
        }
        for key in &self.read_guards {
            if let Some(slot) = self.slots.get(key).filter(|s| s.write.is_none()) {
                compares.push(slot.rev.compare(key));
            }
        }
        for (key, value) in &self.state_writes {
            ops.push(put_or_delete(key, value));
        }
        if !self.outcomes.is_empty() {
            let mut blob = Vec::new();
            for o in &self.outcomes {
                prost::Message::encode_length_delimited(&o.to_proto(), &mut blob)
                    .unwrap_or_default();
            }
            let key = seal.layout.outcomes(seal.from, self.outcomes[0].sequence);
            ops.push(TxnOp::put(key.as_str(), seal.key.seal(&key, &blob), None));
        }
        if let Some((from, to)) = &seal.prune {
            ops.push(TxnOp::delete(
                from.as_str(),
                Some(DeleteOptions::new().with_range(to.as_str())),
            ));
        }
        ops.push(TxnOp::put(
            position_key.as_str(),
            seal.to_value.to_vec(),
            None,
        ));
        Txn::new().when(compares).and_then(ops)
    }
}

fn put_or_delete(key: &str, value: &Option<Vec<u8>>) -> TxnOp {
    match value {
        Some(v) => TxnOp::put(key, v.clone(), None),
        None => TxnOp::delete(key, None),
    }
}
