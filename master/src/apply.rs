//! The apply engine: consecutive log records → one etcd Txn holding the
//! objects they write, the ledger changes, their outcomes and the new position.
//!
//! Each Txn is guarded like kube-apiserver's own writes: every object it
//! writes carries a `mod_revision` compare against the revision read just
//! before (0 = must not exist), and the position key must still hold the
//! cursor this batch starts at. A failed compare (a controller wrote the
//! object meanwhile, or a second master runs) fails the whole Txn; the engine
//! is then reopened from etcd and the batch planned again.
//!
//! A batch closes before it would exceed etcd's 128 operations or ~1 MiB per
//! Txn. A namespace delete (which removes everything inside it with prefix
//! deletes) always gets a Txn of its own. A record that changes more nodes
//! than one Txn holds is applied across several ([`eviction`]): each of its
//! Txns stores the cursor `<offset>:<units done>`, and its ledger keys go in
//! the last one, so a restart between them resumes at the next node and the
//! result is the one a single Txn would have left.

mod batch;
mod eviction;

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use batch::{BatchPlan, Guard, Seal, Slot};
use daas_domain::{
    Body, Event, Ledger, LogEntry, LogPosition, ObjectId, Outcome, OutcomeResult,
    admission::{Action, Admitted, Decision},
    events::K8sApiRequest,
    kinds::{self, KINDS},
    ledger::{Applied, Change, ObjectKey},
    roles::Role,
};
use etcd_client::{
    Client, Compare, CompareOp, DeleteOptions, GetOptions, Txn, TxnOp, TxnOpResponse,
};
pub use eviction::EVICTION_TAINT;
use eviction::{Partial, Unit};
use serde_json::Value;

use crate::{
    encryption::{EncryptionError, SecretKey},
    metrics::Metrics,
    object::{self, Written},
    sealing_keys::KeyRingHandle,
    state::{self, Cursor, Layout, Position, StateError},
    state_mac::{self, Loaded, StateKey, StateSet, Tampered},
    unseal::Opener,
};

/// etcd's default `--max-txn-ops`.
const MAX_TXN_OPS: usize = 128;
/// Ops kept free for the position, the outcome batch, the outcome prune and
/// the verifier's state (written once per Txn, after its records).
const RESERVED_OPS: usize = 4;
/// Value bytes per Txn (etcd refuses requests over 1.5 MiB).
const MAX_TXN_BYTES: usize = 1024 * 1024;
/// Records one Txn takes at most (rejections and skips cost no operations).
const MAX_RECORDS_PER_TXN: usize = 256;
/// Outcome batches are pruned when at least this many records' worth can go.
const PRUNE_EVERY_RECORDS: i64 = 1_000;

/// What the engine needs to know.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where things live.
    pub layout: Layout,
    /// The cluster this master serves; requests for others are not applied here.
    pub cluster: ObjectId,
    /// Secrets' encryption key; `None` stores them as plain JSON (kube's identity provider).
    pub secret_key: Option<SecretKey>,
    /// The private keys that open sealed Secrets ([`crate::unseal`]).
    pub sealing: Arc<KeyRingHandle>,
    /// Log records whose outcome batches stay in etcd after the outcome topic
    /// holds them: what a restarted master's status API still answers.
    pub outcomes_kept: i64,
    /// The key that authenticates the master's own keys in etcd
    /// ([`crate::state_mac`]).
    pub state_key: StateKey,
    /// Where committed authority is published for the Kubernetes API
    /// (`None`: nobody reads it, as in a replay).
    pub access: Option<crate::access::AccessPublisher>,
}

/// Why a batch was not applied. After any error the engine must be reopened.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// etcd failed (unavailable, timed out, out of space): worth retrying.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// etcd refused the request for its shape (too many operations, too
    /// large): the same request would be refused again.
    #[error("etcd refused the Txn: {0}")]
    Refused(String),
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

impl EngineError {
    /// Sorts an etcd error: refusals of the request itself are not
    /// transient (`InvalidArgument`: too many operations, request too large,
    /// duplicate key; `ResourceExhausted` other than etcd's space quota: a
    /// gRPC message over the size limit); everything else is.
    pub fn from_etcd(e: etcd_client::Error) -> Self {
        if let etcd_client::Error::GRpcStatus(s) = &e {
            let quota = s.message().contains("database space exceeded");
            match s.code() {
                tonic::Code::InvalidArgument => return EngineError::Refused(s.message().into()),
                tonic::Code::ResourceExhausted if !quota => {
                    return EngineError::Refused(s.message().into());
                }
                _ => {}
            }
        }
        EngineError::Etcd(e)
    }
}

