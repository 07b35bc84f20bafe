//! The programmable transaction's commands: coin splits, merges and transfers,
//! an optional `0x2::nitro_attestation::load_nitro_attestation`, and the Move
//! call into our package, run against a scratch copy of the coins. Nothing is
//! written here; `commit` applies the scratch on success.

use std::collections::BTreeMap;

use sui_sdk_types::{
    Address, Argument, Command, Digest, ExecutionError, Input, MergeCoins, MoveCall,
    ProgrammableTransaction, SplitCoins, Transaction, TransferObjects,
};

use super::{Failure, GAS_UNITS_PER_TRANSACTION, World, arg_error, fail};
use crate::objects::Obj;

/// A resolved command argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Val {
    /// The gas coin.
    Gas,
    /// An input (pure value or object), by input index.
    Input(usize),
    /// A coin made in this transaction, by index into `new_coins`.
    NewCoin(usize),
    /// A `NitroAttestationDocument` returned by `load_nitro_attestation`, by
    /// index into `documents`.
    Document(usize),
}

/// What a run has done so far, applied by `commit` on success.
pub(super) struct Scratch {
    /// Balance of the gas coin (after merges and splits).
    pub gas_balance: u64,
    /// Balances of input coins, by input index.
    pub input_coins: BTreeMap<usize, u64>,
    /// Input coins merged away or consumed (deleted on success).
    pub deleted_inputs: Vec<usize>,
    /// Coins created: balance and what became of them.
    pub new_coins: Vec<(u64, Fate)>,
    /// Owned input objects transferred to another address.
    pub transferred_inputs: BTreeMap<usize, Address>,
    /// Whether the gas coin itself was transferred.
    pub gas_transferred_to: Option<Address>,
    /// Coins paid out by Move (withdraw) to an address.
    pub payouts: Vec<(u64, Address)>,
    /// Events of the Move call.
    pub events: Vec<daas_domain::Event>,
    /// Object id of a cluster created by the Move call.
    pub created_cluster: Option<Address>,
    /// Documents `load_nitro_attestation` verified; `None` once a call took
    /// one (a Move value moves). An unused one is dropped (it has `drop`).
    pub documents: Vec<Option<daas_attestation::Document>>,
}

/// What became of a coin made in this transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Fate {
    /// Still a value; unused at the end is an error (`Coin` has no `drop`).
    Unused,
    /// Sent to an address.
    Transferred(Address),
    /// Merged into another coin or paid into the pool.
    Consumed,
}

impl World {
    /// Runs the commands against a scratch state; `Err` is the failure status.
    pub(super) fn interpret(
        &mut self,
        tx: &Transaction,
        ptb: &ProgrammableTransaction,
        digest: &Digest,
    ) -> Result<Scratch, Failure> {
        let mut s = self.scratch(tx, ptb);
        if !supported_move_calls(ptb) {
            return Err(Failure {
                error: Box::new(ExecutionError::FeatureNotYetSupported),
                command: None,
            });
        }
        let mut results: Vec<Vec<Val>> = Vec::new();
        for (ci, cmd) in ptb.commands.iter().enumerate() {
            let out = match cmd {
                Command::SplitCoins(split) => split_coins(ptb, &mut s, &results, split, ci)?,
                Command::MergeCoins(merge) => merge_coins(&mut s, &results, merge, ci)?,
                Command::TransferObjects(t) => transfer_objects(ptb, &mut s, &results, t, ci)?,
                Command::MoveCall(call) => {
                    self.move_call(tx, digest, ptb, &mut s, &results, call, ci)?
                }
                _ => return Err(fail(ExecutionError::FeatureNotYetSupported, ci)),
            };
            results.push(out);
        }
        if let Some(n) = s
            .new_coins
            .iter()
            .position(|(_, fate)| *fate == Fate::Unused)
        {
            let (result, subresult) = locate_new_coin(&results, n);
            return Err(Failure {
                error: Box::new(ExecutionError::UnusedValueWithoutDrop { result, subresult }),
                command: None,
            });
        }
        Ok(s)
    }

