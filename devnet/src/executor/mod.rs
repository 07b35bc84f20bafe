//! Transaction validation and execution.
//!
//! Validation (signature, gas coins, object versions and owners) happens
//! before execution, as on a real node: a transaction that fails it is never
//! included and emits nothing. Execution runs the programmable transaction's
//! commands; a Move abort (or another execution error) still charges gas and
//! is committed with a failure status, and changes nothing else.
//!
//! Supported PTB shape: coin commands (`SplitCoins`, `MergeCoins`,
//! `TransferObjects`) followed by at most one `MoveCall` into our package, as
//! the last command. Everything our CLI and load generator build fits it;
//! anything else is refused with a clear error.

use std::collections::BTreeMap;

use sui_crypto::{SuiVerifier, simple::SimpleVerifier};
use sui_sdk_types::{
    Address, Argument, ChangedObject, Command, Digest, Event, ExecutionError, ExecutionStatus,
    GasCostSummary, IdOperation, Identifier, Input, MoveLocation, ObjectIn, ObjectOut, Owner,
    SimpleSignature, StructTag, Transaction, TransactionEffects, TransactionEffectsV2,
    TransactionEvents, TransactionKind, UnchangedConsensusKind, UnchangedConsensusObject,
    UserSignature,
};

use crate::{
    contract::{Abort, ContractState, Ctx},
    objects::{Kind, Obj, ObjectStore},
};

/// Every entry function of our package and its parameter count (without the
/// implicit `TxContext`). `tests/entry_functions.rs` checks it against the Move sources.
pub const ENTRY_FUNCTIONS: [(&str, &str, usize); 12] = [
    ("staking", "stake", 4),
    ("staking", "top_up", 4),
    ("staking", "withdraw", 4),
    ("staking", "slash", 7),
    ("gateway", "create_cluster", 3),
    ("gateway", "submit_request", 9),
    ("nodes", "register_node", 6),
    ("nodes", "deregister_node", 3),
    ("grants", "grant", 6),
    ("grants", "revoke", 5),
    ("enclave", "register_pcrs", 6),
    ("enclave", "register_enclave", 6),
];

/// Gas units every transaction is charged (computation); storage is free here.
pub const GAS_UNITS_PER_TRANSACTION: u64 = 1_000;
/// The reference gas price, MIST per unit.
pub const REFERENCE_GAS_PRICE: u64 = 1_000;
/// Largest gas budget accepted, MIST (50 SUI, as on Sui).
pub const MAX_GAS_BUDGET: u64 = 50_000_000_000;

/// Why a transaction was refused before execution. Nothing is included or emitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// Signature missing, malformed, of an unsupported scheme, or not by the sender.
    #[error("invalid signature: {0}")]
    Signature(String),
    /// An object the transaction names does not exist.
    #[error("object {0} does not exist")]
    UnknownObject(Address),
    /// An owned object is referenced at a version or digest it no longer has.
    #[error("object {id} is at version {current}, not {given} (stale reference)")]
    StaleObject {
        /// Object id.
        id: Address,
        /// Version in the transaction.
        given: u64,
        /// Current version.
        current: u64,
    },
    /// An owned object (or gas coin) does not belong to the signer.
    #[error("object {id} is owned by {owner}, not by the sender {sender}")]
    NotOwned {
        /// Object id.
        id: Address,
        /// Its owner.
        owner: String,
        /// The sender.
        sender: Address,
    },
    /// A gas payment problem: not a coin, too small, price below the reference.
    #[error("gas: {0}")]
    Gas(String),
    /// A shape this dev chain does not run (another package, a sponsored
    /// transaction, a system transaction, several Move calls...).
    #[error("unsupported by the dev chain: {0}")]
    Unsupported(String),
    /// The transaction is inconsistent (bad argument index, wrong input kind...).
    #[error("invalid transaction: {0}")]
    Invalid(String),
}

/// The identities of the package and its genesis objects.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ids {
    /// The package.
    pub package: Address,
    /// `staking::StakingPool`.
    pub pool: Address,
    /// `nodes::NodeRegistry`.
    pub node_registry: Address,
    /// `enclave::EnclaveRegistry`.
    pub enclave_registry: Address,
    /// The genesis admin's `AdminCap`.
    pub admin_cap: Address,
}

