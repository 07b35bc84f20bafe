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
///
/// Before the tier, `submit_request` checks what Kubernetes checks of every
/// object's identity: the name is a DNS-1123 subdomain (1-253 of `[a-z0-9.-]`,
/// dot-separated parts starting and ending alphanumeric), the namespace is empty
/// (cluster-scoped) or a DNS-1123 label (1-63 of `[a-z0-9-]`), the kind is 1-63
/// ASCII letters and digits starting with an upper-case letter, the apiVersion is
/// `version` or `group/version` (a label, after a subdomain). So NUL, control
/// characters, upper case or oversize strings never reach an event.
///
/// Cluster authority: requests for cluster-scoped kinds other than Namespace (the
/// known ones, or any kind sent without a namespace), requests inside the reserved
/// namespaces (`default`, `kube-system`, `kube-public`, `kube-node-lease`, and any
/// `kube-*`), and requests on a Namespace object with a reserved name, need the
/// sender to be the cluster's creator or a cluster admin granted by the `AdminCap`
/// holder (`grants::grant_cluster_admin`) who also holds the admin-role minimum
/// stake (10 SUI) as a slashable bond. Namespace ownership is not on chain (the
/// master derives it from the ordered log), so writes into another tenant's
/// namespace are refused by the master, not here.
module daas::gateway;

use daas::staking::{Self, AdminCap, StakingPool};
use std::string::String;
use sui::clock::Clock;
use sui::event;
use sui::table::{Self, Table};

/// Largest manifest accepted, bytes.
const MAX_MANIFEST_BYTES: u64 = 65536;
/// Longest object name (a DNS-1123 subdomain), bytes.
const MAX_NAME_BYTES: u64 = 253;
/// Longest namespace (a DNS-1123 label), bytes.
const MAX_LABEL_BYTES: u64 = 63;

/// The namespace of a cluster-admin grant in `Cluster.grants`: never a valid
/// namespace name, so no namespace grant can collide with it.
const CLUSTER_ADMIN_GRANT: vector<u8> = b"*";

/// Namespaces every k3s cluster starts with; only cluster authority acts there.
const SYSTEM_NAMESPACES: vector<vector<u8>> = vector[b"default", b"kube-system", b"kube-public", b"kube-node-lease"];
/// Namespaces starting with this are reserved for the system as well.
const RESERVED_NAMESPACE_PREFIX: vector<u8> = b"kube-";

/// Built-in cluster-scoped kinds other than Namespace: cluster authority only,
/// whatever namespace the request names.
const CLUSTER_SCOPED_KINDS: vector<vector<u8>> = vector[
    b"Node", b"PersistentVolume", b"ClusterRole", b"ClusterRoleBinding", b"StorageClass",
    b"PriorityClass", b"CustomResourceDefinition", b"APIService", b"MutatingWebhookConfiguration",
    b"ValidatingWebhookConfiguration", b"ValidatingAdmissionPolicy", b"ValidatingAdmissionPolicyBinding",
    b"MutatingAdmissionPolicy", b"MutatingAdmissionPolicyBinding", b"CSIDriver", b"CSINode",
    b"VolumeAttachment", b"VolumeAttributesClass", b"RuntimeClass", b"IngressClass",
    b"CertificateSigningRequest", b"ClusterTrustBundle", b"FlowSchema", b"PriorityLevelConfiguration",
    b"ComponentStatus", b"DeviceClass", b"ResourceSlice", b"StorageVersion", b"StorageVersionMigration",
    b"IPAddress", b"ServiceCIDR",
];

/// The admin-role stake (`staking::ROLE_ADMIN`) a granted cluster admin must hold.
const ROLE_ADMIN: u8 = 2;

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
const EInvalidName: u64 = 106;
const EInvalidNamespace: u64 = 107;
const ENotClusterAuthority: u64 = 108;
const EInvalidKind: u64 = 109;
const EInvalidApiVersion: u64 = 110;

