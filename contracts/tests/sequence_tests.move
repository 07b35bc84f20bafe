// Event sequences: every event of the package carries `seq`, its place in the
// stream of the object that emitted it (the pool, the node registry, the
// enclave registry, or one cluster), numbered 0, 1, 2, ... without gaps in the
// order the events happen. The expected numbers here are written out by hand
// from the order of the calls; `seq` is read from the events' BCS (its last 8
// bytes), so these tests also pin it as the last field.
#[test_only]
module daas::sequence_tests;

use daas::enclave;
use daas::gateway::{Self, Cluster};
use daas::grants;
use daas::nodes;
use daas::staking::{Self, StakingPool};
use std::bcs;
use std::string::String;
use sui::clock::{Self, Clock};
use sui::coin;
use sui::event;
use sui::sui::SUI;

const ADMIN: address = @0xAD;
const ALICE: address = @0xA11CE;
const BOB: address = @0xB0B;
const SUI_1: u64 = 1_000_000_000;

fun ctx(sender: address, epoch: u64): TxContext { tx_context::new_from_hint(sender, epoch, epoch, 0, 0) }

fun s(b: vector<u8>): String { b.to_string() }

fun stake(pool: &mut StakingPool, amount: u64, role: u8, clock: &Clock, ctx: &mut TxContext) {
    staking::stake(pool, coin::mint_for_testing<SUI>(amount, ctx), role, clock, ctx);
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

/// The `seq` of an event: the last 8 bytes of its BCS, little-endian.
fun seq_of<T: copy + drop>(e: &T): u64 {
    let b = bcs::to_bytes(e);
    let n = b.length();
    let mut v = 0u64;
    let mut i = 0;
    while (i < 8) {
        v = v | ((b[n - 8 + i] as u64) << ((8 * i) as u8));
        i = i + 1;
    };
    v
}

/// The `seq`s of every `T` emitted so far in this test, in emission order.
fun seqs<T: copy + drop>(): vector<u64> {
    let events = event::events_by_type<T>();
    let mut out = vector[];
    let mut i = 0;
    while (i < events.length()) {
        out.push_back(seq_of(&events[i]));
        i = i + 1;
    };
    out
}

#[test]
fun a_pools_deposits_withdrawals_and_slashes_share_one_dense_sequence() {
    let mut alice = ctx(ALICE, 0);
    let mut pool = staking::new_pool_for_testing(&mut alice);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut alice);
    let clock = clock::create_for_testing(&mut alice);
    assert!(pool.event_seq() == 0);
    stake(&mut pool, SUI_1, 0, &clock, &mut alice); // 0
    let mut bob = ctx(BOB, 0);
    stake(&mut pool, SUI_1, 1, &clock, &mut bob); // 1
    let mut admin = ctx(ADMIN, 0);
    staking::slash(&cap, &mut pool, BOB, 1, 1, s(b"offline"), &clock, &mut admin); // 2
    let mut alice_later = ctx(ALICE, 10);
    staking::withdraw(&mut pool, 0, 1, &clock, &mut alice_later); // 3
    staking::top_up(&mut pool, coin::mint_for_testing<SUI>(7, &mut alice_later), 0, &clock, &mut alice_later); // 4
    staking::slash(&cap, &mut pool, ALICE, 0, 2, s(b"spam"), &clock, &mut admin); // 5
    assert!(seqs<staking::StakeDeposited>() == vector[0, 1, 4]);
    assert!(seqs<staking::StakeWithdrawn>() == vector[3]);
    assert!(seqs<staking::StakeSlashed>() == vector[2, 5]);
    assert!(pool.event_seq() == 6);
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    clock.destroy_for_testing();
}

