//! The gateway as the dev chain runs it: names, namespaces, kinds and
//! apiVersions that Kubernetes would refuse abort before any event, and
//! cluster-scoped kinds and reserved namespaces need cluster authority (the
//! cluster's creator, or a granted cluster admin bonded with 10 SUI).

mod support;

use daas_devnet::{
    calls,
    contract::gateway::{is_api_version, is_dns1123_label, is_dns1123_subdomain, is_kind},
};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_sdk_types::{Address, ExecutionError, ExecutionStatus, ObjectReference};
use support::{Chain, chain};

const SUI: u64 = 1_000_000_000;

impl Chain {
    /// A new key with 40 SUI and a stake of `amount` in `role`.
    fn staker(&self, role: u8, amount: u64) -> (Ed25519PrivateKey, Address) {
        let key = Ed25519PrivateKey::generate(rand_core::OsRng);
        let who = key.public_key().derive_address();
        self.node.faucet(who, 40 * SUI).expect("faucet");
        let (tx, sig) = calls::stake(&key, &self.ids, self.gas(who), amount, role);
        let done = self.node.execute(tx, vec![sig]).expect("stake");
        assert!(
            matches!(done.effects.status(), ExecutionStatus::Success),
            "stake {role} {amount}"
        );
        (key, who)
    }

    fn gas(&self, who: Address) -> ObjectReference {
        self.node
            .read(|c| c.largest_coin(&who))
            .expect("a funded account has a coin")
    }

    /// Submits a request; `Ok` with its event count, or `Err(abort code)`.
    fn submit(&self, key: &Ed25519PrivateKey, req: [&str; 5]) -> Result<usize, u64> {
        let who = key.public_key().derive_address();
        let [verb, api, kind, namespace, name] = req;
        let (tx, sig) = calls::submit_request(
            key,
            &self.ids,
            self.gas(who),
            self.cluster,
            verb,
            api,
            kind,
            namespace,
            name,
            b"{}",
        );
        let done = self.node.execute(tx, vec![sig]).expect("included");
        match done.effects.status() {
            ExecutionStatus::Success => Ok(done.events.len()),
            ExecutionStatus::Failure {
                error: ExecutionError::MoveAbort { location, code },
                ..
            } => {
                assert_eq!(location.module.as_str(), "gateway");
                assert!(done.events.is_empty(), "an abort emits nothing");
                Err(*code)
            }
            other => panic!("expected success or a Move abort, got {other:?}"),
        }
    }

    /// The genesis admin (the cluster's creator) grants or revokes cluster admin.
    fn cluster_admin(&self, grantee: Address, grant: bool) -> ExecutionStatus {
        let admin = self.node.admin_key();
        let who = admin.public_key().derive_address();
        let cap = self.node.read(|c| {
            c.world
                .objects
                .get(&c.world.ids.admin_cap)
                .map(|o| o.reference(c.world.ids.package, c.world.clock_ms))
                .expect("cap")
        });
        let (tx, sig) = calls::cluster_admin(
            admin,
            &self.ids,
            self.gas(who),
            cap,
            self.cluster,
            grantee,
            grant,
        );
        self.node
            .execute(tx, vec![sig])
            .expect("included")
            .effects
            .status()
            .clone()
    }
}

fn apply<'a>(kind: &'a str, namespace: &'a str, name: &'a str) -> [&'a str; 5] {
    let api = match kind {
        "ClusterRole" | "ClusterRoleBinding" => "rbac.authorization.k8s.io/v1",
        _ => "v1",
    };
    ["apply", api, kind, namespace, name]
}

#[test]
fn names_kubernetes_would_refuse_abort_before_any_event() {
    let c = chain();
    let (tenant, _) = c.staker(0, 10 * SUI);
    let long_name = "a".repeat(254);
    let long_namespace = "b".repeat(64);
    let cases: [([&str; 5], u64); 10] = [
        (apply("ConfigMap", "team-a", "nul\u{0}byte"), 106),
        (apply("ConfigMap", "team-a", "Web"), 106),
        (apply("ConfigMap", "team-a", "-web"), 106),
        (apply("ConfigMap", "team-a", "a..b"), 106),
        (apply("ConfigMap", "team-a", &long_name), 106),
        (apply("ConfigMap", "team\u{7}a", "web"), 107),
        (apply("ConfigMap", &long_namespace, "web"), 107),
        (apply("ConfigMap", "team.a", "web"), 107),
        (apply("configmap", "team-a", "web"), 109),
        (["apply", "apps/v1/x", "Deployment", "team-a", "web"], 110),
    ];
    for (req, code) in cases {
        assert_eq!(c.submit(&tenant, req), Err(code), "{req:?}");
    }
    assert_eq!(c.submit(&tenant, apply("ConfigMap", "", "")), Err(104));
    let longest = "a".repeat(253);
    assert_eq!(
        c.submit(&tenant, apply("ConfigMap", "team-a", &longest)),
        Ok(1)
    );
    assert_eq!(
        c.submit(&tenant, apply("ConfigMap", "team-a", "web.v1-2")),
        Ok(1)
    );
}

