//! Transaction validation and execution.
//!
//! Validation (signature, gas coins, object versions and owners) happens
//! before execution, as on a real node: a transaction that fails it is never
//! included and emits nothing. Execution runs the programmable transaction's
//! commands; a Move abort (or another execution error) still charges gas and
//! is committed with a failure status, and changes nothing else.
//!
//! Supported PTB shape: coin commands (`SplitCoins`, `MergeCoins`,
//! `TransferObjects`) and one `MoveCall` into our package, as the last
//! command; before it, at most one other `MoveCall`:
//! `0x2::nitro_attestation::load_nitro_attestation(pure bytes, Clock)`, whose
//! document `enclave::register_enclave` takes. Everything our CLI, master and
//! load generator build fits it; anything else is refused with a clear error.
//!
//! Modules: [`validate`] (before execution), `ptb` (the commands and their
//! coins), `nitro` (Sui's attestation native), `call` (a Move call's
//! arguments, dispatched to one module per Move module: `staking`, `gateway`,
//! `grants`, `nodes`, `enclave`, as `contracts/sources` is laid out), `commit`
//! (writes and effects).

use sui_sdk_types::{
    Address, Digest, Event, ExecutionError, ExecutionStatus, Transaction, TransactionEffects,
    TransactionKind, UserSignature,
};

use crate::{
    contract::{ContractState, Ctx},
    objects::ObjectStore,
};

mod call;
mod commit;
mod enclave;
mod gateway;
mod grants;
mod nitro;
mod nodes;
mod ptb;
mod staking;
mod validate;

/// Every entry function of our package and its parameter count (without the
/// implicit `TxContext`). `tests/entry_functions.rs` checks it against the Move sources.
pub const ENTRY_FUNCTIONS: [(&str, &str, usize); 15] = [
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
    ("grants", "grant_cluster_admin", 4),
    ("grants", "revoke_cluster_admin", 4),
    ("enclave", "register_pcrs", 6),
    ("enclave", "register_enclave", 4),
    ("enclave", "register_sealing_key", 5),
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
    /// The root `load_nitro_attestation` verifies documents against (fixed
    /// for a chain's life: see `node::NodeConfig::nitro_root`).
    pub nitro_root: daas_attestation::TrustedRoot,
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

/// Why execution failed, and at which command. Boxed: the error is large and
/// failures are the rare path.
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
        let (status, scratch) = match self.interpret(&tx, ptb, &digest) {
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
}
