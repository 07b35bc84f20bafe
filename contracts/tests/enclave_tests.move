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

/// PCR0-2 as `register_pcrs` above registers them.
fun good_pcrs(): vector<vector<u8>> { vector[bytes(48, 1), bytes(48, 2), bytes(48, 3)] }

const DEV_MODULE: vector<u8> = b"k3s-daas-dev-enclave";

/// The 80-byte `user_data`, written out here field by field.
fun user_data(cluster: ID, version: u64, sealing_key: vector<u8>): vector<u8> {
    let mut v = b"DAASATT1";
    v.append(std::bcs::to_bytes(&object::id_to_address(&cluster)));
    let mut i = 0u8;
    while (i < 8) {
        v.push_back(((version >> (8 * i)) & 0xff) as u8);
        i = i + 1;
    };
    v.append(sealing_key);
    v
}

/// What `register_enclave` takes from a document, for `env.cluster`.
public struct Doc has drop {
    timestamp_ms: u64,
    pcrs: vector<vector<u8>>,
    public_key: Option<vector<u8>>,
    user_data: Option<vector<u8>>,
}

/// A good document of `env.cluster` at `timestamp_ms`: key `key`×32, sealing key `seal`×32 as `version`.
fun doc(env: &Env, timestamp_ms: u64, key: u8, version: u64, seal: u8): Doc {
    Doc {
        timestamp_ms,
        pcrs: good_pcrs(),
        public_key: option::some(bytes(32, key)),
        user_data: option::some(user_data(object::id(&env.cluster), version, bytes(32, seal))),
    }
}

fun attest_for(env: &mut Env, cluster: ID, d: Doc, ctx: &TxContext) {
    let Doc { timestamp_ms, pcrs, public_key, user_data } = d;
    let Env { pool: _, cap: _, cluster: _, registry, clock } = env;
    enclave::register_attested_for_testing(
        registry, cluster, DEV_MODULE, timestamp_ms, pcrs, public_key, user_data, clock, ctx,
    );
}

fun attest(env: &mut Env, d: Doc, ctx: &TxContext) {
    let cluster = object::id(&env.cluster);
    attest_for(env, cluster, d, ctx)
}

fun registered(cluster: ID, pcr_version: u64, key: u8, version: u64, seal: u8, at: u64, clock: u64, seq: u64): enclave::EnclaveRegistered {
    enclave::new_enclave_registered_for_testing(
        cluster, pcr_version, bytes(32, key), version, bytes(32, seal), DEV_MODULE, at, ADMIN, clock, seq,
    )
}

#[test]
fun an_attested_enclave_registers_its_key_and_the_first_sealing_key() {
    let (mut env, mut admin) = setup();
    let id = object::id(&env.cluster);
    register_pcrs(&mut env, 48, &mut admin);
    register_pcrs(&mut env, 48, &mut admin);
    env.clock.set_for_testing(5_000);
    let d = doc(&env, 4_000, 9, 1, 5);
    attest(&mut env, d, &admin);
    assert!(env.registry.is_registered(bytes(32, 9)));
    let sealing = event::events_by_type<enclave::SealingKeyRegistered>();
    assert!(sealing == vector[enclave::new_sealing_key_registered_for_testing(id, 1, bytes(32, 5), ADMIN, 5_000, 2)]);
    let enclaves = event::events_by_type<enclave::EnclaveRegistered>();
    assert!(enclaves == vector[registered(id, 2, 9, 1, 5, 4_000, 5_000, 3)]);
    let info = env.registry.enclave_info(bytes(32, 9)).destroy_some();
    assert!(info.cluster_id() == id && info.pcr_version() == 2);
    assert!(info.sealing_key_version() == 1 && info.attestation_timestamp_ms() == 4_000);
    assert!(env.registry.current_enclave(id) == option::some(bytes(32, 9)));
    assert!(env.registry.sealing_key_version(id) == 1);
    assert!(env.registry.enclave_info(bytes(32, 8)).is_none());
    done(env);
}

