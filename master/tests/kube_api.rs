//! The master's Kubernetes API over raw HTTP requests (the router called
//! directly), against a real etcd prefix: the TokenReview webhook with a
//! recorded request body, pages of a large list, the not-ready answer,
//! 405 for writes. The authority is a snapshot made here by hand, so the
//! expected answers do not come from the ledger code under test.

use std::{collections::BTreeMap, sync::Arc};

use axum::{
    body::{Body, to_bytes},
    http::{Request, StatusCode},
};
use daas_domain::{Address, access::Access, roles::Role};
use daas_master::{
    access::AccessPublisher,
    kube_api::{KubeApi, router, system_clock},
};
use daas_testkit::{Stack, TestEtcd};
use daas_token::{Claims, sign};
use serde_json::{Value, json};
use sui_crypto::ed25519::Ed25519PrivateKey;
use tower::ServiceExt as _;

const SUI: u64 = 1_000_000_000;
const CLUSTER: [u8; 32] = [0xc1; 32];

fn alice() -> Ed25519PrivateKey {
    Ed25519PrivateKey::new([0xa1; 32])
}

fn address(key: &Ed25519PrivateKey) -> Address {
    Address(key.public_key().derive_address().into_inner())
}

fn carol() -> Ed25519PrivateKey {
    Ed25519PrivateKey::new([0xca; 32])
}

/// alice: 5 SUI, owns team-a; carol: 1 SUI, owns team-c; team-b is someone else's.
fn access() -> Access {
    let (a, c) = (address(&alice()), address(&carol()));
    Access::new(
        Address(CLUSTER),
        Some(Address([0xad; 32])),
        [(a, Role::User, 5 * SUI), (c, Role::User, SUI)],
        BTreeMap::from([
            ("team-a".to_owned(), a),
            ("team-b".to_owned(), Address([0xb0; 32])),
            ("team-c".to_owned(), c),
        ]),
        BTreeMap::new(),
    )
}

fn api(etcd: &TestEtcd, publisher: &AccessPublisher) -> Arc<KubeApi> {
    Arc::new(KubeApi::new(
        etcd.client.clone(),
        &etcd.key("registry"),
        publisher.subscribe(),
        Address(CLUSTER),
    ))
}

fn token(key: &Ed25519PrivateKey, audience: &str) -> anyhow::Result<String> {
    let claims = Claims::new(
        sui_sdk_types::Address::new(CLUSTER),
        audience,
        system_clock(),
        600_000,
        &mut rand_core::OsRng,
    );
    Ok(sign(&claims, key)?)
}

async fn call(
    api: &Arc<KubeApi>,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Vec<u8>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = router(api.clone())
        .oneshot(req.body(Body::from(body))?)
        .await?;
    let status = resp.status();
    let bytes = to_bytes(resp.into_body(), 64 << 20).await?;
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok((status, v))
}

