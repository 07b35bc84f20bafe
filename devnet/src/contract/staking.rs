//! `daas::staking`: stake, top up, withdraw, slash.

use daas_domain::{Address, ObjectId, events::*};

use super::{
    Abort, ContractState, Ctx, STAKING, Stake, check, codes::*, next_seq, role_lock, role_min,
};

impl ContractState {
    /// `staking::stake`: `payment` MIST for a new stake in `role`.
    pub fn stake(&mut self, ctx: Ctx, payment: u64, role: u8) -> Result<Event, Abort> {
        const F: &str = "stake";
        check(role <= 2, STAKING, F, E_INVALID_ROLE)?;
        check(
            !self.stakes.contains_key(&(ctx.sender, role)),
            STAKING,
            F,
            E_ALREADY_STAKED,
        )?;
        check(payment >= role_min(role), STAKING, F, E_BELOW_MINIMUM)?;
        self.locked += payment;
        self.stakes.insert(
            (ctx.sender, role),
            Stake {
                amount: payment,
                locked_until_epoch: ctx.epoch + role_lock(role),
            },
        );
        Ok(Event::StakeDeposited(StakeDeposited {
            staker: ctx.sender,
            role,
            amount: payment,
            total_after: payment,
            epoch: ctx.epoch,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.pool_event_seq),
        }))
    }

    /// `staking::top_up`.
    pub fn top_up(&mut self, ctx: Ctx, payment: u64, role: u8) -> Result<Event, Abort> {
        const F: &str = "top_up";
        check(role <= 2, STAKING, F, E_INVALID_ROLE)?;
        check(
            self.stakes.contains_key(&(ctx.sender, role)),
            STAKING,
            F,
            E_NO_STAKE,
        )?;
        check(payment > 0, STAKING, F, E_ZERO_AMOUNT)?;
        self.locked += payment;
        let s = self.stake_mut((ctx.sender, role), F)?;
        s.amount += payment;
        s.locked_until_epoch = ctx.epoch + role_lock(role);
        let total_after = s.amount;
        Ok(Event::StakeDeposited(StakeDeposited {
            staker: ctx.sender,
            role,
            amount: payment,
            total_after,
            epoch: ctx.epoch,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.pool_event_seq),
        }))
    }

    /// `staking::withdraw`: returns the event; the caller pays `amount` out as a new coin.
    pub fn withdraw(&mut self, ctx: Ctx, role: u8, amount: u64) -> Result<Event, Abort> {
        const F: &str = "withdraw";
        check(role <= 2, STAKING, F, E_INVALID_ROLE)?;
        let key = (ctx.sender, role);
        let s = self.stake_mut(key, F)?;
        check(amount > 0, STAKING, F, E_ZERO_AMOUNT)?;
        check(
            ctx.epoch >= s.locked_until_epoch,
            STAKING,
            F,
            E_STILL_LOCKED,
        )?;
        check(amount <= s.amount, STAKING, F, E_AMOUNT_TOO_LARGE)?;
        let total_after = self.take(key, amount);
        Ok(Event::StakeWithdrawn(StakeWithdrawn {
            staker: ctx.sender,
            role,
            amount,
            total_after,
            epoch: ctx.epoch,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.pool_event_seq),
        }))
    }

    /// `staking::slash` with an AdminCap for pool `cap_pool_id`.
    pub fn slash(
        &mut self,
        ctx: Ctx,
        cap_pool_id: ObjectId,
        staker: Address,
        role: u8,
        amount: u64,
        reason: String,
    ) -> Result<Event, Abort> {
        const F: &str = "slash";
        check(cap_pool_id == self.pool_id, STAKING, F, E_NOT_POOL_ADMIN)?;
        check(role <= 2, STAKING, F, E_INVALID_ROLE)?;
        let key = (staker, role);
        let s = self.stake_mut(key, F)?;
        check(amount > 0, STAKING, F, E_ZERO_AMOUNT)?;
        check(amount <= s.amount, STAKING, F, E_AMOUNT_TOO_LARGE)?;
        let total_after = self.take(key, amount);
        self.slashed += amount;
        Ok(Event::StakeSlashed(StakeSlashed {
            staker,
            role,
            amount,
            total_after,
            reason,
            slashed_by: ctx.sender,
            epoch: ctx.epoch,
            timestamp_ms: ctx.timestamp_ms,
            seq: next_seq(&mut self.pool_event_seq),
        }))
    }

    /// The stake at `key`, or `function` aborts with `E_NO_STAKE`.
    fn stake_mut(
        &mut self,
        key: (Address, u8),
        function: &'static str,
    ) -> Result<&mut Stake, Abort> {
        self.stakes.get_mut(&key).ok_or(Abort {
            module: STAKING,
            function,
            code: E_NO_STAKE,
        })
    }

    /// Takes `amount` (checked to be at most the stake) out of the stake at
    /// `key` and the locked balance; a stake taken to zero is removed.
    /// Returns what is left.
    fn take(&mut self, key: (Address, u8), amount: u64) -> u64 {
        let left = self.stakes.get_mut(&key).map_or(0, |s| {
            s.amount -= amount;
            s.amount
        });
        if left == 0 {
            self.stakes.remove(&key);
        }
        self.locked -= amount;
        left
    }
}
