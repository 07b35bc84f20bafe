//! Sealed Secrets through the master into a real etcd (decision 0014).
//!
//! A Secret sealed to the cluster's key is opened in the apply path and
//! stored with plaintext `data` under the at-rest envelope (decrypted here
//! independently); a copied ciphertext, a flipped byte, an unregistered key
//! version, a registered version the master does not hold and a Secret in
//! clear are each refused with their own code and change nothing in etcd;
//! after a rotation (its key made on disk while the engine runs, then
//! registered on chain) Secrets of both versions exist, and a replay into a
//! fresh prefix gives the live state root. No plaintext reaches etcd
//! unencrypted, the outcome topic, or a message.

mod support;

use std::sync::Arc;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use daas_domain::{Address, Bytes, Event, events::SealingKeyRegistered};
use daas_master::{
    apply::{Config, Engine},
    metrics::Metrics,
    replay::replay,
    sealing_keys::{FileKeyStore, KeyRingHandle, KeyStore},
    state_root::state_root,
};
use daas_sealing::{SealingPrivateKey, SealingPublicKey, seal_secret};
use daas_testkit::{
    read_topic,
    workload::{ADMIN, CLUSTER},
};
use etcd_client::{Client, GetOptions};
use serde_json::{Value, json};
use support::*;
use tokio_util::sync::CancellationToken;

const SUI: u64 = 1_000_000_000;
const TENANT: Address = Address([0x7e; 32]);

/// A Secret manifest with `data` in clear (base64 of each value).
fn secret(ns: &str, name: &str, data: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(STANDARD.encode(v))))
        .collect();
    json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
           "metadata": {"name": name, "namespace": ns}, "data": data})
}

/// The Secret sealed as `daas` seals it.
fn sealed(
    ns: &str,
    name: &str,
    data: &[(&str, &str)],
    version: u32,
    pk: &SealingPublicKey,
) -> Value {
    let plain = secret(ns, name, data);
    seal_secret(&plain, CLUSTER, version, pk, &mut daas_sealing::rng::os()).expect("sealing")
}

/// `manifest` with one byte of `key`'s ciphertext flipped (past the clear
/// header: the binding tag still matches).
fn flip_ciphertext(mut manifest: Value, key: &str) -> Value {
    let text = manifest["data"][key].as_str().unwrap_or_default();
    let mut bytes = STANDARD.decode(text).unwrap_or_default();
    if let Some(last) = bytes.last_mut() {
        *last ^= 0x01;
    }
    manifest["data"][key] = json!(STANDARD.encode(bytes));
    manifest
}

fn register(log: &mut Log, version: u64, public_key: [u8; 32]) {
    let e = Event::SealingKeyRegistered(SealingKeyRegistered {
        cluster_id: CLUSTER,
        version,
        public_key: Bytes(public_key.to_vec()),
        registered_by: ADMIN,
        timestamp_ms: 1,
        seq: 0,
    });
    log.push(ADMIN, &e);
}

/// The cluster, sealing key version 1 = `v1` registered, and TENANT
/// (10 SUI) owning `namespaces`.
fn setup(v1: SealingPublicKey, namespaces: &[&str]) -> Log {
    let mut log = Log::with_cluster();
    register(&mut log, 1, v1.0);
    log.stake(TENANT, 10 * SUI);
    for ns in namespaces {
        log.namespace(TENANT, ns);
    }
    log
}

fn put_secret(log: &mut Log, ns: &str, name: &str, manifest: &Value) -> u64 {
    log.request(TENANT, "Secret", "v1", ns, name, &manifest.to_string())
}

/// Every value under `prefix` (the test's registry and master state).
async fn all_values(client: &Client, prefix: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let r = client
        .clone()
        .get(prefix, Some(GetOptions::new().with_prefix()))
        .await?;
    Ok(r.kvs()
        .iter()
        .map(|kv| {
            (
                String::from_utf8_lossy(kv.key()).into_owned(),
                kv.value().to_vec(),
            )
        })
        .collect())
}

