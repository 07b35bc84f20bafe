//! `master register` and `master run --register-config`: the master's
//! attestation document, checked here first, submitted on chain (decision
//! 0020, 0021; Nautilus' permissionless registration).
//!
//! 1. `GET <api>/v1/attestation?nonce=<32 random bytes>`;
//! 2. `daas_attestation::verify` at the current time against the given
//!    root (AWS's, or the dev CA's), then `check_nonce`: a stale or
//!    replayed document is not submitted;
//! 3. one PTB (`load_nitro_attestation` then `enclave::register_enclave`),
//!    paid by the operator key of a `daas` configuration
//!    (`daas_cli::enclave::register_attested`); the chain checks the
//!    document again, and the PCRs against the registered set.

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use base64::Engine as _;
use daas_attestation::TrustedRoot;
use daas_domain::events::EnclaveRegistered;

/// What to register with.
#[derive(Clone, Debug)]
pub struct Registration {
    /// The master's status API (`http://127.0.0.1:9187`).
    pub api: String,
    /// The `daas` configuration file (node, package, cluster, key).
    pub config: PathBuf,
    /// The paying key's alias in that configuration's keystore (default:
    /// the configuration's `key`).
    pub key: Option<String>,
    /// The root the document must chain to.
    pub root: TrustedRoot,
}

/// `aws` or `dev:PATH` (a DER root certificate, e.g. the dev CA's
/// `root.der`).
pub fn parse_root(value: &str) -> anyhow::Result<TrustedRoot> {
    value
        .parse::<daas_service::nitro_root::NitroRootSpec>()
        .map_err(anyhow::Error::msg)?
        .load()
}

/// Fetches a document with a fresh random nonce and checks it: chain to
/// `root` at the current time, and the nonce. Returns its bytes.
pub async fn fetch_checked(api: &str, root: &TrustedRoot) -> anyhow::Result<Vec<u8>> {
    let mut nonce = [0u8; 32];
    daas_sealing::rng::RngCore::fill_bytes(&mut daas_sealing::rng::os(), &mut nonce);
    let url = format!(
        "{}/v1/attestation?nonce={}",
        api.trim_end_matches('/'),
        hex::encode(nonce)
    );
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let body = resp.text().await?;
    anyhow::ensure!(status.is_success(), "GET {url}: {status}: {body}");
    let view: crate::attestation::AttestationView =
        serde_json::from_str(&body).with_context(|| format!("GET {url}: not an attestation"))?;
    let document = base64::engine::general_purpose::STANDARD
        .decode(&view.document)
        .context("the document is not base64")?;
    let doc = daas_attestation::verify(&document, root, crate::attestation::now_ms())
        .context("the master's attestation document does not verify")?;
    doc.check_nonce(&nonce)
        .context("the document does not carry our nonce")?;
    if doc.is_dev() {
        tracing::warn!(
            "registering a DEV attestation (module_id {})",
            doc.module_id
        );
    }
    Ok(document)
}

/// Fetches, checks and submits the document; the chain's event.
pub async fn register(r: &Registration) -> anyhow::Result<EnclaveRegistered> {
    let document = fetch_checked(&r.api, &r.root).await?;
    submit(r, &document).await
}

/// Submits a checked document with the configuration's key.
async fn submit(r: &Registration, document: &[u8]) -> anyhow::Result<EnclaveRegistered> {
    let args = daas_cli::config::ConfigArgs {
        config: Some(r.config.clone()),
        key: r.key.clone(),
        ..Default::default()
    };
    let mut session = daas_cli::session::Session::open(&args)
        .await
        .with_context(|| format!("daas configuration {}", r.config.display()))?;
    daas_cli::enclave::register_attested(&mut session, document).await
}

/// [`register`], retried for up to `within` while it fails (the API not up
/// yet, the chain not reachable yet).
pub async fn register_within(
    r: &Registration,
    within: Duration,
) -> anyhow::Result<EnclaveRegistered> {
    let until = tokio::time::Instant::now() + within;
    let mut pause = Duration::from_millis(200);
    loop {
        match register(r).await {
            Ok(e) => return Ok(e),
            Err(e) if tokio::time::Instant::now() + pause < until => {
                tracing::info!(
                    error = format!("{e:#}"),
                    "registration not done yet; retrying"
                );
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
}

/// The event as printed: JSON with hex keys.
pub fn render(e: &EnclaveRegistered) -> String {
    serde_json::json!({
        "cluster_id": e.cluster_id.to_string(),
        "pcr_version": e.pcr_version,
        "public_key": hex::encode(&e.public_key.0),
        "sealing_key_version": e.sealing_key_version,
        "sealing_public_key": hex::encode(&e.sealing_public_key.0),
        "module_id": String::from_utf8_lossy(&e.module_id.0),
        "attestation_timestamp_ms": e.attestation_timestamp_ms,
        "registered_by": e.registered_by.to_string(),
        "timestamp_ms": e.timestamp_ms,
        "seq": e.seq,
    })
    .to_string()
}
