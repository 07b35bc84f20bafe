//! `daas::staking` calls: stake, top up, withdraw, slash.

use daas_domain::Event;

use super::{
    Failure, World, arg_error,
    call::Call,
    ptb::{Scratch, coin_value, take_coin},
};

pub(super) fn call(world: &mut World, c: &Call<'_>, s: &mut Scratch) -> Result<Event, Failure> {
    let ctx = world.ctx(c.tx.sender);
    let abort = c.abort(world.ids.package);
    match c.function {
        "stake" | "top_up" => {
            c.object(0, world.ids.pool)?;
            let coin = c.args[1];
            let role = c.pure::<u8>(2)?;
            c.clock(3)?;
            let amount = coin_value(s, coin).ok_or_else(|| arg_error(1, c.ci))?;
            let e = if c.function == "stake" {
                world.contract.stake(ctx, amount, role)
            } else {
                world.contract.top_up(ctx, amount, role)
            }
            .map_err(abort)?;
            take_coin(s, coin);
            Ok(e)
        }
        "withdraw" => {
            c.object(0, world.ids.pool)?;
            let (role, amount) = (c.pure::<u8>(1)?, c.pure::<u64>(2)?);
            c.clock(3)?;
            let e = world.contract.withdraw(ctx, role, amount).map_err(abort)?;
            s.payouts.push((amount, c.tx.sender));
            Ok(e)
        }
        "slash" => {
            let pool_of_cap = c.cap(world, 0)?;
            c.object(1, world.ids.pool)?;
            let (staker, role) = (c.address(2)?, c.pure::<u8>(3)?);
            let (amount, reason) = (c.pure::<u64>(4)?, c.pure::<String>(5)?);
            c.clock(6)?;
            world
                .contract
                .slash(ctx, pool_of_cap, staker, role, amount, reason)
                .map_err(abort)
        }
        _ => Err(c.not_found()),
    }
}
