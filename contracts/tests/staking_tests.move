#[test_only]
module daas::staking_tests;

use daas::staking::{Self, StakingPool, AdminCap};
use sui::clock::{Self, Clock};
use sui::coin;
use sui::event;
use sui::sui::SUI;

const ALICE: address = @0xA11CE;
const BOB: address = @0xB0B;
const ADMIN: address = @0xAD;
const HALF_SUI: u64 = 500_000_000;
const SUI_1: u64 = 1_000_000_000;

public struct Env { pool: StakingPool, cap: AdminCap, clock: Clock }

fun ctx(sender: address, epoch: u64): TxContext { tx_context::new_from_hint(sender, epoch, epoch, 0, 0) }

fun setup(ctx: &mut TxContext): Env {
    let pool = staking::new_pool_for_testing(ctx);
    let cap = staking::new_admin_cap_for_testing(&pool, ctx);
    let mut clock = clock::create_for_testing(ctx);
    clock.set_for_testing(1_000);
    Env { pool, cap, clock }
}

fun done(env: Env) {
    let Env { pool, cap, clock } = env;
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    clock.destroy_for_testing();
}

// Helpers take the environment apart so the pool (mutable) and the clock
// (shared) can be borrowed in one call.
fun stake(env: &mut Env, amount: u64, role: u8, ctx: &mut TxContext) {
    let Env { pool, cap: _, clock } = env;
    staking::stake(pool, coin::mint_for_testing<SUI>(amount, ctx), role, clock, ctx);
}

fun top_up(env: &mut Env, amount: u64, role: u8, ctx: &mut TxContext) {
    let Env { pool, cap: _, clock } = env;
    staking::top_up(pool, coin::mint_for_testing<SUI>(amount, ctx), role, clock, ctx);
}

fun withdraw(env: &mut Env, role: u8, amount: u64, ctx: &mut TxContext) {
    let Env { pool, cap: _, clock } = env;
    staking::withdraw(pool, role, amount, clock, ctx);
}

fun slash(env: &mut Env, staker: address, role: u8, amount: u64, reason: vector<u8>, ctx: &mut TxContext) {
    let Env { pool, cap, clock } = env;
    staking::slash(cap, pool, staker, role, amount, reason.to_string(), clock, ctx);
}

#[test]
fun stake_at_each_minimum_emits_deposits() {
    let mut ctx = ctx(ALICE, 3);
    let mut env = setup(&mut ctx);
    stake(&mut env, HALF_SUI, 0, &mut ctx);
    stake(&mut env, SUI_1, 1, &mut ctx);
    stake(&mut env, 10 * SUI_1, 2, &mut ctx);
    assert!(env.pool.stake_of(ALICE, 0) == HALF_SUI);
    assert!(env.pool.stake_of(ALICE, 1) == SUI_1);
    assert!(env.pool.tier_stake(ALICE) == HALF_SUI + 10 * SUI_1);
    assert!(env.pool.has_active_node_stake(ALICE));
    let events = event::events_by_type<staking::StakeDeposited>();
    assert!(events.length() == 3);
    assert!(events[0] == staking::new_stake_deposited_for_testing(ALICE, 0, HALF_SUI, HALF_SUI, 3, 1_000, 0));
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EBelowMinimum)]
fun stake_below_user_minimum_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, HALF_SUI - 1, 0, &mut ctx);
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EBelowMinimum)]
fun stake_below_node_minimum_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, SUI_1 - 1, 1, &mut ctx);
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EBelowMinimum)]
fun stake_below_admin_minimum_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, 10 * SUI_1 - 1, 2, &mut ctx);
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EInvalidRole)]
fun stake_with_unknown_role_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, 10 * SUI_1, 3, &mut ctx);
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EAlreadyStaked)]
fun second_stake_in_same_role_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, HALF_SUI, 0, &mut ctx);
    stake(&mut env, HALF_SUI, 0, &mut ctx);
    done(env);
}