#[test]
fun two_pools_count_their_events_apart() {
    let mut alice = ctx(ALICE, 0);
    let mut a = staking::new_pool_for_testing(&mut alice);
    let mut b = staking::new_pool_for_testing(&mut alice);
    let clock = clock::create_for_testing(&mut alice);
    stake(&mut a, SUI_1, 0, &clock, &mut alice); // a 0
    stake(&mut b, SUI_1, 0, &clock, &mut alice); // b 0
    stake(&mut a, SUI_1, 1, &clock, &mut alice); // a 1
    stake(&mut b, SUI_1, 1, &clock, &mut alice); // b 1
    stake(&mut b, 10 * SUI_1, 2, &clock, &mut alice); // b 2
    assert!(seqs<staking::StakeDeposited>() == vector[0, 0, 1, 1, 2]);
    assert!(a.event_seq() == 2 && b.event_seq() == 3);
    staking::destroy_pool_for_testing(a);
    staking::destroy_pool_for_testing(b);
    clock.destroy_for_testing();
}

fun submit(cluster: &mut Cluster, pool: &StakingPool, name: vector<u8>, clock: &Clock, ctx: &mut TxContext) {
    gateway::submit_request(
        cluster,
        pool,
        s(b"create"),
        s(b"v1"),
        s(b"ConfigMap"),
        s(b"team-a"),
        s(name),
        b"",
        clock,
        ctx,
    );
}

/// A cluster's grants, revokes and requests are one sequence after its
/// `ClusterCreated` (0); `request_id` still counts requests only; another
/// cluster's events do not move it.
#[test]
fun a_clusters_grants_and_requests_share_one_dense_sequence_after_its_creation() {
    let mut admin = ctx(ADMIN, 1);
    let mut pool = staking::new_pool_for_testing(&mut admin);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let mut a = gateway::new_cluster_for_testing(s(b"a"), &cap, &mut admin);
    let mut b = gateway::new_cluster_for_testing(s(b"b"), &cap, &mut admin);
    let clock = clock::create_for_testing(&mut admin);
    let mut alice = ctx(ALICE, 1);
    stake(&mut pool, SUI_1, 0, &clock, &mut alice);
    assert!(a.event_seq() == 1 && b.event_seq() == 1);
    grants::grant(&cap, &mut a, s(b"team-a"), BOB, grants::viewer(), &clock, &mut admin); // a 1
    submit(&mut a, &pool, b"one", &clock, &mut alice); // a 2, request 0
    submit(&mut b, &pool, b"one", &clock, &mut alice); // b 1, request 0
    submit(&mut a, &pool, b"two", &clock, &mut alice); // a 3, request 1
    grants::revoke(&cap, &mut a, s(b"team-a"), BOB, &clock, &mut admin); // a 4
    grants::grant_cluster_admin(&cap, &mut a, BOB, &clock, &mut admin); // a 5
    submit(&mut a, &pool, b"three", &clock, &mut alice); // a 6, request 2
    assert!(seqs<grants::NamespaceGranted>() == vector[1, 5]);
    assert!(seqs<grants::NamespaceRevoked>() == vector[4]);
    assert!(seqs<gateway::K8sAPIRequest>() == vector[2, 1, 3, 6]);
    assert!(a.event_seq() == 7 && a.next_request_id() == 3);
    assert!(b.event_seq() == 2 && b.next_request_id() == 1);
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    gateway::destroy_cluster_for_testing(a);
    gateway::destroy_cluster_for_testing(b);
    clock.destroy_for_testing();
}

#[test]
fun a_node_registrys_events_are_dense_and_per_registry() {
    let mut op = ctx(ALICE, 2);
    let mut pool = staking::new_pool_for_testing(&mut op);
    let mut r = nodes::new_registry_for_testing(&mut op);
    let mut other = nodes::new_registry_for_testing(&mut op);
    let clock = clock::create_for_testing(&mut op);
    stake(&mut pool, SUI_1, 1, &clock, &mut op);
    let endpoint = s(b"10.0.0.7:10250");
    nodes::register_node(&mut r, &pool, s(b"node-1"), bytes(32, 1), endpoint, &clock, &mut op); // r 0
    nodes::register_node(&mut other, &pool, s(b"node-1"), bytes(32, 1), endpoint, &clock, &mut op); // other 0
    nodes::register_node(&mut r, &pool, s(b"node-2"), bytes(32, 2), endpoint, &clock, &mut op); // r 1
    nodes::deregister_node(&mut r, s(b"node-1"), &clock, &mut op); // r 2
    nodes::register_node(&mut r, &pool, s(b"node-1"), bytes(32, 3), endpoint, &clock, &mut op); // r 3
    assert!(seqs<nodes::NodeRegistered>() == vector[0, 0, 1, 3]);
    assert!(seqs<nodes::NodeDeregistered>() == vector[2]);
    assert!(r.event_seq() == 4 && other.event_seq() == 1);
    staking::destroy_pool_for_testing(pool);
    nodes::destroy_registry_for_testing(r);
    nodes::destroy_registry_for_testing(other);
    clock.destroy_for_testing();
}