    /// The scratch state before the first command: gas charged, input coins' balances.
    fn scratch(&self, tx: &Transaction, ptb: &ProgrammableTransaction) -> Scratch {
        let gas_balance: u64 = tx
            .gas_payment
            .objects
            .iter()
            .filter_map(|r| self.objects.get(r.object_id()).and_then(Obj::balance))
            .sum();
        let cost = GAS_UNITS_PER_TRANSACTION * tx.gas_payment.price;
        let mut input_coins = BTreeMap::new();
        for (i, input) in ptb.inputs.iter().enumerate() {
            if let Input::ImmutableOrOwned(r) = input
                && let Some(b) = self.objects.get(r.object_id()).and_then(Obj::balance)
            {
                input_coins.insert(i, b);
            }
        }
        Scratch {
            gas_balance: gas_balance.saturating_sub(cost),
            input_coins,
            deleted_inputs: Vec::new(),
            new_coins: Vec::new(),
            transferred_inputs: BTreeMap::new(),
            gas_transferred_to: None,
            payouts: Vec::new(),
            events: Vec::new(),
            created_cluster: None,
            documents: Vec::new(),
        }
    }

    #[allow(clippy::too_many_arguments)] // the command and everything it may read
    fn move_call(
        &mut self,
        tx: &Transaction,
        digest: &Digest,
        ptb: &ProgrammableTransaction,
        s: &mut Scratch,
        results: &[Vec<Val>],
        call: &MoveCall,
        ci: usize,
    ) -> Result<Vec<Val>, Failure> {
        let args: Vec<Val> = call
            .arguments
            .iter()
            .map(|a| resolve(results, a, ci))
            .collect::<Result<_, _>>()?;
        if super::nitro::is_load(call) {
            return self.load_nitro_attestation(ptb, s, call, &args, ci);
        }
        if call.package != self.ids.package {
            return Err(fail(ExecutionError::FunctionNotFound, ci));
        }
        let events = self.call(
            super::call::Call {
                tx,
                digest,
                ptb,
                module: call.module.as_str(),
                function: call.function.as_str(),
                args: &args,
                ci,
            },
            s,
        )?;
        s.events.extend(events);
        Ok(vec![])
    }
}

/// At most two Move calls: the last command is one (into our package, which
/// the call checks), and a first of two is `load_nitro_attestation`.
fn supported_move_calls(ptb: &ProgrammableTransaction) -> bool {
    let calls: Vec<&MoveCall> = (ptb.commands.iter())
        .filter_map(|c| match c {
            Command::MoveCall(m) => Some(m),
            _ => None,
        })
        .collect();
    let last_is_call = matches!(ptb.commands.last(), Some(Command::MoveCall(_)));
    match calls.as_slice() {
        [] => true,
        [_] => last_is_call,
        [first, _] => last_is_call && super::nitro::is_load(first),
        _ => false,
    }
}

fn split_coins(
    ptb: &ProgrammableTransaction,
    s: &mut Scratch,
    results: &[Vec<Val>],
    split: &SplitCoins,
    ci: usize,
) -> Result<Vec<Val>, Failure> {
    let src = resolve(results, &split.coin, ci)?;
    let mut made = Vec::new();
    for (ai, a) in split.amounts.iter().enumerate() {
        let amount =
            pure::<u64>(ptb, &resolve(results, a, ci)?).ok_or_else(|| arg_error(ai + 1, ci))?;
        let bal = coin_balance_mut(s, src).ok_or_else(|| arg_error(0, ci))?;
        if *bal < amount {
            return Err(fail(ExecutionError::InsufficientCoinBalance, ci));
        }
        *bal -= amount;
        s.new_coins.push((amount, Fate::Unused));
        made.push(Val::NewCoin(s.new_coins.len() - 1));
    }
    Ok(made)
}

fn merge_coins(
    s: &mut Scratch,
    results: &[Vec<Val>],
    merge: &MergeCoins,
    ci: usize,
) -> Result<Vec<Val>, Failure> {
    let dest = resolve(results, &merge.coin, ci)?;
    for (ai, a) in merge.coins_to_merge.iter().enumerate() {
        let src = resolve(results, a, ci)?;
        if src == dest || src == Val::Gas {
            return Err(arg_error(ai + 1, ci));
        }
        let amount = take_coin(s, src).ok_or_else(|| arg_error(ai + 1, ci))?;
        let bal = coin_balance_mut(s, dest).ok_or_else(|| arg_error(0, ci))?;
        *bal = bal
            .checked_add(amount)
            .ok_or_else(|| fail(ExecutionError::CoinBalanceOverflow, ci))?;
    }
    Ok(vec![])
}

