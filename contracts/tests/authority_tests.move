#[test_only]
/// Cluster authority and object identity checks of `gateway::submit_request`.
module daas::authority_tests;

use daas::gateway::{Self, Cluster};
use daas::grants;
use daas::staking::{Self, StakingPool, AdminCap};
use std::string::String;
use sui::clock::{Self, Clock};
use sui::coin;
use sui::event;
use sui::sui::SUI;

const ADMIN: address = @0xAD;
const TENANT: address = @0x7E4A47;
const BONDED: address = @0xB0;
const SUI_10: u64 = 10_000_000_000;

public struct Env { pool: StakingPool, cap: AdminCap, cluster: Cluster, clock: Clock }

fun ctx(sender: address): TxContext { tx_context::new_from_hint(sender, 1, 1, 0, 0) }

fun s(b: vector<u8>): String { b.to_string() }

fun setup(): Env {
    let mut admin = ctx(ADMIN);
    let pool = staking::new_pool_for_testing(&mut admin);
    let cap = staking::new_admin_cap_for_testing(&pool, &mut admin);
    let cluster = gateway::new_cluster_for_testing(s(b"default"), &cap, &mut admin);
    let clock = clock::create_for_testing(&mut admin);
    Env { pool, cap, cluster, clock }
}

fun done(env: Env) {
    let Env { pool, cap, cluster, clock } = env;
    staking::destroy_pool_for_testing(pool);
    staking::destroy_admin_cap_for_testing(cap);
    gateway::destroy_cluster_for_testing(cluster);
    clock.destroy_for_testing();
}

fun stake(env: &mut Env, who: address, role: u8, amount: u64) {
    let mut c = ctx(who);
    let payment = coin::mint_for_testing<SUI>(amount, &mut c);
    staking::stake(&mut env.pool, payment, role, &env.clock, &mut c);
}

fun grant_admin(env: &mut Env, who: address) {
    let mut admin = ctx(ADMIN);
    let Env { pool: _, cap, cluster, clock } = env;
    grants::grant_cluster_admin(cap, cluster, who, clock, &mut admin);
}

fun submit(env: &mut Env, who: address, api: vector<u8>, kind: vector<u8>, ns: vector<u8>, name: vector<u8>) {
    let mut c = ctx(who);
    let Env { pool, cap: _, cluster, clock } = env;
    gateway::submit_request(cluster, pool, s(b"apply"), s(api), s(kind), s(ns), s(name), b"{}", clock, &mut c);
}

/// A tenant with a 10 SUI user stake (every kind by tier).
fun tenant_env(): Env {
    let mut env = setup();
    stake(&mut env, TENANT, 0, SUI_10);
    env
}

// === Names, namespaces, kinds, apiVersions (cases from Kubernetes' validation tests) ===

#[test]
fun kubernetes_valid_subdomains_pass() {
    let valid = vector[
        b"a", b"ab", b"abc", b"a1", b"a-1", b"a--1--2--b", b"0", b"01", b"012", b"1a", b"1-a",
        b"1--a--b--2", b"a.a", b"ab.a", b"abc.a", b"a1.a", b"a-1.a", b"a--1--2--b.a", b"a.1", b"ab.1",
        b"a.b.c.d.e", b"aa.bb.cc.dd.ee", b"1.2.3.4.5", b"11.22.33.44.55",
    ];
    let mut i = 0;
    while (i < valid.length()) {
        assert!(gateway::is_dns1123_subdomain(&s(valid[i])), i);
        i = i + 1;
    };
    let mut long = vector[];
    while (long.length() < 253) long.push_back(0x61);
    assert!(gateway::is_dns1123_subdomain(&s(long)));
    long.push_back(0x61);
    assert!(!gateway::is_dns1123_subdomain(&s(long)));
}

#[test]
fun kubernetes_invalid_subdomains_fail() {
    let invalid = vector[
        b"", b"A", b"ABC", b"aBc", b"A1", b"A-1", b"1-A", b"-", b"a-", b"-a", b"1-", b"-1", b"_", b"a_",
        b"_a", b"a_b", b".", b"a.", b".a", b"a..b", b"1.", b".1", b"1..2", b" ", b"a ", b" a", b"a b",
        b"A.a", b"aB.a", b"ab.A", b"A1.a", b"a1.A", b"a.-b", b"a-.b", b"a@b", b"a,b", b"a;b", b"a:b",
        b"a%b", b"a?b", b"a$b", b"nul\x00byte", b"tab\x09", b"\x7f",
    ];
    let mut i = 0;
    while (i < invalid.length()) {
        assert!(!gateway::is_dns1123_subdomain(&s(invalid[i])), i);
        i = i + 1;
    };
}

#[test]
fun labels_refuse_dots_and_length_over_63() {
    assert!(gateway::is_dns1123_label(&s(b"team-a")));
    assert!(!gateway::is_dns1123_label(&s(b"a.b")));
    let mut long = vector[];
    while (long.length() < 63) long.push_back(0x62);
    assert!(gateway::is_dns1123_label(&s(long)));
    long.push_back(0x62);
    assert!(!gateway::is_dns1123_label(&s(long)));
}

