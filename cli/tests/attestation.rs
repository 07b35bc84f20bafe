//! Attested enclave registration and receipt checks through `daas` on a real
//! dev chain (testkit's in-process node serving gRPC on loopback) that pins a
//! dev CA's root for `0x2::nitro_attestation::load_nitro_attestation`: the
//! AdminCap holder registers all-zero PCRs (`daas admin register-pcrs
//! --debug-zeros`); an enclave registers itself with a dev document in one
//! PTB (`daas_cli::enclave::register_attested`, what `master register`
//! calls); `daas enclave show` prints it as DEV; `daas status --verify
//! --from-file` accepts its receipt only with `--allow-dev-attestation`,
//! and refuses an outcome with a changed field and a receipt re-signed by a
//! key not registered; a document whose PCR0 differs from a newer PCR set
//! aborts on chain with 406.
//!
//! The master plays no part here: the enclave key and documents are made by
//! the test, as the master's dev mode makes them.

use anyhow::{Context, ensure};
use daas_attestation::{
    EnclaveKey, UserData,
    dev::{DevCa, DevRequest},
};
use daas_cli::config::ConfigArgs;
use daas_domain::{
    Address, LogPosition, Outcome, OutcomeResult,
    outcome::{OutcomeView, SignedReceipt},
};
use daas_testkit::{TestChain, free_addr};
use serde_json::Value;

#[path = "support/daas.rs"]
mod daas;
use daas::{Daas, text};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

struct Setup {
    _chain: TestChain,
    daas: Daas,
    dir: tempfile::TempDir,
    cluster: Address,
    ca: DevCa,
}

async fn setup() -> anyhow::Result<Setup> {
    let dir = tempfile::tempdir()?;
    let ca = DevCa::generate(now_ms());
    let chain =
        TestChain::start_attested(&dir.path().join("chain"), free_addr()?, 100, ca.root()).await?;
    let (daas, cluster) = Daas::for_chain(dir.path(), &chain).await?;
    Ok(Setup {
        _chain: chain,
        daas,
        dir,
        cluster,
        ca,
    })
}

/// A dev document for `key`, binding the cluster and sealing key version 1.
fn document(s: &Setup, key: &EnclaveKey, pcr0: Option<[u8; 48]>) -> Vec<u8> {
    let user_data = UserData {
        cluster_id: s.cluster.0,
        sealing_key_version: 1,
        sealing_public_key: [0x33; 32],
    };
    s.ca.attest(&DevRequest {
        timestamp_ms: now_ms(),
        public_key: Some(key.public_key().to_vec()),
        user_data: Some(user_data.encode().to_vec()),
        nonce: None,
        pcrs: pcr0.map(|p| [(0, p)].into()).unwrap_or_default(),
    })
}

/// `register_attested` as the session of `s`'s configuration (the genesis
/// admin pays).
async fn register(
    s: &Setup,
    document: &[u8],
) -> anyhow::Result<daas_domain::events::EnclaveRegistered> {
    let args = ConfigArgs {
        config: Some(s.daas.config.clone()),
        node_url: None,
        master_url: None,
        cluster_id: None,
        key: None,
        keystore: None,
    };
    let mut session = daas_cli::session::Session::open(&args).await?;
    daas_cli::enclave::register_attested(&mut session, document).await
}

/// An applied outcome of the cluster, signed by `key`, as the status API
/// serves it.
fn signed_outcome(s: &Setup, key: &EnclaveKey, resource_version: i64) -> OutcomeView {
    let mut o = Outcome {
        cluster_id: s.cluster,
        request_id: 1,
        position: LogPosition::new(5, 0, 1),
        transaction_digest: [0x5a; 32],
        sequence: 1,
        request_timestamp_ms: now_ms(),
        ledger_root: Some([0x44; 32]),
        ledger_root_offset: 3,
        receipt: None,
        result: OutcomeResult::Applied {
            action: "created".into(),
            key: "/registry/namespaces/team-a".into(),
            resource_version,
            warnings: vec![],
        },
    };
    let payload = o.receipt_payload().expect("a ledger root");
    o.receipt = Some(SignedReceipt {
        enclave_public_key: key.public_key(),
        signature: key.sign_receipt(&payload, o.request_timestamp_ms),
        dev_attestation: true,
    });
    OutcomeView::from(&o)
}

