//! Sealed Secrets through the `daas` binary on a real dev chain (testkit's
//! in-process node serving gRPC on loopback): a Secret is refused while the
//! cluster has no sealing key; the AdminCap holder registers one with
//! `daas admin register-sealing-key`; `daas seal` (from the chain's key, and
//! offline) and `daas apply` then put only ciphertext on chain. Checked from
//! the chain's own record: the `K8sAPIRequest` event read back from the node
//! holds the sealed annotation and neither the plaintext nor its base64, and
//! neither does any stored event or the chain's transaction log; the private
//! key (held by the test, as the master would) opens it to the plaintext.

use std::{collections::BTreeMap, path::Path, time::Duration};

use anyhow::{Context, bail, ensure};
use base64::{Engine, engine::general_purpose::STANDARD};
use daas_domain::{Event, ObjectId, events};
use daas_sealing::{SealingPrivateKey, open_secret};
use daas_testkit::{
    TestChain, free_addr,
    workload::{Rng, test_seed},
};
use serde_json::{Value, json};

#[path = "support/daas.rs"]
mod daas;
use daas::{Daas, text};

/// The plaintexts under test and their base64: none may appear on chain.
struct Clear {
    password: String,
    user: String,
}

impl Clear {
    fn new(rng: &mut Rng) -> Self {
        Self {
            password: format!("pw-{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
            user: format!("user-{:016x}", rng.next_u64()),
        }
    }

    fn needles(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in [&self.password, &self.user] {
            out.push(p.clone());
            out.push(STANDARD.encode(p));
        }
        out
    }

    fn assert_absent(&self, haystack: &[u8], what: &str) {
        for n in self.needles() {
            assert!(
                !haystack.windows(n.len()).any(|w| w == n.as_bytes()),
                "{n:?} found in {what}"
            );
        }
    }

    /// The `data` kube-apiserver would store: every value base64.
    fn data(&self) -> Value {
        json!({"password": STANDARD.encode(&self.password), "user": STANDARD.encode(&self.user)})
    }

    fn manifest(&self) -> String {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: team-a\ntype: Opaque\n\
             data:\n  user: {}\nstringData:\n  password: {}\n",
            STANDARD.encode(&self.user),
            self.password
        )
    }
}

/// The dev chain and a `daas` configured for it, signing as its genesis
/// admin (the AdminCap's owner and the default cluster's creator).
struct Setup {
    chain: TestChain,
    daas: Daas,
    dir: tempfile::TempDir,
    cluster: ObjectId,
}

async fn setup() -> anyhow::Result<Setup> {
    let dir = tempfile::tempdir()?;
    let chain = TestChain::start(&dir.path().join("chain"), free_addr()?, 100, 0).await?;
    let (daas, cluster) = Daas::for_chain(dir.path(), &chain).await?;
    // A Secret write needs a 10 SUI tier.
    daas.ok(&["stake", "admin", "--amount", "10"]).await?;
    Ok(Setup {
        chain,
        daas,
        dir,
        cluster,
    })
}

fn path(p: &Path) -> anyhow::Result<&str> {
    p.to_str().context("a UTF-8 path")
}

/// Every event of our package the node has sealed, decoded.
fn chain_events(chain: &TestChain) -> Vec<Event> {
    chain.node.read(|c| {
        c.events
            .iter()
            .filter_map(|e| {
                let t = &e.event.type_;
                match events::decode(t.module().as_str(), t.name().as_str(), &e.event.contents) {
                    Ok(events::Decoded::Known(ev)) => Some(ev),
                    _ => None,
                }
            })
            .collect()
    })
}

fn secret_requests(chain: &TestChain) -> Vec<daas_domain::events::K8sApiRequest> {
    chain_events(chain)
        .into_iter()
        .filter_map(|e| match e {
            Event::K8sApiRequest(r) if r.kind == "Secret" => Some(r),
            _ => None,
        })
        .collect()
}

/// Waits until the node has sealed what `daas` submitted (it returns once
/// the transaction is final; its checkpoint may be a moment later).
async fn sealed_requests(
    chain: &TestChain,
    n: usize,
) -> anyhow::Result<Vec<daas_domain::events::K8sApiRequest>> {
    daas_testkit::wait_for(
        "the Secret requests in a checkpoint",
        Duration::from_secs(30),
        move || async move {
            let found = secret_requests(chain);
            Ok((found.len() >= n).then_some(found))
        },
    )
    .await
}