/// A Kubernetes cluster driven by this package.
public struct Cluster has key {
    id: UID,
    name: String,
    admin: address,
    /// The staking pool whose `AdminCap` governs this cluster.
    pool_id: ID,
    /// Number the next request gets.
    next_request_id: u64,
    /// The `seq` the cluster's next event gets: its `ClusterCreated` is 0
    /// (implicitly, it has no field), then its `NamespaceGranted`,
    /// `NamespaceRevoked` and `K8sAPIRequest` are numbered 1, 2, 3, ... in the
    /// order they happen, so its creation, grants and requests are totally ordered.
    event_seq: u64,
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
    /// Place in the cluster's event sequence (`Cluster.event_seq`).
    seq: u64,
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
        // 0 is the `ClusterCreated` event's.
        event_seq: 1,
        grants: table::new(ctx),
    }
}

/// Submits a kubectl intent. Aborts unless the manifest fits, the name, namespace,
/// kind and apiVersion are well-formed, the sender's tier allows `verb` on `kind`,
/// and the sender has cluster authority where the request needs it; emits
/// `K8sAPIRequest` otherwise.
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
    assert!(is_dns1123_subdomain(&name), EInvalidName);
    assert!(namespace.is_empty() || is_dns1123_label(&namespace), EInvalidNamespace);
    assert!(is_kind(&kind), EInvalidKind);
    assert!(is_api_version(&api_version), EInvalidApiVersion);
    let required = required_stake(&verb, &kind);
    let stake = pool.tier_stake(ctx.sender());
    assert!(stake >= required, EInsufficientStake);
    if (needs_cluster_authority(&kind, &namespace, &name)) {
        assert!(has_cluster_authority(cluster, pool, ctx.sender()), ENotClusterAuthority);
    };
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
        seq: cluster.next_event_seq(),
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

/// Whether a request on `kind` in `namespace` named `name` needs cluster authority.
public fun needs_cluster_authority(kind: &String, namespace: &String, name: &String): bool {
    if (kind.as_bytes() == b"Namespace") return is_reserved_namespace(name);
    let cluster_scoped = CLUSTER_SCOPED_KINDS;
    namespace.is_empty() || is_reserved_namespace(namespace) || contains(&cluster_scoped, kind.as_bytes())
}

/// Whether `who` has cluster authority in `cluster`: its creator, or a cluster admin
/// granted by the `AdminCap` holder whose admin-role stake is at least the minimum.
public fun has_cluster_authority(cluster: &Cluster, pool: &StakingPool, who: address): bool {
    who == cluster.admin || (
        cluster.grants.contains(grant_key(cluster_admin_grant_namespace(), who))
            && pool.stake_of(who, ROLE_ADMIN) >= staking::min_stake(ROLE_ADMIN)
    )
}

/// A system namespace, or one starting with `kube-`.
public fun is_reserved_namespace(namespace: &String): bool {
    let b = namespace.as_bytes();
    let system = SYSTEM_NAMESPACES;
    if (contains(&system, b)) return true;
    let prefix = RESERVED_NAMESPACE_PREFIX;
    let n = prefix.length();
    if (b.length() < n) return false;
    let mut i = 0;
    while (i < n) {
        if (b[i] != prefix[i]) return false;
        i = i + 1;
    };
    true
}

/// A DNS-1123 subdomain, as Kubernetes checks object names: 1-253 bytes of
/// dot-separated parts of `[a-z0-9-]`, each starting and ending alphanumeric.
public fun is_dns1123_subdomain(s: &String): bool {
    let b = s.as_bytes();
    is_dns_name(b, 0, b.length(), true, MAX_NAME_BYTES)
}

/// A DNS-1123 label, as Kubernetes checks namespaces: 1-63 bytes of `[a-z0-9-]`,
/// starting and ending alphanumeric.
public fun is_dns1123_label(s: &String): bool {
    let b = s.as_bytes();
    is_dns_name(b, 0, b.length(), false, MAX_LABEL_BYTES)
}

