//! The apply engine: consecutive log records → one etcd Txn holding the
//! objects they write, the ledger changes, their outcomes and the new position.
//!
//! Each Txn is guarded like kube-apiserver's own writes: every object it
//! writes carries a `mod_revision` compare against the revision read just
//! before (0 = must not exist), and the position key must still hold the
//! offset this batch starts at. A failed compare (a controller wrote the
//! object meanwhile, or a second master runs) fails the whole Txn; the engine
//! is then reopened from etcd and the batch planned again.
//!
//! A batch closes before it would exceed etcd's 128 operations or ~1 MiB per
//! Txn. A namespace delete (which removes everything inside it with prefix
//! deletes) always gets a Txn of its own.

use std::collections::{BTreeMap, HashMap};

use daas_domain::{
    Body, Event, Ledger, LogEntry, LogPosition, ObjectId, Outcome, OutcomeResult,
    admission::{Action, Decision},
    events::K8sApiRequest,
    kinds::{self, KINDS},
    ledger::{Change, ObjectKey},
    roles::Role,
};
use etcd_client::{
    Client, Compare, CompareOp, DeleteOptions, GetOptions, Txn, TxnOp, TxnOpResponse,
};
use serde_json::{Value, json};

use crate::{
    encryption::{EncryptionError, SecretKey},
    metrics::Metrics,
    object::{self, Written},
    state::{self, Layout, StateError},
};

/// etcd's default `--max-txn-ops`.
const MAX_TXN_OPS: usize = 128;
/// Ops kept free for the position and the outcome batch.
const RESERVED_OPS: usize = 2;
/// Value bytes per Txn (etcd refuses requests over 1.5 MiB).
const MAX_TXN_BYTES: usize = 1024 * 1024;
/// Records one Txn takes at most (rejections and skips cost no operations).
const MAX_RECORDS_PER_TXN: usize = 256;
/// The taint a node gets when its operator's stake falls below the minimum.
pub const EVICTION_TAINT: &str = "daas.io/stake-evicted";

/// What the engine needs to know.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where things live.
    pub layout: Layout,
    /// The cluster this master serves; requests for others are not applied here.
    pub cluster: ObjectId,
    /// Secrets' encryption key; `None` stores them as plain JSON (kube's identity provider).
    pub secret_key: Option<SecretKey>,
}

/// Why a batch was not applied. After any error the engine must be reopened.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// etcd failed.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// Stored state is unusable.
    #[error(transparent)]
    State(#[from] StateError),
    /// A compare failed: someone else wrote a key of this batch.
    #[error("a key of the batch changed under it (another writer); replanning")]
    Conflict,
    /// A stored Secret cannot be decrypted with the configured key.
    #[error("{key}: {source}")]
    Secret {
        /// The etcd key.
        key: String,
        /// Why.
        #[source]
        source: EncryptionError,
    },
}

/// One applied batch.
#[derive(Debug, Default)]
pub struct Batch {
    /// Records consumed from the front of the input.
    pub consumed: usize,
    /// Outcomes of the served cluster's requests, resource versions filled in.
    pub outcomes: Vec<Outcome>,
    /// The Txn's revision (0 when nothing was written).
    pub revision: i64,
}

/// How a write to a key is guarded.
#[derive(Clone, Debug, PartialEq)]
enum Guard {
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
struct Slot {
    /// The stored object, decoded (decrypted).
    stored: Option<Value>,
    /// How to guard a write.
    rev: Guard,
    /// Planned write: `Some(Some(bytes))` put, `Some(None)` delete.
    write: Option<Option<Vec<u8>>>,
}

/// The engine: the ledger as of the next offset, and an etcd client.
pub struct Engine {
    client: Client,
    cfg: Config,
    ledger: Ledger,
    next: i64,
    /// What this engine last read or wrote per key, with its mod_revision.
    /// Optimistic: a key someone else changed since fails its compare, the
    /// Txn fails, and the engine is reopened with an empty cache.
    cache: HashMap<String, (Option<Value>, Guard)>,
    /// Batches planned so far (the next one's number).
    seq: u64,
    /// Revisions of recently committed batches, by number.
    revisions: BTreeMap<u64, i64>,
    /// Read every key before writing it, even one the ledger says is absent.
    /// True for the first batch after opening: a create is otherwise guarded
    /// by `mod_revision == 0` without a read (the ledger knows what the log
    /// created), and if something else created that key meanwhile the Txn
    /// fails, the engine is reopened, and this batch reads it.
    careful: bool,
}

/// A batch planned but not yet committed; see [`Engine::plan`].
pub struct Planned {
    seq: u64,
    end: i64,
    written: Vec<String>,
    txn: Option<Txn>,
    consumed: usize,
    outcomes: Vec<Outcome>,
    barrier: bool,
}

impl Planned {
    /// Records consumed from the front of the input.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// The next offset once this batch has committed.
    pub fn end(&self) -> i64 {
        self.end
    }