#[test, expected_failure(abort_code = daas::gateway::EInvalidName)]
fun a_name_with_nul_aborts() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"v1", b"ConfigMap", b"team-a", b"nul\x00byte");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInvalidName)]
fun an_upper_case_name_aborts() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"v1", b"ConfigMap", b"team-a", b"Web");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInvalidNamespace)]
fun a_namespace_with_a_control_character_aborts() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"v1", b"ConfigMap", b"team\x0aa", b"web");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInvalidNamespace)]
fun a_dotted_namespace_aborts() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"v1", b"ConfigMap", b"team.a", b"web");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInvalidKind)]
fun a_lower_case_kind_aborts() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"v1", b"configmap", b"team-a", b"web");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::EInvalidApiVersion)]
fun an_api_version_with_two_slashes_aborts() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"apps/v1/x", b"Deployment", b"team-a", b"web");
    done(env);
}

#[test]
fun well_formed_requests_pass_the_identity_checks() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"v1", b"ConfigMap", b"team-a", b"web.config-1");
    submit(&mut env, TENANT, b"networking.k8s.io/v1", b"Ingress", b"team-a", b"web");
    submit(&mut env, TENANT, b"v1", b"Namespace", b"", b"team-b");
    assert!(event::events_by_type<gateway::K8sAPIRequest>().length() == 3);
    done(env);
}

// === Cluster authority ===

fun n(kind: vector<u8>, ns: vector<u8>, name: vector<u8>): bool {
    gateway::needs_cluster_authority(&s(kind), &s(ns), &s(name))
}

#[test]
fun needs_cluster_authority_covers_system_namespaces_and_cluster_kinds() {
    assert!(n(b"ClusterRoleBinding", b"team-a", b"x"));
    assert!(n(b"ConfigMap", b"", b"x"));
    assert!(n(b"ConfigMap", b"kube-system", b"x"));
    assert!(n(b"ConfigMap", b"default", b"x"));
    assert!(n(b"ConfigMap", b"kube-anything", b"x"));
    assert!(n(b"Namespace", b"", b"kube-public"));
    assert!(!n(b"Namespace", b"", b"team-a"));
    assert!(!n(b"ConfigMap", b"team-a", b"x"));
    assert!(!n(b"ConfigMap", b"kube", b"x"));
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAuthority)]
fun a_tenant_cannot_write_a_cluster_role_binding() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"rbac.authorization.k8s.io/v1", b"ClusterRoleBinding", b"team-a", b"own");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAuthority)]
fun a_tenant_cannot_write_in_kube_system() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"v1", b"ConfigMap", b"kube-system", b"x");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAuthority)]
fun a_tenant_cannot_create_a_namespace_named_like_a_system_one() {
    let mut env = tenant_env();
    submit(&mut env, TENANT, b"v1", b"Namespace", b"", b"kube-node-lease");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAuthority)]
fun an_admin_role_stake_alone_buys_no_authority() {
    let mut env = setup();
    stake(&mut env, BONDED, 2, SUI_10);
    submit(&mut env, BONDED, b"v1", b"ConfigMap", b"kube-system", b"x");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAuthority)]
fun a_grant_without_the_bond_gives_no_authority() {
    let mut env = setup();
    stake(&mut env, BONDED, 0, SUI_10);
    grant_admin(&mut env, BONDED);
    submit(&mut env, BONDED, b"v1", b"ConfigMap", b"kube-system", b"x");
    done(env);
}

#[test]
fun the_creator_and_a_granted_bonded_admin_have_authority() {
    let mut env = setup();
    stake(&mut env, ADMIN, 0, SUI_10);
    submit(&mut env, ADMIN, b"v1", b"ConfigMap", b"kube-system", b"x");
    stake(&mut env, BONDED, 2, SUI_10);
    grant_admin(&mut env, BONDED);
    submit(&mut env, BONDED, b"rbac.authorization.k8s.io/v1", b"ClusterRole", b"", b"reader");
    assert!(event::events_by_type<gateway::K8sAPIRequest>().length() == 2);
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAuthority)]
fun a_slash_below_the_bond_ends_authority() {
    let mut env = setup();
    stake(&mut env, BONDED, 2, SUI_10);
    grant_admin(&mut env, BONDED);
    let mut admin = ctx(ADMIN);
    let Env { pool, cap, cluster: _, clock } = &mut env;
    staking::slash(cap, pool, BONDED, 2, 1, s(b"abuse"), clock, &mut admin);
    submit(&mut env, BONDED, b"v1", b"ConfigMap", b"kube-system", b"x");
    done(env);
}

#[test, expected_failure(abort_code = daas::gateway::ENotClusterAuthority)]
fun a_revoke_ends_authority() {
    let mut env = setup();
    stake(&mut env, BONDED, 2, SUI_10);
    grant_admin(&mut env, BONDED);
    let mut admin = ctx(ADMIN);
    let Env { pool: _, cap, cluster, clock } = &mut env;
    grants::revoke_cluster_admin(cap, cluster, BONDED, clock, &mut admin);
    submit(&mut env, BONDED, b"v1", b"ConfigMap", b"kube-system", b"x");
    done(env);
}