fn review_body(token: &str) -> anyhow::Result<Vec<u8>> {
    let recorded = include_str!("fixtures/tokenreview-request.json");
    Ok(recorded.replace("TOKEN", token).into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_reviews_answer_in_kubes_shape() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let etcd = TestEtcd::new(&stack).await?;
    let (publisher, _) = AccessPublisher::new();
    let api = api(&etcd, &publisher);
    let good = token(&alice(), "daas-k3s")?;
    // Before the ledger is loaded: 503, not a denial.
    let (code, _) = call(&api, "POST", "/v1/tokenreview", None, review_body(&good)?).await?;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    publisher.publish_access(access());

    let (code, v) = call(&api, "POST", "/v1/tokenreview", None, review_body(&good)?).await?;
    assert_eq!(code, StatusCode::OK);
    let user = format!("sui:{}", address(&alice()));
    let want = json!({
        "kind": "TokenReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": {},
        "status": {"authenticated": true, "user": {
            "username": user, "uid": user,
            "groups": ["daas:stake:0.5", "daas:stake:1", "daas:stake:5"]}}
    });
    assert_eq!(v, want);
    // k8s-openapi reads it as a TokenReview.
    let typed: k8s_openapi::api::authentication::v1::TokenReview = serde_json::from_value(v)?;
    assert_eq!(typed.status.and_then(|s| s.authenticated), Some(true));

    // A token for the API (another audience) is not one for the webhook.
    let api_token = token(&alice(), "daas-master")?;
    let (code, v) = call(
        &api,
        "POST",
        "/v1/tokenreview",
        None,
        review_body(&api_token)?,
    )
    .await?;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(v["status"]["authenticated"], false);
    assert!(
        v["status"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("audience"),
        "{v}"
    );
    assert!(
        !v.to_string().contains(&api_token),
        "the token is not echoed"
    );
    for bad in [
        b"not json".to_vec(),
        br#"{"kind":"Pod","apiVersion":"v1"}"#.to_vec(),
        br#"{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{}}"#.to_vec(),
    ] {
        let (code, v) = call(&api, "POST", "/v1/tokenreview", None, bad).await?;
        assert_eq!(code, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["kind"], "Status");
    }
    Ok(())
}

/// `n` ConfigMaps in `ns`, as the apply path stores them (JSON, no resourceVersion).
async fn put_configmaps(etcd: &TestEtcd, ns: &str, n: usize) -> anyhow::Result<()> {
    let mut client = etcd.client.clone();
    for i in 0..n {
        let name = format!("cm-{i:05}");
        let v = json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": name, "namespace": ns, "labels": {"i": (i % 3).to_string()}},
                       "data": {"k": "v"}});
        client
            .put(
                etcd.key(&format!("registry/configmaps/{ns}/{name}")),
                serde_json::to_vec(&v)?,
                None,
            )
            .await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_come_in_pages_of_what_the_caller_may_see() -> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let etcd = TestEtcd::new(&stack).await?;
    let (publisher, _) = AccessPublisher::new();
    publisher.publish_access(access());
    let api = api(&etcd, &publisher);
    put_configmaps(&etcd, "team-a", 1_203).await?;
    put_configmaps(&etcd, "team-b", 7).await?;
    let t = token(&alice(), "daas-master")?;

    // Pages of 500 at one revision, continued to the end.
    let mut names = Vec::new();
    let mut next: Option<String> = None;
    let mut revision = None;
    loop {
        let path = match &next {
            Some(c) => format!("/api/v1/configmaps?limit=500&continue={c}"),
            None => "/api/v1/configmaps?limit=500".to_owned(),
        };
        let (code, v) = call(&api, "GET", &path, Some(&t), vec![]).await?;
        assert_eq!(code, StatusCode::OK, "{v}");
        let rv = v["metadata"]["resourceVersion"].as_str().map(str::to_owned);
        assert!(
            revision.is_none() || revision == rv,
            "every page at one revision"
        );
        revision = rv;
        for item in v["items"].as_array().into_iter().flatten() {
            assert_eq!(
                item["metadata"]["namespace"], "team-a",
                "bob's objects are not shown"
            );
            names.push(
                item["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        next = v["metadata"]["continue"].as_str().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    let want: Vec<String> = (0..1_203).map(|i| format!("cm-{i:05}")).collect();
    assert_eq!(names, want);

    // Selectors, one object, another tenant's namespace, writes.
    let (_, v) = call(
        &api,
        "GET",
        "/api/v1/namespaces/team-a/configmaps?labelSelector=i%3D1",
        Some(&t),
        vec![],
    )
    .await?;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(401));
    let (code, v) = call(
        &api,
        "GET",
        "/api/v1/namespaces/team-a/configmaps/cm-00042",
        Some(&t),
        vec![],
    )
    .await?;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(v["metadata"]["name"], "cm-00042");
    let (code, _) = call(
        &api,
        "GET",
        "/api/v1/namespaces/team-a/configmaps/nope",
        Some(&t),
        vec![],
    )
    .await?;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let (code, v) = call(
        &api,
        "GET",
        "/api/v1/namespaces/team-b/configmaps",
        Some(&t),
        vec![],
    )
    .await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{v}");
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let (code, v) = call(
            &api,
            method,
            "/api/v1/namespaces/team-a/configmaps/cm-00001",
            Some(&t),
            vec![],
        )
        .await?;
        assert_eq!(code, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert!(
            v["message"]
                .as_str()
                .unwrap_or_default()
                .contains("daas apply"),
            "{v}"
        );
    }
    let (code, _) = call(
        &api,
        "GET",
        "/api/v1/namespaces/team-a/configmaps",
        None,
        vec![],
    )
    .await?;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    // carol (1 SUI) reads ConfigMaps in her namespace, not Secrets (5 SUI).
    let c = token(&carol(), "daas-master")?;
    let (code, v) = call(
        &api,
        "GET",
        "/api/v1/namespaces/team-c/configmaps",
        Some(&c),
        vec![],
    )
    .await?;
    assert_eq!(code, StatusCode::OK, "{v}");
    let (code, v) = call(
        &api,
        "GET",
        "/api/v1/namespaces/team-c/secrets",
        Some(&c),
        vec![],
    )
    .await?;
    assert_eq!(code, StatusCode::FORBIDDEN, "{v}");
    let message = v["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("needs a tier stake of 5 SUI; yours is 1 SUI"),
        "{message}"
    );
    Ok(())
}