/// An attested registration's `user_data` for `cluster` (sealing key `version`, `key`).
fun user_data(cluster: &Cluster, version: u64, key: vector<u8>): vector<u8> {
    let mut v = b"DAASATT1";
    v.append(bcs::to_bytes(&object::id(cluster)));
    v.append(bcs::to_bytes(&version));
    v.append(key);
    v
}

/// Sealing keys of every cluster are in the enclave registry's sequence, not
/// in the clusters' own; an attested registration that advances the sealing
/// key emits `SealingKeyRegistered` before its `EnclaveRegistered`.
#[test]
fun an_enclave_registrys_events_are_dense_across_pcrs_enclaves_and_every_clusters_sealing_keys() {
    let mut admin = ctx(ADMIN, 4);
    let pool = staking::new_pool_for_testing(&mut admin);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let a = gateway::new_cluster_for_testing(s(b"a"), &cap, &mut admin);
    let b = gateway::new_cluster_for_testing(s(b"b"), &cap, &mut admin);
    let mut r = enclave::new_registry_for_testing(&mut admin);
    let mut other = enclave::new_registry_for_testing(&mut admin);
    let clock = clock::create_for_testing(&mut admin);
    let pcr = bytes(48, 7);
    enclave::register_pcrs(&cap, &mut r, pcr, pcr, pcr, &clock, &mut admin); // r 0
    attest(&mut r, &b, pcr, 1, 9, &clock, &admin); // r 1 (b's sealing key 1), r 2
    enclave::register_sealing_key(&cap, &mut r, &a, bytes(32, 5), &clock, &mut admin); // r 3
    enclave::register_sealing_key(&cap, &mut other, &a, bytes(32, 5), &clock, &mut admin); // other 0
    enclave::register_sealing_key(&cap, &mut r, &a, bytes(32, 8), &clock, &mut admin); // r 4
    attest(&mut r, &b, pcr, 2, 10, &clock, &admin); // r 5 (b's key 1 again: no sealing key event)
    enclave::register_pcrs(&cap, &mut r, pcr, pcr, pcr, &clock, &mut admin); // r 6
    assert!(seqs<enclave::PcrSetRegistered>() == vector[0, 6]);
    assert!(seqs<enclave::EnclaveRegistered>() == vector[2, 5]);
    assert!(seqs<enclave::SealingKeyRegistered>() == vector[1, 3, 0, 4]);
    assert!(r.event_seq() == 7 && other.event_seq() == 1);
    assert!(a.event_seq() == 1 && b.event_seq() == 1);
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    gateway::destroy_cluster_for_testing(a);
    gateway::destroy_cluster_for_testing(b);
    enclave::destroy_registry_for_testing(r);
    enclave::destroy_registry_for_testing(other);
    clock.destroy_for_testing();
}

/// An attested registration of key `key`×32 for `cluster` at `at`, naming
/// the cluster's sealing key 1 (`6`×32), with every PCR `pcr`.
fun attest(r: &mut enclave::EnclaveRegistry, cluster: &Cluster, pcr: vector<u8>, at: u64, key: u8, clock: &Clock, ctx: &TxContext) {
    let ud = option::some(user_data(cluster, 1, bytes(32, 6)));
    let key = option::some(bytes(32, key));
    enclave::register_attested_for_testing(r, object::id(cluster), b"m", at, vector[pcr, pcr, pcr], key, ud, clock, ctx);
}
