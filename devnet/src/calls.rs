//! Offline builders of our package's transactions: the load generator and the
//! tests sign these without asking the node to resolve anything.

use sui_crypto::{SuiSigner, ed25519::Ed25519PrivateKey};
use sui_sdk_types::{
    Address, Argument, Command, GasPayment, Identifier, Input, MoveCall, ObjectReference,
    ProgrammableTransaction, SharedInput, SplitCoins, Transaction, TransactionExpiration,
    TransactionKind, UserSignature,
};

use crate::executor::{GAS_UNITS_PER_TRANSACTION, Ids, REFERENCE_GAS_PRICE};

/// One argument of a Move call.
#[derive(Clone, Debug)]
pub enum Arg {
    /// A shared object by id, at initial version 1 (the genesis objects), mutable.
    Shared(Address),
    /// A shared object created later, with its initial shared version.
    SharedAt(Address, u64),
    /// The clock (read-only).
    Clock,
    /// An owned object.
    Owned(ObjectReference),
    /// A pure value, already BCS.
    Pure(Vec<u8>),
    /// A new coin of this many MIST split from the gas coin.
    FromGas(u64),
    /// The `NitroAttestationDocument` of these bytes: a
    /// `0x2::nitro_attestation::load_nitro_attestation(bytes, clock)` command
    /// before the call, whose result is the argument.
    Attestation(Vec<u8>),
}

impl Arg {
    /// A BCS-encoded pure value.
    pub fn pure<T: serde::Serialize>(v: &T) -> Self {
        Arg::Pure(bcs::to_bytes(v).unwrap_or_default())
    }
}

/// A signed call of `module::function` in our package, paid with `gas`.
pub fn move_call(
    key: &Ed25519PrivateKey,
    ids: &Ids,
    gas: ObjectReference,
    module: &'static str,
    function: &'static str,
    args: Vec<Arg>,
) -> (Transaction, UserSignature) {
    let mut inputs = Vec::new();
    let mut commands = Vec::new();
    let mut arguments = Vec::new();
    // One input for the clock, however many commands read it.
    let mut clock = None;
    let mut clock_input = |inputs: &mut Vec<Input>| {
        *clock.get_or_insert_with(|| {
            let clock = Address::from_static("0x6");
            inputs.push(Input::Shared(SharedInput::new(clock, 1, false)));
            Argument::Input(inputs.len() as u16 - 1)
        })
    };
    for a in args {
        let arg = match a {
            Arg::Shared(id) => {
                inputs.push(Input::Shared(SharedInput::new(id, 1, true)));
                Argument::Input(inputs.len() as u16 - 1)
            }
            Arg::SharedAt(id, v) => {
                inputs.push(Input::Shared(SharedInput::new(id, v, true)));
                Argument::Input(inputs.len() as u16 - 1)
            }
            Arg::Clock => clock_input(&mut inputs),
            Arg::Owned(r) => {
                inputs.push(Input::ImmutableOrOwned(r));
                Argument::Input(inputs.len() as u16 - 1)
            }
            Arg::Pure(b) => {
                inputs.push(Input::Pure(b));
                Argument::Input(inputs.len() as u16 - 1)
            }
            Arg::FromGas(amount) => {
                inputs.push(Input::Pure(amount.to_le_bytes().to_vec()));
                commands.push(Command::SplitCoins(SplitCoins {
                    coin: Argument::Gas,
                    amounts: vec![Argument::Input(inputs.len() as u16 - 1)],
                }));
                Argument::Result(commands.len() as u16 - 1)
            }
            Arg::Attestation(document) => {
                inputs.push(Input::Pure(bcs::to_bytes(&document).unwrap_or_default()));
                let bytes = Argument::Input(inputs.len() as u16 - 1);
                let clock = clock_input(&mut inputs);
                commands.push(Command::MoveCall(MoveCall {
                    package: Address::from_static("0x2"),
                    module: Identifier::from_static("nitro_attestation"),
                    function: Identifier::from_static("load_nitro_attestation"),
                    type_arguments: vec![],
                    arguments: vec![bytes, clock],
                }));
                Argument::Result(commands.len() as u16 - 1)
            }
        };
        arguments.push(arg);
    }
    commands.push(Command::MoveCall(MoveCall {
        package: ids.package,
        module: Identifier::from_static(module),
        function: Identifier::from_static(function),
        type_arguments: vec![],
        arguments,
    }));
    sign(key, ProgrammableTransaction { inputs, commands }, vec![gas])
}

/// The signed transaction running `ptb` from `key`'s address, paid with `gas`
/// at the reference price and a budget of ten times the cost.
pub fn sign(
    key: &Ed25519PrivateKey,
    ptb: ProgrammableTransaction,
    gas: Vec<ObjectReference>,
) -> (Transaction, UserSignature) {
    let sender = key.public_key().derive_address();
    let tx = Transaction {
        kind: TransactionKind::ProgrammableTransaction(ptb),
        sender,
        gas_payment: GasPayment {
            objects: gas,
            owner: sender,
            price: REFERENCE_GAS_PRICE,
            budget: 10 * GAS_UNITS_PER_TRANSACTION * REFERENCE_GAS_PRICE,
        },
        expiration: TransactionExpiration::None,
    };
    // Signing with an in-memory Ed25519 key cannot fail.
    let sig = key.sign_transaction(&tx).expect("ed25519 signing");
    (tx, sig)
}

