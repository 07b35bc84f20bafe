#[test_only]
module daas::enclave_tests;

use daas::enclave::{Self, EnclaveRegistry};
use daas::gateway::{Self, Cluster};
use daas::staking::{Self, StakingPool, AdminCap};
use sui::clock::{Self, Clock};
use sui::event;

const ADMIN: address = @0xAD;

public struct Env { pool: StakingPool, cap: AdminCap, cluster: Cluster, registry: EnclaveRegistry, clock: Clock }

fun setup(): (Env, TxContext) {
    let mut admin = tx_context::new_from_hint(ADMIN, 4, 1, 0, 0);
    let pool = staking::new_pool_for_testing(&mut admin);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let cluster = gateway::new_cluster_for_testing(b"default".to_string(), &cap, &mut admin);
    let registry = enclave::new_registry_for_testing(&mut admin);
    let clock = clock::create_for_testing(&mut admin);
    (Env { pool, cap, cluster, registry, clock }, admin)
}

fun done(env: Env) {
    let Env { pool, cap, cluster, registry, clock } = env;
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    gateway::destroy_cluster_for_testing(cluster);
    enclave::destroy_registry_for_testing(registry);
    clock.destroy_for_testing();
}

fun bytes(n: u64, b: u8): vector<u8> {
    let mut v = vector[];
    let mut i = 0;
    while (i < n) {
        v.push_back(b);
        i = i + 1;
    };
    v
}

fun register_pcrs(env: &mut Env, len: u64, ctx: &mut TxContext) {
    let Env { pool: _, cap, cluster: _, registry, clock } = env;
    enclave::register_pcrs(cap, registry, bytes(len, 1), bytes(48, 2), bytes(48, 3), clock, ctx);
}

fun register_enclave(env: &mut Env, version: u64, key: vector<u8>, doc: vector<u8>, ctx: &mut TxContext) {
    let Env { pool: _, cap, cluster: _, registry, clock } = env;
    enclave::register_enclave(cap, registry, version, key, doc, clock, ctx);
}

#[test]
fun pcr_versions_count_up_and_an_enclave_registers() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    register_pcrs(&mut env, 48, &mut admin);
    assert!(env.registry.latest_pcr_version() == 2);
    register_enclave(&mut env, 2, bytes(32, 9), b"cose-sign1", &mut admin);
    assert!(env.registry.is_registered(bytes(32, 9)));
    let events = event::events_by_type<enclave::EnclaveRegistered>();
    assert!(
        events[0] == enclave::new_enclave_registered_for_testing(
            2, bytes(32, 9), std::hash::sha2_256(b"cose-sign1"), ADMIN, 0, 2,
        ),
    );
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EBadPcrLength)]
fun a_short_pcr_aborts() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 32, &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EUnknownPcrVersion)]
fun an_enclave_for_an_unknown_version_aborts() {
    let (mut env, mut admin) = setup();
    register_enclave(&mut env, 1, bytes(32, 9), b"doc", &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EBadPublicKey)]
fun an_enclave_with_a_bad_key_aborts() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    register_enclave(&mut env, 1, bytes(31, 9), b"doc", &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EEmptyAttestation)]
fun an_enclave_without_attestation_aborts() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    register_enclave(&mut env, 1, bytes(32, 9), b"", &mut admin);
    done(env);
}

fun register_sealing_key(env: &mut Env, key: vector<u8>, ctx: &mut TxContext) {
    let Env { pool: _, cap, cluster, registry, clock } = env;
    enclave::register_sealing_key(cap, registry, cluster, key, clock, ctx);
}

#[test]
fun the_first_sealing_key_is_version_1_and_a_rotation_is_version_2() {
    let (mut env, mut admin) = setup();
    let id = object::id(&env.cluster);
    assert!(env.registry.sealing_key_version(id) == 0);
    register_sealing_key(&mut env, bytes(32, 5), &mut admin);
    assert!(env.registry.sealing_key_version(id) == 1);
    env.clock.set_for_testing(1_000);
    register_sealing_key(&mut env, bytes(32, 6), &mut admin);
    assert!(env.registry.sealing_key_version(id) == 2);
    let events = event::events_by_type<enclave::SealingKeyRegistered>();
    assert!(events.length() == 2);
    assert!(events[0] == enclave::new_sealing_key_registered_for_testing(id, 1, bytes(32, 5), ADMIN, 0, 0));
    assert!(events[1] == enclave::new_sealing_key_registered_for_testing(id, 2, bytes(32, 6), ADMIN, 1_000, 1));
    done(env);
}

#[test]
fun sealing_key_versions_count_per_cluster() {
    let (mut env, mut admin) = setup();
    register_sealing_key(&mut env, bytes(32, 5), &mut admin);
    register_sealing_key(&mut env, bytes(32, 6), &mut admin);
    let other = gateway::new_cluster_for_testing(b"other".to_string(), &env.cap, &mut admin);
    let Env { pool: _, cap, cluster: _, registry, clock } = &mut env;
    enclave::register_sealing_key(cap, registry, &other, bytes(32, 7), clock, &mut admin);
    assert!(env.registry.sealing_key_version(object::id(&other)) == 1);
    assert!(env.registry.sealing_key_version(object::id(&env.cluster)) == 2);
    gateway::destroy_cluster_for_testing(other);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAdmin)]
fun another_pools_cap_cannot_register_a_sealing_key() {
    let (mut env, mut admin) = setup();
    let pool = staking::new_pool_for_testing(&mut admin);
    let foreign = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let Env { pool: _, cap: _, cluster, registry, clock } = &mut env;
    enclave::register_sealing_key(&foreign, registry, cluster, bytes(32, 5), clock, &mut admin);
    staking::destroy_admin_cap_for_testing(foreign);
    staking::destroy_pool_for_testing(pool);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EBadSealingKey)]
fun a_31_byte_sealing_key_aborts() {
    let (mut env, mut admin) = setup();
    register_sealing_key(&mut env, bytes(31, 5), &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EBadSealingKey)]
fun a_33_byte_sealing_key_aborts() {
    let (mut env, mut admin) = setup();
    register_sealing_key(&mut env, bytes(33, 5), &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EBadSealingKey)]
fun an_empty_sealing_key_aborts() {
    let (mut env, mut admin) = setup();
    register_sealing_key(&mut env, vector[], &mut admin);
    done(env);
}
