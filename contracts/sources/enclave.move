/// Enclave registry ("Nautilus"): the master runs in an AWS Nitro enclave that
/// makes an ephemeral Ed25519 key at start and asks the NSM for an attestation
/// document with that key as `public_key` and, in `user_data`, the cluster it
/// serves and its sealing key (80 bytes: `DAASATT1`, cluster id, sealing key
/// version u64 LE, X25519 public key). The `AdminCap` holder registers the
/// expected measurements (PCR0-2) as numbered versions.
///
/// Registration is permissionless (an operator key pays): one transaction calls
/// `sui::nitro_attestation::load_nitro_attestation`, whose native verifies the
/// document (COSE_Sign1 ES384, certificate chain to the AWS Nitro root, valid
/// at the clock's time), then `register_enclave`, which checks the document
/// against the latest PCR set and `user_data` against the cluster, records the
/// key (`EnclaveInfo`), advances the cluster's sealing key when the document
/// names the next version, and emits `EnclaveRegistered`. On the dev chain the
/// same native runs natively in Rust against the root the chain was started
/// with (AWS's, or a local dev CA's; a dev document's `module_id` starts with
/// `k3s-daas-dev`, and the event records it).
///
/// Receipts: the enclave signs each outcome as
/// `bcs(IntentMessage { intent: 1, timestamp_ms, payload: Receipt })` (raw
/// Ed25519, Nautilus' layout); `verify_receipt` checks one against any key
/// ever registered for the receipt's cluster.
///
/// Sealing keys: each cluster's master holds an X25519 key pair. Its public
/// half is registered by an attested enclave (above) or by the cluster's
/// `AdminCap` holder (`register_sealing_key`, the dev path), with a version
/// the contract assigns (the cluster's previous version + 1, first = 1). The
/// registry keeps only the current key per cluster (what `daas` seals to);
/// every registration is in the `SealingKeyRegistered` events, and older
/// versions are never revoked, so older sealed records still open.
module daas::enclave;

use daas::gateway::Cluster;
use daas::staking::AdminCap;
use std::bcs;
use sui::clock::Clock;
use sui::ed25519;
use sui::event;
use sui::nitro_attestation::NitroAttestationDocument;
use sui::table::{Self, Table};

const PCR_BYTES: u64 = 48;
const ED25519_PUBLIC_KEY_BYTES: u64 = 32;
const X25519_PUBLIC_KEY_BYTES: u64 = 32;
/// `user_data`: magic (8) | cluster id (32) | sealing key version u64 LE (8) | X25519 key (32).
const USER_DATA_MAGIC: vector<u8> = b"DAASATT1";
const USER_DATA_BYTES: u64 = 80;
/// The intent byte of a receipt's signed message.
const RECEIPT_INTENT: u8 = 1;

const EBadPcrLength: u64 = 401;
#[allow(unused_const)]
/// Kept for its number (no function aborts with it since registration checks the latest set).
const EUnknownPcrVersion: u64 = 402;
/// The document's `public_key` is missing or not 32 bytes.
const EBadPublicKey: u64 = 403;
// 404 (EEmptyAttestation, the admin registration before issue 16) is retired and never reused.
const EBadSealingKey: u64 = 405;
const EPcrMismatch: u64 = 406;
const ENoPcrSet: u64 = 407;
const EBadUserData: u64 = 408;
const EWrongCluster: u64 = 409;
const ESealingKeyVersion: u64 = 410;
const EStaleAttestation: u64 = 411;

/// The shared registry of PCR sets and enclave keys.
public struct EnclaveRegistry has key {
    id: UID,
    /// Version of the newest PCR set; 0 = none yet.
    latest_pcr_version: u64,
    pcr_sets: Table<u64, PcrSet>,
    /// Every enclave key ever registered -> what its newest registration recorded.
    enclaves: Table<vector<u8>, EnclaveInfo>,
    /// Cluster id -> the key of its most recently registered enclave.
    current_enclave: Table<ID, vector<u8>>,
    /// Cluster id -> its current sealing key.
    sealing_keys: Table<ID, SealingKey>,
    /// The `seq` the registry's next event gets: its `PcrSetRegistered`,
    /// `EnclaveRegistered` and `SealingKeyRegistered` (of every cluster) are
    /// numbered 0, 1, 2, ... in the order they happen.
    event_seq: u64,
}