/// The executable state: objects, the contract's shared state, time.
#[derive(Clone, Debug)]
pub struct World {
    /// Package and genesis object ids.
    pub ids: Ids,
    /// Live objects.
    pub objects: ObjectStore,
    /// State of our package's shared objects.
    pub contract: ContractState,
    /// Current epoch.
    pub epoch: u64,
    /// Clock time, ms (never goes back).
    pub clock_ms: u64,
}

/// A transaction that ran (successfully or with a failure status).
#[derive(Clone, Debug)]
pub struct Executed {
    /// The transaction.
    pub transaction: Transaction,
    /// Its signatures.
    pub signatures: Vec<UserSignature>,
    /// Effects.
    pub effects: TransactionEffects,
    /// Events (empty on failure).
    pub events: Vec<Event>,
    /// Digest of the transaction.
    pub digest: Digest,
}

/// A resolved command argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    /// The gas coin.
    Gas,
    /// An input (pure value or object), by input index.
    Input(usize),
    /// A coin made in this transaction, by index into `new_coins`.
    NewCoin(usize),
}

struct Scratch {
    /// Balance of the gas coin (after merges and splits).
    gas_balance: u64,
    /// Balances of input coins, by input index.
    input_coins: BTreeMap<usize, u64>,
    /// Input coins merged away or consumed (deleted on success).
    deleted_inputs: Vec<usize>,
    /// Coins created: balance and what became of them.
    new_coins: Vec<(u64, Fate)>,
    /// Owned input objects transferred to another address.
    transferred_inputs: BTreeMap<usize, Address>,
    /// Whether the gas coin itself was transferred.
    gas_transferred_to: Option<Address>,
    /// Coins paid out by Move (withdraw) to an address.
    payouts: Vec<(u64, Address)>,
    /// Contract calls to make, checked at the end.
    events: Vec<daas_domain::Event>,
    /// Object id of a cluster created by the Move call.
    created_cluster: Option<Address>,
}

/// What became of a coin made in this transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// Still a value; unused at the end is an error (`Coin` has no `drop`).
    Unused,
    /// Sent to an address.
    Transferred(Address),
    /// Merged into another coin or paid into the pool.
    Consumed,
}

// Boxed: the error is large and failures are the rare path.
struct Failure {
    error: Box<ExecutionError>,
    command: Option<u64>,
}

fn fail(error: ExecutionError, command: usize) -> Failure {
    Failure {
        error: Box::new(error),
        command: Some(command as u64),
    }
}

fn arg_error(arg: usize, command: usize) -> Failure {
    fail(
        ExecutionError::CommandArgumentError {
            argument: arg as u16,
            kind: sui_sdk_types::CommandArgumentError::TypeMismatch,
        },
        command,
    )
}

/// Derives the id of the `n`th object created by transaction `digest` (as Sui's `derive_id`).
pub fn derive_object_id(digest: &Digest, n: u64) -> Address {
    let mut h = sui_sdk_types::hash::Hasher::new();
    h.update(digest.as_bytes());
    h.update(n.to_le_bytes());
    Address::new(h.finalize().into_inner())
}

impl World {
    fn ctx(&self, sender: Address) -> Ctx {
        Ctx {
            sender: daas_domain::Address(sender.into_inner()),
            epoch: self.epoch,
            timestamp_ms: self.clock_ms,
        }
    }

    /// Checks everything that must hold before execution.
    pub fn validate(&self, tx: &Transaction, signatures: &[UserSignature]) -> Result<(), Rejected> {
        self.validate_inputs(tx)?;
        match signatures {
            [UserSignature::Simple(simple)] => {
                let signer = match simple {
                    SimpleSignature::Ed25519 { public_key, .. } => public_key.derive_address(),
                    SimpleSignature::Secp256k1 { public_key, .. } => public_key.derive_address(),
                    SimpleSignature::Secp256r1 { public_key, .. } => public_key.derive_address(),
                    _ => {
                        return Err(Rejected::Unsupported(
                            "only Ed25519, secp256k1 and secp256r1 signatures".into(),
                        ));
                    }
                };
                if signer != tx.sender {
                    return Err(Rejected::Signature(format!(
                        "signed by {signer}, but the sender is {}",
                        tx.sender
                    )));
                }
                SimpleVerifier
                    .verify_transaction(tx, &signatures[0])
                    .map_err(|e| Rejected::Signature(e.to_string()))
            }
            [] => Err(Rejected::Signature("the transaction is not signed".into())),
            [_] => Err(Rejected::Unsupported(
                "only simple (Ed25519/secp256k1/secp256r1) signatures".into(),
            )),
            _ => Err(Rejected::Unsupported(
                "one signature per transaction (no sponsors)".into(),
            )),
        }
    }

