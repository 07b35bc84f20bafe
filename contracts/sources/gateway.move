/// The gateway: tenants' kubectl intents as Sui transactions.
///
/// A shared `Cluster` is created by the `AdminCap` holder. `submit_request`
/// checks the sender's stake tier against the verb and kind and the manifest
/// size, numbers the request, and emits `K8sAPIRequest`; the master applies it.
///
/// Tiers (tier stake = user + admin stake, see `staking::tier_stake`):
/// - 0.5 SUI: read Pod, Service, ConfigMap
/// - 1 SUI:   write Pod, Service, ConfigMap
/// - 5 SUI:   read and write Deployment, Namespace; read Secret
/// - 10 SUI:  everything
module daas::gateway;

use daas::staking::{AdminCap, StakingPool};
use std::string::String;
use sui::clock::Clock;
use sui::event;
use sui::table::{Self, Table};

/// Largest manifest accepted, bytes.
const MAX_MANIFEST_BYTES: u64 = 65536;

const TIER_READ_BASIC: u64 = 500_000_000;
const TIER_WRITE_BASIC: u64 = 1_000_000_000;
const TIER_WORKLOADS: u64 = 5_000_000_000;
const TIER_ALL: u64 = 10_000_000_000;

// === Abort codes (stable: the dev chain returns the same ones) ===

const EInsufficientStake: u64 = 101;
const EManifestTooLarge: u64 = 102;
const EUnknownVerb: u64 = 103;
const EEmptyName: u64 = 104;
const ENotClusterAdmin: u64 = 105;

/// A Kubernetes cluster driven by this package.
public struct Cluster has key {
    id: UID,
    name: String,
    admin: address,
    /// The staking pool whose `AdminCap` governs this cluster.
    pool_id: ID,
    /// Number the next request gets.
    next_request_id: u64,
    /// (namespace, grantee) -> namespace role, kept by `daas::grants`.
    grants: Table<GrantKey, u8>,
}

/// A namespace grant's identity.
public struct GrantKey has copy, drop, store { namespace: String, grantee: address }

// === Events ===

public struct ClusterCreated has copy, drop {
    cluster_id: ID,
    name: String,
    admin: address,
    timestamp_ms: u64,
}

public struct K8sAPIRequest has copy, drop {
    cluster_id: ID,
    request_id: u64,
    sender: address,
    verb: String,
    api_version: String,
    kind: String,
    namespace: String,
    name: String,
    manifest: vector<u8>,
    stake: u64,
    timestamp_ms: u64,
}

/// Creates and shares a cluster.
public fun create_cluster(cap: &AdminCap, name: String, clock: &Clock, ctx: &mut TxContext) {
    let cluster = new_cluster(name, cap.cap_pool_id(), ctx);
    event::emit(ClusterCreated {
        cluster_id: object::id(&cluster),
        name,
        admin: ctx.sender(),
        timestamp_ms: clock.timestamp_ms(),
    });
    transfer::share_object(cluster);
}

fun new_cluster(name: String, pool_id: ID, ctx: &mut TxContext): Cluster {
    Cluster {
        id: object::new(ctx),
        name,
        admin: ctx.sender(),
        pool_id,
        next_request_id: 0,
        grants: table::new(ctx),
    }
}

/// Submits a kubectl intent. Aborts unless the sender's tier allows `verb` on `kind`
/// and the manifest fits; emits `K8sAPIRequest` otherwise.
public fun submit_request(
    cluster: &mut Cluster,
    pool: &StakingPool,
    verb: String,
    api_version: String,
    kind: String,
    namespace: String,
    name: String,
    manifest: vector<u8>,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(manifest.length() <= MAX_MANIFEST_BYTES, EManifestTooLarge);
    assert!(!name.is_empty(), EEmptyName);
    let required = required_stake(&verb, &kind);
    let stake = pool.tier_stake(ctx.sender());
    assert!(stake >= required, EInsufficientStake);
    let request_id = cluster.next_request_id;
    cluster.next_request_id = request_id + 1;
    event::emit(K8sAPIRequest {
        cluster_id: object::id(cluster),
        request_id,
        sender: ctx.sender(),
        verb,
        api_version,
        kind,
        namespace,
        name,
        manifest,
        stake,
        timestamp_ms: clock.timestamp_ms(),
    });
}

/// The tier stake `verb` on `kind` needs, MIST. Aborts on an unknown verb.
public fun required_stake(verb: &String, kind: &String): u64 {
    let read = is_read(verb);
    assert!(read || is_write(verb), EUnknownVerb);
    let k = kind.as_bytes();
    if (k == b"Pod" || k == b"Service" || k == b"ConfigMap") {
        if (read) TIER_READ_BASIC else TIER_WRITE_BASIC
    } else if (k == b"Deployment" || k == b"Namespace") {
        TIER_WORKLOADS
    } else if (k == b"Secret") {
        if (read) TIER_WORKLOADS else TIER_ALL
    } else {
        TIER_ALL
    }
}

fun is_read(verb: &String): bool {
    let v = verb.as_bytes();
    v == b"get" || v == b"list" || v == b"watch"
}

fun is_write(verb: &String): bool {
    let v = verb.as_bytes();
    v == b"create" || v == b"apply" || v == b"replace" || v == b"delete"
}

/// Largest manifest accepted, bytes.
public fun max_manifest_bytes(): u64 { MAX_MANIFEST_BYTES }

/// The cluster's admin (its creator).
public fun admin(cluster: &Cluster): address { cluster.admin }

/// Number the next request will get.
public fun next_request_id(cluster: &Cluster): u64 { cluster.next_request_id }

// === For daas::grants ===

/// Aborts unless `cap` governs `cluster`.
public(package) fun assert_admin(cluster: &Cluster, cap: &AdminCap) {
    assert!(cap.cap_pool_id() == cluster.pool_id, ENotClusterAdmin);
}

public(package) fun grants_mut(cluster: &mut Cluster): &mut Table<GrantKey, u8> { &mut cluster.grants }

public(package) fun grants(cluster: &Cluster): &Table<GrantKey, u8> { &cluster.grants }

public(package) fun grant_key(namespace: String, grantee: address): GrantKey {
    GrantKey { namespace, grantee }
}

// === Test support ===

#[test_only]
public fun new_cluster_for_testing(name: String, cap: &AdminCap, ctx: &mut TxContext): Cluster {
    new_cluster(name, cap.cap_pool_id(), ctx)
}

#[test_only]
public fun destroy_cluster_for_testing(cluster: Cluster) { sui::test_utils::destroy(cluster) }

// === Event constructors for the shared test vectors (tests/vectors_tests.move) ===

#[test_only]
public fun new_cluster_created_for_testing(
    cluster_id: ID,
    name: String,
    admin: address,
    timestamp_ms: u64,
): ClusterCreated {
    ClusterCreated { cluster_id, name, admin, timestamp_ms }
}

#[test_only]
public fun new_k8s_api_request_for_testing(
    cluster_id: ID,
    request_id: u64,
    sender: address,
    verb: String,
    api_version: String,
    kind: String,
    namespace: String,
    name: String,
    manifest: vector<u8>,
    stake: u64,
    timestamp_ms: u64,
): K8sAPIRequest {
    K8sAPIRequest { cluster_id, request_id, sender, verb, api_version, kind, namespace, name, manifest, stake, timestamp_ms }
}