    /// True when nothing may be planned until this batch has committed (it
    /// deletes by prefix, which the cache cannot follow).
    pub fn is_barrier(&self) -> bool {
        self.barrier
    }

    /// The Txn to send ([`commit`]); `None` once taken.
    pub fn take_txn(&mut self) -> Option<Txn> {
        self.txn.take()
    }
}

/// Sends a planned Txn; the revision it committed at.
pub async fn commit(mut client: Client, txn: Txn) -> Result<i64, EngineError> {
    let resp = client.txn(txn).await?;
    if !resp.succeeded() {
        return Err(EngineError::Conflict);
    }
    Ok(resp.header().map_or(0, |h| h.revision()))
}

/// Keys remembered at most; the cache is simply cleared beyond this.
const CACHE_KEYS: usize = 200_000;

fn request_target(cfg: &Config, req: &K8sApiRequest) -> Option<String> {
    if req.cluster_id != cfg.cluster {
        return None;
    }
    let info = kinds::lookup(&req.kind)?;
    let ns = if info.namespaced {
        req.namespace.as_str()
    } else {
        ""
    };
    Some(info.etcd_key(&cfg.layout.registry, ns, &req.name))
}

fn is_namespace_delete(req: &K8sApiRequest) -> bool {
    req.kind == "Namespace" && req.verb == "delete"
}

/// An upper bound of the operations one event adds to a Txn.
fn op_bound(ledger: &Ledger, event: &Event) -> usize {
    match event {
        // The object, its ledger entry, a namespace owner.
        Event::K8sApiRequest(_) => 3,
        Event::StakeDeposited(e) => stake_bound(ledger, e.staker, e.role),
        Event::StakeWithdrawn(e) => stake_bound(ledger, e.staker, e.role),
        Event::StakeSlashed(e) => stake_bound(ledger, e.staker, e.role),
        // The node, its Node object and eviction record.
        Event::NodeRegistered(_) | Event::NodeDeregistered(_) => 3,
        // The cluster and its system namespaces.
        Event::ClusterCreated(_) => 1 + daas_domain::ledger::SYSTEM_NAMESPACES.len(),
        _ => 1,
    }
}

fn stake_bound(ledger: &Ledger, staker: daas_domain::Address, role: u8) -> usize {
    if Role::from_move(role) == Some(Role::Node) {
        let nodes = ledger
            .nodes()
            .values()
            .filter(|n| n.operator == staker)
            .count();
        1 + 2 * nodes
    } else {
        1
    }
}

impl Engine {
    /// Loads the position and the ledger from etcd.
    pub async fn open(mut client: Client, cfg: Config) -> Result<Self, EngineError> {
        let next = state::load_position(&mut client, &cfg.layout).await?;
        let ledger = state::load_ledger(&mut client, &cfg.layout).await?;
        Ok(Self {
            client,
            cfg,
            ledger,
            next,
            cache: HashMap::new(),
            seq: 0,
            revisions: BTreeMap::new(),
            careful: true,
        })
    }

    /// The next log offset to apply.
    pub fn next_offset(&self) -> i64 {
        self.next
    }