    /// Checks gas and inputs (everything but the signature); used by simulation too.
    pub fn validate_inputs(&self, tx: &Transaction) -> Result<(), Rejected> {
        let TransactionKind::ProgrammableTransaction(ptb) = &tx.kind else {
            return Err(Rejected::Unsupported(
                "only programmable transactions".into(),
            ));
        };
        let gas = &tx.gas_payment;
        if gas.owner != tx.sender {
            return Err(Rejected::Unsupported(
                "sponsored transactions (gas owner must be the sender)".into(),
            ));
        }
        if gas.objects.is_empty() {
            return Err(Rejected::Gas("no gas coin given".into()));
        }
        if gas.price < REFERENCE_GAS_PRICE {
            return Err(Rejected::Gas(format!(
                "price {} is below the reference gas price {REFERENCE_GAS_PRICE}",
                gas.price
            )));
        }
        let cost = GAS_UNITS_PER_TRANSACTION * gas.price;
        if gas.budget < cost || gas.budget > MAX_GAS_BUDGET {
            return Err(Rejected::Gas(format!(
                "budget {} must be between the cost {cost} and {MAX_GAS_BUDGET}",
                gas.budget
            )));
        }
        let mut total = 0u128;
        for r in &gas.objects {
            let obj = self.owned_input(tx.sender, *r.object_id(), r.version(), r.digest())?;
            let Some(balance) = obj.balance() else {
                return Err(Rejected::Gas(format!(
                    "{} is not a SUI coin",
                    *r.object_id()
                )));
            };
            total += u128::from(balance);
        }
        if total < u128::from(gas.budget) {
            return Err(Rejected::Gas(format!(
                "the gas coins hold {total} MIST, less than the budget {}",
                gas.budget
            )));
        }
        for input in &ptb.inputs {
            match input {
                Input::Pure(_) => {}
                Input::ImmutableOrOwned(r) => {
                    if gas.objects.iter().any(|g| *g.object_id() == *r.object_id()) {
                        return Err(Rejected::Invalid(format!(
                            "{} is both a gas coin and an input",
                            *r.object_id()
                        )));
                    }
                    self.owned_input(tx.sender, *r.object_id(), r.version(), r.digest())?;
                }
                Input::Shared(s) => {
                    let obj = self
                        .objects
                        .get(&s.object_id())
                        .ok_or(Rejected::UnknownObject(s.object_id()))?;
                    match obj.initial_shared_version() {
                        Some(v) if v == s.version() => {}
                        Some(v) => {
                            return Err(Rejected::Invalid(format!(
                                "{} became shared at version {v}, not {}",
                                s.object_id(),
                                s.version()
                            )));
                        }
                        None => {
                            return Err(Rejected::Invalid(format!(
                                "{} is not a shared object",
                                s.object_id()
                            )));
                        }
                    }
                }
                other => {
                    return Err(Rejected::Unsupported(format!("input kind {other:?}")));
                }
            }
        }
        Ok(())
    }

    fn owned_input(
        &self,
        sender: Address,
        id: Address,
        version: u64,
        digest: &Digest,
    ) -> Result<&Obj, Rejected> {
        let obj = self.objects.get(&id).ok_or(Rejected::UnknownObject(id))?;
        match obj.owner {
            Owner::Address(owner) if owner == sender => {}
            Owner::Immutable => {}
            other => {
                return Err(Rejected::NotOwned {
                    id,
                    owner: format!("{other:?}"),
                    sender,
                });
            }
        }
        if obj.version != version || obj.digest(self.ids.package, self.clock_ms) != *digest {
            return Err(Rejected::StaleObject {
                id,
                given: version,
                current: obj.version,
            });
        }
        Ok(obj)
    }

    /// Validates, executes and commits `tx` at the current clock.
    pub fn execute(
        &mut self,
        tx: Transaction,
        signatures: Vec<UserSignature>,
    ) -> Result<Executed, Rejected> {
        self.validate(&tx, &signatures)?;
        self.run(tx, signatures)
    }