#[test]
fn cluster_scoped_kinds_and_reserved_namespaces_need_authority() {
    let c = chain();
    let (tenant, _) = c.staker(0, 10 * SUI);
    let (buyer, _) = c.staker(2, 10 * SUI);
    for who in [&tenant, &buyer] {
        for req in [
            apply("ClusterRoleBinding", "team-a", "mine"),
            apply("ClusterRole", "", "mine"),
            apply("ConfigMap", "", "x"),
            apply("ConfigMap", "kube-system", "x"),
            apply("ConfigMap", "default", "x"),
            apply("ConfigMap", "kube-extra", "x"),
            apply("Namespace", "", "kube-public"),
        ] {
            assert_eq!(c.submit(who, req), Err(108), "{req:?}");
        }
        assert_eq!(c.submit(who, apply("ConfigMap", "team-a", "x")), Ok(1));
    }
}

#[test]
fn a_granted_bonded_admin_has_authority_until_revoked() {
    let c = chain();
    let (carol, carol_addr) = c.staker(2, 10 * SUI);
    let req = apply("ConfigMap", "kube-system", "x");
    assert_eq!(c.submit(&carol, req), Err(108), "a stake alone");
    assert_eq!(c.cluster_admin(carol_addr, true), ExecutionStatus::Success);
    assert_eq!(c.submit(&carol, req), Ok(1), "granted and bonded");
    assert_eq!(c.cluster_admin(carol_addr, false), ExecutionStatus::Success);
    assert_eq!(c.submit(&carol, req), Err(108), "revoked");

    // Granted without the bond (a user stake is not one): no authority.
    let (dave, dave_addr) = c.staker(0, 10 * SUI);
    assert_eq!(c.cluster_admin(dave_addr, true), ExecutionStatus::Success);
    assert_eq!(c.submit(&dave, req), Err(108));
}

#[test]
fn revoking_cluster_admin_without_a_grant_aborts_no_grant() {
    let c = chain();
    let nobody = Address::new([7; 32]);
    match c.cluster_admin(nobody, false) {
        ExecutionStatus::Failure {
            error: ExecutionError::MoveAbort { location, code },
            ..
        } => assert_eq!((location.module.as_str(), code), ("grants", 202)),
        other => panic!("expected grants::ENoGrant, got {other:?}"),
    }
}

/// Kubernetes' own cases (`validation_test.go`, TestIsDNS1123Subdomain/Label).
#[test]
fn the_rules_match_kubernetes_cases() {
    for ok in [
        "a",
        "ab",
        "abc",
        "a1",
        "a-1",
        "a--1--2--b",
        "0",
        "01",
        "012",
        "1a",
        "1-a",
        "1--a--b--2",
        "a.a",
        "ab.a",
        "a.b.c.d.e",
        "aa.bb.cc.dd.ee",
        "1.2.3.4.5",
        "11.22.33.44.55",
    ] {
        assert!(is_dns1123_subdomain(ok), "{ok}");
    }
    for bad in [
        "", "A", "ABC", "aBc", "A1", "A-1", "1-A", "-", "a-", "-a", "1-", "-1", "_", "a_", "_a",
        "a_b", ".", "a.", ".a", "a..b", "1.", ".1", "1..2", " ", "a ", " a", "a b", "A.a", "aB.a",
        "ab.A", "a@b", "a,b", "a;b", "a:b", "a%b", "a?b", "a$b", "a.-b", "a-.b",
    ] {
        assert!(!is_dns1123_subdomain(bad), "{bad:?}");
    }
    assert!(is_dns1123_subdomain(&"a".repeat(253)));
    assert!(!is_dns1123_subdomain(&"a".repeat(254)));
    assert!(is_dns1123_label(&"a".repeat(63)));
    assert!(!is_dns1123_label(&"a".repeat(64)));
    assert!(!is_dns1123_label("a.b"));
}

/// Kubernetes' own regular expressions (`k8s.io/apimachinery/pkg/util/validation`),
/// as the oracle for the byte-wise rules the contract runs.
const LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

fn full(re: &str) -> regex::Regex {
    regex::Regex::new(&format!("^(?:{re})$")).expect("regex")
}

/// Strings over an alphabet that exercises every rule: dots, dashes, upper
/// case, '/', '_', NUL, a control character, a non-ASCII letter.
fn hostile() -> impl proptest::strategy::Strategy<Value = String> {
    proptest::prop_oneof![
        "[a-z0-9.-]{0,8}",
        "[a-zA-Z0-9./_ \x00\x07é-]{0,12}",
        "[a-z0-9-]{60,66}",
        "[a-z0-9.]{250,256}",
    ]
}

proptest::proptest! {
    #[test]
    fn the_rules_agree_with_kubernetes_regular_expressions(s in hostile()) {
        let subdomain = full(&format!(r"{LABEL}(\.{LABEL})*"));
        let label = full(LABEL);
        proptest::prop_assert_eq!(is_dns1123_subdomain(&s), s.len() <= 253 && subdomain.is_match(&s));
        proptest::prop_assert_eq!(is_dns1123_label(&s), s.len() <= 63 && label.is_match(&s));
        let kind = full("[A-Z][A-Za-z0-9]*");
        proptest::prop_assert_eq!(is_kind(&s), s.len() <= 63 && kind.is_match(&s));
        let api = match s.split_once('/') {
            Some((g, v)) => g.len() <= 253 && subdomain.is_match(g) && v.len() <= 63 && label.is_match(v),
            None => s.len() <= 63 && label.is_match(&s),
        };
        proptest::prop_assert_eq!(is_api_version(&s), api);
    }
}
