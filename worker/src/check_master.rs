//! `worker check-master`: before a node trusts a master, it asks the master
//! for a fresh attestation document (`GET /v1/attestation?nonce=HEX`, 32
//! random bytes) and checks it: the certificate chain to the pinned root
//! (the AWS Nitro root, or a dev CA's root given as a file), valid now, the
//! COSE signature, the nonce (so it is not a replayed document), that the
//! document's `public_key` is the key the master says it signs with, and the
//! `user_data` binding. A dev document (its `module_id`) is refused unless
//! dev attestation is allowed. It does not check PCRs: the chain's
//! registration does (`daas enclave show`).

use base64::Engine as _;
use daas_attestation::{AttestationError, Document, TrustedRoot, UserData};

/// `--root aws|dev:PATH`.
pub use daas_service::nitro_root::NitroRootSpec as RootArg;

/// The master's `/v1/attestation` answer (the fields checked here).
#[derive(Clone, Debug, serde::Deserialize)]
pub struct AttestationAnswer {
    /// What the master says of itself (not trusted: the document decides).
    #[serde(default)]
    pub dev: bool,
    /// The document, base64.
    pub document: String,
    /// The key it signs receipts with, hex.
    pub enclave_public_key: String,
}

/// A document that passed.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The verified document.
    pub document: Document,
    /// Its `user_data`.
    pub user_data: UserData,
    /// True for a dev document.
    pub dev: bool,
}

/// Why a master's attestation is refused.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The answer is not usable.
    #[error("the master's answer: {0}")]
    Answer(String),
    /// The document does not verify (or has another nonce).
    #[error("the attestation document does not verify: {0}")]
    Document(#[from] AttestationError),
    /// The document's public key is not the one the master names.
    #[error("the document's public_key is not the enclave key the master names")]
    KeyMismatch,
    /// A dev document, not allowed.
    #[error(
        "the master runs in DEV attestation mode (module_id {0:?}: a local test CA, not an AWS \
         Nitro enclave); pass --allow-dev-attestation to accept it"
    )]
    DevNotAllowed(String),
}

/// Checks `answer` to a request with `nonce`, against `root` at `now_ms`.
pub fn check(
    answer: &AttestationAnswer,
    nonce: &[u8],
    root: &TrustedRoot,
    now_ms: u64,
    allow_dev: bool,
) -> Result<Checked, CheckError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(answer.document.trim())
        .map_err(|e| CheckError::Answer(format!("document is not base64: {e}")))?;
    let document = daas_attestation::verify(&bytes, root, now_ms)?;
    document.check_nonce(nonce)?;
    let named = hex::decode(&answer.enclave_public_key)
        .map_err(|e| CheckError::Answer(format!("enclave_public_key is not hex: {e}")))?;
    if document.public_key.as_deref() != Some(named.as_slice()) {
        return Err(CheckError::KeyMismatch);
    }
    let user_data = UserData::decode(document.user_data.as_deref().unwrap_or_default())?;
    let dev = document.is_dev();
    if dev && !allow_dev {
        return Err(CheckError::DevNotAllowed(
            document.module_id.escape_debug().to_string(),
        ));
    }
    Ok(Checked {
        document,
        user_data,
        dev,
    })
}

/// Asks the master at `url` for a document with a fresh nonce and checks it.
pub async fn run(url: &str, root: &TrustedRoot, allow_dev: bool) -> anyhow::Result<Checked> {
    use anyhow::Context as _;
    let mut nonce = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .context("HTTP client")?;
    let endpoint = format!(
        "{}/v1/attestation?nonce={}",
        url.trim_end_matches('/'),
        hex::encode(nonce)
    );
    let resp = http
        .get(&endpoint)
        .send()
        .await
        .with_context(|| format!("cannot reach the master at {url}"))?;
    let status = resp.status();
    anyhow::ensure!(
        status.is_success(),
        "{endpoint}: {status}: {}",
        resp.text().await.unwrap_or_default()
    );
    let answer: AttestationAnswer = resp
        .json()
        .await
        .with_context(|| format!("{endpoint}: not an attestation answer"))?;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Ok(check(&answer, &nonce, root, now_ms, allow_dev)?)
}

#[cfg(test)]
mod tests {
    use daas_attestation::dev::{DevCa, DevRequest};

    use super::*;

    const NOW_MS: u64 = 1_764_000_000_000;

    fn answer(ca: &DevCa, nonce: &[u8], key: [u8; 32]) -> AttestationAnswer {
        let user_data = UserData {
            cluster_id: [0x22; 32],
            sealing_key_version: 3,
            sealing_public_key: [0x33; 32],
        };
        let document = ca.attest(&DevRequest {
            timestamp_ms: NOW_MS,
            public_key: Some(key.to_vec()),
            user_data: Some(user_data.encode().to_vec()),
            nonce: Some(nonce.to_vec()),
            pcrs: Default::default(),
        });
        AttestationAnswer {
            // What the master says does not decide: the document does.
            dev: false,
            document: base64::engine::general_purpose::STANDARD.encode(document),
            enclave_public_key: hex::encode(key),
        }
    }

    #[test]
    fn a_fresh_dev_document_passes_only_when_dev_is_allowed() {
        let ca = DevCa::generate(NOW_MS - 60_000);
        let a = answer(&ca, b"nonce-1", [7; 32]);
        let ok = check(&a, b"nonce-1", &ca.root(), NOW_MS, true).expect("allowed");
        assert!(ok.dev);
        assert_eq!(ok.user_data.sealing_key_version, 3);
        assert_eq!(ok.user_data.cluster_id, [0x22; 32]);
        assert!(matches!(
            check(&a, b"nonce-1", &ca.root(), NOW_MS, false),
            Err(CheckError::DevNotAllowed(m)) if m == "k3s-daas-dev-enclave"
        ));
    }

    #[test]
    fn a_replayed_wrong_root_or_wrong_key_document_is_refused() {
        let ca = DevCa::generate(NOW_MS - 60_000);
        let a = answer(&ca, b"nonce-1", [7; 32]);
        assert!(matches!(
            check(&a, b"nonce-2", &ca.root(), NOW_MS, true),
            Err(CheckError::Document(AttestationError::NonceMismatch))
        ));
        assert!(matches!(
            check(&a, b"nonce-1", &TrustedRoot::aws_nitro(), NOW_MS, true),
            Err(CheckError::Document(AttestationError::RootMismatch))
        ));
        let other = DevCa::generate(NOW_MS - 60_000);
        assert!(matches!(
            check(&a, b"nonce-1", &other.root(), NOW_MS, true),
            Err(CheckError::Document(AttestationError::RootMismatch))
        ));
        let named_other_key = AttestationAnswer {
            enclave_public_key: hex::encode([8; 32]),
            ..a.clone()
        };
        assert!(matches!(
            check(&named_other_key, b"nonce-1", &ca.root(), NOW_MS, true),
            Err(CheckError::KeyMismatch)
        ));
        // Four hours later the dev leaf (valid 3 h) has expired.
        assert!(matches!(
            check(&a, b"nonce-1", &ca.root(), NOW_MS + 4 * 3_600_000, true),
            Err(CheckError::Document(AttestationError::Expired { .. }))
        ));
        let garbled = AttestationAnswer {
            document: "not base64!".into(),
            ..a
        };
        assert!(matches!(
            check(&garbled, b"nonce-1", &ca.root(), NOW_MS, true),
            Err(CheckError::Answer(_))
        ));
    }
}