/// A restarted master (new key, same sealing key) registers without a new
/// sealing key version; the next version advances it; the stream stays dense.
#[test]
fun re_registration_with_the_same_sealing_key_is_idempotent_and_the_next_version_advances() {
    let (mut env, mut admin) = setup();
    let id = object::id(&env.cluster);
    register_pcrs(&mut env, 48, &mut admin); // seq 0
    let d = doc(&env, 1_000, 9, 1, 5);
    attest(&mut env, d, &admin); // seq 1 (sealing key), 2
    let d = doc(&env, 2_000, 8, 1, 5);
    attest(&mut env, d, &admin); // seq 3
    assert!(env.registry.sealing_key_version(id) == 1);
    let d = doc(&env, 3_000, 7, 2, 6);
    attest(&mut env, d, &admin); // seq 4 (sealing key), 5
    assert!(env.registry.sealing_key_version(id) == 2);
    let enclaves = event::events_by_type<enclave::EnclaveRegistered>();
    assert!(
        enclaves == vector[
            registered(id, 1, 9, 1, 5, 1_000, 0, 2),
            registered(id, 1, 8, 1, 5, 2_000, 0, 3),
            registered(id, 1, 7, 2, 6, 3_000, 0, 5),
        ],
    );
    let sealing = event::events_by_type<enclave::SealingKeyRegistered>();
    assert!(
        sealing == vector[
            enclave::new_sealing_key_registered_for_testing(id, 1, bytes(32, 5), ADMIN, 0, 1),
            enclave::new_sealing_key_registered_for_testing(id, 2, bytes(32, 6), ADMIN, 0, 4),
        ],
    );
    assert!(env.registry.event_seq() == 6);
    // Every key stays registered (old receipts keep verifying); the newest is current.
    assert!(env.registry.is_registered(bytes(32, 9)) && env.registry.is_registered(bytes(32, 8)));
    assert!(env.registry.current_enclave(id) == option::some(bytes(32, 7)));
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::ENoPcrSet)]
fun a_document_before_any_pcr_set_aborts() {
    let (mut env, admin) = setup();
    let d = doc(&env, 1_000, 9, 1, 5);
    attest(&mut env, d, &admin);
    done(env);
}

/// `which` = the PCR that differs (3: PCR2 missing).
fun attest_with_pcrs(which: u64) {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let mut d = doc(&env, 1_000, 9, 1, 5);
    if (which == 3) {
        d.pcrs.pop_back();
    } else {
        *&mut d.pcrs[which] = bytes(48, 0xee);
    };
    attest(&mut env, d, &admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EPcrMismatch)]
fun a_different_pcr0_aborts() { attest_with_pcrs(0) }

#[test, expected_failure(abort_code = daas::enclave::EPcrMismatch)]
fun a_different_pcr1_aborts() { attest_with_pcrs(1) }

#[test, expected_failure(abort_code = daas::enclave::EPcrMismatch)]
fun a_different_pcr2_aborts() { attest_with_pcrs(2) }

#[test, expected_failure(abort_code = daas::enclave::EPcrMismatch)]
fun a_missing_pcr2_aborts() { attest_with_pcrs(3) }

/// The document must match the latest set, not an older one.
#[test, expected_failure(abort_code = daas::enclave::EPcrMismatch)]
fun a_document_of_an_older_pcr_set_aborts() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let Env { pool: _, cap, cluster: _, registry, clock } = &mut env;
    enclave::register_pcrs(cap, registry, bytes(48, 4), bytes(48, 2), bytes(48, 3), clock, &mut admin);
    let d = doc(&env, 1_000, 9, 1, 5);
    attest(&mut env, d, &admin);
    done(env);
}

/// `len` bytes of public key (33: none at all).
fun attest_with_key(len: u64) {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let mut d = doc(&env, 1_000, 9, 1, 5);
    d.public_key = if (len == 33) option::none() else option::some(bytes(len, 9));
    attest(&mut env, d, &admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EBadPublicKey)]
fun a_document_without_a_public_key_aborts() { attest_with_key(33) }

#[test, expected_failure(abort_code = daas::enclave::EBadPublicKey)]
fun a_31_byte_public_key_aborts() { attest_with_key(31) }

#[test, expected_failure(abort_code = daas::enclave::EBadPublicKey)]
fun a_65_byte_public_key_aborts() { attest_with_key(65) }

fun attest_with_user_data(user_data: Option<vector<u8>>) {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let mut d = doc(&env, 1_000, 9, 1, 5);
    d.user_data = user_data;
    attest(&mut env, d, &admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EBadUserData)]
fun a_document_without_user_data_aborts() { attest_with_user_data(option::none()) }

