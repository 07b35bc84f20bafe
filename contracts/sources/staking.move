/// Staking: SUI locked by tenants (users), node operators and admins.
///
/// One shared `StakingPool` holds every stake. A stake is keyed by (staker, role);
/// it must reach the role's minimum when first made, can be topped up (which
/// restarts its lock), withdrawn only once its lock has passed, and slashed by
/// the holder of the `AdminCap`. A node operator whose node stake falls below
/// the node minimum has inactive nodes: every reader of the events derives
/// that from `total_after`, so no separate event is needed.
module daas::staking;

use std::string::String;
use sui::balance::{Self, Balance};
use sui::clock::Clock;
use sui::coin::{Self, Coin};
use sui::event;
use sui::sui::SUI;
use sui::table::{Self, Table};

// === Roles ===

/// A tenant.
const ROLE_USER: u8 = 0;
/// A worker node operator.
const ROLE_NODE: u8 = 1;
/// A cluster administrator.
const ROLE_ADMIN: u8 = 2;

// === Minimums (MIST) and lock periods (epochs) ===

const MIN_USER_STAKE: u64 = 500_000_000;
const MIN_NODE_STAKE: u64 = 1_000_000_000;
const MIN_ADMIN_STAKE: u64 = 10_000_000_000;
const LOCK_USER_EPOCHS: u64 = 10;
const LOCK_NODE_EPOCHS: u64 = 100;
const LOCK_ADMIN_EPOCHS: u64 = 50;

// === Abort codes (stable: the dev chain returns the same ones) ===

const EInvalidRole: u64 = 1;
const EBelowMinimum: u64 = 2;
const EAlreadyStaked: u64 = 3;
const ENoStake: u64 = 4;
const EStillLocked: u64 = 5;
const EAmountTooLarge: u64 = 6;
const EZeroAmount: u64 = 7;
const ENotPoolAdmin: u64 = 8;

/// Authority to slash, create clusters, grant namespaces and register enclaves.
/// Made once, at publish, for the one pool; bound to it so a cap can never act
/// on another pool.
public struct AdminCap has key, store { id: UID, pool_id: ID }

/// The shared pool of all stakes.
public struct StakingPool has key {
    id: UID,
    stakes: Table<StakeKey, Stake>,
    /// SUI of live stakes.
    locked: Balance<SUI>,
    /// SUI taken by slashing.
    slashed: Balance<SUI>,
    /// The `seq` the pool's next event gets: its `StakeDeposited`,
    /// `StakeWithdrawn` and `StakeSlashed` are numbered 0, 1, 2, ... in the
    /// order they happen, so a reader can tell when one is missing.
    event_seq: u64,
}

/// A stake's identity: one per (staker, role).
public struct StakeKey has copy, drop, store { staker: address, role: u8 }

/// A live stake.
public struct Stake has store { amount: u64, locked_until_epoch: u64 }

// === Events ===

public struct StakeDeposited has copy, drop {
    staker: address,
    role: u8,
    amount: u64,
    total_after: u64,
    epoch: u64,
    timestamp_ms: u64,
    /// Place in the pool's event sequence (`StakingPool.event_seq`).
    seq: u64,
}

public struct StakeWithdrawn has copy, drop {
    staker: address,
    role: u8,
    amount: u64,
    total_after: u64,
    epoch: u64,
    timestamp_ms: u64,
    /// Place in the pool's event sequence (`StakingPool.event_seq`).
    seq: u64,
}

public struct StakeSlashed has copy, drop {
    staker: address,
    role: u8,
    amount: u64,
    total_after: u64,
    reason: String,
    slashed_by: address,
    epoch: u64,
    timestamp_ms: u64,
    /// Place in the pool's event sequence (`StakingPool.event_seq`).
    seq: u64,
}

fun init(ctx: &mut TxContext) {
    let pool = new_pool(ctx);
    transfer::transfer(AdminCap { id: object::new(ctx), pool_id: object::id(&pool) }, ctx.sender());
    transfer::share_object(pool);
}

fun new_pool(ctx: &mut TxContext): StakingPool {
    StakingPool {
        id: object::new(ctx),
        stakes: table::new(ctx),
        locked: balance::zero(),
        slashed: balance::zero(),
        event_seq: 0,
    }
}