    /// The ledger as of the next offset.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// A client for sending planned Txns.
    pub fn client(&self) -> Client {
        self.client.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    fn decode_stored(&self, key: &str, bytes: &[u8]) -> Result<Value, EngineError> {
        let plain;
        let bytes = if bytes.starts_with(b"k8s:enc:") {
            let k = self
                .cfg
                .secret_key
                .as_ref()
                .ok_or_else(|| EngineError::Secret {
                    key: key.to_owned(),
                    source: EncryptionError::Envelope("no key configured for an encrypted".into()),
                })?;
            plain = k.open(key, bytes).map_err(|source| EngineError::Secret {
                key: key.to_owned(),
                source,
            })?;
            plain.as_slice()
        } else {
            bytes
        };
        serde_json::from_slice(bytes).map_err(|e| {
            EngineError::State(StateError::Corrupt {
                key: key.to_owned(),
                reason: format!("not a JSON object: {e}"),
            })
        })
    }

    /// Reads `keys` (≤ 128 per Txn) into `slots`.
    async fn read(
        &mut self,
        keys: Vec<String>,
        slots: &mut BTreeMap<String, Slot>,
    ) -> Result<(), EngineError> {
        let mut keys = keys;
        keys.retain(|k| match self.cache.get(k) {
            Some((stored, rev)) => {
                slots.insert(
                    k.clone(),
                    Slot {
                        stored: stored.clone(),
                        rev: rev.clone(),
                        write: None,
                    },
                );
                false
            }
            None => true,
        });
        for chunk in keys.chunks(MAX_TXN_OPS) {
            let ops: Vec<TxnOp> = chunk
                .iter()
                .map(|k| TxnOp::get(k.as_str(), Some(GetOptions::new().with_serializable())))
                .collect();
            let resp = self.client.txn(Txn::new().and_then(ops)).await?;
            for (key, r) in chunk.iter().zip(resp.op_responses()) {
                let TxnOpResponse::Get(g) = r else { continue };
                let slot = match g.kvs().first() {
                    Some(kv) => Slot {
                        stored: Some(self.decode_stored(key, kv.value())?),
                        rev: Guard::Rev(kv.mod_revision()),
                        write: None,
                    },
                    None => Slot {
                        stored: None,
                        rev: Guard::Rev(0),
                        write: None,
                    },
                };
                slots.insert(key.clone(), slot);
            }
        }
        Ok(())
    }

    /// `key`'s slot in this batch, read (or taken from the cache) first.
    /// `known_absent`: the ledger says the log never created it, so unless the
    /// cache knows it, it is planned absent (guarded by `mod_revision == 0`)
    /// without a read.
    async fn slot<'s>(
        &mut self,
        key: &str,
        slots: &'s mut BTreeMap<String, Slot>,
        known_absent: bool,
    ) -> Result<&'s mut Slot, EngineError> {
        let unread = known_absent && !self.cache.contains_key(key);
        if !slots.contains_key(key) && !unread {
            self.read(vec![key.to_owned()], slots).await?;
        }
        Ok(slots.entry(key.to_owned()).or_insert(Slot {
            stored: None,
            rev: Guard::Rev(0),
            write: None,
        }))
    }

