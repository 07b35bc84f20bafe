/// Enclave registry ("Nautilus"): the master runs in an AWS Nitro enclave that
/// makes an ephemeral Ed25519 key at boot and gets an NSM attestation binding it
/// to the enclave's measurements (PCR0-2). An admin registers the expected
/// measurements as a numbered version, then the enclave's key with the
/// attestation document it was given.
///
/// The attestation itself is verified off chain by the registering admin's
/// tooling (`master` verifies COSE_Sign1 against the pinned AWS Nitro root); the
/// event records its SHA-256 so anyone can recheck the same document. On a
/// network whose framework has `sui::nitro_attestation`, `register_enclave`
/// can be extended to verify on chain without changing the event.
///
/// Sealing keys: each cluster's master holds an X25519 key pair; its public
/// half is registered here by the cluster's `AdminCap` holder with a version
/// the contract assigns (the cluster's previous version + 1, first = 1). The
/// registry keeps only the current key per cluster (what `daas` seals to);
/// every registration is in the `SealingKeyRegistered` events, and older
/// versions are never revoked, so older sealed records still open.
module daas::enclave;

use daas::gateway::Cluster;
use daas::staking::AdminCap;
use std::hash::sha2_256;
use sui::clock::Clock;
use sui::event;
use sui::table::{Self, Table};

const PCR_BYTES: u64 = 48;
const ED25519_PUBLIC_KEY_BYTES: u64 = 32;
const X25519_PUBLIC_KEY_BYTES: u64 = 32;

const EBadPcrLength: u64 = 401;
const EUnknownPcrVersion: u64 = 402;
const EBadPublicKey: u64 = 403;
const EEmptyAttestation: u64 = 404;
const EBadSealingKey: u64 = 405;

/// The shared registry of PCR sets and enclave keys.
public struct EnclaveRegistry has key {
    id: UID,
    /// Version of the newest PCR set; 0 = none yet.
    latest_pcr_version: u64,
    pcr_sets: Table<u64, PcrSet>,
    /// Enclave public key -> PCR version it was registered under.
    enclaves: Table<vector<u8>, u64>,
    /// Cluster id -> its current sealing key.
    sealing_keys: Table<ID, SealingKey>,
    /// The `seq` the registry's next event gets: its `PcrSetRegistered`,
    /// `EnclaveRegistered` and `SealingKeyRegistered` (of every cluster) are
    /// numbered 0, 1, 2, ... in the order they happen.
    event_seq: u64,
}

/// A cluster's current sealing key (X25519, 32 bytes) and its version.
public struct SealingKey has store, drop { version: u64, public_key: vector<u8> }

/// Expected measurements of the enclave image.
public struct PcrSet has store, drop { pcr0: vector<u8>, pcr1: vector<u8>, pcr2: vector<u8> }

public struct PcrSetRegistered has copy, drop {
    version: u64,
    pcr0: vector<u8>,
    pcr1: vector<u8>,
    pcr2: vector<u8>,
    registered_by: address,
    timestamp_ms: u64,
    /// Place in the registry's event sequence (`EnclaveRegistry.event_seq`).
    seq: u64,
}

public struct EnclaveRegistered has copy, drop {
    pcr_version: u64,
    public_key: vector<u8>,
    attestation_digest: vector<u8>,
    registered_by: address,
    timestamp_ms: u64,
    /// Place in the registry's event sequence (`EnclaveRegistry.event_seq`).
    seq: u64,
}

public struct SealingKeyRegistered has copy, drop {
    cluster_id: ID,
    version: u64,
    public_key: vector<u8>,
    registered_by: address,
    timestamp_ms: u64,
    /// Place in the registry's event sequence (`EnclaveRegistry.event_seq`).
    seq: u64,
}

fun init(ctx: &mut TxContext) {
    transfer::share_object(new_registry(ctx));
}

fun new_registry(ctx: &mut TxContext): EnclaveRegistry {
    EnclaveRegistry {
        id: object::new(ctx),
        latest_pcr_version: 0,
        pcr_sets: table::new(ctx),
        enclaves: table::new(ctx),
        sealing_keys: table::new(ctx),
        event_seq: 0,
    }
}

/// The registry's next event `seq`; counts it.
fun next_event_seq(registry: &mut EnclaveRegistry): u64 {
    let seq = registry.event_seq;
    registry.event_seq = seq + 1;
    seq
}

/// Registers a new version of the expected PCR0-2 (48 bytes each).
public fun register_pcrs(
    _: &AdminCap,
    registry: &mut EnclaveRegistry,
    pcr0: vector<u8>,
    pcr1: vector<u8>,
    pcr2: vector<u8>,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(pcr0.length() == PCR_BYTES && pcr1.length() == PCR_BYTES && pcr2.length() == PCR_BYTES, EBadPcrLength);
    let version = registry.latest_pcr_version + 1;
    registry.latest_pcr_version = version;
    registry.pcr_sets.add(version, PcrSet { pcr0, pcr1, pcr2 });
    event::emit(PcrSetRegistered {
        version,
        pcr0,
        pcr1,
        pcr2,
        registered_by: ctx.sender(),
        timestamp_ms: clock.timestamp_ms(),
        seq: registry.next_event_seq(),
    });
}

