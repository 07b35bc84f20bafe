//! Applying a run: its writes on success (or only the gas charge on failure),
//! and the effects and events a node reports for it.

use sui_sdk_types::{
    Address, ChangedObject, Command, Digest, Event, ExecutionStatus, GasCostSummary, IdOperation,
    Identifier, Input, ObjectIn, ObjectOut, Owner, ProgrammableTransaction, StructTag, Transaction,
    TransactionEffects, TransactionEffectsV2, TransactionEvents, UnchangedConsensusKind,
    UnchangedConsensusObject,
};

use super::{
    GAS_UNITS_PER_TRANSACTION, World, derive_object_id,
    ptb::{Fate, Scratch},
};
use crate::objects::{Kind, Obj, ObjectStore};

/// Writes objects at the transaction's lamport version, recording each change.
struct Writer<'a> {
    store: &'a mut ObjectStore,
    changed: Vec<ChangedObject>,
    package: Address,
    clock_ms: u64,
    lamport: u64,
    digest: Digest,
    /// Next number for `derive_object_id` (0 is reserved for a created cluster).
    next_created: u64,
}

impl Writer<'_> {
    /// Writes `new` over object `id` (`None` deletes it).
    fn write(&mut self, id: Address, new: Option<Obj>, created: bool) {
        let (pkg, clock_ms) = (self.package, self.clock_ms);
        let input_state = match self.store.get(&id) {
            Some(o) => ObjectIn::Exist {
                version: o.version,
                digest: o.digest(pkg, clock_ms),
                owner: o.owner,
            },
            None => ObjectIn::NotExist,
        };
        let (output_state, id_operation) = match new {
            Some(o) => {
                let out = ObjectOut::ObjectWrite {
                    digest: o.digest(pkg, clock_ms),
                    owner: o.owner,
                };
                self.store.put(o);
                let op = if created {
                    IdOperation::Created
                } else {
                    IdOperation::None
                };
                (out, op)
            }
            None => {
                self.store.remove(&id);
                (ObjectOut::NotExist, IdOperation::Deleted)
            }
        };
        self.changed.push(ChangedObject {
            object_id: id,
            input_state,
            output_state,
            id_operation,
        });
    }

    /// A new object of this transaction owned by `owner`.
    fn create(&mut self, id: Address, owner: Owner, kind: Kind) {
        let o = Obj {
            id,
            version: self.lamport,
            owner,
            kind,
            previous_transaction: self.digest,
        };
        self.write(id, Some(o), true);
    }

    /// A new coin with the next derived id.
    fn create_coin(&mut self, balance: u64, owner: Address) {
        let id = derive_object_id(&self.digest, self.next_created);
        self.next_created += 1;
        self.create(id, Owner::Address(owner), Kind::Coin { balance });
    }

    /// Object `o`, changed or not, at the lamport version.
    fn bump(&mut self, mut o: Obj) {
        o.version = self.lamport;
        o.previous_transaction = self.digest;
        self.write(o.id, Some(o), false);
    }

    /// Gas: coins are smashed into the first; the cost is charged on success
    /// and failure alike. Returns the gas object's index in the changes.
    fn gas(&mut self, tx: &Transaction, scratch: Option<&Scratch>, cost: u64) -> Option<u32> {
        let gas_id = *tx.gas_payment.objects[0].object_id();
        let total_gas: u64 = tx
            .gas_payment
            .objects
            .iter()
            .filter_map(|r| self.store.get(r.object_id()).and_then(Obj::balance))
            .sum();
        for r in &tx.gas_payment.objects[1..] {
            self.write(*r.object_id(), None, false);
        }
        let (gas_balance, gas_owner) = match scratch {
            Some(s) => (s.gas_balance, s.gas_transferred_to.unwrap_or(tx.sender)),
            None => (total_gas.saturating_sub(cost), tx.sender),
        };
        let gas_obj = Obj {
            id: gas_id,
            version: self.lamport,
            owner: Owner::Address(gas_owner),
            kind: Kind::Coin {
                balance: gas_balance,
            },
            previous_transaction: self.digest,
        };
        self.write(gas_id, Some(gas_obj), false);
        Some(self.changed.len() as u32 - 1)
    }

    /// Success: owned inputs keep their new balance (or go) and may change
    /// owner; new coins, payouts and a created cluster are written.
    fn success(&mut self, ptb: &ProgrammableTransaction, s: &Scratch) {
        for (i, input) in ptb.inputs.iter().enumerate() {
            let Input::ImmutableOrOwned(r) = input else {
                continue;
            };
            let Some(mut o) = self.store.get(r.object_id()).cloned() else {
                continue;
            };
            if s.deleted_inputs.contains(&i) {
                self.write(o.id, None, false);
                continue;
            }
            if let (Kind::Coin { balance }, Some(b)) = (&mut o.kind, s.input_coins.get(&i)) {
                *balance = *b;
            }
            if let Some(to) = s.transferred_inputs.get(&i) {
                o.owner = Owner::Address(*to);
            }
            self.bump(o);
        }
        for (balance, fate) in &s.new_coins {
            if let Fate::Transferred(owner) = fate {
                self.create_coin(*balance, *owner);
            }
        }
        for (amount, owner) in &s.payouts {
            self.create_coin(*amount, *owner);
        }
        if let Some(id) = s.created_cluster {
            self.create(id, Owner::Shared(self.lamport), Kind::Cluster);
        }
    }

    /// Failure: owned inputs are still bumped to the lamport version, unchanged otherwise.
    fn failure(&mut self, ptb: &ProgrammableTransaction) {
        for input in &ptb.inputs {
            let Input::ImmutableOrOwned(r) = input else {
                continue;
            };
            if let Some(o) = self.store.get(r.object_id()).cloned() {
                self.bump(o);
            }
        }
    }

    /// Shared inputs: mutable ones are written at the lamport version,
    /// read-only ones recorded as unchanged.
    fn shared(&mut self, shared_inputs: Vec<(Address, bool)>) -> Vec<UnchangedConsensusObject> {
        let mut unchanged = Vec::new();
        for (id, mutable) in shared_inputs {
            let Some(o) = self.store.get(&id).cloned() else {
                continue;
            };
            if mutable {
                self.bump(o);
            } else {
                unchanged.push(UnchangedConsensusObject {
                    object_id: id,
                    kind: UnchangedConsensusKind::ReadOnlyRoot {
                        version: o.version,
                        digest: o.digest(self.package, self.clock_ms),
                    },
                });
            }
        }
        unchanged
    }
}