/// One record for the engine, as the verifier released it (or, with
/// verification off, as decoded).
#[derive(Clone, Debug)]
pub struct Incoming {
    /// The entry to apply; `None` for a record that applies nothing
    /// (refused, already applied, an epoch change, undecodable).
    pub entry: Option<LogEntry>,
    /// True for the record at the engine's next offset; false for one
    /// released ahead of its place (it filled a gap), which does not move
    /// the position.
    pub advances: bool,
    /// The verifier's state once this record is applied, stored with it
    /// (encoded only for the last record of a Txn).
    pub verifier: Option<crate::verification::PendingState>,
    /// Set when the verifier refused the record: it applies nothing, and
    /// its outcome says so ([`OutcomeResult::Quarantined`]).
    pub refused: Option<Refused>,
}

/// A record the verifier refused.
#[derive(Clone, Debug)]
pub struct Refused {
    /// Its offset in the log.
    pub offset: i64,
    /// The reason's label (`daas_verify::Refusal::label`).
    pub label: &'static str,
    /// Why, in words.
    pub reason: String,
}

impl Incoming {
    /// A record decoded from the log without verification.
    pub fn unverified(bytes: &[u8]) -> Self {
        Self {
            entry: LogEntry::decode(bytes).ok(),
            advances: true,
            verifier: None,
            refused: None,
        }
    }
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

/// The engine: the ledger as of the next offset, and an etcd client.
pub struct Engine {
    client: Client,
    cfg: Config,
    ledger: Ledger,
    /// The cursor the next planned Txn starts from.
    next: Cursor,
    /// The position key's bytes as of `next` (`None`: absent): the next
    /// Txn's guard.
    position_value: Option<Vec<u8>>,
    /// The ledger and eviction keys as of `next`: the position's commitment.
    set: StateSet,
    /// Records before this offset are applied again after a rebuild
    /// ([`Position::rebuild_until`]).
    rebuild_until: i64,
    /// The record being applied across several Txns, if any.
    partial: Option<Partial>,
    /// What this engine last read or wrote per key, with its mod_revision.
    /// Optimistic: a key someone else changed since fails its compare, the
    /// Txn fails, and the engine is reopened with an empty cache.
    cache: HashMap<String, (Option<Value>, Guard)>,
    /// Batches planned so far (the next one's number).
    seq: u64,
    /// The verifier state stored when the engine was opened.
    verifier: Option<Vec<u8>>,
    /// Revisions of recently committed batches, by number.
    revisions: BTreeMap<u64, i64>,
    /// Read every key before writing it, even one the ledger says is absent.
    /// True for the first batch after opening: a create is otherwise guarded
    /// by `mod_revision == 0` without a read (the ledger knows what the log
    /// created), and if something else created that key meanwhile the Txn
    /// fails, the engine is reopened, and this batch reads it.
    careful: bool,
    /// Outcomes of records before this offset are held elsewhere (the topic
    /// acknowledged them, or nothing publishes them).
    durable_before: i64,
    /// Outcome batches starting before this offset are deleted (or being).
    pruned_before: i64,
    /// Outcomes numbered as of `next` ([`Outcome::sequence`]).
    numbered: u64,
    /// A planned record changed the authority readers see
    /// ([`crate::access`]): publish it when its batch is finished.
    access_dirty: bool,
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
    /// Records consumed from the front of the input (0 for a Txn that
    /// applies only part of a record).
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
    let resp = client.txn(txn).await.map_err(EngineError::from_etcd)?;
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

/// Whether the batch loop goes on after a record.
enum Step {
    /// Plan the next record into the same Txn.
    Next,
    /// The Txn is complete.
    Stop,
}

impl Engine {
    /// [`Engine::open_with`], counting a rebuild in metrics of its own.
    pub async fn open(client: Client, cfg: Config) -> Result<Self, EngineError> {
        Self::open_with(client, cfg, &Metrics::default()).await
    }