    /// Runs a transaction whose inputs were validated and commits its writes.
    pub fn run(
        &mut self,
        tx: Transaction,
        signatures: Vec<UserSignature>,
    ) -> Result<Executed, Rejected> {
        let TransactionKind::ProgrammableTransaction(ptb) = &tx.kind else {
            return Err(Rejected::Unsupported(
                "only programmable transactions".into(),
            ));
        };
        let digest = tx.digest();
        let outcome = self.interpret(&tx, ptb, &digest);
        let (status, scratch) = match outcome {
            Ok(scratch) => (ExecutionStatus::Success, Some(scratch)),
            Err(f) => (
                ExecutionStatus::Failure {
                    error: *f.error,
                    command: f.command,
                },
                None,
            ),
        };
        let (effects, events) = self.commit(&tx, ptb, &digest, status, scratch);
        Ok(Executed {
            transaction: tx,
            signatures,
            effects,
            events,
            digest,
        })
    }

    fn interpret(
        &mut self,
        tx: &Transaction,
        ptb: &sui_sdk_types::ProgrammableTransaction,
        digest: &Digest,
    ) -> Result<Scratch, Failure> {
        let gas_balance: u64 = tx
            .gas_payment
            .objects
            .iter()
            .filter_map(|r| self.objects.get(r.object_id()).and_then(Obj::balance))
            .sum();
        let cost = GAS_UNITS_PER_TRANSACTION * tx.gas_payment.price;
        let mut s = Scratch {
            gas_balance: gas_balance.saturating_sub(cost),
            input_coins: BTreeMap::new(),
            deleted_inputs: Vec::new(),
            new_coins: Vec::new(),
            transferred_inputs: BTreeMap::new(),
            gas_transferred_to: None,
            payouts: Vec::new(),
            events: Vec::new(),
            created_cluster: None,
        };
        for (i, input) in ptb.inputs.iter().enumerate() {
            if let Input::ImmutableOrOwned(r) = input
                && let Some(b) = self.objects.get(r.object_id()).and_then(Obj::balance)
            {
                s.input_coins.insert(i, b);
            }
        }
        let mut results: Vec<Vec<Val>> = Vec::new();
        let move_calls = ptb
            .commands
            .iter()
            .filter(|c| matches!(c, Command::MoveCall(_)))
            .count();
        if move_calls > 1
            || (move_calls == 1 && !matches!(ptb.commands.last(), Some(Command::MoveCall(_))))
        {
            return Err(Failure {
                error: Box::new(ExecutionError::FeatureNotYetSupported),
                command: None,
            });
        }
        for (ci, cmd) in ptb.commands.iter().enumerate() {
            let out = match cmd {
                Command::SplitCoins(split) => {
                    let src = resolve(&results, &split.coin, ci)?;
                    let mut made = Vec::new();
                    for (ai, a) in split.amounts.iter().enumerate() {
                        let amount = pure_u64(ptb, &resolve(&results, a, ci)?)
                            .ok_or_else(|| arg_error(ai + 1, ci))?;
                        let bal = coin_balance_mut(&mut s, src).ok_or_else(|| arg_error(0, ci))?;
                        if *bal < amount {
                            return Err(fail(ExecutionError::InsufficientCoinBalance, ci));
                        }
                        *bal -= amount;
                        s.new_coins.push((amount, Fate::Unused));
                        made.push(Val::NewCoin(s.new_coins.len() - 1));
                    }
                    made
                }
                Command::MergeCoins(merge) => {
                    let dest = resolve(&results, &merge.coin, ci)?;
                    for (ai, a) in merge.coins_to_merge.iter().enumerate() {
                        let src = resolve(&results, a, ci)?;
                        if src == dest || src == Val::Gas {
                            return Err(arg_error(ai + 1, ci));
                        }
                        let amount = take_coin(&mut s, src).ok_or_else(|| arg_error(ai + 1, ci))?;
                        let bal = coin_balance_mut(&mut s, dest).ok_or_else(|| arg_error(0, ci))?;
                        *bal = bal
                            .checked_add(amount)
                            .ok_or_else(|| fail(ExecutionError::CoinBalanceOverflow, ci))?;
                    }
                    vec![]
                }
                Command::TransferObjects(t) => {
                    let to = resolve(&results, &t.address, ci)?;
                    let to =
                        pure_address(ptb, &to).ok_or_else(|| arg_error(t.objects.len(), ci))?;
                    for (ai, a) in t.objects.iter().enumerate() {
                        match resolve(&results, a, ci)? {
                            Val::Gas => s.gas_transferred_to = Some(to),
                            Val::NewCoin(n) => match s.new_coins.get_mut(n) {
                                Some((_, fate @ Fate::Unused)) => *fate = Fate::Transferred(to),
                                _ => return Err(arg_error(ai, ci)),
                            },
                            Val::Input(i)
                                if matches!(
                                    ptb.inputs.get(i),
                                    Some(Input::ImmutableOrOwned(_))
                                ) =>
                            {
                                s.transferred_inputs.insert(i, to);
                            }
                            _ => return Err(fail(ExecutionError::InvalidTransferObject, ci)),
                        }
                    }
                    vec![]
                }
                Command::MoveCall(call) => {
                    if call.package != self.ids.package {
                        return Err(fail(ExecutionError::FunctionNotFound, ci));
                    }
                    let args: Vec<Val> = call
                        .arguments
                        .iter()
                        .map(|a| resolve(&results, a, ci))
                        .collect::<Result<_, _>>()?;
                    self.call(
                        tx,
                        digest,
                        ptb,
                        &mut s,
                        call.module.as_str(),
                        call.function.as_str(),
                        &args,
                        ci,
                    )?;
                    vec![]
                }
                _ => {
                    return Err(fail(ExecutionError::FeatureNotYetSupported, ci));
                }
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

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        tx: &Transaction,
        digest: &Digest,
        ptb: &sui_sdk_types::ProgrammableTransaction,
        s: &mut Scratch,
        module: &str,
        function: &str,
        args: &[Val],
        ci: usize,
    ) -> Result<(), Failure> {
        let ctx = self.ctx(tx.sender);
        let ids = self.ids.clone();
        // Argument decoders, each naming the argument index on error.
        let object = |i: usize, want: Address| -> Result<(), Failure> {
            match args.get(i) {
                Some(Val::Input(n)) if input_object_id(ptb, *n) == Some(want) => Ok(()),
                _ => Err(arg_error(i, ci)),
            }
        };
        let cluster = |i: usize| -> Result<Address, Failure> {
            match args.get(i) {
                Some(Val::Input(n)) => input_object_id(ptb, *n)
                    .filter(|id| {
                        self.objects
                            .get(id)
                            .is_some_and(|o| o.kind == Kind::Cluster)
                    })
                    .ok_or_else(|| arg_error(i, ci)),
                _ => Err(arg_error(i, ci)),
            }
        };
        let cap = |i: usize| -> Result<Address, Failure> {
            match args.get(i) {
                Some(Val::Input(n)) => {
                    match input_object_id(ptb, *n).and_then(|id| self.objects.get(&id)) {
                        Some(Obj {
                            kind: Kind::AdminCap { pool_id },
                            ..
                        }) => Ok(*pool_id),
                        _ => Err(arg_error(i, ci)),
                    }
                }
                _ => Err(arg_error(i, ci)),
            }
        };
        let clock = |i: usize| object(i, Address::from_static("0x6"));
        let u8_at = |i: usize| -> Result<u8, Failure> {
            args.get(i)
                .and_then(|v| pure::<u8>(ptb, v))
                .ok_or_else(|| arg_error(i, ci))
        };
        let u64_at = |i: usize| -> Result<u64, Failure> {
            args.get(i)
                .and_then(|v| pure::<u64>(ptb, v))
                .ok_or_else(|| arg_error(i, ci))
        };
        let string_at = |i: usize| -> Result<String, Failure> {
            args.get(i)
                .and_then(|v| pure::<String>(ptb, v))
                .ok_or_else(|| arg_error(i, ci))
        };
        let bytes_at = |i: usize| -> Result<Vec<u8>, Failure> {
            args.get(i)
                .and_then(|v| pure::<Vec<u8>>(ptb, v))
                .ok_or_else(|| arg_error(i, ci))
        };
        let address_at = |i: usize| -> Result<daas_domain::Address, Failure> {
            args.get(i)
                .and_then(|v| pure_address(ptb, v))
                .map(|a| daas_domain::Address(a.into_inner()))
                .ok_or_else(|| arg_error(i, ci))
        };
        match ENTRY_FUNCTIONS
            .iter()
            .find(|(m, f, _)| *m == module && *f == function)
        {
            None => return Err(fail(ExecutionError::FunctionNotFound, ci)),
            Some((_, _, n)) if *n != args.len() => {
                return Err(fail(ExecutionError::ArityMismatch, ci));
            }
            Some(_) => {}
        }
        let abort = |a: Abort| {
            fail(
                ExecutionError::MoveAbort {
                    location: MoveLocation {
                        package: ids.package,
                        module: Identifier::new(a.module)
                            .unwrap_or_else(|_| Identifier::from_static("unknown")),
                        function: 0,
                        instruction: 0,
                        function_name: Identifier::new(a.function).ok(),
                    },
                    code: a.code,
                },
                ci,
            )
        };
        let event = match (module, function) {
            ("staking", "stake" | "top_up") => {
                object(0, ids.pool)?;
                let coin = args[1];
                let role = u8_at(2)?;
                clock(3)?;
                let amount = coin_value(s, coin).ok_or_else(|| arg_error(1, ci))?;
                let e = if function == "stake" {
                    self.contract.stake(ctx, amount, role)
                } else {
                    self.contract.top_up(ctx, amount, role)
                }
                .map_err(abort)?;
                take_coin(s, coin);
                e
            }
            ("staking", "withdraw") => {
                object(0, ids.pool)?;
                let (role, amount) = (u8_at(1)?, u64_at(2)?);
                clock(3)?;
                let e = self.contract.withdraw(ctx, role, amount).map_err(abort)?;
                s.payouts.push((amount, tx.sender));
                e
            }
            ("staking", "slash") => {
                let pool_of_cap = cap(0)?;
                object(1, ids.pool)?;
                let (staker, role, amount, reason) =
                    (address_at(2)?, u8_at(3)?, u64_at(4)?, string_at(5)?);
                clock(6)?;
                self.contract
                    .slash(
                        ctx,
                        daas_domain::Address(pool_of_cap.into_inner()),
                        staker,
                        role,
                        amount,
                        reason,
                    )
                    .map_err(abort)?
            }
            ("gateway", "create_cluster") => {
                let pool_of_cap = cap(0)?;
                let name = string_at(1)?;
                clock(2)?;
                let id = derive_object_id(digest, 0);
                s.created_cluster = Some(id);
                self.contract.create_cluster(
                    ctx,
                    daas_domain::Address(pool_of_cap.into_inner()),
                    daas_domain::Address(id.into_inner()),
                    name,
                )
            }
            ("gateway", "submit_request") => {
                let cluster_id = cluster(0)?;
                object(1, ids.pool)?;
                let strings = (2..7).map(string_at).collect::<Result<Vec<_>, _>>()?;
                let manifest = bytes_at(7)?;
                clock(8)?;
                let [verb, api_version, kind, namespace, name]: [String; 5] =
                    strings.try_into().map_err(|_| arg_error(2, ci))?;
                self.contract
                    .submit_request(
                        ctx,
                        daas_domain::Address(cluster_id.into_inner()),
                        verb,
                        api_version,
                        kind,
                        namespace,
                        name,
                        manifest,
                    )
                    .map_err(abort)?
            }
            ("nodes", "register_node") => {
                object(0, ids.node_registry)?;
                object(1, ids.pool)?;
                let (name, key, endpoint) = (string_at(2)?, bytes_at(3)?, string_at(4)?);
                clock(5)?;
                self.contract
                    .register_node(ctx, name, key, endpoint)
                    .map_err(abort)?
            }
            ("nodes", "deregister_node") => {
                object(0, ids.node_registry)?;
                let name = string_at(1)?;
                clock(2)?;
                self.contract.deregister_node(ctx, name).map_err(abort)?
            }
            ("grants", "grant") => {
                let pool_of_cap = cap(0)?;
                let cluster_id = cluster(1)?;
                let (namespace, grantee, role) = (string_at(2)?, address_at(3)?, u8_at(4)?);
                clock(5)?;
                self.contract
                    .grant(
                        ctx,
                        daas_domain::Address(pool_of_cap.into_inner()),
                        daas_domain::Address(cluster_id.into_inner()),
                        namespace,
                        grantee,
                        role,
                    )
                    .map_err(abort)?
            }
            ("grants", "revoke") => {
                let pool_of_cap = cap(0)?;
                let cluster_id = cluster(1)?;
                let (namespace, grantee) = (string_at(2)?, address_at(3)?);
                clock(4)?;
                self.contract
                    .revoke(
                        ctx,
                        daas_domain::Address(pool_of_cap.into_inner()),
                        daas_domain::Address(cluster_id.into_inner()),
                        namespace,
                        grantee,
                    )
                    .map_err(abort)?
            }
            ("enclave", "register_pcrs") => {
                cap(0)?;
                object(1, ids.enclave_registry)?;
                let (p0, p1, p2) = (bytes_at(2)?, bytes_at(3)?, bytes_at(4)?);
                clock(5)?;
                self.contract
                    .register_pcrs(ctx, p0, p1, p2)
                    .map_err(abort)?
            }
            ("enclave", "register_enclave") => {
                cap(0)?;
                object(1, ids.enclave_registry)?;
                let (version, key, doc) = (u64_at(2)?, bytes_at(3)?, bytes_at(4)?);
                clock(5)?;
                self.contract
                    .register_enclave(ctx, version, key, doc)
                    .map_err(abort)?
            }
            _ => return Err(fail(ExecutionError::FunctionNotFound, ci)),
        };
        s.events.push(event);
        Ok(())
    }

    /// Applies a run's writes (or only the gas charge on failure) and builds effects.
    fn commit(
        &mut self,
        tx: &Transaction,
        ptb: &sui_sdk_types::ProgrammableTransaction,
        digest: &Digest,
        status: ExecutionStatus,
        scratch: Option<Scratch>,
    ) -> (TransactionEffects, Vec<Event>) {
        let pkg = self.ids.package;
        let clock_ms = self.clock_ms;
        let cost = GAS_UNITS_PER_TRANSACTION * tx.gas_payment.price;

        // Lamport version: one above every input's version.
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
        let lamport = versions.into_iter().max().unwrap_or(0) + 1;

        let mut changed: Vec<ChangedObject> = Vec::new();
        let write = |store: &mut ObjectStore,
                     changed: &mut Vec<ChangedObject>,
                     id: Address,
                     new: Option<Obj>,
                     created: bool| {
            let before = store.get(&id).cloned();
            let input_state = match &before {
                Some(o) => ObjectIn::Exist {
                    version: o.version,
                    digest: o.digest(pkg, clock_ms),
                    owner: o.owner,
                },
                None => ObjectIn::NotExist,
            };
            let (output_state, op) = match new {
                Some(o) => {
                    let out = ObjectOut::ObjectWrite {
                        digest: o.digest(pkg, clock_ms),
                        owner: o.owner,
                    };
                    store.put(o);
                    (
                        out,
                        if created {
                            IdOperation::Created
                        } else {
                            IdOperation::None
                        },
                    )
                }
                None => {
                    store.remove(&id);
                    (ObjectOut::NotExist, IdOperation::Deleted)
                }
            };
            changed.push(ChangedObject {
                object_id: id,
                input_state,
                output_state,
                id_operation: op,
            });
        };

        // Gas: coins are smashed into the first; the cost is charged on success and failure alike.
        let gas_id = *tx.gas_payment.objects[0].object_id();
        let total_gas: u64 = tx
            .gas_payment
            .objects
            .iter()
            .filter_map(|r| self.objects.get(r.object_id()).and_then(Obj::balance))
            .sum();
        for r in &tx.gas_payment.objects[1..] {
            write(&mut self.objects, &mut changed, *r.object_id(), None, false);
        }
        let (gas_balance, gas_owner) = match &scratch {
            Some(s) => (s.gas_balance, s.gas_transferred_to.unwrap_or(tx.sender)),
            None => (total_gas.saturating_sub(cost), tx.sender),
        };
        let gas_obj = Obj {
            id: gas_id,
            version: lamport,
            owner: Owner::Address(gas_owner),
            kind: Kind::Coin {
                balance: gas_balance,
            },
            previous_transaction: *digest,
        };
        write(
            &mut self.objects,
            &mut changed,
            gas_id,
            Some(gas_obj),
            false,
        );
        let gas_object_index = Some(changed.len() as u32 - 1);

        let mut unchanged = Vec::new();
        let mut events = Vec::new();
        if let Some(s) = &scratch {
            // Owned inputs: coins keep their new balance (or go), others may change owner.
            for (i, input) in ptb.inputs.iter().enumerate() {
                let Input::ImmutableOrOwned(r) = input else {
                    continue;
                };
                let Some(mut o) = self.objects.get(r.object_id()).cloned() else {
                    continue;
                };
                if s.deleted_inputs.contains(&i) {
                    write(&mut self.objects, &mut changed, o.id, None, false);
                    continue;
                }
                if let (Kind::Coin { balance }, Some(b)) = (&mut o.kind, s.input_coins.get(&i)) {
                    *balance = *b;
                }
                if let Some(to) = s.transferred_inputs.get(&i) {
                    o.owner = Owner::Address(*to);
                }
                o.version = lamport;
                o.previous_transaction = *digest;
                write(&mut self.objects, &mut changed, o.id, Some(o), false);
            }
            let mut n = 1; // 0 is reserved for a created cluster
            let mut new_coin = |store: &mut ObjectStore,
                                changed: &mut Vec<ChangedObject>,
                                balance: u64,
                                owner: Address| {
                let id = derive_object_id(digest, n);
                n += 1;
                let o = Obj {
                    id,
                    version: lamport,
                    owner: Owner::Address(owner),
                    kind: Kind::Coin { balance },
                    previous_transaction: *digest,
                };
                write(store, changed, id, Some(o), true);
            };
            for (balance, fate) in &s.new_coins {
                if let Fate::Transferred(owner) = fate {
                    new_coin(&mut self.objects, &mut changed, *balance, *owner);
                }
            }
            for (amount, owner) in &s.payouts {
                new_coin(&mut self.objects, &mut changed, *amount, *owner);
            }
            if let Some(id) = s.created_cluster {
                let o = Obj {
                    id,
                    version: lamport,
                    owner: Owner::Shared(lamport),
                    kind: Kind::Cluster,
                    previous_transaction: *digest,
                };
                write(&mut self.objects, &mut changed, id, Some(o), true);
            }
            let module = match ptb.commands.last() {
                Some(Command::MoveCall(c)) => Some(c.module.clone()),
                _ => None,
            };
            for e in &s.events {
                let (m, name) = e.move_type();
                events.push(Event {
                    package_id: pkg,
                    module: module
                        .clone()
                        .unwrap_or_else(|| Identifier::from_static("unknown")),
                    sender: tx.sender,
                    type_: StructTag::new(
                        pkg,
                        Identifier::new(m).unwrap_or_else(|_| Identifier::from_static("unknown")),
                        Identifier::new(name)
                            .unwrap_or_else(|_| Identifier::from_static("Unknown")),
                        vec![],
                    ),
                    contents: e.to_bcs(),
                });
            }
        } else {
            // Failure: owned inputs are still bumped to the lamport version, unchanged otherwise.
            for input in &ptb.inputs {
                let Input::ImmutableOrOwned(r) = input else {
                    continue;
                };
                let Some(mut o) = self.objects.get(r.object_id()).cloned() else {
                    continue;
                };
                o.version = lamport;
                o.previous_transaction = *digest;
                write(&mut self.objects, &mut changed, o.id, Some(o), false);
            }
        }
        // Shared inputs: mutable ones are written at the lamport version, read-only ones recorded.
        for (id, mutable) in shared_inputs {
            let Some(mut o) = self.objects.get(&id).cloned() else {
                continue;
            };
            if mutable {
                o.version = lamport;
                o.previous_transaction = *digest;
                write(&mut self.objects, &mut changed, id, Some(o), false);
            } else {
                unchanged.push(UnchangedConsensusObject {
                    object_id: id,
                    kind: UnchangedConsensusKind::ReadOnlyRoot {
                        version: o.version,
                        digest: o.digest(pkg, clock_ms),
                    },
                });
            }
        }

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
            changed_objects: changed,
            unchanged_consensus_objects: unchanged,
            auxiliary_data_digest: None,
        }));
        (effects, events)
    }
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

fn pure<T: serde::de::DeserializeOwned>(
    ptb: &sui_sdk_types::ProgrammableTransaction,
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

fn pure_u64(ptb: &sui_sdk_types::ProgrammableTransaction, v: &Val) -> Option<u64> {
    pure::<u64>(ptb, v)
}

fn pure_address(ptb: &sui_sdk_types::ProgrammableTransaction, v: &Val) -> Option<Address> {
    pure::<[u8; 32]>(ptb, v).map(Address::new)
}

fn input_object_id(ptb: &sui_sdk_types::ProgrammableTransaction, i: usize) -> Option<Address> {
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

fn coin_value(s: &Scratch, v: Val) -> Option<u64> {
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
fn take_coin(s: &mut Scratch, v: Val) -> Option<u64> {
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