/// The pool's next event `seq`; counts it.
fun next_event_seq(pool: &mut StakingPool): u64 {
    let seq = pool.event_seq;
    pool.event_seq = seq + 1;
    seq
}

// === Entry points ===

/// Makes a new stake for `role` (0 user, 1 node, 2 admin) of at least the role's minimum.
public fun stake(
    pool: &mut StakingPool,
    payment: Coin<SUI>,
    role: u8,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(role <= ROLE_ADMIN, EInvalidRole);
    let key = StakeKey { staker: ctx.sender(), role };
    assert!(!pool.stakes.contains(key), EAlreadyStaked);
    let amount = payment.value();
    assert!(amount >= min_stake(role), EBelowMinimum);
    pool.locked.join(payment.into_balance());
    pool.stakes.add(key, Stake { amount, locked_until_epoch: ctx.epoch() + lock_epochs(role) });
    event::emit(StakeDeposited {
        staker: ctx.sender(),
        role,
        amount,
        total_after: amount,
        epoch: ctx.epoch(),
        timestamp_ms: clock.timestamp_ms(),
        seq: pool.next_event_seq(),
    });
}

/// Adds to an existing stake; the lock restarts from the current epoch.
public fun top_up(
    pool: &mut StakingPool,
    payment: Coin<SUI>,
    role: u8,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(role <= ROLE_ADMIN, EInvalidRole);
    let key = StakeKey { staker: ctx.sender(), role };
    assert!(pool.stakes.contains(key), ENoStake);
    let amount = payment.value();
    assert!(amount > 0, EZeroAmount);
    pool.locked.join(payment.into_balance());
    let s = &mut pool.stakes[key];
    s.amount = s.amount + amount;
    s.locked_until_epoch = ctx.epoch() + lock_epochs(role);
    let total_after = s.amount;
    event::emit(StakeDeposited {
        staker: ctx.sender(),
        role,
        amount,
        total_after,
        epoch: ctx.epoch(),
        timestamp_ms: clock.timestamp_ms(),
        seq: pool.next_event_seq(),
    });
}

/// Withdraws `amount` of the sender's `role` stake to the sender, once its lock has passed.
/// Withdrawing everything removes the stake.
public fun withdraw(
    pool: &mut StakingPool,
    role: u8,
    amount: u64,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(role <= ROLE_ADMIN, EInvalidRole);
    let key = StakeKey { staker: ctx.sender(), role };
    assert!(pool.stakes.contains(key), ENoStake);
    assert!(amount > 0, EZeroAmount);
    let s = &mut pool.stakes[key];
    assert!(ctx.epoch() >= s.locked_until_epoch, EStillLocked);
    assert!(amount <= s.amount, EAmountTooLarge);
    s.amount = s.amount - amount;
    let total_after = s.amount;
    if (total_after == 0) {
        let Stake { amount: _, locked_until_epoch: _ } = pool.stakes.remove(key);
    };
    let out = coin::from_balance(pool.locked.split(amount), ctx);
    transfer::public_transfer(out, ctx.sender());
    event::emit(StakeWithdrawn {
        staker: ctx.sender(),
        role,
        amount,
        total_after,
        epoch: ctx.epoch(),
        timestamp_ms: clock.timestamp_ms(),
        seq: pool.next_event_seq(),
    });
}

/// Takes `amount` of `staker`'s `role` stake into the pool's slashed balance.
/// Only the holder of the `AdminCap` can slash.
public fun slash(
    cap: &AdminCap,
    pool: &mut StakingPool,
    staker: address,
    role: u8,
    amount: u64,
    reason: String,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(cap.pool_id == object::id(pool), ENotPoolAdmin);
    assert!(role <= ROLE_ADMIN, EInvalidRole);
    let key = StakeKey { staker, role };
    assert!(pool.stakes.contains(key), ENoStake);
    assert!(amount > 0, EZeroAmount);
    let s = &mut pool.stakes[key];
    assert!(amount <= s.amount, EAmountTooLarge);
    s.amount = s.amount - amount;
    let total_after = s.amount;
    if (total_after == 0) {
        let Stake { amount: _, locked_until_epoch: _ } = pool.stakes.remove(key);
    };
    pool.slashed.join(pool.locked.split(amount));
    event::emit(StakeSlashed {
        staker,
        role,
        amount,
        total_after,
        reason,
        slashed_by: ctx.sender(),
        epoch: ctx.epoch(),
        timestamp_ms: clock.timestamp_ms(),
        seq: pool.next_event_seq(),
    });
}