/// Registers an enclave's Ed25519 key under PCR set `pcr_version`, with the
/// attestation document that binds them.
public fun register_enclave(
    _: &AdminCap,
    registry: &mut EnclaveRegistry,
    pcr_version: u64,
    public_key: vector<u8>,
    attestation: vector<u8>,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(registry.pcr_sets.contains(pcr_version), EUnknownPcrVersion);
    assert!(public_key.length() == ED25519_PUBLIC_KEY_BYTES, EBadPublicKey);
    assert!(!attestation.is_empty(), EEmptyAttestation);
    if (registry.enclaves.contains(public_key)) {
        *&mut registry.enclaves[public_key] = pcr_version
    } else {
        registry.enclaves.add(public_key, pcr_version)
    };
    event::emit(EnclaveRegistered {
        pcr_version,
        public_key,
        attestation_digest: sha2_256(attestation),
        registered_by: ctx.sender(),
        timestamp_ms: clock.timestamp_ms(),
        seq: registry.next_event_seq(),
    });
}

/// Registers `public_key` (X25519, 32 bytes) as `cluster`'s sealing key, with
/// the cluster's previous version + 1 (first = 1). Only the `AdminCap` that
/// governs the cluster may.
public fun register_sealing_key(
    cap: &AdminCap,
    registry: &mut EnclaveRegistry,
    cluster: &Cluster,
    public_key: vector<u8>,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    cluster.assert_admin(cap);
    assert!(public_key.length() == X25519_PUBLIC_KEY_BYTES, EBadSealingKey);
    let cluster_id = object::id(cluster);
    let version = registry.sealing_key_version(cluster_id) + 1;
    if (registry.sealing_keys.contains(cluster_id)) {
        registry.sealing_keys.remove(cluster_id);
    };
    registry.sealing_keys.add(cluster_id, SealingKey { version, public_key });
    event::emit(SealingKeyRegistered {
        cluster_id,
        version,
        public_key,
        registered_by: ctx.sender(),
        timestamp_ms: clock.timestamp_ms(),
        seq: registry.next_event_seq(),
    });
}

/// Version of `cluster_id`'s current sealing key, 0 when none.
public fun sealing_key_version(registry: &EnclaveRegistry, cluster_id: ID): u64 {
    if (registry.sealing_keys.contains(cluster_id)) {
        registry.sealing_keys[cluster_id].version
    } else {
        0
    }
}

/// The `seq` the registry's next event will get (= how many it has emitted).
public fun event_seq(registry: &EnclaveRegistry): u64 { registry.event_seq }

/// Version of the newest PCR set, 0 when none.
public fun latest_pcr_version(registry: &EnclaveRegistry): u64 { registry.latest_pcr_version }

/// True when `public_key` is a registered enclave key.
public fun is_registered(registry: &EnclaveRegistry, public_key: vector<u8>): bool {
    registry.enclaves.contains(public_key)
}

#[test_only]
public fun new_registry_for_testing(ctx: &mut TxContext): EnclaveRegistry { new_registry(ctx) }

#[test_only]
public fun destroy_registry_for_testing(registry: EnclaveRegistry) { sui::test_utils::destroy(registry) }

// === Event constructors for the shared test vectors (tests/vectors_tests.move) ===

#[test_only]
public fun new_pcr_set_registered_for_testing(
    version: u64,
    pcr0: vector<u8>,
    pcr1: vector<u8>,
    pcr2: vector<u8>,
    registered_by: address,
    timestamp_ms: u64,
    seq: u64,
): PcrSetRegistered {
    PcrSetRegistered { version, pcr0, pcr1, pcr2, registered_by, timestamp_ms, seq }
}

#[test_only]
public fun new_enclave_registered_for_testing(
    pcr_version: u64,
    public_key: vector<u8>,
    attestation_digest: vector<u8>,
    registered_by: address,
    timestamp_ms: u64,
    seq: u64,
): EnclaveRegistered {
    EnclaveRegistered { pcr_version, public_key, attestation_digest, registered_by, timestamp_ms, seq }
}

#[test_only]
public fun new_sealing_key_registered_for_testing(
    cluster_id: ID,
    version: u64,
    public_key: vector<u8>,
    registered_by: address,
    timestamp_ms: u64,
    seq: u64,
): SealingKeyRegistered {
    SealingKeyRegistered { cluster_id, version, public_key, registered_by, timestamp_ms, seq }
}
