//! Balances: `ListBalances`, and the balance changes of an executed
//! transaction, derived as a full node derives them: for each coin the
//! transaction changed, minus its balance before, plus its balance after,
//! summed per address owner.

use std::collections::{BTreeMap, HashMap};

use sui_rpc::proto::sui::rpc::v2 as pb;
use sui_sdk_types::{
    Address, BalanceChange, Input, ObjectIn, ObjectOut, Owner, StructTag, Transaction,
    TransactionEffects, TransactionKind, TypeTag,
};

use crate::chain::Chain;

/// Balances of the coins a transaction takes as inputs, before it runs:
/// id -> (version, balance).
pub type CoinsBefore = HashMap<Address, (u64, u64)>;

/// The coins among `tx`'s gas payment and owned inputs, with their balances now.
pub fn coins_before(chain: &Chain, tx: &Transaction) -> CoinsBefore {
    let mut ids: Vec<Address> = tx
        .gas_payment
        .objects
        .iter()
        .map(|r| *r.object_id())
        .collect();
    if let TransactionKind::ProgrammableTransaction(p) = &tx.kind {
        ids.extend(p.inputs.iter().filter_map(|i| match i {
            Input::ImmutableOrOwned(r) => Some(*r.object_id()),
            _ => None,
        }));
    }
    ids.into_iter()
        .filter_map(|id| {
            let o = chain.world.objects.get(&id)?;
            Some((id, (o.version, o.balance()?)))
        })
        .collect()
}

/// The balance changes of `effects`, given the input coins' balances before
/// and the chain right after execution. `None` when that state no longer
/// matches the effects (another transaction changed a coin in between), so
/// a wrong change is never reported.
pub fn changes(
    chain: &Chain,
    effects: &TransactionEffects,
    before: &CoinsBefore,
) -> Option<Vec<pb::BalanceChange>> {
    let TransactionEffects::V2(fx) = effects else {
        return None;
    };
    let pkg = chain.world.ids.package;
    let mut sums: BTreeMap<Address, i128> = BTreeMap::new();
    for ch in &fx.changed_objects {
        if let ObjectIn::Exist {
            version,
            owner: Owner::Address(a),
            ..
        } = &ch.input_state
            && let Some(&(v, balance)) = before.get(&ch.object_id)
        {
            if v != *version {
                return None;
            }
            *sums.entry(*a).or_default() -= i128::from(balance);
        }
        if let ObjectOut::ObjectWrite {
            digest,
            owner: Owner::Address(a),
        } = &ch.output_state
            && let Some(o) = chain.world.objects.get(&ch.object_id)
            && let Some(balance) = o.balance()
        {
            if o.digest(pkg, chain.world.clock_ms) != *digest {
                return None;
            }
            *sums.entry(*a).or_default() += i128::from(balance);
        }
    }
    let sui = TypeTag::Struct(Box::new(StructTag::sui()));
    Some(
        sums.into_iter()
            .filter(|(_, amount)| *amount != 0)
            .map(|(address, amount)| {
                BalanceChange {
                    address,
                    coin_type: sui.clone(),
                    amount,
                }
                .into()
            })
            .collect(),
    )
}

/// The one SUI balance of `owner`, as `GetBalance` and `ListBalances` render it.
pub fn sui_balance(chain: &Chain, owner: &Address, coin_type: String) -> pb::Balance {
    let total = u64::try_from(chain.world.objects.balance_of(owner)).unwrap_or(u64::MAX);
    let mut b = pb::Balance::default();
    b.coin_type = Some(coin_type);
    b.balance = Some(total);
    b.coin_balance = Some(total);
    b.address_balance = Some(0);
    b
}