fn transfer_objects(
    ptb: &ProgrammableTransaction,
    s: &mut Scratch,
    results: &[Vec<Val>],
    t: &TransferObjects,
    ci: usize,
) -> Result<Vec<Val>, Failure> {
    let to = resolve(results, &t.address, ci)?;
    let to = pure_address(ptb, &to).ok_or_else(|| arg_error(t.objects.len(), ci))?;
    for (ai, a) in t.objects.iter().enumerate() {
        match resolve(results, a, ci)? {
            Val::Gas => s.gas_transferred_to = Some(to),
            Val::NewCoin(n) => match s.new_coins.get_mut(n) {
                Some((_, fate @ Fate::Unused)) => *fate = Fate::Transferred(to),
                _ => return Err(arg_error(ai, ci)),
            },
            Val::Input(i) if matches!(ptb.inputs.get(i), Some(Input::ImmutableOrOwned(_))) => {
                s.transferred_inputs.insert(i, to);
            }
            _ => return Err(fail(ExecutionError::InvalidTransferObject, ci)),
        }
    }
    Ok(vec![])
}

fn resolve(results: &[Vec<Val>], a: &Argument, ci: usize) -> Result<Val, Failure> {
    match a {
        Argument::Gas => Ok(Val::Gas),
        Argument::Input(i) => Ok(Val::Input(usize::from(*i))),
        Argument::Result(r) => match results.get(usize::from(*r)).map(Vec::as_slice) {
            Some([v]) => Ok(*v),
            _ => Err(fail(
                ExecutionError::CommandArgumentError {
                    argument: 0,
                    kind: sui_sdk_types::CommandArgumentError::InvalidResultArity { result: *r },
                },
                ci,
            )),
        },
        Argument::NestedResult(r, j) => results
            .get(usize::from(*r))
            .and_then(|v| v.get(usize::from(*j)))
            .copied()
            .ok_or_else(|| {
                fail(
                    ExecutionError::CommandArgumentError {
                        argument: 0,
                        kind: sui_sdk_types::CommandArgumentError::SecondaryIndexOutOfBounds {
                            result: *r,
                            subresult: *j,
                        },
                    },
                    ci,
                )
            }),
    }
}

/// A pure input's value, BCS-decoded as `T`.
pub(super) fn pure<T: serde::de::DeserializeOwned>(
    ptb: &ProgrammableTransaction,
    v: &Val,
) -> Option<T> {
    match v {
        Val::Input(i) => match ptb.inputs.get(*i)? {
            Input::Pure(bytes) => bcs::from_bytes(bytes).ok(),
            _ => None,
        },
        _ => None,
    }
}

pub(super) fn pure_address(ptb: &ProgrammableTransaction, v: &Val) -> Option<Address> {
    pure::<[u8; 32]>(ptb, v).map(Address::new)
}

/// The object id of input `i`, if it is an object.
pub(super) fn input_object_id(ptb: &ProgrammableTransaction, i: usize) -> Option<Address> {
    match ptb.inputs.get(i)? {
        Input::ImmutableOrOwned(r) => Some(*r.object_id()),
        Input::Shared(s) => Some(s.object_id()),
        _ => None,
    }
}

fn coin_balance_mut(s: &mut Scratch, v: Val) -> Option<&mut u64> {
    match v {
        Val::Gas => Some(&mut s.gas_balance),
        Val::Input(i) if !s.deleted_inputs.contains(&i) => s.input_coins.get_mut(&i),
        Val::NewCoin(n) => match s.new_coins.get_mut(n) {
            Some((b, Fate::Unused)) => Some(b),
            _ => None,
        },
        _ => None,
    }
}

/// A live coin's balance (not the gas coin: Move calls cannot take it by value).
pub(super) fn coin_value(s: &Scratch, v: Val) -> Option<u64> {
    match v {
        Val::Input(i) if !s.deleted_inputs.contains(&i) => s.input_coins.get(&i).copied(),
        Val::NewCoin(n) => match s.new_coins.get(n) {
            Some((b, Fate::Unused)) => Some(*b),
            _ => None,
        },
        _ => None,
    }
}

/// Moves a coin's whole balance out (the coin is consumed); `None` if it is not a live coin.
pub(super) fn take_coin(s: &mut Scratch, v: Val) -> Option<u64> {
    let amount = coin_value(s, v)?;
    match v {
        Val::Input(i) => s.deleted_inputs.push(i),
        Val::NewCoin(n) => {
            if let Some(c) = s.new_coins.get_mut(n) {
                c.1 = Fate::Consumed;
            }
        }
        _ => return None,
    }
    Some(amount)
}

fn locate_new_coin(results: &[Vec<Val>], n: usize) -> (u16, u16) {
    for (r, vals) in results.iter().enumerate() {
        for (j, v) in vals.iter().enumerate() {
            if *v == Val::NewCoin(n) {
                return (r as u16, j as u16);
            }
        }
    }
    (0, 0)
}
