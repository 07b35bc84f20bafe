use super::*;

const NOW: u64 = 1_764_000_000_000;

fn key() -> Ed25519PrivateKey {
    Ed25519PrivateKey::new([3; 32])
}

fn request(cache: Option<&Path>, now_ms: u64) -> TokenRequest<'_> {
    TokenRequest {
        cluster: Address::new([1; 32]),
        audience: "daas-master",
        lifetime_ms: daas_token::DEFAULT_LIFETIME_MS,
        cache,
        now_ms,
    }
}

#[test]
fn tokens_are_cached_until_near_expiry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, exp) = token(&key(), &request(Some(dir.path()), NOW)).expect("token");
    assert_eq!(exp, NOW + daas_token::DEFAULT_LIFETIME_MS);
    let (b, _) = token(&key(), &request(Some(dir.path()), NOW + 1000)).expect("cached");
    assert_eq!(a, b, "reused from the cache");
    let late = NOW + daas_token::DEFAULT_LIFETIME_MS - REUSE_MARGIN_MS;
    let (c, _) = token(&key(), &request(Some(dir.path()), late)).expect("renewed");
    assert_ne!(a, c, "renewed near expiry");
    let (d, _) = token(&key(), &request(None, NOW + 1000)).expect("uncached");
    assert_ne!(a, d, "no cache: a new token");
    // The cache file is private.
    use std::os::unix::fs::PermissionsExt;
    for f in std::fs::read_dir(dir.path()).expect("dir") {
        let mode = f
            .expect("entry")
            .metadata()
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    }
    // Another audience is another entry.
    let other = TokenRequest {
        audience: "daas-k3s",
        ..request(Some(dir.path()), NOW + 1000)
    };
    let (e, _) = token(&key(), &other).expect("other audience");
    assert_eq!(
        daas_token::decode(&e).expect("decodes").claims.audience,
        "daas-k3s"
    );
}

#[test]
fn exec_credentials_have_kubectls_shape() {
    let v = exec_credential("daas1.x.y", 1_764_000_900_000);
    assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(v["kind"], "ExecCredential");
    assert_eq!(v["status"]["token"], "daas1.x.y");
    assert_eq!(v["status"]["expirationTimestamp"], "2025-11-24T16:14:00Z");
    assert!(check_exec_info(None).is_ok());
    assert!(check_exec_info(Some(r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":false}}"#)).is_ok());
    assert!(
        check_exec_info(Some(
            r#"{"apiVersion":"client.authentication.k8s.io/v1beta1"}"#
        ))
        .is_err()
    );
    assert!(check_exec_info(Some("not json")).is_err());
}

fn entry() -> KubeconfigEntry {
    KubeconfigEntry {
        cluster_name: "daas-0101".into(),
        user_name: "daas-alice".into(),
        context: "alice@daas-0101".into(),
        server: "https://127.0.0.1:6443".into(),
        ca_pem: Some(b"-----BEGIN CERTIFICATE-----\n".to_vec()),
        namespace: Some("team-a".into()),
        command: "/usr/bin/daas".into(),
        args: vec!["token".into(), "--key".into(), "alice".into()],
    }
}

#[test]
fn merging_keeps_other_entries_and_selects_ours() {
    let existing = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://prod\nusers:\n- name: admin\n  user:\n    token: t\ncontexts:\n- name: prod\n  context:\n    cluster: prod\n    user: admin\ncurrent-context: prod\npreferences: {}\n";
    let merged = merge(existing, &entry()).expect("merged");
    let twice = merge(&merged, &entry()).expect("merged again");
    let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&twice).expect("yaml");
    assert_eq!(v["current-context"].as_str(), Some("alice@daas-0101"));
    let names = |k: &str| -> Vec<String> {
        v[k].as_sequence()
            .expect(k)
            .iter()
            .filter_map(|e| e["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        names("clusters"),
        ["prod", "daas-0101"],
        "no duplicate on a second run"
    );
    assert_eq!(names("users"), ["admin", "daas-alice"]);
    assert_eq!(names("contexts"), ["prod", "alice@daas-0101"]);
    let exec = &v["users"][1]["user"]["exec"];
    assert_eq!(exec["interactiveMode"].as_str(), Some("Never"));
    assert_eq!(exec["apiVersion"].as_str(), Some(EXEC_API_VERSION));
    assert_eq!(
        v["contexts"][1]["context"]["namespace"].as_str(),
        Some("team-a")
    );
    assert!(v["clusters"][1]["cluster"]["certificate-authority-data"].is_string());
    assert!(
        v["preferences"].is_mapping(),
        "unknown top-level keys are kept"
    );
    assert!(merge("- not: a mapping", &entry()).is_err());
}
