#[test_only]
module daas::nodes_tests;

use daas::nodes::{Self, NodeRegistry};
use daas::staking::{Self, StakingPool, AdminCap};
use sui::clock::{Self, Clock};
use sui::coin;
use sui::event;
use sui::sui::SUI;

const OPERATOR: address = @0x0BE;
const OTHER: address = @0x07E;
const ADMIN: address = @0xAD;
const SUI_1: u64 = 1_000_000_000;

public struct Env { pool: StakingPool, cap: AdminCap, registry: NodeRegistry, clock: Clock }

fun ctx(sender: address): TxContext { tx_context::new_from_hint(sender, 2, 1, 0, 0) }

fun setup(node_stake: u64): (Env, TxContext) {
    let mut op = ctx(OPERATOR);
    let mut pool = staking::new_pool_for_testing(&mut op);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut op);
    let registry = nodes::new_registry_for_testing(&mut op);
    let mut clock = clock::create_for_testing(&mut op);
    clock.set_for_testing(5);
    if (node_stake > 0) {
        staking::stake(&mut pool, coin::mint_for_testing<SUI>(node_stake, &mut op), 1, &clock, &mut op);
    };
    (Env { pool, cap, registry, clock }, op)
}

fun done(env: Env) {
    let Env { pool, cap, registry, clock } = env;
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    nodes::destroy_registry_for_testing(registry);
    clock.destroy_for_testing();
}

fun key32(): vector<u8> {
    let mut k = vector[];
    let mut i = 0u8;
    while (i < 32) {
        k.push_back(i);
        i = i + 1;
    };
    k
}

fun register(env: &mut Env, name: vector<u8>, key: vector<u8>, ctx: &mut TxContext) {
    let Env { pool, cap: _, registry, clock } = env;
    nodes::register_node(registry, pool, name.to_string(), key, b"10.0.0.7:10250".to_string(), clock, ctx);
}

fun deregister(env: &mut Env, name: vector<u8>, ctx: &mut TxContext) {
    let Env { pool: _, cap: _, registry, clock } = env;
    nodes::deregister_node(registry, name.to_string(), clock, ctx);
}

#[test]
fun register_with_node_stake_emits_and_is_active() {
    let (mut env, mut op) = setup(SUI_1);
    register(&mut env, b"node-1", key32(), &mut op);
    assert!(env.registry.is_active(&env.pool, b"node-1".to_string()));
    let events = event::events_by_type<nodes::NodeRegistered>();
    assert!(
        events[0] == nodes::new_node_registered_for_testing(
            OPERATOR, b"node-1".to_string(), key32(), b"10.0.0.7:10250".to_string(), 5, 0,
        ),
    );
    done(env);
}

#[test]
fun a_slash_below_the_minimum_deactivates_the_node() {
    let (mut env, mut op) = setup(SUI_1);
    register(&mut env, b"node-1", key32(), &mut op);
    let mut admin = ctx(ADMIN);
    let Env { pool, cap, registry: _, clock } = &mut env;
    staking::slash(cap, pool, OPERATOR, 1, 1, b"offline".to_string(), clock, &mut admin);
    assert!(!env.registry.is_active(&env.pool, b"node-1".to_string()));
    done(env);
}

#[test, expected_failure(abort_code = daas::nodes::ENoNodeStake)]
fun register_without_node_stake_aborts() {
    let (mut env, mut op) = setup(0);
    register(&mut env, b"node-1", key32(), &mut op);
    done(env);
}

#[test, expected_failure(abort_code = daas::nodes::ENodeExists)]
fun register_a_taken_name_aborts() {
    let (mut env, mut op) = setup(SUI_1);
    register(&mut env, b"node-1", key32(), &mut op);
    register(&mut env, b"node-1", key32(), &mut op);
    done(env);
}

#[test, expected_failure(abort_code = daas::nodes::EBadPublicKey)]
fun register_with_a_short_key_aborts() {
    let (mut env, mut op) = setup(SUI_1);
    register(&mut env, b"node-1", b"short", &mut op);
    done(env);
}

#[test, expected_failure(abort_code = daas::nodes::EEmptyNodeName)]
fun register_without_a_name_aborts() {
    let (mut env, mut op) = setup(SUI_1);
    register(&mut env, b"", key32(), &mut op);
    done(env);
}

#[test]
fun deregister_by_the_operator_emits() {
    let (mut env, mut op) = setup(SUI_1);
    register(&mut env, b"node-1", key32(), &mut op);
    deregister(&mut env, b"node-1", &mut op);
    assert!(!env.registry.is_active(&env.pool, b"node-1".to_string()));
    let events = event::events_by_type<nodes::NodeDeregistered>();
    assert!(events[0] == nodes::new_node_deregistered_for_testing(OPERATOR, b"node-1".to_string(), 5, 1));
    done(env);
}

#[test, expected_failure(abort_code = daas::nodes::ENotOperator)]
fun deregister_by_someone_else_aborts() {
    let (mut env, mut op) = setup(SUI_1);
    register(&mut env, b"node-1", key32(), &mut op);
    let mut other = ctx(OTHER);
    deregister(&mut env, b"node-1", &mut other);
    done(env);
}

#[test, expected_failure(abort_code = daas::nodes::EUnknownNode)]
fun deregister_an_unknown_node_aborts() {
    let (mut env, mut op) = setup(SUI_1);
    deregister(&mut env, b"ghost", &mut op);
    done(env);
}
