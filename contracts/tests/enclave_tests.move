#[test_only]
module daas::enclave_tests;

use daas::enclave::{Self, EnclaveRegistry};
use daas::staking::{Self, StakingPool, AdminCap};
use sui::clock::{Self, Clock};
use sui::event;

const ADMIN: address = @0xAD;

public struct Env { pool: StakingPool, cap: AdminCap, registry: EnclaveRegistry, clock: Clock }

fun setup(): (Env, TxContext) {
    let mut admin = tx_context::new_from_hint(ADMIN, 4, 1, 0, 0);
    let pool = staking::new_pool_for_testing(&mut admin);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let registry = enclave::new_registry_for_testing(&mut admin);
    let clock = clock::create_for_testing(&mut admin);
    (Env { pool, cap, registry, clock }, admin)
}

fun done(env: Env) {
    let Env { pool, cap, registry, clock } = env;
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
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
    let Env { pool: _, cap, registry, clock } = env;
    enclave::register_pcrs(cap, registry, bytes(len, 1), bytes(48, 2), bytes(48, 3), clock, ctx);
}

fun register_enclave(env: &mut Env, version: u64, key: vector<u8>, doc: vector<u8>, ctx: &mut TxContext) {
    let Env { pool: _, cap, registry, clock } = env;
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
            2, bytes(32, 9), std::hash::sha2_256(b"cose-sign1"), ADMIN, 0,
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