impl World {
    /// Applies a run's writes (or only the gas charge on failure) and builds effects.
    pub(super) fn commit(
        &mut self,
        tx: &Transaction,
        ptb: &ProgrammableTransaction,
        digest: &Digest,
        status: ExecutionStatus,
        scratch: Option<Scratch>,
    ) -> (TransactionEffects, Vec<Event>) {
        let cost = GAS_UNITS_PER_TRANSACTION * tx.gas_payment.price;
        let (lamport, shared_inputs) = self.lamport(tx, ptb);
        let package = self.ids.package;
        let mut w = Writer {
            store: &mut self.objects,
            changed: Vec::new(),
            package,
            clock_ms: self.clock_ms,
            lamport,
            digest: *digest,
            next_created: 1,
        };
        let gas_object_index = w.gas(tx, scratch.as_ref(), cost);
        let events = match &scratch {
            Some(s) => {
                w.success(ptb, s);
                sui_events(package, tx, ptb, s)
            }
            None => {
                w.failure(ptb);
                Vec::new()
            }
        };
        let unchanged = w.shared(shared_inputs);
        let events_digest =
            (!events.is_empty()).then(|| TransactionEvents(events.clone()).digest());
        let effects = TransactionEffects::V2(Box::new(TransactionEffectsV2 {
            status,
            epoch: self.epoch,
            gas_used: GasCostSummary {
                computation_cost: cost,
                storage_cost: 0,
                storage_rebate: 0,
                non_refundable_storage_fee: 0,
            },
            transaction_digest: *digest,
            gas_object_index,
            events_digest,
            dependencies: Vec::new(),
            lamport_version: lamport,
            changed_objects: w.changed,
            unchanged_consensus_objects: unchanged,
            auxiliary_data_digest: None,
        }));
        (effects, events)
    }

    /// The lamport version (one above every input's version) and the shared
    /// inputs with whether each is mutable.
    fn lamport(
        &self,
        tx: &Transaction,
        ptb: &ProgrammableTransaction,
    ) -> (u64, Vec<(Address, bool)>) {
        let mut versions: Vec<u64> = tx.gas_payment.objects.iter().map(|r| r.version()).collect();
        let mut shared_inputs = Vec::new();
        for input in &ptb.inputs {
            match input {
                Input::ImmutableOrOwned(r) => versions.push(r.version()),
                Input::Shared(sh) => {
                    if let Some(o) = self.objects.get(&sh.object_id()) {
                        versions.push(o.version);
                        shared_inputs.push((sh.object_id(), sh.mutability().is_mutable()));
                    }
                }
                _ => {}
            }
        }
        (versions.into_iter().max().unwrap_or(0) + 1, shared_inputs)
    }
}

/// The Move call's events as Sui events of our package.
fn sui_events(
    package: Address,
    tx: &Transaction,
    ptb: &ProgrammableTransaction,
    s: &Scratch,
) -> Vec<Event> {
    let module = match ptb.commands.last() {
        Some(Command::MoveCall(c)) => c.module.clone(),
        _ => Identifier::from_static("unknown"),
    };
    let ident = |name: &str, fallback: &'static str| {
        Identifier::new(name).unwrap_or_else(|_| Identifier::from_static(fallback))
    };
    s.events
        .iter()
        .map(|e| {
            let (m, name) = e.move_type();
            Event {
                package_id: package,
                module: module.clone(),
                sender: tx.sender,
                type_: StructTag::new(package, ident(m, "unknown"), ident(name, "Unknown"), vec![]),
                contents: e.to_bcs(),
            }
        })
        .collect()
}