/// What the registration of an enclave key recorded.
public struct EnclaveInfo has store, copy, drop {
    /// The cluster its document's `user_data` names.
    cluster_id: ID,
    /// The PCR set its document matched.
    pcr_version: u64,
    /// The sealing key version its document names.
    sealing_key_version: u64,
    /// Its document's timestamp, ms.
    attestation_timestamp_ms: u64,
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
    /// The cluster the document's `user_data` names.
    cluster_id: ID,
    /// The PCR set the document matched (the latest).
    pcr_version: u64,
    /// The enclave's Ed25519 key (the document's `public_key`).
    public_key: vector<u8>,
    /// The sealing key the document names: version and X25519 key.
    sealing_key_version: u64,
    sealing_public_key: vector<u8>,
    /// The document's `module_id` (a dev CA's starts with `k3s-daas-dev`).
    module_id: vector<u8>,
    /// The document's timestamp, ms.
    attestation_timestamp_ms: u64,
    /// Who submitted (and paid for) the registration.
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

/// What an enclave signs for each outcome it publishes.
public struct Receipt has copy, drop {
    cluster_id: ID,
    request_id: u64,
    /// SHA-256 of the outcome (32 bytes).
    outcome_digest: vector<u8>,
    /// 0 applied, else the rejection code (u32::MAX: quarantined).
    result: u32,
    /// The ledger root after the request, and the log offset it was taken at.
    ledger_root: vector<u8>,
    ledger_root_offset: u64,
}

/// The signed message: Nautilus' layout.
public struct IntentMessage<T: drop> has copy, drop {
    intent: u8,
    timestamp_ms: u64,
    payload: T,
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
        current_enclave: table::new(ctx),
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

/// Registers the enclave `document` attests, for `cluster`. Anyone may call
/// it: the document (verified by `load_nitro_attestation` in the same
/// transaction) is the authority. Checks, in order: a PCR set exists (else
/// `ENoPcrSet`), PCR0-2 equal the latest set (`EPcrMismatch`), `public_key`
/// is 32 bytes (`EBadPublicKey`), `user_data` is ours (`EBadUserData`) and
/// names `cluster` (`EWrongCluster`), the document is newer than the
/// cluster's current enclave's (`EStaleAttestation`), and its sealing key is
/// the cluster's current one or the next version (`ESealingKeyVersion`).
public fun register_enclave(
    registry: &mut EnclaveRegistry,
    cluster: &Cluster,
    document: NitroAttestationDocument,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    let pcrs = vector[pcr_of(&document, 0), pcr_of(&document, 1), pcr_of(&document, 2)];
    registry.register_attested(
        object::id(cluster),
        *document.module_id(),
        *document.timestamp(),
        pcrs,
        *document.public_key(),
        *document.user_data(),
        clock,
        ctx,
    );
}

/// The value of PCR `index` in `document`, empty when it has none.
fun pcr_of(document: &NitroAttestationDocument, index: u8): vector<u8> {
    let entries = document.pcrs();
    let mut i = 0;
    while (i < entries.length()) {
        if (entries[i].index() == index) return *entries[i].value();
        i = i + 1;
    };
    vector[]
}

/// `register_enclave` on the document's values (`pcrs` = PCR0, PCR1, PCR2).
fun register_attested(
    registry: &mut EnclaveRegistry,
    cluster_id: ID,
    module_id: vector<u8>,
    attestation_timestamp_ms: u64,
    pcrs: vector<vector<u8>>,
    public_key: Option<vector<u8>>,
    user_data: Option<vector<u8>>,
    clock: &Clock,
    ctx: &TxContext,
) {
    let pcr_version = registry.latest_pcr_version;
    assert!(pcr_version != 0, ENoPcrSet);
    let set = &registry.pcr_sets[pcr_version];
    assert!(pcrs == vector[set.pcr0, set.pcr1, set.pcr2], EPcrMismatch);
    assert!(public_key.is_some() && public_key.borrow().length() == ED25519_PUBLIC_KEY_BYTES, EBadPublicKey);
    let public_key = public_key.destroy_some();
    assert!(user_data.is_some(), EBadUserData);
    let user_data = user_data.destroy_some();
    assert!(user_data.length() == USER_DATA_BYTES && slice(&user_data, 0, 8) == USER_DATA_MAGIC, EBadUserData);
    assert!(slice(&user_data, 8, 40) == bcs::to_bytes(&cluster_id), EWrongCluster);
    if (registry.current_enclave.contains(cluster_id)) {
        let current = registry.enclaves[registry.current_enclave[cluster_id]];
        assert!(attestation_timestamp_ms > current.attestation_timestamp_ms, EStaleAttestation);
    };
    let sealing_key_version = u64_le(&user_data, 40);
    let sealing_public_key = slice(&user_data, 48, USER_DATA_BYTES);
    registry.advance_sealing_key(cluster_id, sealing_key_version, sealing_public_key, clock, ctx);
    let info = EnclaveInfo { cluster_id, pcr_version, sealing_key_version, attestation_timestamp_ms };
    if (registry.enclaves.contains(public_key)) {
        *&mut registry.enclaves[public_key] = info
    } else {
        registry.enclaves.add(public_key, info)
    };
    if (registry.current_enclave.contains(cluster_id)) {
        *&mut registry.current_enclave[cluster_id] = public_key
    } else {
        registry.current_enclave.add(cluster_id, public_key)
    };
    event::emit(EnclaveRegistered {
        cluster_id,
        pcr_version,
        public_key,
        sealing_key_version,
        sealing_public_key,
        module_id,
        attestation_timestamp_ms,
        registered_by: ctx.sender(),
        timestamp_ms: clock.timestamp_ms(),
        seq: registry.next_event_seq(),
    });
}

/// An attested sealing key: the cluster's current one (nothing to do), or the
/// next version (registered), else `ESealingKeyVersion`.
fun advance_sealing_key(
    registry: &mut EnclaveRegistry,
    cluster_id: ID,
    version: u64,
    public_key: vector<u8>,
    clock: &Clock,
    ctx: &TxContext,
) {
    let current = registry.sealing_key_version(cluster_id);
    if (current != 0 && version == current && registry.sealing_keys[cluster_id].public_key == public_key) return;
    assert!(version == current + 1, ESealingKeyVersion);
    registry.set_sealing_key(cluster_id, version, public_key, clock, ctx);
}

/// `bytes[from..to]`.
fun slice(bytes: &vector<u8>, from: u64, to: u64): vector<u8> {
    let mut out = vector[];
    let mut i = from;
    while (i < to) {
        out.push_back(bytes[i]);
        i = i + 1;
    };
    out
}

/// The u64 at `bytes[at..at + 8]`, little-endian.
fun u64_le(bytes: &vector<u8>, at: u64): u64 {
    let mut v = 0;
    let mut i = 8;
    while (i > 0) {
        i = i - 1;
        v = (v << 8) | (bytes[at + i] as u64);
    };
    v
}

/// Registers `public_key` (X25519, 32 bytes) as `cluster`'s sealing key, with
/// the cluster's previous version + 1 (first = 1). Only the `AdminCap` that
/// governs the cluster may (the dev path; an attested enclave's document
/// registers it through `register_enclave`).
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
    registry.set_sealing_key(cluster_id, version, public_key, clock, ctx);
}

/// Makes (`version`, `public_key`) the cluster's current sealing key and emits
/// `SealingKeyRegistered`.
fun set_sealing_key(
    registry: &mut EnclaveRegistry,
    cluster_id: ID,
    version: u64,
    public_key: vector<u8>,
    clock: &Clock,
    ctx: &TxContext,
) {
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

/// A receipt's payload, to check with `verify_receipt`.
public fun new_receipt(
    cluster_id: ID,
    request_id: u64,
    outcome_digest: vector<u8>,
    result: u32,
    ledger_root: vector<u8>,
    ledger_root_offset: u64,
): Receipt {
    Receipt { cluster_id, request_id, outcome_digest, result, ledger_root, ledger_root_offset }
}

/// True when `signature` is `enclave_key`'s Ed25519 signature of
/// `bcs(IntentMessage { 1, timestamp_ms, receipt })` and `enclave_key` was
/// registered (at any time) for the receipt's cluster.
public fun verify_receipt(
    registry: &EnclaveRegistry,
    receipt: &Receipt,
    timestamp_ms: u64,
    enclave_key: vector<u8>,
    signature: vector<u8>,
): bool {
    if (!registry.enclaves.contains(enclave_key)) return false;
    if (registry.enclaves[enclave_key].cluster_id != receipt.cluster_id) return false;
    let message = IntentMessage { intent: RECEIPT_INTENT, timestamp_ms, payload: *receipt };
    ed25519::ed25519_verify(&signature, &enclave_key, &bcs::to_bytes(&message))
}

/// What the newest registration of `public_key` recorded, if it was registered.
public fun enclave_info(registry: &EnclaveRegistry, public_key: vector<u8>): Option<EnclaveInfo> {
    if (registry.enclaves.contains(public_key)) option::some(registry.enclaves[public_key]) else option::none()
}

/// The key of `cluster_id`'s most recently registered enclave, if any.
public fun current_enclave(registry: &EnclaveRegistry, cluster_id: ID): Option<vector<u8>> {
    if (registry.current_enclave.contains(cluster_id)) option::some(registry.current_enclave[cluster_id])
    else option::none()
}

public use fun info_cluster_id as EnclaveInfo.cluster_id;
public use fun info_pcr_version as EnclaveInfo.pcr_version;
public use fun info_sealing_key_version as EnclaveInfo.sealing_key_version;
public use fun info_attestation_timestamp_ms as EnclaveInfo.attestation_timestamp_ms;

public fun info_cluster_id(info: &EnclaveInfo): ID { info.cluster_id }

public fun info_pcr_version(info: &EnclaveInfo): u64 { info.pcr_version }

public fun info_sealing_key_version(info: &EnclaveInfo): u64 { info.sealing_key_version }

public fun info_attestation_timestamp_ms(info: &EnclaveInfo): u64 { info.attestation_timestamp_ms }

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

/// `register_enclave` without a document (the offline test VM cannot run the
/// attestation native): the values `register_enclave` takes from it.
#[test_only]
public fun register_attested_for_testing(
    registry: &mut EnclaveRegistry,
    cluster_id: ID,
    module_id: vector<u8>,
    attestation_timestamp_ms: u64,
    pcrs: vector<vector<u8>>,
    public_key: Option<vector<u8>>,
    user_data: Option<vector<u8>>,
    clock: &Clock,
    ctx: &TxContext,
) {
    registry.register_attested(
        cluster_id,
        module_id,
        attestation_timestamp_ms,
        pcrs,
        public_key,
        user_data,
        clock,
        ctx,
    )
}

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
    cluster_id: ID,
    pcr_version: u64,
    public_key: vector<u8>,
    sealing_key_version: u64,
    sealing_public_key: vector<u8>,
    module_id: vector<u8>,
    attestation_timestamp_ms: u64,
    registered_by: address,
    timestamp_ms: u64,
    seq: u64,
): EnclaveRegistered {
    EnclaveRegistered {
        cluster_id,
        pcr_version,
        public_key,
        sealing_key_version,
        sealing_public_key,
        module_id,
        attestation_timestamp_ms,
        registered_by,
        timestamp_ms,
        seq,
    }
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
