//! Signed receipts and the ledger root (decision 0021), on the real stack:
//!
//! - a caught-up master's last outcome carries the ledger root that a
//!   replay of the same log reaches, and that a scan of etcd gives (here
//!   recomputed from the raw keys with `sha2`, not with the master's code);
//! - every outcome on the topic and from the status API carries a receipt
//!   that verifies (`daas_attestation::verify_receipt`) under the key the
//!   master's `/v1/attestation` document binds, checked against the dev
//!   CA's root; a changed field does not verify;
//! - dev mode is loud: the header on every answer, `dev` in the answer and
//!   the receipts, the gauge.

mod support;

use std::{sync::Arc, time::Duration};

use base64::Engine as _;
use daas_attestation::{Receipt, TrustedRoot, UserData, verify_receipt};
use daas_domain::{Outcome, outcome::OutcomeView};
use daas_master::{
    apply::Engine,
    ledger_root,
    receipts::ReceiptSigner,
    replay::replay,
    state::{self, Layout},
};
use daas_testkit::{free_addr, terminate, wait_for, workload::Workload};
use sha2::{Digest, Sha256};
use support::*;
use tokio_util::sync::CancellationToken;

/// The ledger root of `layout`, from the raw etcd keys, by the definition
/// in decision 0021 (independent of `daas_master::ledger_root`).
async fn raw_ledger_root(
    client: &etcd_client::Client,
    layout: &Layout,
) -> anyhow::Result<[u8; 32]> {
    let mut c = client.clone();
    let mut leaves = Vec::new();
    for prefix in [layout.ledger_prefix(), layout.evictions_prefix()] {
        for kv in state::range(&mut c, &prefix).await? {
            let name = format!(
                "daas{}",
                &String::from_utf8(kv.key().to_vec())?[layout.state.len()..]
            );
            let value = &kv.value()[..kv.value().len() - 32];
            let mut h = Sha256::new();
            h.update((name.len() as u32).to_be_bytes());
            h.update(name.as_bytes());
            h.update((value.len() as u32).to_be_bytes());
            h.update(value);
            leaves.push((name, <[u8; 32]>::from(h.finalize())));
        }
    }
    leaves.sort();
    let mut h = Sha256::new();
    h.update(b"k3s-daas/ledger-root/v1\0");
    for (_, l) in &leaves {
        h.update(l);
    }
    Ok(h.finalize().into())
}

/// The workload's log cut just after its last request of the served
/// cluster, so the last outcome's Txn is the last one.
fn log_ending_in_a_request(n: usize) -> Vec<Vec<u8>> {
    let mut records = Workload::new(61, 12).records(n);
    while let Some(last) = records.last() {
        if !request_ids(std::slice::from_ref(last)).is_empty() {
            break;
        }
        records.pop();
    }
    records
}

