/// Namespace grants: an admin lets an address act in a namespace it does not own;
/// cluster-admin grants: the `AdminCap` holder makes an address a cluster admin.
///
/// Ownership itself is not stored here: the address that first creates a
/// namespace owns it, which the master derives from the ordered log.
///
/// A cluster-admin grant is recorded and announced like a namespace grant, under
/// the reserved namespace `*` (never a valid namespace name) with role
/// `NS_ROLE_CLUSTER_ADMIN`, so every reader of `NamespaceGranted` and
/// `NamespaceRevoked` carries it without a new event type. It gives authority
/// only while the grantee also holds the admin-role minimum stake (10 SUI) as a
/// slashable bond (`gateway::has_cluster_authority`, and the ledger off chain).
module daas::grants;

use daas::gateway::{Self, Cluster};
use daas::staking::AdminCap;
use std::string::String;
use sui::clock::Clock;
use sui::event;

/// May read objects in the namespace.
const NS_ROLE_VIEWER: u8 = 0;
/// May read and write objects in the namespace.
const NS_ROLE_EDITOR: u8 = 1;
/// Cluster admin: acts in every namespace and on cluster-scoped kinds (only
/// under the namespace `*`, only through `grant_cluster_admin`).
const NS_ROLE_CLUSTER_ADMIN: u8 = 2;

const EInvalidNamespaceRole: u64 = 201;
const ENoGrant: u64 = 202;
const EEmptyNamespace: u64 = 203;
const EInvalidNamespace: u64 = 204;

public struct NamespaceGranted has copy, drop {
    cluster_id: ID,
    namespace: String,
    grantee: address,
    role: u8,
    granted_by: address,
    timestamp_ms: u64,
    /// Place in the cluster's event sequence (`gateway::event_seq`).
    seq: u64,
}

public struct NamespaceRevoked has copy, drop {
    cluster_id: ID,
    namespace: String,
    grantee: address,
    revoked_by: address,
    timestamp_ms: u64,
    /// Place in the cluster's event sequence (`gateway::event_seq`).
    seq: u64,
}

/// Grants (or changes) `grantee`'s role in `namespace` of `cluster`.
public fun grant(
    cap: &AdminCap,
    cluster: &mut Cluster,
    namespace: String,
    grantee: address,
    role: u8,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    cluster.assert_admin(cap);
    assert!(role <= NS_ROLE_EDITOR, EInvalidNamespaceRole);
    assert!(!namespace.is_empty(), EEmptyNamespace);
    assert!(gateway::is_dns1123_label(&namespace), EInvalidNamespace);
    record_grant(cluster, namespace, grantee, role, clock, ctx);
}

/// Makes `grantee` a cluster admin of `cluster` (authority over every namespace
/// and cluster-scoped kinds while its admin-role stake is at least 10 SUI).
public fun grant_cluster_admin(
    cap: &AdminCap,
    cluster: &mut Cluster,
    grantee: address,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    cluster.assert_admin(cap);
    let namespace = gateway::cluster_admin_grant_namespace();
    record_grant(cluster, namespace, grantee, NS_ROLE_CLUSTER_ADMIN, clock, ctx);
}

/// Ends `grantee`'s cluster-admin grant in `cluster`.
public fun revoke_cluster_admin(
    cap: &AdminCap,
    cluster: &mut Cluster,
    grantee: address,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    revoke(cap, cluster, gateway::cluster_admin_grant_namespace(), grantee, clock, ctx);
}

fun record_grant(
    cluster: &mut Cluster,
    namespace: String,
    grantee: address,
    role: u8,
    clock: &Clock,
    ctx: &TxContext,
) {
    let key = gateway::grant_key(namespace, grantee);
    let grants = cluster.grants_mut();
    if (grants.contains(key)) { *&mut grants[key] = role } else { grants.add(key, role) };
    event::emit(NamespaceGranted {
        cluster_id: object::id(cluster),
        namespace,
        grantee,
        role,
        granted_by: ctx.sender(),
        timestamp_ms: clock.timestamp_ms(),
        seq: cluster.next_event_seq(),
    });
}

/// Ends `grantee`'s grant in `namespace` of `cluster`.
public fun revoke(
    cap: &AdminCap,
    cluster: &mut Cluster,
    namespace: String,
    grantee: address,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    cluster.assert_admin(cap);
    let key = gateway::grant_key(namespace, grantee);
    let grants = cluster.grants_mut();
    assert!(grants.contains(key), ENoGrant);
    grants.remove(key);
    event::emit(NamespaceRevoked {
        cluster_id: object::id(cluster),
        namespace,
        grantee,
        revoked_by: ctx.sender(),
        timestamp_ms: clock.timestamp_ms(),
        seq: cluster.next_event_seq(),
    });
}

/// `grantee`'s role in `namespace`, if granted.
public fun role_of(cluster: &Cluster, namespace: String, grantee: address): Option<u8> {
    let key = gateway::grant_key(namespace, grantee);
    let grants = cluster.grants();
    if (grants.contains(key)) option::some(grants[key]) else option::none()
}

/// The viewer role value.
public fun viewer(): u8 { NS_ROLE_VIEWER }

/// The editor role value.
public fun editor(): u8 { NS_ROLE_EDITOR }

/// The cluster-admin role value.
public fun cluster_admin(): u8 { NS_ROLE_CLUSTER_ADMIN }

/// Whether `grantee` holds a cluster-admin grant in `cluster` (the bond is not checked here).
public fun is_cluster_admin_granted(cluster: &Cluster, grantee: address): bool {
    role_of(cluster, gateway::cluster_admin_grant_namespace(), grantee) == option::some(NS_ROLE_CLUSTER_ADMIN)
}

// === Event constructors for the shared test vectors (tests/vectors_tests.move) ===

#[test_only]
public fun new_namespace_granted_for_testing(
    cluster_id: ID,
    namespace: String,
    grantee: address,
    role: u8,
    granted_by: address,
    timestamp_ms: u64,
    seq: u64,
): NamespaceGranted {
    NamespaceGranted { cluster_id, namespace, grantee, role, granted_by, timestamp_ms, seq }
}

#[test_only]
public fun new_namespace_revoked_for_testing(
    cluster_id: ID,
    namespace: String,
    grantee: address,
    revoked_by: address,
    timestamp_ms: u64,
    seq: u64,
): NamespaceRevoked {
    NamespaceRevoked { cluster_id, namespace, grantee, revoked_by, timestamp_ms, seq }
}