    /// Loads the cursor and the ledger from etcd, once every key of the
    /// master's own is checked ([`state_mac::load`]). State that is not
    /// authentic is logged (naming the keys), counted in
    /// `master_state_tampered_total` and discarded: the engine starts again
    /// from offset 0 and rebuilds it from the log ([`Engine::rebuild`]).
    pub async fn open_with(
        mut client: Client,
        cfg: Config,
        metrics: &Metrics,
    ) -> Result<Self, EngineError> {
        let found = match state_mac::load(&mut client, &cfg.layout, &cfg.state_key).await? {
            Loaded::Authentic(found) => *found,
            Loaded::Tampered(t) => {
                metrics.state_tampered.inc();
                Self::rebuild(&mut client, &cfg, &t).await?
            }
        };
        Ok(Self {
            client,
            cfg,
            ledger: found.ledger,
            next: found.position.cursor,
            position_value: found.position_value,
            set: found.set,
            rebuild_until: found.position.rebuild_until,
            partial: None,
            cache: HashMap::new(),
            seq: 0,
            verifier: found.verifier,
            revisions: BTreeMap::new(),
            careful: true,
            durable_before: 0,
            pruned_before: 0,
            numbered: found.position.outcomes,
            access_dirty: true,
        })
        .inspect(|engine| engine.publish_access())
    }

    /// Sends the ledger's authority to the Kubernetes API's readers, if any.
    fn publish_access(&self) {
        if let Some(p) = &self.cfg.access {
            p.publish(&self.ledger, self.cfg.cluster);
        }
    }

    /// Discards the master's own keys (one Txn, guarded by the position's
    /// revision as read) and stores a position at offset 0 that says a
    /// rebuild runs up to what the state claimed: the state a rebuild
    /// starts from.
    async fn rebuild(
        client: &mut Client,
        cfg: &Config,
        t: &Tampered,
    ) -> Result<state_mac::Authentic, EngineError> {
        for (key, reason) in t.problems.iter().take(20) {
            tracing::error!(key, reason, "the master's state in etcd is not authentic");
        }
        tracing::error!(
            problems = t.problems.len(),
            claimed_offset = t.claimed,
            "the master's state in etcd is not authentic: discarding it and rebuilding it \
             from the log from offset 0"
        );
        let layout = &cfg.layout;
        let position = Position {
            rebuild_until: t.claimed,
            ..Position::default()
        };
        let key = layout.position();
        let value = cfg.state_key.seal(&key, position.encode().as_bytes());
        let guard = if t.position_revision == 0 {
            Compare::version(key.as_str(), CompareOp::Equal, 0)
        } else {
            Compare::mod_revision(key.as_str(), CompareOp::Equal, t.position_revision)
        };
        // etcd refuses a put inside a range the same Txn deletes: delete
        // around the position key.
        let after = format!("{key}\0");
        let end = state::prefix_end(layout.state_prefix().as_bytes());
        let txn = Txn::new().when([guard]).and_then([
            TxnOp::delete(
                layout.state_prefix(),
                Some(DeleteOptions::new().with_range(key.as_str())),
            ),
            TxnOp::delete(after, Some(DeleteOptions::new().with_range(end))),
            TxnOp::put(key.as_str(), value.clone(), None),
        ]);
        commit(client.clone(), txn).await?;
        Ok(state_mac::Authentic {
            position,
            position_value: Some(value),
            set: StateSet::new(layout),
            ..Default::default()
        })
    }

    /// The next log offset to apply (the first record not completely applied).
    pub fn next_offset(&self) -> i64 {
        self.next.offset
    }

    /// Where the next Txn starts: the next offset, and how many node updates
    /// of that record are already applied when it spans several Txns.
    pub fn cursor(&self) -> Cursor {
        self.next
    }

