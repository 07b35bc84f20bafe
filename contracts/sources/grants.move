/// Namespace grants: an admin lets an address act in a namespace it does not own.
///
/// Ownership itself is not stored here: the address that first creates a
/// namespace owns it, which the master derives from the ordered log.
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

const EInvalidNamespaceRole: u64 = 201;
const ENoGrant: u64 = 202;
const EEmptyNamespace: u64 = 203;

public struct NamespaceGranted has copy, drop {
    cluster_id: ID,
    namespace: String,
    grantee: address,
    role: u8,
    granted_by: address,
    timestamp_ms: u64,
}

public struct NamespaceRevoked has copy, drop {
    cluster_id: ID,
    namespace: String,
    grantee: address,
    revoked_by: address,
    timestamp_ms: u64,
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

// === Event constructors for the shared test vectors (tests/vectors_tests.move) ===

#[test_only]
public fun new_namespace_granted_for_testing(
    cluster_id: ID,
    namespace: String,
    grantee: address,
    role: u8,
    granted_by: address,
    timestamp_ms: u64,
): NamespaceGranted {
    NamespaceGranted { cluster_id, namespace, grantee, role, granted_by, timestamp_ms }
}

#[test_only]
public fun new_namespace_revoked_for_testing(
    cluster_id: ID,
    namespace: String,
    grantee: address,
    revoked_by: address,
    timestamp_ms: u64,
): NamespaceRevoked {
    NamespaceRevoked { cluster_id, namespace, grantee, revoked_by, timestamp_ms }
}
