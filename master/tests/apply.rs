//! The master applies a realistic log into a real etcd: outcomes match the
//! pure ledger's decisions, objects are what kube-apiserver would read,
//! Secrets decrypt independently, bad requests change nothing, and replays
//! give the live state root.

mod support;

use daas_domain::{
    Address, Bytes, Event, LogPosition, Outcome, OutcomeResult, events::K8sApiRequest,
};
use daas_master::{
    apply::{Engine, EngineError, Incoming},
    metrics::Metrics,
    outcomes::Publisher,
    pipeline::{MasterError, Until, apply_log, drain},
    replay::replay,
    state_root::state_root,
};
use daas_testkit::{
    Stack, TestEtcd, TestTopic, produce,
    workload::{self, CLUSTER, Workload},
};
use etcd_client::GetOptions;
use k8s_openapi::api::{
    apps::v1::Deployment,
    core::v1::{Secret, Service},
};
use support::*;
use tokio_util::sync::CancellationToken;

fn summary(o: &Outcome) -> (u64, String) {
    let r = match &o.result {
        OutcomeResult::Applied { action, key, .. } => format!("{action} {key}"),
        OutcomeResult::Rejected(r) => format!("rejected {}", r.code.as_str()),
        OutcomeResult::Quarantined { offset, label, .. } => {
            format!("quarantined record {offset} ({label})")
        }
    };
    (o.request_id, r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applies_a_workload_like_kube_apiserver_and_replays_to_the_same_root() -> anyhow::Result<()>
{
    let stack = Stack::from_env()?;
    let (log, out) = (TestTopic::new(&stack).await?, TestTopic::new(&stack).await?);
    let etcd = TestEtcd::new(&stack).await?;
    let mut w = Workload::new(7, 40);
    let records = w.records(6_000);
    produce(&stack.kafka_brokers, &log.name, &records).await?;
    let args = log_args(&stack.kafka_brokers, &log.name, &out.name);
    let live = etcd.key("live/");

    // Live, publishing outcomes.
    let mut publisher = Publisher::new(&stack.kafka_brokers, &out.name)?;
    let engine = Engine::open(etcd.client.clone(), config(&live)).await?;
    let stop = CancellationToken::new();
    let engine = apply_log(
        engine,
        &args,
        &Metrics::default(),
        Some(&mut publisher),
        Until::Offset(6_000),
        None,
        &stop,
    )
    .await?;
    assert_eq!(engine.next_offset(), 6_000);
    assert_eq!(
        engine.ledger(),
        w.ledger(),
        "the master's ledger is the pure ledger"
    );

    // Outcomes: exactly the pure decisions, once each, in order, numbered
    // 1, 2, 3, ...
    let got = read_outcomes(&stack.kafka_brokers, &out.name)?;
    assert!(got.iter().map(|o| o.sequence).eq(1..=got.len() as u64));
    let want: Vec<Outcome> = workload::outcomes(&records)
        .iter()
        .map(|o| Outcome::decode(o))
        .collect::<Result<_, _>>()?;
    // Same decision, same object (keys relative to the registry root); the
    // pure stand-in does not know created from configured from unchanged.
    let strip = |o: &Outcome| {
        let (id, s) = summary(o);
        let s = s
            .replace("configured", "created")
            .replace("unchanged", "created");
        (
            id,
            match s.split_once("registry/") {
                Some((head, tail)) => format!("{}{tail}", head.split(' ').next().unwrap_or("")),
                None => s,
            },
        )
    };
    let (g, w2): (Vec<_>, Vec<_>) = (
        got.iter().map(strip).collect(),
        want.iter().map(strip).collect(),
    );
    assert_eq!(g.len(), w2.len());
    if let Some(i) = (0..g.len()).find(|&i| g[i] != w2[i]) {
        panic!("outcome {i}: got {:?}, want {:?}", g[i], w2[i]);
    }
    let mut codes: Vec<_> = got
        .iter()
        .filter_map(|o| match &o.result {
            OutcomeResult::Rejected(r) => Some(r.code.as_str()),
            _ => None,
        })
        .collect();
    codes.sort();
    codes.dedup();
    assert!(codes.len() >= 6, "{codes:?}");
    for o in &got {
        if let OutcomeResult::Applied {
            action,
            resource_version,
            ..
        } = &o.result
        {
            assert_eq!(action == "deleted", *resource_version == 0, "{o:?}");
        }
    }

    // Objects as kube-apiserver reads them.
    let mut c = etcd.client.clone();
    let l = layout(&live);
    let first = |resource: &str| {
        let mut c = c.clone();
        let prefix = format!("{}/{resource}/", l.registry);
        async move {
            let r = c
                .get(
                    prefix.as_str(),
                    Some(GetOptions::new().with_prefix().with_limit(1)),
                )
                .await?;
            let kv = r
                .kvs()
                .first()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no {prefix}"))?;
            anyhow::Ok((String::from_utf8(kv.key().to_vec())?, kv.value().to_vec()))
        }
    };
    let (key, value) = first("deployments").await?;
    let raw: serde_json::Value = serde_json::from_slice(&value)?;
    assert!(
        raw["metadata"].get("resourceVersion").is_none(),
        "never stored"
    );
    let d: Deployment = serde_json::from_slice(&value)?;
    let meta = &d.metadata;
    assert!(key.ends_with(&format!(
        "/deployments/{}/{}",
        meta.namespace.as_deref().unwrap_or("?"),
        meta.name.as_deref().unwrap_or("?")
    )));
    assert_eq!(meta.uid.as_ref().map(String::len), Some(36));
    assert!(meta.creation_timestamp.is_some() && meta.generation >= Some(1));
    assert!(
        d.spec
            .template
            .spec
            .as_ref()
            .is_some_and(|p| !p.containers.is_empty()),
        "{d:?}"
    );
    let (key, value) = first("services/specs").await?;
    let s: Service = serde_json::from_slice(&value)?;
    assert!(
        key.contains("/services/specs/")
            && s.spec
                .as_ref()
                .is_some_and(|x| x.ports.as_ref().is_some_and(|p| !p.is_empty())),
        "{s:?}"
    );
    // The workload's Secrets are sealed to testkit's key: stored opened
    // (the plaintext the workload sealed, `secret-password-<revision>`, and
    // no sealed annotation), encrypted at rest, decrypted here independently.
    let (key, value) = first("secrets").await?;
    let secret: Secret = serde_json::from_slice(&decrypt_at_rest(&key, &value)?)?;
    let revision = secret
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get("revision"))
        .ok_or_else(|| anyhow::anyhow!("{key}: no revision label"))?;
    let password = secret.data.as_ref().and_then(|d| d.get("password"));
    assert_eq!(
        password.map(|p| p.0.as_slice()),
        Some(format!("secret-password-{revision}").as_bytes()),
        "{key}"
    );
    assert!(secret.metadata.annotations.is_none(), "{key}: {secret:?}");

    // Bad requests: distinct reasons, nothing changes.
    let (root_before, _) = state_root(&mut c, &l, config(&live).secret_key.as_ref()).await?;
    let tenant = Address([0x7e; 32]); // never staked
    let owner_ns = got
        .iter()
        .find_map(|o| match &o.result {
            OutcomeResult::Applied { action, key, .. }
                if action == "created" && key.contains("/namespaces/") =>
            {
                key.rsplit('/').next().map(str::to_owned)
            }
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("a namespace"))?;
    let rich = w
        .ledger()
        .stakes()
        .max_by_key(|s| s.2)
        .map(|s| s.0)
        .unwrap_or(tenant);
    let owner = w.ledger().namespace_owner(CLUSTER, &owner_ns);
    let stranger = w
        .ledger()
        .stakes()
        .map(|s| s.0)
        .find(|a| {
            Some(*a) != owner
                && w.ledger().tier_stake(*a) >= 10_000_000_000
                && !w.ledger().is_admin(CLUSTER, *a)
                && w.ledger().grant(CLUSTER, &owner_ns, *a).is_none()
        })
        .ok_or_else(|| anyhow::anyhow!("a stranger with stake"))?;
    let bad = [
        (
            tenant,
            "create",
            "v1",
            "ConfigMap",
            owner_ns.as_str(),
            "cm",
            workload::manifest("ConfigMap", "v1", "cm", &owner_ns, 1),
        ),
        (
            stranger,
            "create",
            "v1",
            "ConfigMap",
            owner_ns.as_str(),
            "cm",
            workload::manifest("ConfigMap", "v1", "cm", &owner_ns, 1),
        ),
        (
            rich,
            "create",
            "v1",
            "ConfigMap",
            owner_ns.as_str(),
            "cm",
            vec![b'#'; 70_000],
        ),
        (
            rich,
            "create",
            "v1",
            "ConfigMap",
            owner_ns.as_str(),
            "cm",
            b"{broken".to_vec(),
        ),
        (
            rich,
            "create",
            "example.com/v1",
            "Widget",
            owner_ns.as_str(),
            "w",
            b"kind: Widget".to_vec(),
        ),
    ];
    let extra: Vec<Vec<u8>> = bad
        .iter()
        .enumerate()
        .map(|(i, (who, verb, api, kind, ns, name, m))| {
            let event = Event::K8sApiRequest(K8sApiRequest {
                cluster_id: CLUSTER,
                request_id: 1_000_000 + i as u64,
                sender: *who,
                verb: (*verb).into(),
                api_version: (*api).into(),
                kind: (*kind).into(),
                namespace: (*ns).into(),
                name: (*name).into(),
                manifest: Bytes(m.clone()),
                stake: w.ledger().tier_stake(*who),
                timestamp_ms: 1,
                seq: 0,
            });
            workload::record(
                LogPosition::new(1_000_000, i as u64, 0),
                [9; 32],
                1_800_000_000_000,
                *who,
                &event,
            )
        })
        .collect();
    produce(&stack.kafka_brokers, &log.name, &extra).await?;
    let engine = apply_log(
        engine,
        &args,
        &Metrics::default(),
        Some(&mut publisher),
        Until::Offset(6_005),
        None,
        &stop,
    )
    .await?;
    assert_eq!(engine.next_offset(), 6_005);
    let (root_after, _) = state_root(&mut c, &l, config(&live).secret_key.as_ref()).await?;
    assert_eq!(root_after, root_before, "rejections change nothing");
    let last = read_outcomes(&stack.kafka_brokers, &out.name)?;
    let reasons: Vec<_> = last[last.len() - 5..]
        .iter()
        .map(|o| summary(o).1)
        .collect();
    assert_eq!(
        reasons,
        [
            "rejected insufficient_stake",
            "rejected namespace_forbidden",
            "rejected oversize",
            "rejected malformed_manifest",
            "rejected unsupported_kind",
        ]
    );

    // Two replays and the live state: one root.
    let (live_root, entries) = state_root(&mut c, &l, config(&live).secret_key.as_ref()).await?;
    assert!(entries > 100);
    for n in ["replay-a/", "replay-b/"] {
        let r = replay(
            etcd.client.clone(),
            config(&etcd.key(n)),
            &args,
            6_005,
            &stop,
        )
        .await?;
        assert!(r.complete);
        if r.root != live_root {
            let mut a =
                daas_master::state_root::entries(&mut c, &l, config(&live).secret_key.as_ref())
                    .await?;
            let mut b = daas_master::state_root::entries(
                &mut c,
                &layout(&etcd.key(n)),
                config(&live).secret_key.as_ref(),
            )
            .await?;
            a.sort();
            b.sort();
            let i = (0..a.len().max(b.len()))
                .find(|&i| a.get(i) != b.get(i))
                .unwrap_or(0);
            let show = |e: Option<&(String, Vec<u8>)>| {
                e.map(|(k, v)| format!("{k} = {}", String::from_utf8_lossy(v)))
            };
            panic!(
                "{n}: {} vs {} entries; first difference:\n live   {:?}\n replay {:?}",
                a.len(),
                b.len(),
                show(a.get(i)),
                show(b.get(i))
            );
        }
        assert_eq!(r.entries, entries);
    }
    // A replay refuses a non-empty target.
    assert!(
        replay(
            etcd.client.clone(),
            config(&etcd.key("replay-a/")),
            &args,
            6_005,
            &stop
        )
        .await
        .is_err()
    );
    Ok(())
}

/// A create is planned without reading its key when the ledger says the object
/// does not exist. If something else (a k3s controller) wrote that key
/// meanwhile, the Txn's `mod_revision == 0` guard fails it; the reopened
/// engine reads its first batch and applies the create over the stranger.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_over_a_key_written_by_someone_else_conflicts_once_then_applies()
-> anyhow::Result<()> {
    let stack = Stack::from_env()?;
    let etcd = TestEtcd::new(&stack).await?;
    let records = Workload::new(11, 30).records(3_000);
    let prefix = etcd.key("live/");
    // A create well past the first batch (which is always read carefully).
    let offset_of = |id: u64| {
        records.iter().position(|r| {
            matches!(daas_domain::LogEntry::decode(r), Ok(e)
                if matches!(&e.body, daas_domain::Body::Event(Event::K8sApiRequest(q)) if q.request_id == id))
        })
    };
    let (offset, key) = workload::outcomes(&records)
        .iter()
        .filter_map(|o| Outcome::decode(o).ok())
        .find_map(|o| match (o.result, offset_of(o.request_id)) {
            (OutcomeResult::Applied { action, key, .. }, Some(offset))
                if action == "created" && offset > 1_000 =>
            {
                Some((offset, key))
            }
            _ => None,
        })
        .ok_or_else(|| anyhow::anyhow!("the workload has a late create"))?;
    let key = key.replacen("/registry", &format!("{prefix}registry"), 1);
    let mut client = etcd.client.clone();
    let foreign = client
        .put(key.as_str(), br#"{"kind":"Foreign"}"#.to_vec(), None)
        .await?;
    let foreign_rev = foreign.header().map_or(0, |h| h.revision());

    let metrics = Metrics::default();
    let mut engine = Engine::open(etcd.client.clone(), config(&prefix)).await?;
    let mut buffer: std::collections::VecDeque<Incoming> =
        records.iter().map(|r| Incoming::unverified(r)).collect();
    let first = drain(&mut engine, &mut buffer, &metrics, None, None).await;
    assert!(
        matches!(first, Err(MasterError::Engine(EngineError::Conflict))),
        "request {offset}: the guessed create must fail its guard, got {first:?}"
    );
    let mut engine = Engine::open(etcd.client.clone(), config(&prefix)).await?;
    let mut rest: std::collections::VecDeque<Incoming> = records[engine.next_offset() as usize..]
        .iter()
        .map(|r| Incoming::unverified(r))
        .collect();
    drain(&mut engine, &mut rest, &metrics, None, None).await?;
    assert_eq!(engine.next_offset(), records.len() as i64);
    assert_eq!(
        metrics.conflicts.get(),
        1,
        "one conflict, then the careful batch"
    );

    let got = client.get(key.as_str(), None).await?;
    let kv = got
        .kvs()
        .first()
        .ok_or_else(|| anyhow::anyhow!("{key} is gone"))?;
    assert!(
        kv.mod_revision() > foreign_rev,
        "the create was applied over the stranger"
    );
    assert_ne!(kv.value(), br#"{"kind":"Foreign"}"#);
    Ok(())
}