#[test, expected_failure(abort_code = daas::enclave::EBadUserData)]
fun empty_user_data_aborts() { attest_with_user_data(option::some(vector[])) }

#[test, expected_failure(abort_code = daas::enclave::EBadUserData)]
fun user_data_of_79_bytes_aborts() {
    let mut u = user_data(object::id_from_address(@0x1), 1, bytes(32, 5));
    u.pop_back();
    attest_with_user_data(option::some(u))
}

#[test, expected_failure(abort_code = daas::enclave::EBadUserData)]
fun user_data_of_81_bytes_aborts() {
    let mut u = user_data(object::id_from_address(@0x1), 1, bytes(32, 5));
    u.push_back(0);
    attest_with_user_data(option::some(u))
}

#[test, expected_failure(abort_code = daas::enclave::EBadUserData)]
fun user_data_with_another_magic_aborts() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let mut d = doc(&env, 1_000, 9, 1, 5);
    let mut u = user_data(object::id(&env.cluster), 1, bytes(32, 5));
    *&mut u[7] = 0x32; // DAASATT2
    d.user_data = option::some(u);
    attest(&mut env, d, &admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EWrongCluster)]
fun user_data_naming_another_cluster_aborts() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let d = doc(&env, 1_000, 9, 1, 5);
    attest_for(&mut env, object::id_from_address(@0xC0FFEE), d, &admin);
    done(env);
}

/// A document as old as the cluster's current enclave's (the same one sent
/// twice) aborts; so does an older one.
fun attest_twice(second_timestamp_ms: u64) {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let d = doc(&env, 1_000, 9, 1, 5);
    attest(&mut env, d, &admin);
    let d = doc(&env, second_timestamp_ms, 8, 1, 5);
    attest(&mut env, d, &admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::EStaleAttestation)]
fun the_same_documents_time_again_aborts() { attest_twice(1_000) }

#[test, expected_failure(abort_code = daas::enclave::EStaleAttestation)]
fun an_older_document_aborts() { attest_twice(999) }

/// First registration with sealing key `version` (the cluster has none).
fun attest_first_version(version: u64) {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let d = doc(&env, 1_000, 9, version, 5);
    attest(&mut env, d, &admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::ESealingKeyVersion)]
fun sealing_key_version_0_aborts() { attest_first_version(0) }

#[test, expected_failure(abort_code = daas::enclave::ESealingKeyVersion)]
fun a_skipped_sealing_key_version_aborts() { attest_first_version(2) }

/// After version 1 (key 5), a document naming (`version`, key `seal`).
fun attest_after_version_1(version: u64, seal: u8) {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let d = doc(&env, 1_000, 9, 1, 5);
    attest(&mut env, d, &admin);
    let d = doc(&env, 2_000, 8, version, seal);
    attest(&mut env, d, &admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::enclave::ESealingKeyVersion)]
fun the_current_version_with_another_key_aborts() { attest_after_version_1(1, 6) }

#[test, expected_failure(abort_code = daas::enclave::ESealingKeyVersion)]
fun an_older_sealing_key_version_aborts() { attest_after_version_1(0, 5) }

#[test, expected_failure(abort_code = daas::enclave::ESealingKeyVersion)]
fun a_sealing_key_version_two_ahead_aborts() { attest_after_version_1(3, 6) }

/// An aborted registration changes nothing: the sealing key the admin
/// registered stays, and the next good document continues the stream.
#[test]
fun an_admin_registered_sealing_key_is_the_current_one_for_a_document() {
    let (mut env, mut admin) = setup();
    let id = object::id(&env.cluster);
    register_pcrs(&mut env, 48, &mut admin); // seq 0
    register_sealing_key(&mut env, bytes(32, 5), &mut admin); // seq 1
    let d = doc(&env, 1_000, 9, 1, 5);
    attest(&mut env, d, &admin); // seq 2, no sealing key event
    assert!(event::events_by_type<enclave::SealingKeyRegistered>().length() == 1);
    assert!(event::events_by_type<enclave::EnclaveRegistered>() == vector[registered(id, 1, 9, 1, 5, 1_000, 0, 2)]);
    done(env);
}

// === Receipts: the shared vector (attestation/tests/vectors/receipt.json) ===

