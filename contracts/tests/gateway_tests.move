#[test_only]
module daas::gateway_tests;

use daas::gateway::{Self, Cluster};
use daas::staking::{Self, StakingPool, AdminCap};
use std::string::String;
use sui::clock::{Self, Clock};
use sui::coin;
use sui::event;
use sui::sui::SUI;

const TENANT: address = @0x7E4A47;
const ADMIN: address = @0xAD;
const HALF_SUI: u64 = 500_000_000;
const SUI_1: u64 = 1_000_000_000;

public struct Env { pool: StakingPool, cap: AdminCap, cluster: Cluster, clock: Clock }

fun ctx(sender: address): TxContext { tx_context::new_from_hint(sender, 1, 1, 0, 0) }

fun setup(user_stake: u64): (Env, TxContext) {
    let mut admin = ctx(ADMIN);
    let mut pool = staking::new_pool_for_testing(&mut admin);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let cluster = gateway::new_cluster_for_testing(b"default".to_string(), &cap, &mut admin);
    let mut clock = clock::create_for_testing(&mut admin);
    clock.set_for_testing(77);
    let mut tenant = ctx(TENANT);
    if (user_stake > 0) {
        let c = coin::mint_for_testing<SUI>(user_stake, &mut tenant);
        staking::stake(&mut pool, c, 0, &clock, &mut tenant);
    };
    (Env { pool, cap, cluster, clock }, tenant)
}

fun done(env: Env) {
    let Env { pool, cap, cluster, clock } = env;
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    gateway::destroy_cluster_for_testing(cluster);
    clock.destroy_for_testing();
}

fun s(b: vector<u8>): String { b.to_string() }

fun submit(env: &mut Env, verb: vector<u8>, kind: vector<u8>, manifest: vector<u8>, ctx: &mut TxContext) {
    let api = if (kind == b"Deployment") b"apps/v1" else b"v1";
    submit_named(env, verb, api, kind, b"web", manifest, ctx);
}

fun submit_named(
    env: &mut Env,
    verb: vector<u8>,
    api: vector<u8>,
    kind: vector<u8>,
    name: vector<u8>,
    manifest: vector<u8>,
    ctx: &mut TxContext,
) {
    let Env { pool, cap: _, cluster, clock } = env;
    gateway::submit_request(cluster, pool, s(verb), s(api), s(kind), s(b"team-a"), s(name), manifest, clock, ctx);
}

#[test]
fun create_cluster_emits_and_shares() {
    let mut admin = ctx(ADMIN);
    let pool = staking::new_pool_for_testing(&mut admin);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let clock = clock::create_for_testing(&mut admin);
    gateway::create_cluster(&cap, s(b"prod"), &clock, &mut admin);
    let events = event::events_by_type<gateway::ClusterCreated>();
    assert!(events.length() == 1);
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    clock.destroy_for_testing();
}

#[test]
fun requests_within_the_tier_emit_numbered_events() {
    let (mut env, mut tenant) = setup(SUI_1);
    submit(&mut env, b"get", b"Pod", b"", &mut tenant);
    submit(&mut env, b"apply", b"ConfigMap", b"kind: ConfigMap", &mut tenant);
    let events = event::events_by_type<gateway::K8sAPIRequest>();
    assert!(events.length() == 2);
    let want = gateway::new_k8s_api_request_for_testing(
        object::id(&env.cluster), 1, TENANT, s(b"apply"), s(b"v1"), s(b"ConfigMap"), s(b"team-a"), s(b"web"),
        b"kind: ConfigMap", SUI_1, 77, 2,
    );
    assert!(events[1] == want);
    assert!(env.cluster.next_request_id() == 2);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInsufficientStake)]
fun read_without_any_stake_aborts() {
    let (mut env, mut tenant) = setup(0);
    submit(&mut env, b"get", b"Pod", b"", &mut tenant);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInsufficientStake)]
fun write_above_the_half_sui_tier_aborts() {
    let (mut env, mut tenant) = setup(HALF_SUI);
    submit(&mut env, b"create", b"Pod", b"kind: Pod", &mut tenant);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInsufficientStake)]
fun deployment_above_the_one_sui_tier_aborts() {
    let (mut env, mut tenant) = setup(SUI_1);
    submit(&mut env, b"apply", b"Deployment", b"kind: Deployment", &mut tenant);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInsufficientStake)]
fun secret_write_above_the_five_sui_tier_aborts() {
    let (mut env, mut tenant) = setup(5 * SUI_1);
    submit(&mut env, b"create", b"Secret", b"kind: Secret", &mut tenant);
    done(env);
}

fun r(verb: vector<u8>, kind: vector<u8>): u64 { gateway::required_stake(&s(verb), &s(kind)) }

#[test]
fun tiers_match_the_seed() {
    assert!(r(b"get", b"Pod") == HALF_SUI);
    assert!(r(b"list", b"ConfigMap") == HALF_SUI);
    assert!(r(b"delete", b"Service") == SUI_1);
    assert!(r(b"apply", b"Deployment") == 5 * SUI_1);
    assert!(r(b"create", b"Namespace") == 5 * SUI_1);
    assert!(r(b"get", b"Secret") == 5 * SUI_1);
    assert!(r(b"create", b"Secret") == 10 * SUI_1);
    assert!(r(b"get", b"CronJob") == 10 * SUI_1);
}

#[test, expected_failure(abort_code = daas::gateway::EUnknownVerb)]
fun unknown_verb_aborts() {
    let (mut env, mut tenant) = setup(10 * SUI_1);
    submit(&mut env, b"patch", b"Pod", b"", &mut tenant);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EManifestTooLarge)]
fun oversize_manifest_aborts() {
    let (mut env, mut tenant) = setup(10 * SUI_1);
    let mut big = vector[];
    let mut i = 0;
    while (i <= gateway::max_manifest_bytes()) {
        big.push_back(32u8);
        i = i + 1;
    };
    submit(&mut env, b"apply", b"ConfigMap", big, &mut tenant);
    done(env);
}

#[test]
fun a_manifest_at_the_limit_is_accepted() {
    let (mut env, mut tenant) = setup(10 * SUI_1);
    let mut big = vector[];
    let mut i = 0;
    while (i < gateway::max_manifest_bytes()) {
        big.push_back(32u8);
        i = i + 1;
    };
    submit(&mut env, b"apply", b"ConfigMap", big, &mut tenant);
    assert!(event::num_events() == 2);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EEmptyName)]
fun empty_name_aborts() {
    let (mut env, mut tenant) = setup(10 * SUI_1);
    submit_named(&mut env, b"apply", b"v1", b"Pod", b"", b"", &mut tenant);
    done(env);
}