fn sealed_version(object: &Value) -> Option<&str> {
    object
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("k3s-daas.io/sealed"))
        .and_then(Value::as_str)
}

type Ring = BTreeMap<u32, SealingPrivateKey>;

fn open(sealed: &Value, cluster: ObjectId, ring: &Ring) -> anyhow::Result<Value> {
    let namespace = sealed
        .pointer("/metadata/namespace")
        .and_then(Value::as_str);
    let name = sealed.pointer("/metadata/name").and_then(Value::as_str);
    let (Some(namespace), Some(name)) = (namespace, name) else {
        bail!("no namespace or name in {sealed}");
    };
    open_secret(sealed, cluster, namespace, name, ring).map_err(|r| anyhow::anyhow!("{r:?}"))
}

/// Without a registered key, `daas apply` of a Secret sends nothing and says why.
async fn refused_without_a_key(s: &Setup, secret: &str, clear: &Clear) -> anyhow::Result<()> {
    let out = s
        .daas
        .run(&["apply", "-f", secret, "--no-wait"], None)
        .await?;
    let said = text(&out);
    ensure!(!out.status.success(), "applied without a key:\n{said}");
    assert!(said.contains("the chain is public"), "{said}");
    assert!(said.contains("daas admin register-sealing-key"), "{said}");
    clear.assert_absent(said.as_bytes(), "the refusal");
    assert!(secret_requests(&s.chain).is_empty(), "a request was sent");
    Ok(())
}

/// `daas admin register-sealing-key` of a fresh key (as hex, or as `master
/// sealing-key show` prints it on standard input); the chain's event names
/// the version `daas` printed.
async fn register(s: &Setup, version: u64, stdin: bool) -> anyhow::Result<SealingPrivateKey> {
    let key = SealingPrivateKey::generate(&mut daas_sealing::rng::os());
    let hex = hex::encode(key.public_key().0);
    let said = if stdin {
        let shown = format!("sealing key version {version}\npublic key {hex}\n");
        let args = ["admin", "register-sealing-key", "--public-key", "-"];
        s.daas.ok_with(&args, Some(&shown)).await?
    } else {
        let args = ["admin", "register-sealing-key", "--public-key", &hex];
        s.daas.ok(&args).await?
    };
    assert!(
        said.contains(&format!("registered sealing key version {version} ")),
        "{said}"
    );
    let registered: Vec<_> = chain_events(&s.chain)
        .into_iter()
        .filter_map(|e| match e {
            Event::SealingKeyRegistered(r) => Some((r.cluster_id, r.version, r.public_key.0)),
            _ => None,
        })
        .collect();
    assert_eq!(
        registered.last(),
        Some(&(s.cluster, version, key.public_key().0.to_vec()))
    );
    Ok(key)
}

/// `daas seal` with the chain's current key: only ciphertext, under `version`,
/// and it opens to the plaintext.
async fn seal_from_chain(
    s: &Setup,
    secret: &str,
    clear: &Clear,
    ring: &Ring,
    version: u32,
) -> anyhow::Result<()> {
    // Registered with the AdminCap, not by an attested enclave: only with
    // --allow-dev-attestation.
    let out = s.daas.run(&["seal", "-f", secret], None).await?;
    let said = text(&out);
    ensure!(
        !out.status.success() && said.contains("not attested") && said.contains("AdminCap"),
        "sealed to an unattested key:\n{said}"
    );
    let printed = s
        .daas
        .ok(&["seal", "-f", secret, "--allow-dev-attestation"])
        .await?;
    clear.assert_absent(printed.as_bytes(), "daas seal's output");
    let sealed: Value = serde_yaml_ng::from_str(&printed)?;
    let annotation = format!("daas-seal-v1; key-version={version}");
    assert_eq!(sealed_version(&sealed), Some(annotation.as_str()));
    assert_eq!(open(&sealed, s.cluster, ring)?["data"], clear.data());
    Ok(())
}