/// The stored Secret `ns/name`, decrypted independently.
async fn stored_secret(
    client: &Client,
    prefix: &str,
    ns: &str,
    name: &str,
) -> anyhow::Result<Value> {
    let key = format!("{}/secrets/{ns}/{name}", layout(prefix).registry);
    let r = client.clone().get(key.as_str(), None).await?;
    let kv = r
        .kvs()
        .first()
        .ok_or_else(|| anyhow::anyhow!("{key} is not stored"))?;
    Ok(serde_json::from_slice(&decrypt_at_rest(&key, kv.value())?)?)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_secrets_open_refusals_change_nothing_and_rotation_replays() -> anyhow::Result<()> {
    let slice = Slice::new("live").await?;
    let (etcd, prefix) = (&slice.etcd, &slice.prefix);
    let dir = sealing_key_dir();
    let store = Arc::new(FileKeyStore::new(&dir));
    store.create_first()?;
    let v1 = store
        .load()?
        .public_key(1)
        .ok_or_else(|| anyhow::anyhow!("v1"))?;
    // Random plaintexts: found nowhere but in the decrypted etcd values.
    let (p1, p2) = (
        daas_testkit::unique_name("pw1"),
        daas_testkit::unique_name("tok2"),
    );

    let mut log = setup(v1, &["team-a", "team-b"]);
    let db = sealed(
        "team-a",
        "db",
        &[("password", &p1), ("user", "admin")],
        1,
        &v1,
    );
    let db_id = put_secret(&mut log, "team-a", "db", &db);
    let opened_end = log.end();

    // Refused: each its own code, nothing written.
    let mut copied = db.clone();
    copied["metadata"]["namespace"] = json!("team-b");
    let flipped = flip_ciphertext(
        sealed("team-a", "db-flipped", &[("password", &p1)], 1, &v1),
        "password",
    );
    let unregistered = sealed("team-a", "db-v7", &[("password", &p1)], 7, &v1);
    let clear = secret("team-a", "db-clear", &[("password", &p1)]);
    let refused = vec![
        put_secret(&mut log, "team-b", "db", &copied),
        put_secret(&mut log, "team-a", "db-flipped", &flipped),
        put_secret(&mut log, "team-a", "db-v7", &unregistered),
        put_secret(&mut log, "team-a", "db-clear", &clear),
    ];
    let refused_end = log.end();

    let mut applier = slice.applier()?;
    let cfg = config_with(prefix, Arc::new(KeyRingHandle::load(store.clone())?));
    let engine = Engine::open(etcd.client.clone(), cfg.clone()).await?;
    slice.produce(&log.records).await?;
    let (engine, opened) = applier.to(engine, opened_end).await?;
    let (engine, after_refusals) = applier.to(engine, refused_end).await?;
    let registries = [opened, after_refusals];
    assert_eq!(
        registries[1], registries[0],
        "refusals change nothing in etcd"
    );

    // Rotation while the engine runs: the key is made on disk, then
    // registered on chain; the engine picks it up at the registration.
    let v2 = store
        .rotate()
        .and_then(|v| store.load().map(|k| k.public_key(v)))?
        .ok_or_else(|| anyhow::anyhow!("v2"))?;
    register(&mut log, 2, v2.0);
    let api_id = put_secret(
        &mut log,
        "team-a",
        "api",
        &sealed("team-a", "api", &[("token", &p2)], 2, &v2),
    );
    // A version the chain registered but this master never held.
    let stranger = SealingPrivateKey::generate(&mut daas_sealing::rng::os()).public_key();
    register(&mut log, 3, stranger.0);
    let unheld = sealed("team-a", "late", &[("token", &p2)], 3, &stranger);
    let unheld_id = put_secret(&mut log, "team-a", "late", &unheld);
    slice.produce(&log.records[refused_end as usize..]).await?;
    let end = log.end();
    applier.to(engine, end).await?;

    let outcomes = slice.outcomes()?;
    assert_eq!(
        codes(&outcomes, &[db_id, api_id]),
        ["applied (created)", "applied (created)"]
    );
    assert_eq!(
        codes(&outcomes, &[refused.as_slice(), &[unheld_id]].concat()),
        [
            "sealed_binding_mismatch",
            "sealed_tampered",
            "sealing_key_unknown",
            "secret_unsealed",
            "sealing_key_unknown",
        ]
    );

    check_stored_opened(&etcd.client, prefix, &p1, &p2).await?;
    check_nowhere_in_clear(&slice, &[&p1, &p2]).await?;
    check_counted(&applier.metrics);
    check_replay_gives_the_live_root(&slice, &cfg, &store, end, &p1).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A master that does not hold the private key the chain registered says
/// so at that record: an error naming the version in its log (never a
/// private key), `master_sealing_key_unusable` = that version, and Secrets
/// sealed to it refused as `sealing_key_unknown`, counted by code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_without_the_registered_key_logs_and_exports_it() -> anyhow::Result<()> {
    let slice = Slice::new("unheld").await?;
    let dir = sealing_key_dir();
    FileKeyStore::new(&dir).create_first()?;
    let held_secret = std::fs::read_to_string(format!("{dir}/sealing-key-v1"))?;
    let stranger = SealingPrivateKey::generate(&mut daas_sealing::rng::os()).public_key();
    let mut log = setup(stranger, &["team-a"]);
    let plain = daas_testkit::unique_name("pw");
    let m = sealed("team-a", "db", &[("password", &plain)], 1, &stranger);
    let id = put_secret(&mut log, "team-a", "db", &m);
    slice.produce(&log.records).await?;

    let addr = daas_testkit::free_addr()?;
    let logs = std::env::temp_dir().join(daas_testkit::unique_name("master-unheld"));
    let endpoints = slice.stack.etcd_endpoints.join(",");
    let (prefix, topics) = (&slice.prefix, slice.topics());
    let mut child = master_command(&endpoints, prefix, topics, &addr.to_string(), &dir, None)
        .env("RUST_LOG", "info")
        .stderr(std::fs::File::create(&logs)?)
        .spawn()?;
    let outcome = daas_testkit::wait_for(
        "the Secret's outcome",
        std::time::Duration::from_secs(60),
        || async { Ok(slice.outcomes()?.into_iter().find(|o| o.request_id == id)) },
    )
    .await?;
    let metrics = reqwest::get(format!("http://{addr}/metrics"))
        .await?
        .text()
        .await?;
    terminate(&mut child)?;
    let text = std::fs::read_to_string(&logs)?;
    let _ = std::fs::remove_file(&logs);
    assert_eq!(codes(&[outcome], &[id]), ["sealing_key_unknown"]);
    assert!(
        metrics.contains("master_sealing_key_unusable 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("master_sealing_keys_held 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"master_sealed_refused_total{code="sealing_key_unknown"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("master_sealed_opened_total 0"),
        "{metrics}"
    );
    assert!(
        text.contains("ERROR")
            && text.contains("sealing key version 1 is held with another public key"),
        "{text}"
    );
    for secret in [held_secret.trim(), plain.as_str(), &STANDARD.encode(&plain)] {
        assert!(!text.contains(secret), "the log holds a secret: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Stored opened: plaintext data (kube's base64), no annotation, both versions.
async fn check_stored_opened(
    client: &Client,
    prefix: &str,
    p1: &str,
    p2: &str,
) -> anyhow::Result<()> {
    for (name, key, plain) in [("db", "password", p1), ("api", "token", p2)] {
        let s = stored_secret(client, prefix, "team-a", name).await?;
        assert_eq!(s["data"][key], json!(STANDARD.encode(plain)), "{name}");
        assert!(s["metadata"].get("annotations").is_none(), "{name}: {s}");
        assert!(s["metadata"]["uid"].is_string());
    }
    let db_stored = stored_secret(client, prefix, "team-a", "db").await?;
    assert_eq!(db_stored["data"]["user"], json!(STANDARD.encode("admin")));
    let secrets = all_values(client, &format!("{}/secrets/", layout(prefix).registry)).await?;
    assert_eq!(secrets.len(), 2, "only the two opened Secrets");
    Ok(())
}

/// Nowhere in clear: etcd (raw values, every key of the slice) and the
/// outcome topic (the messages), neither the plaintexts nor their base64.
async fn check_nowhere_in_clear(slice: &Slice, plains: &[&str]) -> anyhow::Result<()> {
    let b64: Vec<String> = plains.iter().map(|p| STANDARD.encode(p)).collect();
    let needles: Vec<&str> = plains
        .iter()
        .copied()
        .chain(b64.iter().map(String::as_str))
        .collect();
    let mut raw = all_values(&slice.etcd.client, &slice.prefix).await?;
    raw.extend(
        read_topic(&slice.stack.kafka_brokers, &slice.out.name)?
            .into_iter()
            .map(|v| ("outcome".into(), v)),
    );
    for (key, value) in &raw {
        for n in &needles {
            assert!(!contains(value, n), "{key} holds a plaintext");
        }
    }
    Ok(())
}

/// Opened and refused Secrets counted by code.
fn check_counted(metrics: &Metrics) {
    assert_eq!(metrics.sealed_opened.get(), 2);
    for (code, n) in [
        ("sealed_binding_mismatch", 1),
        ("sealed_tampered", 1),
        ("sealing_key_unknown", 2),
        ("secret_unsealed", 1),
    ] {
        let got = metrics
            .sealed_refused
            .get_or_create(&vec![("code", code)])
            .get();
        assert_eq!(got, n, "{code}");
    }
    assert_eq!(
        metrics.sealing_key_unusable.get(),
        3,
        "v3 is registered, not held"
    );
}

/// A replay into a fresh prefix, keys loaded anew: the live root, and the
/// old (v1) Secret opened again.
async fn check_replay_gives_the_live_root(
    slice: &Slice,
    cfg: &Config,
    store: &Arc<FileKeyStore>,
    end: i64,
    p1: &str,
) -> anyhow::Result<()> {
    let etcd = &slice.etcd;
    let l = layout(&slice.prefix);
    let mut c = etcd.client.clone();
    let (live_root, entries) = state_root(&mut c, &l, cfg.secret_key.as_ref()).await?;
    let fresh = config_with(
        &etcd.key("replay/"),
        Arc::new(KeyRingHandle::load(store.clone())?),
    );
    let r = replay(
        etcd.client.clone(),
        fresh,
        &slice.log_args(),
        end,
        &CancellationToken::new(),
    )
    .await?;
    assert!(r.complete);
    assert_eq!((r.root.as_str(), r.entries), (live_root.as_str(), entries));
    let replayed = stored_secret(&etcd.client, &etcd.key("replay/"), "team-a", "db").await?;
    assert_eq!(replayed["data"]["password"], json!(STANDARD.encode(p1)));
    Ok(())
}
