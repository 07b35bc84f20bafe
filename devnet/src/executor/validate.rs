//! Checks before execution: the signature, the gas payment, the inputs. A
//! transaction that fails them is never included and emits nothing.

use sui_crypto::{SuiVerifier, simple::SimpleVerifier};
use sui_sdk_types::{
    Address, Digest, GasPayment, Input, Owner, SimpleSignature, Transaction, TransactionKind,
    UserSignature,
};

use super::{GAS_UNITS_PER_TRANSACTION, MAX_GAS_BUDGET, REFERENCE_GAS_PRICE, Rejected, World};
use crate::objects::Obj;

impl World {
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
        self.validate_gas(tx)?;
        for input in &ptb.inputs {
            self.validate_input(tx.sender, &tx.gas_payment, input)?;
        }
        Ok(())
    }

    /// The gas payment: the sender's own coins, a price at least the reference,
    /// a budget between the cost and the maximum, and coins holding the budget.
    fn validate_gas(&self, tx: &Transaction) -> Result<(), Rejected> {
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
        Ok(())
    }

    /// One PTB input: a pure value, an owned object of the sender (not also a
    /// gas coin), or a shared object at the version it became shared.
    fn validate_input(
        &self,
        sender: Address,
        gas: &GasPayment,
        input: &Input,
    ) -> Result<(), Rejected> {
        match input {
            Input::Pure(_) => Ok(()),
            Input::ImmutableOrOwned(r) => {
                if gas.objects.iter().any(|g| *g.object_id() == *r.object_id()) {
                    return Err(Rejected::Invalid(format!(
                        "{} is both a gas coin and an input",
                        *r.object_id()
                    )));
                }
                self.owned_input(sender, *r.object_id(), r.version(), r.digest())
                    .map(|_| ())
            }
            Input::Shared(s) => {
                let obj = self
                    .objects
                    .get(&s.object_id())
                    .ok_or(Rejected::UnknownObject(s.object_id()))?;
                match obj.initial_shared_version() {
                    Some(v) if v == s.version() => Ok(()),
                    Some(v) => Err(Rejected::Invalid(format!(
                        "{} became shared at version {v}, not {}",
                        s.object_id(),
                        s.version()
                    ))),
                    None => Err(Rejected::Invalid(format!(
                        "{} is not a shared object",
                        s.object_id()
                    ))),
                }
            }
            other => Err(Rejected::Unsupported(format!("input kind {other:?}"))),
        }
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
}