    /// The verifier state stored when the engine was opened.
    pub fn stored_verifier(&self) -> Option<&[u8]> {
        self.verifier.as_deref()
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

    /// Says that the outcomes of every record before `offset` are held
    /// durably elsewhere (the broker acknowledged them with acks=all, or
    /// nothing publishes them): their batches may be pruned from etcd once
    /// older than [`Config::outcomes_kept`] records. Later Txns delete them.
    pub fn outcomes_durable_before(&mut self, offset: i64) {
        self.durable_before = self.durable_before.max(offset);
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

    /// Reads `keys` (≤ 128 per Txn) into `slots`, the cached ones from the cache.
    async fn read(
        &mut self,
        mut keys: Vec<String>,
        slots: &mut BTreeMap<String, Slot>,
    ) -> Result<(), EngineError> {
        keys.retain(|k| match self.cache.get(k) {
            Some((stored, rev)) => {
                slots.entry(k.clone()).or_insert_with(|| Slot {
                    stored: stored.clone(),
                    rev: rev.clone(),
                    write: None,
                });
                false
            }
            None => !slots.contains_key(k),
        });
        for chunk in keys.chunks(MAX_TXN_OPS) {
            let ops: Vec<TxnOp> = chunk
                .iter()
                .map(|k| TxnOp::get(k.as_str(), Some(GetOptions::new().with_serializable())))
                .collect();
            let resp = self
                .client
                .txn(Txn::new().and_then(ops))
                .await
                .map_err(EngineError::from_etcd)?;
            for (key, r) in chunk.iter().zip(resp.op_responses()) {
                let TxnOpResponse::Get(g) = r else { continue };
                let slot = match g.kvs().first() {
                    Some(kv) => Slot {
                        stored: Some(self.decode_stored(key, kv.value())?),
                        rev: Guard::Rev(kv.mod_revision()),
                        write: None,
                    },
                    None => Slot::absent(),
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
        Ok(slots.entry(key.to_owned()).or_insert_with(Slot::absent))
    }

    /// Plans the Txn for a prefix of `records` (encoded log records at
    /// offsets `next_offset()..`; not empty) as if the batches planned before
    /// it had committed: the ledger, the cursor and the cache move on now.
    /// Commit planned batches in order, and reopen the engine if one fails.
    pub async fn plan(
        &mut self,
        records: &[Incoming],
        metrics: &Metrics,
    ) -> Result<Planned, EngineError> {
        let mut batch = BatchPlan::default();
        if self.partial.is_some() {
            // The next Txn of a record applied across several.
            self.plan_units(&mut batch).await?;
            self.account(records, 0, &mut batch);
            self.store_verifier(records, &mut batch);
            return Ok(self.seal(batch, metrics));
        }
        // More records than one Txn can take are not looked at.
        let window = &records[..records.len().min(MAX_RECORDS_PER_TXN)];
        self.prefetch(window, &mut batch.slots).await?;
        let careful = std::mem::take(&mut self.careful);
        for (i, item) in window.iter().enumerate() {
            let step = self.plan_record(item, careful, &mut batch, metrics).await?;
            self.account(records, i, &mut batch);
            if let Step::Stop = step {
                break;
            }
        }
        self.store_verifier(records, &mut batch);
        Ok(self.seal(batch, metrics))
    }

    /// Once record `i` of `records` is completely planned: whether it moves
    /// the position.
    fn account(&self, records: &[Incoming], i: usize, batch: &mut BatchPlan) {
        if batch.consumed != i + 1 {
            return;
        }
        if let Some(item) = records.get(i) {
            batch.advanced += usize::from(item.advances);
        }
    }

    /// Stores the verifier state the batch's last completely planned record
    /// leaves (the states of earlier records are superseded in the same Txn).
    fn store_verifier(&self, records: &[Incoming], batch: &mut BatchPlan) {
        let last = batch.consumed.checked_sub(1).and_then(|i| records.get(i));
        if let Some(v) = last.and_then(|item| item.verifier.as_ref()) {
            batch.state_write(self.cfg.layout.verifier(), Some(v.encode()));
        }
    }

    /// Reads every object the window's requests target up front (a few read
    /// Txns), rather than one round trip per request. Targets the ledger says
    /// do not exist are only read when careful: the log created every object
    /// the ledger knows of.
    async fn prefetch(
        &mut self,
        records: &[Incoming],
        slots: &mut BTreeMap<String, Slot>,
    ) -> Result<(), EngineError> {
        let mut targets = Vec::new();
        let mut seen = HashSet::new();
        for e in records.iter().filter_map(|r| r.entry.as_ref()) {
            if let Body::Event(Event::K8sApiRequest(r)) = &e.body
                && (self.careful || self.ledger.object_exists(&ObjectKey::of(r)))
                && let Some(k) = request_target(&self.cfg, r)
                && seen.insert(k.clone())
            {
                targets.push(k);
            }
        }
        self.read(targets, slots).await
    }

    /// Plans one record into `batch`, unless it belongs in the next Txn.
    async fn plan_record(
        &mut self,
        item: &Incoming,
        careful: bool,
        batch: &mut BatchPlan,
        metrics: &Metrics,
    ) -> Result<Step, EngineError> {
        let Some((entry, event)) = item.entry.as_ref().and_then(|e| match &e.body {
            Body::Event(event) => Some((e, event)),
            _ => None,
        }) else {
            metrics.skipped.inc();
            if let Some(r) = &item.refused {
                let o = Outcome::quarantined(self.cfg.cluster, r.offset, r.label, &r.reason);
                self.number(o, batch);
            }
            batch.consumed += 1;
            return Ok(Step::Next);
        };
        // Only an admitted namespace delete removes anything (deciding a
        // delete parses no manifest, so asking first is cheap).
        let solo = matches!(event, Event::K8sApiRequest(r) if is_namespace_delete(r)
            && matches!(daas_domain::admission::decide(&self.ledger, r), Decision::Admitted(_)));
        if !batch.is_empty() && (solo || !self.fits(event, batch)) {
            return Ok(Step::Stop);
        }
        // The stored cursor's node updates belong to the batch's first record.
        let resumed = if batch.consumed == 0 {
            self.next.units_done
        } else {
            0
        };
        let applied = self.apply_event(event, metrics);
        let ns_deleted = deleted_namespace(event, &applied);
        let (units, state_writes) = self.changes(&applied, ns_deleted.as_ref());
        self.check_resumed(resumed, units.len())?;
        if let Some((cluster, ns)) = &ns_deleted {
            self.plan_namespace_delete(*cluster, ns, batch);
        }
        if let Event::K8sApiRequest(req) = event
            && let Some(decision) = &applied.decision
            && let Some(outcome) = self
                .plan_request(entry, req, decision, careful, batch, metrics)
                .await?
        {
            self.number(outcome, batch);
        }
        if units.is_empty() {
            batch.complete_record(state_writes);
        } else {
            self.partial = Some(Partial {
                at: entry.position,
                units,
                done: resumed,
                state_writes,
            });
            self.plan_units(batch).await?;
        }
        Ok(if self.partial.is_some() || solo {
            Step::Stop
        } else {
            Step::Next
        })
    }

    /// Gives `outcome` the next number and adds it to `batch`.
    fn number(&mut self, mut outcome: Outcome, batch: &mut BatchPlan) {
        self.numbered += 1;
        outcome.sequence = self.numbered;
        batch.outcomes.push(outcome);
    }

    /// Applies `event` to the ledger; a Secret request of the served
    /// cluster is opened on the way ([`Opener`]).
    fn apply_event(&mut self, event: &Event, metrics: &Metrics) -> Applied {
        let applied = self.apply_event_to_ledger(event, metrics);
        if applied.changes.iter().any(crate::access::touches_access) {
            self.access_dirty = true;
        }
        applied
    }

    fn apply_event_to_ledger(&mut self, event: &Event, metrics: &Metrics) -> Applied {
        let cluster = self.cfg.cluster;
        match event {
            Event::K8sApiRequest(r) if r.cluster_id == cluster && r.kind == "Secret" => {
                let keys = self.cfg.sealing.snapshot();
                let registered = keys
                    .versions()
                    .into_iter()
                    .filter_map(|v| self.ledger.sealing_key(cluster, v).map(|k| (v, *k)))
                    .collect();
                let opener = Opener {
                    cluster,
                    keys: &keys,
                    registered,
                    metrics,
                };
                self.ledger.apply_with(event, &opener)
            }
            _ => {
                // A key registered for the served cluster (a rotation) is
                // checked, and the keys reloaded for it, at its record.
                let current = |l: &Ledger| l.current_sealing_key(cluster).map(|(v, _)| v);
                let before = current(&self.ledger);
                let applied = self.ledger.apply(event);
                if current(&self.ledger) != before {
                    self.check_sealing_key(metrics);
                }
                applied
            }
        }
    }

    /// Checks the newest sealing key the chain registered for the served
    /// cluster against the keys held, reloading them first when that
    /// version is not held (a rotation while running). One the master
    /// cannot open with is logged as an error and exported as
    /// `master_sealing_key_unusable`: Secrets sealed to it are refused
    /// (`sealing_key_unknown`) until its private key is restored.
    pub fn check_sealing_key(&self, metrics: &Metrics) {
        let Some((version, registered)) = self.ledger.current_sealing_key(self.cfg.cluster) else {
            return;
        };
        let keys = self.cfg.sealing.reload_for(version);
        metrics.sealing_keys_held.set(keys.versions().len() as i64);
        let held = keys.public_key(version);
        if held.is_some_and(|k| k.0 == *registered) {
            metrics.sealing_key_unusable.set(0);
            return;
        }
        let why = if held.is_some() {
            "is held with another public key"
        } else {
            "is not held"
        };
        tracing::error!(
            version,
            registered = %hex::encode(registered),
            "the chain's current sealing key version {version} {why} by this master: Secrets \
             sealed to it are refused until its private key is restored into --sealing-key-dir"
        );
        metrics.sealing_key_unusable.set(i64::from(version));
    }

    /// A stored cursor may only name node updates the record has.
    fn check_resumed(&self, resumed: usize, units: usize) -> Result<(), EngineError> {
        if resumed <= units {
            return Ok(());
        }
        Err(StateError::Corrupt {
            key: self.cfg.layout.position(),
            reason: format!("{resumed} node updates applied of a record that has {units}"),
        }
        .into())
    }

    /// True when `event` surely fits in `batch` beside what it holds.
    fn fits(&self, event: &Event, batch: &BatchPlan) -> bool {
        let budget = MAX_TXN_OPS - RESERVED_OPS;
        if batch.ops() + op_bound(&self.ledger, event) > budget {
            return false;
        }
        match event {
            Event::K8sApiRequest(r) => batch.bytes + r.manifest.len() * 2 <= MAX_TXN_BYTES,
            _ => true,
        }
    }

    /// A record's changes as node updates (units) and writes of the
    /// master's own keys; object removals inside a deleted namespace are
    /// left to its prefix delete.
    fn changes(
        &self,
        applied: &Applied,
        ns_deleted: Option<&(ObjectId, String)>,
    ) -> (Vec<Unit>, BTreeMap<String, Option<Vec<u8>>>) {
        let mut units = Vec::new();
        let mut writes = BTreeMap::new();
        for change in &applied.changes {
            if let Some(unit) = Unit::of(change) {
                units.push(unit);
                continue;
            }
            if let (
                Change::Object {
                    key, exists: false, ..
                },
                Some((c, ns)),
            ) = (change, ns_deleted)
                && key.cluster == *c
                && key.namespace == *ns
            {
                continue;
            }
            let Some(k) = change.store_key() else {
                continue;
            };
            let value =
                (!change.is_removal()).then(|| serde_json::to_vec(change).unwrap_or_default());
            writes.insert(self.cfg.layout.ledger(&k), value);
        }
        (units, writes)
    }

    /// Deletes a namespace's ledger entries, and its objects when it is in
    /// the served cluster, by prefix.
    fn plan_namespace_delete(&self, cluster: ObjectId, ns: &str, batch: &mut BatchPlan) {
        let layout = &self.cfg.layout;
        batch
            .prefix_deletes
            .push(layout.ledger(&Change::object_prefix(cluster, ns)));
        if cluster == self.cfg.cluster {
            for info in KINDS.iter().filter(|k| k.namespaced) {
                batch
                    .prefix_deletes
                    .push(info.etcd_key(&layout.registry, ns, ""));
            }
        }
    }

    /// A request's write (when admitted) and its outcome, for the served
    /// cluster's requests.
    async fn plan_request(
        &mut self,
        entry: &LogEntry,
        req: &K8sApiRequest,
        decision: &Decision,
        careful: bool,
        batch: &mut BatchPlan,
        metrics: &Metrics,
    ) -> Result<Option<Outcome>, EngineError> {
        if req.cluster_id != self.cfg.cluster {
            return Ok(None);
        }
        let result = match decision {
            Decision::Rejected(r) => {
                metrics.rejected.inc();
                metrics.count_sealed_refusal(r.code);
                OutcomeResult::Rejected(r.clone())
            }
            Decision::Admitted(a) => {
                metrics.applied.inc();
                let Some(key) = request_target(&self.cfg, req) else {
                    return Ok(None);
                };
                let (action, rv) = self
                    .plan_object_write(entry, req, a, &key, careful, batch)
                    .await?;
                OutcomeResult::Applied {
                    action: action.into(),
                    key,
                    resource_version: rv,
                    warnings: a.warnings.clone(),
                }
            }
        };
        // Numbered, and given the ledger root, when the batch is sealed.
        Ok(Some(Outcome::new(
            req.cluster_id,
            req.request_id,
            entry.position,
            entry.transaction_digest,
            req.timestamp_ms,
            result,
        )))
    }

    /// Plans an admitted request's write of `key`: its action (`created`,
    /// `updated`, `unchanged`, `deleted`) and the resource version its
    /// outcome will carry (-1: this Txn's revision; ≤ -2: batch `-2 - rv`'s).
    async fn plan_object_write(
        &mut self,
        entry: &LogEntry,
        req: &K8sApiRequest,
        a: &Admitted,
        key: &str,
        careful: bool,
        batch: &mut BatchPlan,
    ) -> Result<(&'static str, i64), EngineError> {
        let Some(manifest) = a.object.as_ref().filter(|_| a.action != Action::Delete) else {
            let slot = self.slot(key, &mut batch.slots, false).await?;
            slot.stored = None;
            slot.write = Some(None);
            return Ok(("deleted", 0));
        };
        let ns = if a.kind.namespaced {
            req.namespace.as_str()
        } else {
            ""
        };
        let uid = object::uid(&entry.transaction_digest, entry.position.event_index);
        let created = object::timestamp(entry.checkpoint_timestamp_ms);
        let secret_key = self.cfg.secret_key.clone();
        let known_absent = a.action == Action::Create && !careful;
        // During a rebuild, what is stored may be this object's future
        // (decision 0017): a create renders it as the log makes it.
        let fresh = a.action == Action::Create
            && self.next.offset + (batch.advanced as i64) < self.rebuild_until;
        let slot = self.slot(key, &mut batch.slots, known_absent).await?;
        let existing = slot.stored.as_ref().filter(|_| !fresh);
        let (obj, written) = object::render(a.kind, manifest, ns, existing, &uid, &created);
        let action = if a.action == Action::Create {
            "created"
        } else {
            written.as_str()
        };
        if written == Written::Unchanged {
            if slot.write.is_some() {
                return Ok((action, -1));
            }
            return Ok((action, committed_rv(&slot.rev)));
        }
        let json = serde_json::to_vec(&obj).unwrap_or_default();
        let value = match (&secret_key, a.kind.kind) {
            (Some(k), "Secret") => k.seal(key, &position_bytes(&entry.position), &json),
            _ => json,
        };
        batch.bytes += value.len();
        slot.stored = Some(obj);
        slot.write = Some(Some(value));
        Ok((action, -1))
    }

    /// Plans as many of the split record's node updates as fit in `batch`
    /// (at least one when it is otherwise empty), then, once every update is
    /// planned and its ledger writes fit too, its last part: those writes
    /// and the record consumed.
    async fn plan_units(&mut self, batch: &mut BatchPlan) -> Result<(), EngineError> {
        let Some(mut p) = self.partial.take() else {
            return Ok(());
        };
        let budget = MAX_TXN_OPS - RESERVED_OPS;
        let ahead: Vec<String> = p.units[p.done..]
            .iter()
            .take(budget)
            .map(|u| self.cfg.layout.minion(&u.node))
            .collect();
        self.read(ahead, &mut batch.slots).await?;
        while let Some(unit) = p.units.get(p.done) {
            let key = self.cfg.layout.minion(&unit.node);
            let slot = self.slot(&key, &mut batch.slots, false).await?;
            let node = eviction::node_after(slot.stored.as_ref(), unit.active);
            let value = node
                .as_ref()
                .map(|n| serde_json::to_vec(n).unwrap_or_default());
            let record = eviction::record(&unit.node, unit.active, &p.at);
            let ops = 1 + usize::from(value.is_some());
            let bytes = record.as_ref().map_or(0, Vec::len) + value.as_ref().map_or(0, Vec::len);
            if !batch.is_empty()
                && (batch.ops() + ops > budget || batch.bytes + bytes > MAX_TXN_BYTES)
            {
                break;
            }
            if let (Some(node), Some(value)) = (node, value) {
                batch.bytes += value.len();
                let slot = self.slot(&key, &mut batch.slots, false).await?;
                slot.stored = Some(node);
                slot.write = Some(Some(value));
            } else {
                batch.read_guards.insert(key);
            }
            batch.state_write(self.cfg.layout.eviction(&unit.node), record);
            p.done += 1;
        }
        let last_fits = batch.is_empty()
            || (batch.ops() + p.state_writes.len() <= budget
                && batch.bytes + p.last_bytes() <= MAX_TXN_BYTES);
        if p.units_planned() && last_fits {
            batch.complete_record(p.state_writes);
        } else {
            self.partial = Some(p);
        }
        Ok(())
    }

    /// The outcome batches the next Txn deletes, `[first key, end key)`:
    /// those starting before both the durable offset and the kept window,
    /// once at least [`PRUNE_EVERY_RECORDS`] more can go.
    fn prune(&mut self, first: i64) -> Option<(String, String)> {
        let cut = self
            .durable_before
            .min(first.saturating_sub(self.cfg.outcomes_kept));
        if cut - self.pruned_before < PRUNE_EVERY_RECORDS {
            return None;
        }
        self.pruned_before = cut;
        let layout = &self.cfg.layout;
        Some((layout.outcomes_prefix(), layout.outcomes_before(cut)))
    }

    /// Turns the planned batch into its Txn and moves the engine past it:
    /// the master's own keys get their tags, the position the commitment
    /// to the ledger and eviction keys after it, and every outcome the
    /// ledger root after it and the offset the Txn ends at (decision 0021).
    fn seal(&mut self, mut batch: BatchPlan, metrics: &Metrics) -> Planned {
        let from = self.next;
        let to = Cursor {
            offset: from.offset + batch.advanced as i64,
            units_done: self.partial.as_ref().map_or(0, |p| p.done),
        };
        let prune = self.prune(from.offset);
        let mac = &self.cfg.state_key;
        self.set
            .apply_txn(mac, &batch.prefix_deletes, &mut batch.state_writes);
        if !batch.outcomes.is_empty() {
            let start = std::time::Instant::now();
            let root = self.set.ledger_root();
            metrics
                .ledger_root_seconds
                .observe(start.elapsed().as_secs_f64());
            for o in &mut batch.outcomes {
                o.ledger_root = Some(root);
                o.ledger_root_offset = to.offset as u64;
            }
        }
        let position = Position {
            cursor: to,
            count: self.set.count(),
            digest: self.set.digest(),
            rebuild_until: self.rebuild_until,
            outcomes: self.numbered,
        };
        let to_value = mac.seal(&self.cfg.layout.position(), position.encode().as_bytes());
        let from_value = self.position_value.replace(to_value.clone());
        let txn = batch.txn(&Seal {
            layout: &self.cfg.layout,
            from: from.offset,
            from_value: from_value.as_deref(),
            to_value: &to_value,
            key: mac,
            prune,
        });
        let seq = self.seq;
        self.seq += 1;
        self.next = to;
        // A rebuild reads every key it writes first (see `careful`).
        self.careful |= to.offset < self.rebuild_until;
        let barrier = !batch.prefix_deletes.is_empty();
        let written = self.remember(seq, batch.slots, &batch.prefix_deletes);
        Planned {
            seq,
            end: to.offset,
            written,
            txn: Some(txn),
            consumed: batch.consumed,
            outcomes: batch.outcomes,
            barrier,
        }
    }

    /// Caches what batch `seq` read and wrote (its writes as pending);
    /// returns the keys it writes.
    fn remember(
        &mut self,
        seq: u64,
        slots: BTreeMap<String, Slot>,
        prefix_deletes: &[String],
    ) -> Vec<String> {
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
        // Whatever is known about keys under deleted prefixes (read before
        // this Txn, or written by one still in flight) is stale once it commits.
        self.cache
            .retain(|k, _| !prefix_deletes.iter().any(|p| k.starts_with(p.as_str())));
        written
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
        if std::mem::take(&mut self.access_dirty) {
            self.publish_access();
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
}

/// The namespace an admitted namespace delete removes.
fn deleted_namespace(event: &Event, applied: &Applied) -> Option<(ObjectId, String)> {
    match (event, &applied.decision) {
        (Event::K8sApiRequest(r), Some(Decision::Admitted(a)))
            if is_namespace_delete(r) && a.action == Action::Delete =>
        {
            Some((r.cluster_id, r.name.clone()))
        }
        _ => None,
    }
}

/// The resource version an unchanged object's outcome carries: its stored
/// revision, or (written by a batch still in flight) that batch's, filled in
/// by [`Engine::finish`].
fn committed_rv(guard: &Guard) -> i64 {
    match guard {
        Guard::Rev(r) => *r,
        Guard::Pending { seq, .. } => -2 - *seq as i64,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: tonic::Code, message: &str) -> etcd_client::Error {
        etcd_client::Error::GRpcStatus(tonic::Status::new(code, message))
    }

    #[test]
    fn refusals_of_the_request_are_told_from_transient_failures() {
        // The messages etcd 3.4/3.5 and gRPC send (rpctypes, grpc-go).
        for (code, message) in [
            (
                tonic::Code::InvalidArgument,
                "etcdserver: too many operations in txn request",
            ),
            (
                tonic::Code::InvalidArgument,
                "etcdserver: request is too large",
            ),
            (
                tonic::Code::InvalidArgument,
                "etcdserver: duplicate key given in txn request",
            ),
            (
                tonic::Code::ResourceExhausted,
                "grpc: received message larger than max (2097224 vs. 2097152)",
            ),
        ] {
            let e = EngineError::from_etcd(status(code, message));
            assert!(
                matches!(&e, EngineError::Refused(m) if m == message),
                "{e:?}"
            );
        }
        for (code, message) in [
            (
                tonic::Code::ResourceExhausted,
                "etcdserver: mvcc: database space exceeded",
            ),
            (tonic::Code::Unavailable, "etcdserver: leader changed"),
            (tonic::Code::DeadlineExceeded, "context deadline exceeded"),
        ] {
            let e = EngineError::from_etcd(status(code, message));
            assert!(matches!(e, EngineError::Etcd(_)), "{message}: {e:?}");
        }
    }
}