/// `staking::stake(pool, coin, role, clock)` with a coin split from gas.
pub fn stake(
    key: &Ed25519PrivateKey,
    ids: &Ids,
    gas: ObjectReference,
    amount: u64,
    role: u8,
) -> (Transaction, UserSignature) {
    pay_into_pool(key, ids, gas, "stake", amount, role)
}

/// `staking::top_up(pool, coin, role, clock)` with a coin split from gas.
pub fn top_up(
    key: &Ed25519PrivateKey,
    ids: &Ids,
    gas: ObjectReference,
    amount: u64,
    role: u8,
) -> (Transaction, UserSignature) {
    pay_into_pool(key, ids, gas, "top_up", amount, role)
}

fn pay_into_pool(
    key: &Ed25519PrivateKey,
    ids: &Ids,
    gas: ObjectReference,
    function: &'static str,
    amount: u64,
    role: u8,
) -> (Transaction, UserSignature) {
    let args = vec![
        Arg::Shared(ids.pool),
        Arg::FromGas(amount),
        Arg::pure(&role),
        Arg::Clock,
    ];
    move_call(key, ids, gas, "staking", function, args)
}

/// `gateway::submit_request(cluster, pool, verb, api_version, kind, namespace, name, manifest, clock)`.
#[allow(clippy::too_many_arguments)]
pub fn submit_request(
    key: &Ed25519PrivateKey,
    ids: &Ids,
    gas: ObjectReference,
    cluster: (Address, u64),
    verb: &str,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    manifest: &[u8],
) -> (Transaction, UserSignature) {
    move_call(
        key,
        ids,
        gas,
        "gateway",
        "submit_request",
        vec![
            Arg::SharedAt(cluster.0, cluster.1),
            Arg::Shared(ids.pool),
            Arg::pure(&verb),
            Arg::pure(&api_version),
            Arg::pure(&kind),
            Arg::pure(&namespace),
            Arg::pure(&name),
            Arg::pure(&manifest),
            Arg::Clock,
        ],
    )
}

/// `grants::grant_cluster_admin(cap, cluster, grantee, clock)` (or
/// `revoke_cluster_admin` with `grant` false), signed by the cap's owner.
pub fn cluster_admin(
    key: &Ed25519PrivateKey,
    ids: &Ids,
    gas: ObjectReference,
    cap: ObjectReference,
    cluster: (Address, u64),
    grantee: Address,
    grant: bool,
) -> (Transaction, UserSignature) {
    let function = if grant {
        "grant_cluster_admin"
    } else {
        "revoke_cluster_admin"
    };
    let args = vec![
        Arg::Owned(cap),
        Arg::SharedAt(cluster.0, cluster.1),
        Arg::pure(&grantee),
        Arg::Clock,
    ];
    move_call(key, ids, gas, "grants", function, args)
}

/// `enclave::register_sealing_key(cap, registry, cluster, public_key, clock)`,
/// signed by the cap's owner.
pub fn register_sealing_key(
    key: &Ed25519PrivateKey,
    ids: &Ids,
    gas: ObjectReference,
    cap: ObjectReference,
    cluster: (Address, u64),
    public_key: &[u8],
) -> (Transaction, UserSignature) {
    let args = vec![
        Arg::Owned(cap),
        Arg::Shared(ids.enclave_registry),
        Arg::SharedAt(cluster.0, cluster.1),
        Arg::pure(&public_key),
        Arg::Clock,
    ];
    move_call(key, ids, gas, "enclave", "register_sealing_key", args)
}

/// `0x2::nitro_attestation::load_nitro_attestation(document, clock)` then
/// `enclave::register_enclave(registry, cluster, <that document>, clock)`:
/// anyone may send it (the document is the authority).
pub fn register_enclave(
    key: &Ed25519PrivateKey,
    ids: &Ids,
    gas: ObjectReference,
    cluster: (Address, u64),
    document: &[u8],
) -> (Transaction, UserSignature) {
    let args = vec![
        Arg::Shared(ids.enclave_registry),
        Arg::SharedAt(cluster.0, cluster.1),
        Arg::Attestation(document.to_vec()),
        Arg::Clock,
    ];
    move_call(key, ids, gas, "enclave", "register_enclave", args)
}

/// The gas coin's new reference after a transaction, from its effects.
pub fn gas_after(effects: &sui_sdk_types::TransactionEffects) -> Option<ObjectReference> {
    let sui_sdk_types::TransactionEffects::V2(e) = effects else {
        return None;
    };
    let changed = e.changed_objects.get(e.gas_object_index? as usize)?;
    match &changed.output_state {
        sui_sdk_types::ObjectOut::ObjectWrite { digest, .. } => Some(ObjectReference::new(
            changed.object_id,
            e.lamport_version,
            *digest,
        )),
        _ => None,
    }
}