#[test]
fun top_up_adds_and_restarts_the_lock() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, HALF_SUI, 0, &mut ctx);
    let mut later = ctx(ALICE, 9);
    top_up(&mut env, HALF_SUI, 0, &mut later);
    assert!(env.pool.stake_of(ALICE, 0) == SUI_1);
    let events = event::events_by_type<staking::StakeDeposited>();
    assert!(events[1] == staking::new_stake_deposited_for_testing(ALICE, 0, HALF_SUI, SUI_1, 9, 1_000, 1));
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::ENoStake)]
fun top_up_without_a_stake_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    top_up(&mut env, HALF_SUI, 0, &mut ctx);
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EStillLocked)]
fun withdraw_before_the_lock_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, HALF_SUI, 0, &mut ctx);
    let mut early = ctx(ALICE, 9);
    withdraw(&mut env, 0, HALF_SUI, &mut early);
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EStillLocked)]
fun withdraw_before_a_restarted_lock_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, HALF_SUI, 0, &mut ctx);
    let mut at_9 = ctx(ALICE, 9);
    top_up(&mut env, HALF_SUI, 0, &mut at_9);
    let mut at_10 = ctx(ALICE, 10);
    withdraw(&mut env, 0, HALF_SUI, &mut at_10);
    done(env);
}

#[test]
fun withdraw_after_the_lock_pays_out_and_emits() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, SUI_1, 0, &mut ctx);
    let mut at_10 = ctx(ALICE, 10);
    withdraw(&mut env, 0, HALF_SUI, &mut at_10);
    assert!(env.pool.stake_of(ALICE, 0) == HALF_SUI);
    withdraw(&mut env, 0, HALF_SUI, &mut at_10);
    assert!(env.pool.stake_of(ALICE, 0) == 0);
    let events = event::events_by_type<staking::StakeWithdrawn>();
    assert!(events.length() == 2);
    assert!(events[1] == staking::new_stake_withdrawn_for_testing(ALICE, 0, HALF_SUI, 0, 10, 1_000, 2));
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EAmountTooLarge)]
fun withdraw_more_than_staked_aborts() {
    let mut ctx = ctx(ALICE, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, SUI_1, 0, &mut ctx);
    let mut at_10 = ctx(ALICE, 10);
    withdraw(&mut env, 0, SUI_1 + 1, &mut at_10);
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::ENoStake)]
fun withdraw_without_a_stake_aborts() {
    let mut ctx = ctx(BOB, 100);
    let mut env = setup(&mut ctx);
    withdraw(&mut env, 0, 1, &mut ctx);
    done(env);
}

#[test]
fun slash_takes_stake_and_deactivates_a_node_below_minimum() {
    let mut ctx = ctx(BOB, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, SUI_1, 1, &mut ctx);
    assert!(env.pool.has_active_node_stake(BOB));
    let mut admin = ctx(ADMIN, 1);
    slash(&mut env, BOB, 1, 1, b"offline", &mut admin);
    assert!(env.pool.stake_of(BOB, 1) == SUI_1 - 1);
    assert!(!env.pool.has_active_node_stake(BOB));
    assert!(env.pool.slashed_total() == 1);
    let events = event::events_by_type<staking::StakeSlashed>();
    assert!(
        events[0] == staking::new_stake_slashed_for_testing(BOB, 1, 1, SUI_1 - 1, b"offline".to_string(), ADMIN, 1, 1_000, 1),
    );
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::ENotPoolAdmin)]
fun slash_with_the_cap_of_another_pool_aborts() {
    // Without an AdminCap `slash` cannot be called at all (the type system
    // refuses); a cap minted for another pool is the only other way in.
    let mut ctx = ctx(BOB, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, SUI_1, 1, &mut ctx);
    let other_pool = staking::new_pool_for_testing(&mut ctx);
    let foreign_cap = staking::new_admin_cap_for_testing(&other_pool, &mut ctx);
    let Env { pool, cap: _, clock } = &mut env;
    staking::slash(&foreign_cap, pool, BOB, 1, 1, b"x".to_string(), clock, &mut ctx);
    staking::destroy_pool_for_testing(other_pool);
    staking::destroy_admin_cap_for_testing(foreign_cap);
    done(env);
}

#[test, expected_failure(abort_code = daas::staking::EAmountTooLarge)]
fun slash_more_than_staked_aborts() {
    let mut ctx = ctx(BOB, 0);
    let mut env = setup(&mut ctx);
    stake(&mut env, SUI_1, 1, &mut ctx);
    slash(&mut env, BOB, 1, SUI_1 + 1, b"x", &mut ctx);
    done(env);
}

#[test]
fun init_shares_the_pool_and_hands_the_cap_to_the_publisher() {
    let mut ctx = ctx(ADMIN, 0);
    staking::init_for_testing(&mut ctx);
}