const VECTOR_KEY: vector<u8> = x"d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737";
const OTHER_KEY: vector<u8> = x"c6822637c7d310ec57627be00ba259d253749f4aaf644470cffbe53a35f73242";
const VECTOR_SIGNATURE: vector<u8> =
    x"2507e7daf93bbe52f229e7024f3984c4a47218e9e71b227644234cd3399b70baae8d3a6b625ff613b334751c729cb881b26bfd57f2d0654ce722a1e18bcc5303";
const VECTOR_TIMESTAMP_MS: u64 = 1764000000000;

fun vector_cluster(): ID { object::id_from_address(@0x2222222222222222222222222222222222222222222222222222222222222222) }

fun vector_receipt(request_id: u64, result: u32): enclave::Receipt {
    enclave::new_receipt(vector_cluster(), request_id, bytes(32, 0x33), result, bytes(32, 0x44), 42)
}

/// Registers `key` for `cluster` (PCR set 1 must exist).
fun register_key(env: &mut Env, cluster: ID, key: vector<u8>, timestamp_ms: u64, version: u64, ctx: &TxContext) {
    let d = Doc {
        timestamp_ms,
        pcrs: good_pcrs(),
        public_key: option::some(key),
        user_data: option::some(user_data(cluster, version, bytes(32, 5))),
    };
    attest_for(env, cluster, d, ctx)
}

fun verify(env: &Env, receipt: &enclave::Receipt, timestamp_ms: u64, key: vector<u8>, signature: vector<u8>): bool {
    env.registry.verify_receipt(receipt, timestamp_ms, key, signature)
}

#[test]
fun the_shared_receipt_vector_verifies_and_a_changed_field_does_not() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let r = vector_receipt(7, 0);
    assert!(!verify(&env, &r, VECTOR_TIMESTAMP_MS, VECTOR_KEY, VECTOR_SIGNATURE), 0); // not registered yet
    register_key(&mut env, vector_cluster(), VECTOR_KEY, 1_000, 1, &admin);
    assert!(verify(&env, &r, VECTOR_TIMESTAMP_MS, VECTOR_KEY, VECTOR_SIGNATURE), 1);
    assert!(!verify(&env, &vector_receipt(7, 13), VECTOR_TIMESTAMP_MS, VECTOR_KEY, VECTOR_SIGNATURE), 2);
    assert!(!verify(&env, &vector_receipt(8, 0), VECTOR_TIMESTAMP_MS, VECTOR_KEY, VECTOR_SIGNATURE), 3);
    assert!(!verify(&env, &r, VECTOR_TIMESTAMP_MS + 1, VECTOR_KEY, VECTOR_SIGNATURE), 4);
    let mut bad = VECTOR_SIGNATURE;
    *&mut bad[10] = bad[10] ^ 1;
    assert!(!verify(&env, &r, VECTOR_TIMESTAMP_MS, VECTOR_KEY, bad), 5);
    assert!(!verify(&env, &r, VECTOR_TIMESTAMP_MS, VECTOR_KEY, vector[]), 6);
    // A later enclave of the cluster does not stop the old key's receipts verifying.
    register_key(&mut env, vector_cluster(), OTHER_KEY, 2_000, 1, &admin);
    assert!(verify(&env, &r, VECTOR_TIMESTAMP_MS, VECTOR_KEY, VECTOR_SIGNATURE), 7);
    done(env);
}

#[test]
fun another_registered_key_does_not_verify_the_vector() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    register_key(&mut env, vector_cluster(), OTHER_KEY, 1_000, 1, &admin);
    assert!(!verify(&env, &vector_receipt(7, 0), VECTOR_TIMESTAMP_MS, OTHER_KEY, VECTOR_SIGNATURE));
    done(env);
}

/// The signature is good, but the key was registered for another cluster.
#[test]
fun a_key_of_another_cluster_does_not_verify_the_vector() {
    let (mut env, mut admin) = setup();
    register_pcrs(&mut env, 48, &mut admin);
    let elsewhere = object::id_from_address(@0x2222222222222222222222222222222222222222222222222222222222222223);
    register_key(&mut env, elsewhere, VECTOR_KEY, 1_000, 1, &admin);
    assert!(!verify(&env, &vector_receipt(7, 0), VECTOR_TIMESTAMP_MS, VECTOR_KEY, VECTOR_SIGNATURE));
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
