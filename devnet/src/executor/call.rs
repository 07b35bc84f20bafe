//! A Move call into our package: its arguments decoded as the Move function's
//! parameters (each error names the argument), then dispatched to the module
//! that renders the Move module of the same name.

use sui_sdk_types::{
    Address, Digest, ExecutionError, Identifier, MoveLocation, ProgrammableTransaction, Transaction,
};

use super::{
    ENTRY_FUNCTIONS, Failure, World, arg_error, fail,
    ptb::{Scratch, Val, input_object_id, pure, pure_address},
};
use crate::{
    contract::Abort,
    objects::{Kind, Obj},
};

/// One Move call and what it may read of its transaction.
pub(super) struct Call<'a> {
    pub tx: &'a Transaction,
    pub digest: &'a Digest,
    pub ptb: &'a ProgrammableTransaction,
    pub module: &'a str,
    pub function: &'a str,
    pub args: &'a [Val],
    /// The command's index, for failure statuses.
    pub ci: usize,
}

impl World {
    /// Runs `call`: known function and arity, then the module's own decoding
    /// and the contract. Returns the events the call emits, in order.
    pub(super) fn call(
        &mut self,
        call: Call<'_>,
        s: &mut Scratch,
    ) -> Result<Vec<daas_domain::Event>, Failure> {
        match ENTRY_FUNCTIONS
            .iter()
            .find(|(m, f, _)| *m == call.module && *f == call.function)
        {
            None => return Err(fail(ExecutionError::FunctionNotFound, call.ci)),
            Some((_, _, n)) if *n != call.args.len() => {
                return Err(fail(ExecutionError::ArityMismatch, call.ci));
            }
            Some(_) => {}
        }
        let one = |e| vec![e];
        match call.module {
            "staking" => super::staking::call(self, &call, s).map(one),
            "gateway" => super::gateway::call(self, &call, s).map(one),
            "grants" => super::grants::call(self, &call).map(one),
            "nodes" => super::nodes::call(self, &call).map(one),
            "enclave" => super::enclave::call(self, &call, s),
            _ => Err(fail(ExecutionError::FunctionNotFound, call.ci)),
        }
    }
}

/// The domain's address of a Sui address.
pub(super) fn domain(a: Address) -> daas_domain::Address {
    daas_domain::Address(a.into_inner())
}

impl Call<'_> {
    fn arg(&self, i: usize) -> Result<&Val, Failure> {
        self.args.get(i).ok_or_else(|| arg_error(i, self.ci))
    }

    /// Argument `i` is the object `want`.
    pub fn object(&self, i: usize, want: Address) -> Result<(), Failure> {
        match self.arg(i)? {
            Val::Input(n) if input_object_id(self.ptb, *n) == Some(want) => Ok(()),
            _ => Err(arg_error(i, self.ci)),
        }
    }

    /// Argument `i` is the `Clock` (0x6).
    pub fn clock(&self, i: usize) -> Result<(), Failure> {
        self.object(i, Address::from_static("0x6"))
    }

    /// Argument `i` is a `Cluster`; its id.
    pub fn cluster(&self, world: &World, i: usize) -> Result<daas_domain::Address, Failure> {
        match self.arg(i)? {
            Val::Input(n) => input_object_id(self.ptb, *n)
                .filter(|id| {
                    world
                        .objects
                        .get(id)
                        .is_some_and(|o| o.kind == Kind::Cluster)
                })
                .map(domain)
                .ok_or_else(|| arg_error(i, self.ci)),
            _ => Err(arg_error(i, self.ci)),
        }
    }

    /// Argument `i` is an `AdminCap`; the pool it governs.
    pub fn cap(&self, world: &World, i: usize) -> Result<daas_domain::Address, Failure> {
        let Val::Input(n) = self.arg(i)? else {
            return Err(arg_error(i, self.ci));
        };
        match input_object_id(self.ptb, *n).and_then(|id| world.objects.get(&id)) {
            Some(Obj {
                kind: Kind::AdminCap { pool_id },
                ..
            }) => Ok(domain(*pool_id)),
            _ => Err(arg_error(i, self.ci)),
        }
    }

    /// Argument `i` is a document `load_nitro_attestation` returned; takes it
    /// (a Move value is moved: a second use is an argument error).
    pub fn document(
        &self,
        s: &mut Scratch,
        i: usize,
    ) -> Result<daas_attestation::Document, Failure> {
        match self.arg(i)? {
            Val::Document(n) => s.documents.get_mut(*n).and_then(Option::take),
            _ => None,
        }
        .ok_or_else(|| arg_error(i, self.ci))
    }

    /// Argument `i` as a pure `T`.
    pub fn pure<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, Failure> {
        pure::<T>(self.ptb, self.arg(i)?).ok_or_else(|| arg_error(i, self.ci))
    }

    /// Argument `i` as a pure `address`.
    pub fn address(&self, i: usize) -> Result<daas_domain::Address, Failure> {
        pure_address(self.ptb, self.arg(i)?)
            .map(domain)
            .ok_or_else(|| arg_error(i, self.ci))
    }

    /// The failure status of a Move abort in this call.
    pub fn abort(&self, package: Address) -> impl Fn(Abort) -> Failure + '_ {
        move |a: Abort| {
            fail(
                ExecutionError::MoveAbort {
                    location: MoveLocation {
                        package,
                        module: Identifier::new(a.module)
                            .unwrap_or_else(|_| Identifier::from_static("unknown")),
                        function: 0,
                        instruction: 0,
                        function_name: Identifier::new(a.function).ok(),
                    },
                    code: a.code,
                },
                self.ci,
            )
        }
    }

    /// The failure status of an unknown function of a known module.
    pub fn not_found(&self) -> Failure {
        fail(ExecutionError::FunctionNotFound, self.ci)
    }
}