    /// Plans the Txn for a prefix of `records` (encoded log records at
    /// offsets `next_offset()..`; not empty) as if the batches planned before
    /// it had committed: the ledger, the position and the cache move on now.
    /// Commit planned batches in order, and reopen the engine if one fails.
    pub async fn plan(
        &mut self,
        records: &[Vec<u8>],
        metrics: &Metrics,
    ) -> Result<Planned, EngineError> {
        // More records than one Txn can take are not even decoded.
        let window = &records[..records.len().min(MAX_RECORDS_PER_TXN)];
        let entries: Vec<Option<LogEntry>> =
            window.iter().map(|r| LogEntry::decode(r).ok()).collect();

        // Read every object the window's requests target up front (a few
        // read Txns), rather than one round trip per request.
        let mut targets = Vec::new();
        // Targets the ledger says do not exist are only read when careful:
        // the log created every object the ledger knows of.
        let mut seen = std::collections::HashSet::new();
        for e in entries.iter().flatten() {
            if let Body::Event(Event::K8sApiRequest(r)) = &e.body
                && (self.careful || self.ledger.object_exists(&ObjectKey::of(r)))
                && let Some(k) = request_target(&self.cfg, r)
                && seen.insert(k.clone())
            {
                targets.push(k);
            }
        }
        let mut slots = BTreeMap::new();
        self.read(targets, &mut slots).await?;
        let careful = std::mem::take(&mut self.careful);

        let layout = self.cfg.layout.clone();
        let mut ledger_writes: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        let mut prefix_deletes: Vec<String> = Vec::new();
        let mut outcomes: Vec<(Outcome, Option<String>)> = Vec::new();
        let mut bytes = 0usize;
        let mut consumed = 0usize;
        let budget = MAX_TXN_OPS - RESERVED_OPS;

        for entry in &entries {
            let ops = slots.values().filter(|s| s.write.is_some()).count()
                + ledger_writes.len()
                + prefix_deletes.len();
            let Some(entry) = entry else {
                metrics.skipped.inc();
                consumed += 1;
                continue;
            };
            let Body::Event(event) = &entry.body else {
                metrics.skipped.inc();
                consumed += 1;
                continue;
            };
            // Only an admitted namespace delete removes anything (deciding a
            // delete parses no manifest, so asking first is cheap).
            let solo = matches!(event, Event::K8sApiRequest(r) if is_namespace_delete(r)
                && matches!(daas_domain::admission::decide(&self.ledger, r), Decision::Admitted(_)));
            if consumed > 0 && (solo || ops + op_bound(&self.ledger, event) > budget) {
                break;
            }
            if let Event::K8sApiRequest(r) = event
                && consumed > 0
                && bytes + r.manifest.len() * 2 > MAX_TXN_BYTES
            {
                break;
            }
            let applied = self.ledger.apply(event);
            consumed += 1;

            let ns_deleted = match (event, &applied.decision) {
                (Event::K8sApiRequest(r), Some(Decision::Admitted(a)))
                    if is_namespace_delete(r) && a.action == Action::Delete =>
                {
                    Some((r.cluster_id, r.name.clone()))
                }
                _ => None,
            };
            for change in &applied.changes {
                if let Change::NodeActivity { name, active, .. } = change {
                    self.plan_eviction(
                        name,
                        *active,
                        &entry.position,
                        &mut slots,
                        &mut ledger_writes,
                    )
                    .await?;
                    continue;
                }
                if let (
                    Change::Object {
                        key, exists: false, ..
                    },
                    Some((c, ns)),
                ) = (change, &ns_deleted)
                    && key.cluster == *c
                    && key.namespace == *ns
                {
                    // Covered by the prefix delete of the namespace's entries.
                    continue;
                }
                let Some(k) = change.store_key() else {
                    continue;
                };
                let value = if change.is_removal() {
                    None
                } else {
                    Some(serde_json::to_vec(change).unwrap_or_default())
                };
                bytes += value.as_ref().map_or(0, Vec::len);
                ledger_writes.insert(layout.ledger(&k), value);
            }
            if let Some((cluster, ns)) = &ns_deleted {
                prefix_deletes.push(layout.ledger(&Change::object_prefix(*cluster, ns)));
                if *cluster == self.cfg.cluster {
                    for info in KINDS.iter().filter(|k| k.namespaced) {
                        prefix_deletes.push(info.etcd_key(&layout.registry, ns, ""));
                    }
                }
            }

            let Event::K8sApiRequest(req) = event else {
                continue;
            };
            let Some(decision) = applied.decision else {
                continue;
            };
            if req.cluster_id != self.cfg.cluster {
                continue;
            }
            let (result, key) = match decision {
                Decision::Rejected(r) => {
                    metrics.rejected.inc();
                    (OutcomeResult::Rejected(r), None)
                }
                Decision::Admitted(a) => {
                    metrics.applied.inc();
                    let Some(key) = request_target(&self.cfg, req) else {
                        continue;
                    };
                    let ns = if a.kind.namespaced {
                        req.namespace.as_str()
                    } else {
                        ""
                    };
                    let (action, wrote) = match (&a.action, &a.object) {
                        (Action::Delete, _) | (_, None) => {
                            let slot = self.slot(&key, &mut slots, false).await?;
                            slot.stored = None;
                            slot.write = Some(None);
                            ("deleted", true)
                        }
                        (action, Some(manifest)) => {
                            let uid =
                                object::uid(&entry.transaction_digest, entry.position.event_index);
                            let created = object::timestamp(entry.checkpoint_timestamp_ms);
                            let secret_key = self.cfg.secret_key.clone();
                            let known_absent = *action == Action::Create && !careful;
                            let slot = self.slot(&key, &mut slots, known_absent).await?;
                            let (obj, written) = object::render(
                                a.kind,
                                manifest,
                                ns,
                                slot.stored.as_ref(),
                                &uid,
                                &created,
                            );
                            let action = if *action == Action::Create {
                                "created"
                            } else {
                                written.as_str()
                            };
                            if written == Written::Unchanged {
                                (action, slot.write.is_some())
                            } else {
                                let json = serde_json::to_vec(&obj).unwrap_or_default();
                                let value = match (&secret_key, a.kind.kind) {
                                    (Some(k), "Secret") => {
                                        k.seal(&key, &position_bytes(&entry.position), &json)
                                    }
                                    _ => json,
                                };
                                bytes += value.len();
                                slot.stored = Some(obj);
                                slot.write = Some(Some(value));
                                (action, true)
                            }
                        }
                    };
                    let rv = if action == "deleted" {
                        0
                    } else if wrote {
                        -1 // filled with this Txn's revision
                    } else {
                        match slots.get(&key).map(|s| &s.rev) {
                            Some(Guard::Rev(r)) => *r,
                            // Filled with that batch's revision.
                            Some(Guard::Pending { seq, .. }) => -2 - *seq as i64,
                            None => 0,
                        }
                    };
                    (
                        OutcomeResult::Applied {
                            action: action.into(),
                            key: key.clone(),
                            resource_version: rv,
                            warnings: a.warnings.clone(),
                        },
                        Some(key),
                    )
                }
            };
            outcomes.push((
                Outcome {
                    cluster_id: req.cluster_id,
                    request_id: req.request_id,
                    position: entry.position,
                    transaction_digest: entry.transaction_digest,
                    result,
                },
                key,
            ));
            if solo {
                break;
            }
        }

        // The Txn.
        let first = self.next;
        let next = first + consumed as i64;
        let position_key = layout.position();
        let mut compares = vec![if first == 0 {
            Compare::version(position_key.as_str(), CompareOp::Equal, 0)
        } else {
            Compare::value(position_key.as_str(), CompareOp::Equal, first.to_string())
        }];
        let mut ops = Vec::new();
        for d in &prefix_deletes {
            ops.push(TxnOp::delete(
                d.as_str(),
                Some(DeleteOptions::new().with_prefix()),
            ));
        }
        for (key, slot) in &slots {
            let Some(write) = &slot.write else { continue };
            compares.push(slot.rev.compare(key));
            ops.push(match write {
                Some(v) => TxnOp::put(key.as_str(), v.clone(), None),
                None => TxnOp::delete(key.as_str(), None),
            });
        }
        for (key, value) in &ledger_writes {
            ops.push(match value {
                Some(v) => TxnOp::put(key.as_str(), v.clone(), None),
                None => TxnOp::delete(key.as_str(), None),
            });
        }
        if !outcomes.is_empty() {
            let mut blob = Vec::new();
            for (o, _) in &outcomes {
                prost::Message::encode_length_delimited(&o.to_proto(), &mut blob)
                    .unwrap_or_default();
            }
            ops.push(TxnOp::put(layout.outcomes(first), blob, None));
        }
        ops.push(TxnOp::put(position_key.as_str(), next.to_string(), None));
        let seq = self.seq;
        self.seq += 1;
        self.next = next;
        let barrier = !prefix_deletes.is_empty();
        if self.cache.len() > CACHE_KEYS {
            // Start over; entries of batches still in flight must stay.
            self.cache
                .retain(|_, (_, g)| matches!(g, Guard::Pending { .. }));
        }
        let mut written = Vec::new();
        for (key, slot) in slots {
            if slot.write.is_some() {
                written.push(key.clone());
            }
            let entry = match slot.write {
                Some(bytes) => (
                    if bytes.is_some() { slot.stored } else { None },
                    Guard::Pending { seq, bytes },
                ),
                None => (slot.stored, slot.rev),
            };
            self.cache.insert(key, entry);
        }
        if barrier {
            // Whatever is known about keys under the deleted prefixes (read
            // before this Txn, or written by one still in flight) is stale
            // once it commits.
            self.cache
                .retain(|k, _| !prefix_deletes.iter().any(|p| k.starts_with(p.as_str())));
        }
        Ok(Planned {
            seq,
            end: next,
            written,
            txn: Some(Txn::new().when(compares).and_then(ops)),
            consumed,
            outcomes: outcomes.into_iter().map(|(o, _)| o).collect(),
            barrier,
        })
    }