/// `daas status --verify --from-file` of `view`: (success, output).
async fn verify(
    s: &Setup,
    view: &OutcomeView,
    name: &str,
    allow: bool,
) -> anyhow::Result<(bool, String)> {
    let file = s.dir.path().join(name);
    std::fs::write(&file, serde_json::to_vec_pretty(view)?)?;
    let file = file.to_str().context("a UTF-8 path")?;
    let mut args = vec!["status", "--verify", "--from-file", file];
    if allow {
        args.push("--allow-dev-attestation");
    }
    let out = s.daas.run(&args, None).await?;
    Ok((out.status.success(), text(&out)))
}

async fn show(s: &Setup) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(
        &s.daas.ok(&["enclave", "show", "--json"]).await?,
    )?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attested_enclave_registers_and_its_receipts_verify() -> anyhow::Result<()> {
    let s = setup().await?;
    let before = show(&s).await?;
    ensure!(
        before["pcr_set"].is_null() && before["enclave"].is_null(),
        "{before}"
    );
    let said = s
        .daas
        .ok(&["admin", "register-pcrs", "--debug-zeros"])
        .await?;
    ensure!(said.contains("registered PCR set version 1"), "{said}");

    let key = EnclaveKey::from_seed([0x11; 32]);
    let registered = register(&s, &document(&s, &key, None)).await?;
    ensure!(registered.public_key.0 == key.public_key() && registered.pcr_version == 1);
    let shown = show(&s).await?;
    let pk = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737";
    assert_eq!(shown["enclave"]["public_key"], pk, "{shown}");
    assert_eq!(shown["enclave"]["dev"], true);
    assert_eq!(shown["enclave"]["module_id"], "k3s-daas-dev-enclave");
    assert_eq!(
        shown["sealing_key"]["version"], 1,
        "registering bound sealing key v1"
    );
    assert_eq!(shown["pcr_set"]["pcr0"], "00".repeat(48));
    let text_show = s.daas.ok(&["enclave", "show"]).await?;
    ensure!(
        text_show.contains("DEV") && text_show.contains(pk),
        "{text_show}"
    );

    let good = signed_outcome(&s, &key, 7);
    let (ok, out) = verify(&s, &good, "good.json", false).await?;
    ensure!(
        !ok && out.contains("DEV attestation mode"),
        "a dev receipt without the flag:\n{out}"
    );
    let (ok, out) = verify(&s, &good, "good.json", true).await?;
    ensure!(ok, "{out}");
    ensure!(
        out.contains("receipt: verified (enclave d04a…8737")
            && out.contains("PCR set 1")
            && out.contains(&format!("ledger root: {}@3", "44".repeat(32)))
            && out.contains("warning: DEV attestation"),
        "{out}"
    );

    let changed = OutcomeView {
        resource_version: 8,
        ..good.clone()
    };
    let (ok, out) = verify(&s, &changed, "changed.json", true).await?;
    ensure!(!ok && out.contains("the outcome was changed"), "{out}");

    let forged = signed_outcome(&s, &EnclaveKey::from_seed([0x55; 32]), 7);
    let (ok, out) = verify(&s, &forged, "forged.json", true).await?;
    let other = "c6822637c7d310ec57627be00ba259d253749f4aaf644470cffbe53a35f73242";
    ensure!(
        !ok && out.contains(&format!("no enclave registered on chain has key {other}")),
        "{out}"
    );

    // A new image: PCR set 2 has another PCR0; a document with the old
    // (zero) PCRs no longer registers, and one with the new PCR0 does.
    let pcr0 = "ab".repeat(48);
    let zeros = "00".repeat(48);
    let said = s
        .daas
        .ok(&[
            "admin",
            "register-pcrs",
            "--pcr0",
            &pcr0,
            "--pcr1",
            &zeros,
            "--pcr2",
            &zeros,
        ])
        .await?;
    ensure!(said.contains("registered PCR set version 2"), "{said}");
    let key2 = EnclaveKey::from_seed([0x12; 32]);
    let err = register(&s, &document(&s, &key2, None))
        .await
        .expect_err("PCRs of set 1 after set 2");
    let err = format!("{err:#}");
    ensure!(
        err.contains("abort code 406") && err.contains("enclave::"),
        "{err}"
    );
    let registered = register(&s, &document(&s, &key2, Some([0xab; 48]))).await?;
    ensure!(registered.pcr_version == 2, "{registered:?}");
    // The first key still verifies the receipts it signed.
    let (ok, out) = verify(&s, &good, "good-again.json", true).await?;
    ensure!(ok, "{out}");
    Ok(())
}