/// `b[lo..hi]` is a DNS-1123 subdomain (`dots`) or label of at most `max` bytes.
fun is_dns_name(b: &vector<u8>, lo: u64, hi: u64, dots: bool, max: u64): bool {
    if (hi <= lo || hi - lo > max) return false;
    if (!is_alnum(b[lo]) || !is_alnum(b[hi - 1])) return false;
    let mut i = lo;
    while (i < hi) {
        let c = b[i];
        if (c == 0x2e) {
            // '.' only between alphanumerics (the ends are checked above)
            if (!dots || !is_alnum(b[i - 1]) || !is_alnum(b[i + 1])) return false;
        } else if (c != 0x2d && !is_alnum(c)) return false;
        i = i + 1;
    };
    true
}

/// A kind: 1-63 ASCII letters and digits, starting with an upper-case letter.
fun is_kind(kind: &String): bool {
    let b = kind.as_bytes();
    let n = b.length();
    if (n == 0 || n > MAX_LABEL_BYTES || b[0] < 0x41 || b[0] > 0x5a) return false;
    let mut i = 0;
    while (i < n) {
        let c = b[i];
        if (!is_alnum(c) && !(c >= 0x41 && c <= 0x5a)) return false;
        i = i + 1;
    };
    true
}

/// An apiVersion: `version` (a DNS-1123 label) or `group/version` (a subdomain, a label).
fun is_api_version(api_version: &String): bool {
    let b = api_version.as_bytes();
    let n = b.length();
    let mut slash = n;
    let mut i = 0;
    while (i < n) {
        if (b[i] == 0x2f) { if (slash < n) return false; slash = i };
        i = i + 1;
    };
    if (slash == n) return is_dns_name(b, 0, n, false, MAX_LABEL_BYTES);
    is_dns_name(b, 0, slash, true, MAX_NAME_BYTES) && is_dns_name(b, slash + 1, n, false, MAX_LABEL_BYTES)
}

/// `[a-z0-9]`.
fun is_alnum(c: u8): bool { (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) }

fun contains(set: &vector<vector<u8>>, item: &vector<u8>): bool {
    let mut i = 0;
    while (i < set.length()) {
        if (&set[i] == item) return true;
        i = i + 1;
    };
    false
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

/// The `seq` the cluster's next event will get (1 + how many it has emitted
/// after its `ClusterCreated`).
public fun event_seq(cluster: &Cluster): u64 { cluster.event_seq }

// === For daas::grants ===

/// Aborts unless `cap` governs `cluster`.
public(package) fun assert_admin(cluster: &Cluster, cap: &AdminCap) {
    assert!(cap.cap_pool_id() == cluster.pool_id, ENotClusterAdmin);
}

/// The cluster's next event `seq`; counts it.
public(package) fun next_event_seq(cluster: &mut Cluster): u64 {
    let seq = cluster.event_seq;
    cluster.event_seq = seq + 1;
    seq
}

public(package) fun grants_mut(cluster: &mut Cluster): &mut Table<GrantKey, u8> { &mut cluster.grants }

public(package) fun grants(cluster: &Cluster): &Table<GrantKey, u8> { &cluster.grants }

public(package) fun grant_key(namespace: String, grantee: address): GrantKey {
    GrantKey { namespace, grantee }
}

/// The reserved namespace under which `daas::grants` records cluster-admin grants.
public fun cluster_admin_grant_namespace(): String { CLUSTER_ADMIN_GRANT.to_string() }

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
    seq: u64,
): K8sAPIRequest {
    K8sAPIRequest {
        cluster_id,
        request_id,
        sender,
        verb,
        api_version,
        kind,
        namespace,
        name,
        manifest,
        stake,
        timestamp_ms,
        seq,
    }
}