/// `daas seal` offline (no node: a URL nothing serves) of the Secret and a
/// Deployment with a literal secret-looking env var: warned about by name,
/// never by value; the Secret sealed, the Deployment unchanged.
async fn seal_offline(s: &Setup, clear: &Clear, hex: &str, ring: &Ring) -> anyhow::Result<Value> {
    let file = s.dir.path().join("offline.yaml");
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: team-a}\n\
        spec: {template: {spec: {containers: [{name: app, env: [{name: DB_PASSWORD, value: hunter2-v4lue}]}]}}}\n";
    std::fs::write(&file, format!("{}---\n{deployment}", clear.manifest()))?;
    let args = [
        "--node-url",
        "http://127.0.0.1:1",
        "seal",
        "-f",
        path(&file)?,
        "-o",
        "json",
        "--public-key",
        hex,
        "--key-version",
        "1",
    ];
    let out = s.daas.run(&args, None).await?;
    ensure!(out.status.success(), "offline seal failed:\n{}", text(&out));
    let stderr = String::from_utf8(out.stderr.clone())?;
    assert!(
        stderr.contains(r#"container "app" (containers[0]) sets env var "DB_PASSWORD""#)
            && stderr.contains("valueFrom.secretKeyRef")
            && !stderr.contains("hunter2"),
        "{stderr}"
    );
    clear.assert_absent(&out.stdout, "the offline output");
    let list: Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(list["kind"], "List");
    assert_eq!(
        list["items"][1]["kind"], "Deployment",
        "other kinds unchanged"
    );
    let sealed = list["items"][0].clone();
    assert_eq!(open(&sealed, s.cluster, ring)?["data"], clear.data());
    Ok(sealed)
}

/// `daas apply` of the clear Secret (sealed on the way) and of the
/// offline-sealed one (sent as it is); then the chain's own record: events
/// and transaction log hold no plaintext, the requests open.
async fn apply_and_read_back(
    s: &Setup,
    secret: &str,
    offline_sealed: &Value,
    clear: &Clear,
    ring: &Ring,
) -> anyhow::Result<()> {
    let said = s
        .daas
        .ok(&[
            "apply",
            "-f",
            secret,
            "--no-wait",
            "--allow-dev-attestation",
        ])
        .await?;
    assert!(said.contains("secret/db submitted"), "{said}");
    let sealed_file = s.dir.path().join("sealed.json");
    std::fs::write(&sealed_file, offline_sealed.to_string())?;
    let sealed_path = path(&sealed_file)?;
    s.daas
        .ok(&["apply", "-f", sealed_path, "--no-wait"])
        .await?;

    let requests = sealed_requests(&s.chain, 2).await?;
    assert_eq!(requests.len(), 2);
    for r in &requests {
        clear.assert_absent(&r.manifest.0, "a K8sAPIRequest manifest");
        let manifest: Value = serde_json::from_slice(&r.manifest.0)?;
        assert_eq!(
            sealed_version(&manifest),
            Some("daas-seal-v1; key-version=1")
        );
        assert!(manifest.get("stringData").is_none());
        assert_eq!(open(&manifest, r.cluster_id, ring)?["data"], clear.data());
    }
    assert_eq!(
        &serde_json::from_slice::<Value>(&requests[1].manifest.0)?,
        offline_sealed,
        "a sealed Secret goes on chain as it was sealed"
    );
    for (_, contents) in s.chain.events() {
        clear.assert_absent(&contents, "an event");
    }
    let wal = std::fs::read(s.dir.path().join("chain/chain.wal"))?;
    clear.assert_absent(&wal, "the dev chain's transaction log");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_reach_the_chain_only_sealed_to_the_registered_key() -> anyhow::Result<()> {
    let s = setup().await?;
    let mut rng = Rng::new(test_seed("sealed secrets"));
    let clear = Clear::new(&mut rng);
    let secret_file = s.dir.path().join("secret.yaml");
    std::fs::write(&secret_file, clear.manifest())?;
    let secret = path(&secret_file)?;

    refused_without_a_key(&s, secret, &clear).await?;
    let key1 = register(&s, 1, false).await?;
    let hex1 = hex::encode(key1.public_key().0);
    let ring = BTreeMap::from([(1, key1)]);
    seal_from_chain(&s, secret, &clear, &ring, 1).await?;
    let offline_sealed = seal_offline(&s, &clear, &hex1, &ring).await?;
    apply_and_read_back(&s, secret, &offline_sealed, &clear, &ring).await?;

    // A rotation: the next version is the one daas seals to.
    let key2 = register(&s, 2, true).await?;
    let ring2 = BTreeMap::from([(2, key2)]);
    seal_from_chain(&s, secret, &clear, &ring2, 2).await?;

    s.chain.stop().await;
    Ok(())
}
