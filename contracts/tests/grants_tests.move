#[test_only]
module daas::grants_tests;

use daas::gateway::{Self, Cluster};
use daas::grants;
use daas::staking::{Self, StakingPool, AdminCap};
use sui::clock::{Self, Clock};
use sui::event;

const ADMIN: address = @0xAD;
const FRIEND: address = @0xF1;

public struct Env { pool: StakingPool, cap: AdminCap, cluster: Cluster, clock: Clock }

fun setup(): (Env, TxContext) {
    let mut admin = tx_context::new_from_hint(ADMIN, 3, 1, 0, 0);
    let pool = staking::new_pool_for_testing(&mut admin);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let cluster = gateway::new_cluster_for_testing(b"default".to_string(), &cap, &mut admin);
    let clock = clock::create_for_testing(&mut admin);
    (Env { pool, cap, cluster, clock }, admin)
}

fun done(env: Env) {
    let Env { pool, cap, cluster, clock } = env;
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    gateway::destroy_cluster_for_testing(cluster);
    clock.destroy_for_testing();
}

fun grant(env: &mut Env, ns: vector<u8>, who: address, role: u8, ctx: &mut TxContext) {
    let Env { pool: _, cap, cluster, clock } = env;
    grants::grant(cap, cluster, ns.to_string(), who, role, clock, ctx);
}

fun revoke(env: &mut Env, ns: vector<u8>, who: address, ctx: &mut TxContext) {
    let Env { pool: _, cap, cluster, clock } = env;
    grants::revoke(cap, cluster, ns.to_string(), who, clock, ctx);
}

#[test]
fun grant_then_change_then_revoke() {
    let (mut env, mut admin) = setup();
    grant(&mut env, b"team-a", FRIEND, grants::viewer(), &mut admin);
    assert!(grants::role_of(&env.cluster, b"team-a".to_string(), FRIEND) == option::some(grants::viewer()));
    grant(&mut env, b"team-a", FRIEND, grants::editor(), &mut admin);
    assert!(grants::role_of(&env.cluster, b"team-a".to_string(), FRIEND) == option::some(grants::editor()));
    revoke(&mut env, b"team-a", FRIEND, &mut admin);
    assert!(grants::role_of(&env.cluster, b"team-a".to_string(), FRIEND) == option::none());
    assert!(event::events_by_type<grants::NamespaceGranted>().length() == 2);
    assert!(event::events_by_type<grants::NamespaceRevoked>().length() == 1);
    done(env);
}

#[test, expected_failure(abort_code = daas::grants::EInvalidNamespaceRole)]
fun grant_with_an_unknown_role_aborts() {
    let (mut env, mut admin) = setup();
    grant(&mut env, b"team-a", FRIEND, 2, &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::grants::EEmptyNamespace)]
fun grant_without_a_namespace_aborts() {
    let (mut env, mut admin) = setup();
    grant(&mut env, b"", FRIEND, 0, &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::grants::ENoGrant)]
fun revoke_without_a_grant_aborts() {
    let (mut env, mut admin) = setup();
    revoke(&mut env, b"team-a", FRIEND, &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAdmin)]
fun grant_with_the_cap_of_another_pool_aborts() {
    let (mut env, mut admin) = setup();
    let other = staking::new_pool_for_testing(&mut admin);
    let foreign = staking::new_admin_cap_for_testing(&other, &mut admin);
    let Env { pool: _, cap: _, cluster, clock } = &mut env;
    grants::grant(&foreign, cluster, b"team-a".to_string(), FRIEND, 0, clock, &mut admin);
    staking::destroy_pool_for_testing(other);
    staking::destroy_admin_cap_for_testing(foreign);
    done(env);
}

#[test, expected_failure(abort_code = daas::grants::EInvalidNamespace)]
fun grant_under_the_cluster_admin_marker_aborts() {
    let (mut env, mut admin) = setup();
    grant(&mut env, b"*", FRIEND, grants::editor(), &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::grants::EInvalidNamespace)]
fun grant_in_an_upper_case_namespace_aborts() {
    let (mut env, mut admin) = setup();
    grant(&mut env, b"Team-A", FRIEND, grants::viewer(), &mut admin);
    done(env);
}

#[test]
fun cluster_admin_grant_and_revoke_emit_the_namespace_events_under_the_marker() {
    let (mut env, mut admin) = setup();
    let Env { pool: _, cap, cluster, clock } = &mut env;
    grants::grant_cluster_admin(cap, cluster, FRIEND, clock, &mut admin);
    assert!(grants::is_cluster_admin_granted(cluster, FRIEND));
    assert!(grants::role_of(cluster, b"*".to_string(), FRIEND) == option::some(2));
    let granted = event::events_by_type<grants::NamespaceGranted>();
    let want = grants::new_namespace_granted_for_testing(
        object::id(cluster), b"*".to_string(), FRIEND, 2, ADMIN, 0, 1,
    );
    assert!(granted.length() == 1 && granted[0] == want);
    grants::revoke_cluster_admin(cap, cluster, FRIEND, clock, &mut admin);
    assert!(!grants::is_cluster_admin_granted(cluster, FRIEND));
    let revoked = event::events_by_type<grants::NamespaceRevoked>();
    let want = grants::new_namespace_revoked_for_testing(object::id(cluster), b"*".to_string(), FRIEND, ADMIN, 0, 2);
    assert!(revoked.length() == 1 && revoked[0] == want);
    done(env);
}

#[test]
fun a_namespace_grant_is_not_a_cluster_admin_grant() {
    let (mut env, mut admin) = setup();
    grant(&mut env, b"team-a", FRIEND, grants::editor(), &mut admin);
    assert!(!grants::is_cluster_admin_granted(&env.cluster, FRIEND));
    done(env);
}

#[test, expected_failure(abort_code = daas::grants::ENoGrant)]
fun revoke_cluster_admin_without_a_grant_aborts() {
    let (mut env, mut admin) = setup();
    let Env { pool: _, cap, cluster, clock } = &mut env;
    grants::revoke_cluster_admin(cap, cluster, FRIEND, clock, &mut admin);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAdmin)]
fun grant_cluster_admin_with_the_cap_of_another_pool_aborts() {
    let (mut env, mut admin) = setup();
    let other = staking::new_pool_for_testing(&mut admin);
    let foreign = staking::new_admin_cap_for_testing(&other, &mut admin);
    let Env { pool: _, cap: _, cluster, clock } = &mut env;
    grants::grant_cluster_admin(&foreign, cluster, FRIEND, clock, &mut admin);
    staking::destroy_pool_for_testing(other);
    staking::destroy_admin_cap_for_testing(foreign);
    done(env);
}