fn payload_of(o: &Outcome) -> anyhow::Result<(Receipt, daas_domain::outcome::SignedReceipt)> {
    let r = o
        .receipt
        .clone()
        .ok_or_else(|| anyhow::anyhow!("unsigned: {o:?}"))?;
    let p = o
        .receipt_payload()
        .ok_or_else(|| anyhow::anyhow!("no root: {o:?}"))?;
    Ok((p, r))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_receipt_root_is_the_replays_and_the_scans() -> anyhow::Result<()> {
    let slice = Slice::new("ledger-root").await?;
    let records = log_ending_in_a_request(1_500);
    slice.produce(&records).await?;
    let end = records.len() as i64;
    let key = daas_attestation::EnclaveKey::from_seed([0x11; 32]);
    let pk = key.public_key();
    let signer = Arc::new(ReceiptSigner::new(key, false, Default::default()));
    let mut publisher =
        daas_master::outcomes::Publisher::new(&slice.stack.kafka_brokers, &slice.out.name)?
            .with_signer(signer);
    let metrics = daas_master::metrics::Metrics::default();
    let engine = Engine::open(slice.etcd.client.clone(), config(&slice.prefix)).await?;
    apply_phase(
        engine,
        &slice.log_args(),
        &metrics,
        &mut publisher,
        end,
        &slice.etcd.client,
        &slice.prefix,
    )
    .await?;
    publisher.flush().await?;
    let outcomes = slice.outcomes()?;
    assert!(outcomes.len() > 300, "{} outcomes", outcomes.len());
    let last = outcomes
        .last()
        .ok_or_else(|| anyhow::anyhow!("no outcome"))?;
    assert_eq!(
        last.ledger_root_offset, end as u64,
        "the last request's Txn ends the log"
    );
    let live = raw_ledger_root(&slice.etcd.client, &layout(&slice.prefix)).await?;
    assert_eq!(
        last.ledger_root,
        Some(live),
        "the last receipt's root is the scan's"
    );
    let mut c = slice.etcd.client.clone();
    let (scanned, keys) = ledger_root::scan(&mut c, &layout(&slice.prefix)).await?;
    assert_eq!(scanned, live);
    assert!(keys > 10, "{keys} keys");
    // A replay into a fresh prefix reaches the same root.
    let other = format!("{}replay/", slice.prefix);
    let report = replay(
        slice.etcd.client.clone(),
        config(&other),
        &slice.log_args(),
        end,
        &CancellationToken::new(),
    )
    .await?;
    assert!(report.complete);
    assert_eq!(
        raw_ledger_root(&slice.etcd.client, &layout(&other)).await?,
        live
    );
    // Every outcome is signed, and verifies; roots move along the log.
    let mut roots = std::collections::HashSet::new();
    for o in &outcomes {
        let (p, r) = payload_of(o)?;
        assert_eq!(r.enclave_public_key, pk);
        assert!(!r.dev_attestation);
        verify_receipt(&pk, &p, o.request_timestamp_ms, &r.signature)?;
        assert!(o.request_timestamp_ms > 0, "{o:?}");
        roots.insert(o.ledger_root);
    }
    assert!(
        roots.len() > 1,
        "{} distinct roots: one per Txn",
        roots.len()
    );
    // A changed field, or another time, does not verify.
    let (p, r) = payload_of(last)?;
    let mut changed = last.clone();
    changed.request_id += 1;
    let (p2, _) = payload_of(&changed)?;
    assert!(verify_receipt(&pk, &p2, last.request_timestamp_ms, &r.signature).is_err());
    let moved = Receipt {
        ledger_root_offset: p.ledger_root_offset - 1,
        ..p.clone()
    };
    assert!(verify_receipt(&pk, &moved, last.request_timestamp_ms, &r.signature).is_err());
    assert!(verify_receipt(&pk, &p, last.request_timestamp_ms + 1, &r.signature).is_err());
    Ok(())
}

async fn get(url: &str) -> anyhow::Result<reqwest::Response> {
    Ok(reqwest::get(url).await?)
}

/// The receipt an API answer carries, as the payload it signs.
fn receipt_of(
    v: &OutcomeView,
    cluster: [u8; 32],
) -> anyhow::Result<(Receipt, u64, [u8; 64], [u8; 32])> {
    let r = v
        .receipt
        .clone()
        .ok_or_else(|| anyhow::anyhow!("unsigned: {v:?}"))?;
    let h = |s: &str| hex::decode(s);
    Ok((
        Receipt {
            cluster_id: cluster,
            request_id: v.request_id,
            outcome_digest: h(&r.outcome_digest)?,
            result: r.result,
            ledger_root: h(&r.ledger_root)?,
            ledger_root_offset: r.ledger_root_offset,
        },
        r.timestamp_ms,
        h(&r.signature)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("64"))?,
        h(&r.enclave_public_key)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("32"))?,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dev_master_attests_its_key_and_signs_every_outcome() -> anyhow::Result<()> {
    let slice = Slice::new("attest").await?;
    let records = log_ending_in_a_request(600);
    slice.produce(&records).await?;
    let addr = free_addr()?;
    let base = format!("http://{addr}");
    let keys = workload_key_dir()?;
    let mut child = master_command(
        &slice.stack.etcd_endpoints.join(","),
        &slice.prefix,
        slice.topics(),
        &addr.to_string(),
        &keys,
        None,
    )
    .spawn()?;
    wait_position(&slice.etcd.client, &slice.prefix, records.len() as i64).await?;
    let ids = request_ids(&records);
    let last_id = *ids.last().ok_or_else(|| anyhow::anyhow!("no request"))?;
    let url = format!("{base}/v1/requests/{last_id}");
    wait_for(
        "the API to serve the last request",
        Duration::from_secs(60),
        || {
            let url = url.clone();
            async move { Ok(get(&url).await.ok().filter(|r| r.status() == 200)) }
        },
    )
    .await?;

    // The document: verifies under the dev CA the master made beside its
    // keys, binds the nonce, the key, the cluster and the sealing key.
    let nonce = [0xab_u8; 32];
    let resp = get(&format!(
        "{base}/v1/attestation?nonce={}",
        hex::encode(nonce)
    ))
    .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("x-daas-dev-attestation")
            .map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    let view: serde_json::Value = serde_json::from_str(&resp.text().await?)?;
    assert_eq!(view["dev"], true);
    let doc = base64::engine::general_purpose::STANDARD
        .decode(view["document"].as_str().unwrap_or_default())?;
    let root = TrustedRoot::from_der(std::fs::read(format!("{keys}/dev-nitro-ca/root.der"))?)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as u64;
    let d = daas_attestation::verify(&doc, &root, now)?;
    d.check_nonce(&nonce)?;
    assert!(d.is_dev());
    let pk: [u8; 32] = d
        .public_key
        .clone()
        .unwrap_or_default()
        .try_into()
        .map_err(|_| anyhow::anyhow!("32-byte key"))?;
    assert_eq!(view["enclave_public_key"], hex::encode(pk));
    let ud = UserData::decode(d.user_data.as_deref().unwrap_or_default())?;
    assert_eq!(ud.cluster_id, daas_testkit::workload::CLUSTER.0);
    assert_eq!(
        ud.sealing_key_version,
        u64::from(daas_testkit::sealing::VERSION)
    );
    assert_eq!(view["sealing_key_version"], ud.sealing_key_version);
    assert!(daas_attestation::verify(&doc, &TrustedRoot::aws_nitro(), now).is_err());
    // Bad nonces.
    for bad in ["zz", "abc", &"00".repeat(513)] {
        let r = get(&format!("{base}/v1/attestation?nonce={bad}")).await?;
        assert_eq!(r.status(), 400, "{bad:.8}");
        assert!(r.headers().contains_key("x-daas-dev-attestation"));
    }

    // Every outcome on the topic and from the API is signed by that key.
    let outcomes = wait_for(
        "the outcomes on the topic",
        Duration::from_secs(60),
        || async {
            let o = slice.outcomes()?;
            Ok((o.iter().filter(|o| o.is_request()).count() == ids.len()).then_some(o))
        },
    )
    .await?;
    for o in &outcomes {
        let (p, r) = payload_of(o)?;
        assert_eq!(r.enclave_public_key, pk);
        assert!(r.dev_attestation);
        verify_receipt(&pk, &p, o.request_timestamp_ms, &r.signature)?;
    }
    for o in outcomes.iter().filter(|o| o.is_request()).step_by(37) {
        let resp = get(&format!("{base}/v1/requests/{}", o.request_id)).await?;
        assert_eq!(
            resp.headers()
                .get("x-daas-dev-attestation")
                .map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
        let v: OutcomeView = serde_json::from_str(&resp.text().await?)?;
        let (p, ts, sig, key) = receipt_of(&v, ud.cluster_id)?;
        assert_eq!(key, pk);
        assert_eq!(p.outcome_digest, o.digest().to_vec(), "the topic's outcome");
        verify_receipt(&pk, &p, ts, &sig)?;
        let changed = Receipt {
            result: p.result ^ 1,
            ..p.clone()
        };
        assert!(verify_receipt(&pk, &changed, ts, &sig).is_err());
        let other = daas_attestation::EnclaveKey::from_seed([0x55; 32]).public_key();
        assert!(verify_receipt(&other, &p, ts, &sig).is_err());
    }
    let metrics = get(&format!("{base}/metrics")).await?.text().await?;
    assert!(
        metrics.contains("master_attestation_dev_mode 1"),
        "{metrics:.2000}"
    );
    assert!(metrics.contains("master_attestation_documents_total{result=\"ok\"} 1"));
    assert!(metrics.contains("master_attestation_documents_total{result=\"bad_request\"} 3"));
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("master_receipts_signed_total ") && !l.ends_with(" 0"))
    );
    terminate(&mut child)?;
    Ok(())
}