    /// Records that `planned` committed at `revision`: its cache entries get
    /// their real revision, its outcomes their resource versions.
    pub fn finish(&mut self, planned: Planned, revision: i64) -> Batch {
        let seq = planned.seq;
        for key in &planned.written {
            if let Some((_, g)) = self.cache.get_mut(key)
                && let Guard::Pending { seq: s, bytes } = g
                && *s == seq
            {
                // An absent key compares as mod_revision 0.
                *g = Guard::Rev(if bytes.is_some() { revision } else { 0 });
            }
        }
        self.revisions.insert(seq, revision);
        while self.revisions.len() > 8 {
            self.revisions.pop_first();
        }
        let outcomes = planned
            .outcomes
            .into_iter()
            .map(|mut o| {
                if let OutcomeResult::Applied {
                    resource_version, ..
                } = &mut o.result
                {
                    if *resource_version == -1 {
                        *resource_version = revision;
                    } else if *resource_version <= -2 {
                        let of = (-2 - *resource_version) as u64;
                        *resource_version = self.revisions.get(&of).copied().unwrap_or(revision);
                    }
                }
                o
            })
            .collect();
        Batch {
            consumed: planned.consumed,
            outcomes,
            revision,
        }
    }

    /// Cordons and taints a node whose stake fell below the minimum (or
    /// lifts that when it recovers), and records the eviction.
    async fn plan_eviction(
        &mut self,
        node: &str,
        active: bool,
        at: &LogPosition,
        slots: &mut BTreeMap<String, Slot>,
        ledger_writes: &mut BTreeMap<String, Option<Vec<u8>>>,
    ) -> Result<(), EngineError> {
        let record = self.cfg.layout.eviction(node);
        ledger_writes.insert(
            record,
            (!active).then(|| {
                json!({"node": node, "reason": "operator stake below the node minimum",
                       "position": [at.checkpoint, at.transaction_index, at.event_index]})
                .to_string()
                .into_bytes()
            }),
        );
        let key = self.cfg.layout.minion(node);
        let slot = self.slot(&key, slots, false).await?;
        let Some(Value::Object(mut obj)) = slot.stored.clone() else {
            return Ok(()); // no kubelet registered this node (yet)
        };
        let spec = obj.entry("spec").or_insert_with(|| json!({}));
        let Some(spec) = spec.as_object_mut() else {
            return Ok(());
        };
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
        let obj = Value::Object(obj);
        if slot.stored.as_ref() != Some(&obj) {
            slot.write = Some(Some(serde_json::to_vec(&obj).unwrap_or_default()));
            slot.stored = Some(obj);
        }
        Ok(())
    }
}

/// A write's log position as bytes (the secret nonce's input).
fn position_bytes(p: &LogPosition) -> Vec<u8> {
    let mut b = Vec::with_capacity(24);
    b.extend_from_slice(&p.checkpoint.to_be_bytes());
    b.extend_from_slice(&p.transaction_index.to_be_bytes());
    b.extend_from_slice(&p.event_index.to_be_bytes());
    b
}