// === Reads used by the other modules ===

/// `staker`'s stake in `role`, 0 if none.
public fun stake_of(pool: &StakingPool, staker: address, role: u8): u64 {
    let key = StakeKey { staker, role };
    if (pool.stakes.contains(key)) pool.stakes[key].amount else 0
}

/// The stake that sets a tenant's tier: user stake plus admin stake. A node
/// stake backs a node, not API access, so it does not count.
public fun tier_stake(pool: &StakingPool, staker: address): u64 {
    stake_of(pool, staker, ROLE_USER) + stake_of(pool, staker, ROLE_ADMIN)
}

/// True when `operator`'s node stake meets the node minimum.
public fun has_active_node_stake(pool: &StakingPool, operator: address): bool {
    stake_of(pool, operator, ROLE_NODE) >= MIN_NODE_STAKE
}

/// The minimum first stake of `role`, MIST.
public fun min_stake(role: u8): u64 {
    if (role == ROLE_USER) MIN_USER_STAKE
    else if (role == ROLE_NODE) MIN_NODE_STAKE
    else MIN_ADMIN_STAKE
}

/// The lock period of `role`, epochs.
public fun lock_epochs(role: u8): u64 {
    if (role == ROLE_USER) LOCK_USER_EPOCHS
    else if (role == ROLE_NODE) LOCK_NODE_EPOCHS
    else LOCK_ADMIN_EPOCHS
}

/// The pool an `AdminCap` governs.
public fun cap_pool_id(cap: &AdminCap): ID { cap.pool_id }

/// MIST in the slashed balance.
public fun slashed_total(pool: &StakingPool): u64 { pool.slashed.value() }

/// The `seq` the pool's next event will get (= how many it has emitted).
public fun event_seq(pool: &StakingPool): u64 { pool.event_seq }

// === Test support ===

#[test_only]
public fun init_for_testing(ctx: &mut TxContext) { init(ctx) }

#[test_only]
public fun new_pool_for_testing(ctx: &mut TxContext): StakingPool { new_pool(ctx) }

#[test_only]
public fun new_admin_cap_for_testing(pool: &StakingPool, ctx: &mut TxContext): AdminCap {
    AdminCap { id: object::new(ctx), pool_id: object::id(pool) }
}

#[test_only]
public fun destroy_admin_cap_for_testing(cap: AdminCap) { sui::test_utils::destroy(cap) }

#[test_only]
public fun destroy_pool_for_testing(pool: StakingPool) {
    sui::test_utils::destroy(pool)
}

// === Event constructors for the shared test vectors (tests/vectors_tests.move) ===

#[test_only]
public fun new_stake_deposited_for_testing(
    staker: address,
    role: u8,
    amount: u64,
    total_after: u64,
    epoch: u64,
    timestamp_ms: u64,
    seq: u64,
): StakeDeposited {
    StakeDeposited { staker, role, amount, total_after, epoch, timestamp_ms, seq }
}

#[test_only]
public fun new_stake_withdrawn_for_testing(
    staker: address,
    role: u8,
    amount: u64,
    total_after: u64,
    epoch: u64,
    timestamp_ms: u64,
    seq: u64,
): StakeWithdrawn {
    StakeWithdrawn { staker, role, amount, total_after, epoch, timestamp_ms, seq }
}

#[test_only]
public fun new_stake_slashed_for_testing(
    staker: address,
    role: u8,
    amount: u64,
    total_after: u64,
    reason: String,
    slashed_by: address,
    epoch: u64,
    timestamp_ms: u64,
    seq: u64,
): StakeSlashed {
    StakeSlashed { staker, role, amount, total_after, reason, slashed_by, epoch, timestamp_ms, seq }
}
