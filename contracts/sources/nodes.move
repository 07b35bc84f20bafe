/// Worker nodes: an operator with an active node stake registers a node by
/// name with its Ed25519 public key and endpoint.
///
/// A node is active while its operator's node stake meets the node minimum;
/// readers of the log derive that from the staking events.
module daas::nodes;

use daas::staking::StakingPool;
use std::string::String;
use sui::clock::Clock;
use sui::event;
use sui::table::{Self, Table};

const ED25519_PUBLIC_KEY_BYTES: u64 = 32;

const ENoNodeStake: u64 = 301;
const ENodeExists: u64 = 302;
const EUnknownNode: u64 = 303;
const ENotOperator: u64 = 304;
const EBadPublicKey: u64 = 305;
const EEmptyNodeName: u64 = 306;

/// The shared registry of nodes by name.
public struct NodeRegistry has key {
    id: UID,
    nodes: Table<String, Node>,
    /// The `seq` the registry's next event gets: its `NodeRegistered` and
    /// `NodeDeregistered` are numbered 0, 1, 2, ... in the order they happen.
    event_seq: u64,
}

/// A registered node.
public struct Node has store, drop {
    operator: address,
    public_key: vector<u8>,
    endpoint: String,
}

public struct NodeRegistered has copy, drop {
    operator: address,
    node_name: String,
    public_key: vector<u8>,
    endpoint: String,
    timestamp_ms: u64,
    /// Place in the registry's event sequence (`NodeRegistry.event_seq`).
    seq: u64,
}

public struct NodeDeregistered has copy, drop {
    operator: address,
    node_name: String,
    timestamp_ms: u64,
    /// Place in the registry's event sequence (`NodeRegistry.event_seq`).
    seq: u64,
}

fun init(ctx: &mut TxContext) {
    transfer::share_object(new_registry(ctx));
}

fun new_registry(ctx: &mut TxContext): NodeRegistry {
    NodeRegistry { id: object::new(ctx), nodes: table::new(ctx), event_seq: 0 }
}

/// The registry's next event `seq`; counts it.
fun next_event_seq(registry: &mut NodeRegistry): u64 {
    let seq = registry.event_seq;
    registry.event_seq = seq + 1;
    seq
}

/// Registers `node_name`, operated by the sender, who must hold an active node stake.
public fun register_node(
    registry: &mut NodeRegistry,
    pool: &StakingPool,
    node_name: String,
    public_key: vector<u8>,
    endpoint: String,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(!node_name.is_empty(), EEmptyNodeName);
    assert!(public_key.length() == ED25519_PUBLIC_KEY_BYTES, EBadPublicKey);
    assert!(pool.has_active_node_stake(ctx.sender()), ENoNodeStake);
    assert!(!registry.nodes.contains(node_name), ENodeExists);
    registry.nodes.add(node_name, Node { operator: ctx.sender(), public_key, endpoint });
    event::emit(NodeRegistered {
        operator: ctx.sender(),
        node_name,
        public_key,
        endpoint,
        timestamp_ms: clock.timestamp_ms(),
        seq: registry.next_event_seq(),
    });
}

/// Removes `node_name`; only its operator may.
public fun deregister_node(
    registry: &mut NodeRegistry,
    node_name: String,
    clock: &Clock,
    ctx: &mut TxContext,
) {
    assert!(registry.nodes.contains(node_name), EUnknownNode);
    assert!(registry.nodes[node_name].operator == ctx.sender(), ENotOperator);
    registry.nodes.remove(node_name);
    event::emit(NodeDeregistered {
        operator: ctx.sender(),
        node_name,
        timestamp_ms: clock.timestamp_ms(),
        seq: registry.next_event_seq(),
    });
}

/// True when `node_name` is registered and its operator's node stake meets the minimum.
public fun is_active(registry: &NodeRegistry, pool: &StakingPool, node_name: String): bool {
    registry.nodes.contains(node_name) && pool.has_active_node_stake(registry.nodes[node_name].operator)
}

/// The `seq` the registry's next event will get (= how many it has emitted).
public fun event_seq(registry: &NodeRegistry): u64 { registry.event_seq }

#[test_only]
public fun new_registry_for_testing(ctx: &mut TxContext): NodeRegistry { new_registry(ctx) }

#[test_only]
public fun destroy_registry_for_testing(registry: NodeRegistry) { sui::test_utils::destroy(registry) }

// === Event constructors for the shared test vectors (tests/vectors_tests.move) ===

#[test_only]
public fun new_node_registered_for_testing(
    operator: address,
    node_name: String,
    public_key: vector<u8>,
    endpoint: String,
    timestamp_ms: u64,
    seq: u64,
): NodeRegistered {
    NodeRegistered { operator, node_name, public_key, endpoint, timestamp_ms, seq }
}

#[test_only]
public fun new_node_deregistered_for_testing(
    operator: address,
    node_name: String,
    timestamp_ms: u64,
    seq: u64,
): NodeDeregistered {
    NodeDeregistered { operator, node_name, timestamp_ms, seq }
}
