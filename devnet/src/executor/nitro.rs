//! `0x2::nitro_attestation::load_nitro_attestation(attestation, clock)`: Sui's
//! native verification of an AWS Nitro attestation document, rendered with
//! `daas_attestation::verify` against the root the chain was started with
//! (AWS's, or a dev CA's), at the clock's time. A document that fails aborts
//! where the native does, with its code (1 parse, 2 verify).

use sui_sdk_types::{
    Address, ExecutionError, Identifier, MoveCall, MoveLocation, ProgrammableTransaction,
};

use super::{
    Failure, World, arg_error, fail,
    ptb::{Scratch, Val, input_object_id, pure},
};

/// The Sui framework's package.
const SUI_FRAMEWORK: Address = Address::from_static("0x2");

/// True for a call of `0x2::nitro_attestation::load_nitro_attestation`.
pub(super) fn is_load(call: &MoveCall) -> bool {
    call.package == SUI_FRAMEWORK
        && call.module.as_str() == "nitro_attestation"
        && call.function.as_str() == "load_nitro_attestation"
}

impl World {
    /// Runs `load_nitro_attestation(args[0]: pure vector<u8>, args[1]: Clock)`;
    /// its result is the verified document.
    pub(super) fn load_nitro_attestation(
        &self,
        ptb: &ProgrammableTransaction,
        s: &mut Scratch,
        call: &MoveCall,
        args: &[Val],
        ci: usize,
    ) -> Result<Vec<Val>, Failure> {
        if !call.type_arguments.is_empty() {
            return Err(fail(ExecutionError::TypeArityMismatch, ci));
        }
        let [bytes, clock] = args else {
            return Err(fail(ExecutionError::ArityMismatch, ci));
        };
        let bytes: Vec<u8> = pure(ptb, bytes).ok_or_else(|| arg_error(0, ci))?;
        let clock_id = match clock {
            Val::Input(i) => input_object_id(ptb, *i),
            _ => None,
        };
        if clock_id != Some(Address::from_static("0x6")) {
            return Err(arg_error(1, ci));
        }
        match daas_attestation::verify(&bytes, &self.nitro_root, self.clock_ms) {
            Ok(document) => {
                s.documents.push(Some(document));
                Ok(vec![Val::Document(s.documents.len() - 1)])
            }
            Err(e) => Err(native_abort(e.sui_abort_code(), ci)),
        }
    }
}

/// The native's abort, located as Sui reports it.
fn native_abort(code: u64, ci: usize) -> Failure {
    fail(
        ExecutionError::MoveAbort {
            location: MoveLocation {
                package: SUI_FRAMEWORK,
                module: Identifier::from_static("nitro_attestation"),
                function: 0,
                instruction: 0,
                function_name: Some(Identifier::from_static("load_nitro_attestation_internal")),
            },
            code,
        },
        ci,
    )
}
