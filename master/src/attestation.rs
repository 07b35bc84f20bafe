//! The master proves what it is (decision 0020, 0021): an attestation
//! document binding its enclave key and, through `user_data`, the served
//! cluster and its newest sealing key.
//!
//! - [`Attester`]: who signs documents. [`NsmAttester`] asks the Nitro
//!   Secure Module (`/dev/nsm`, only inside an enclave: it cannot be tested
//!   on this machine, it is compiled only). [`DevAttester`] signs documents
//!   of the same shape with a local test CA ([`DevCaStore`]); a dev
//!   document says so (`module_id` `k3s-daas-dev-enclave`) and the master
//!   says so loudly (start banner, `master_attestation_dev_mode 1`, the
//!   `X-Daas-Dev-Attestation: 1` header, `dev` in answers and receipts).
//! - [`AttestationService`]: a new document per call with the enclave key
//!   as `public_key`, `user_data` read at that moment, and the caller's
//!   nonce; at most [`MAX_CONCURRENT`] at once. Served as
//!   `GET /v1/attestation?nonce=HEX` (`crate::api`).

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use daas_attestation::{
    UserData,
    dev::{DevCa, DevCaParts, DevRequest},
};
use daas_domain::ObjectId;

use crate::sealing_keys::{FileKeyStore, KeyStore, KeyStoreError, read_private};

/// Documents made at once, at most.
pub const MAX_CONCURRENT: usize = 4;

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AttestError {
    /// The NSM could not be opened or refused the request.
    #[error("nsm: {0}")]
    Nsm(String),
    /// The sealing key store could not be read.
    #[error("sealing keys: {0}")]
    Keys(String),
    /// The caller's nonce is unusable.
    #[error("{0}")]
    BadNonce(String),
}

/// Who signs attestation documents.
pub trait Attester: Send + Sync {
    /// A document with `public_key`, `user_data` and `nonce`.
    fn attest(
        &self,
        public_key: &[u8; 32],
        user_data: &[u8; 80],
        nonce: Option<&[u8]>,
    ) -> Result<Vec<u8>, AttestError>;
    /// True for the dev CA.
    fn is_dev(&self) -> bool;
}

/// The Nitro Secure Module (`/dev/nsm`), inside an enclave. Not testable
/// outside one: this machine only compiles it.
pub struct NsmAttester {
    fd: i32,
}

impl NsmAttester {
    /// The NSM device file.
    pub const DEVICE: &'static str = "/dev/nsm";

    /// Opens the NSM (`nsm_init`).
    pub fn open() -> Result<Self, AttestError> {
        let fd = aws_nitro_enclaves_nsm_api::driver::nsm_init();
        if fd < 0 {
            return Err(AttestError::Nsm(format!(
                "cannot open {} (not inside a Nitro enclave?)",
                Self::DEVICE
            )));
        }
        Ok(Self { fd })
    }
}

impl Drop for NsmAttester {
    fn drop(&mut self) {
        aws_nitro_enclaves_nsm_api::driver::nsm_exit(self.fd);
    }
}

impl Attester for NsmAttester {
    fn attest(
        &self,
        public_key: &[u8; 32],
        user_data: &[u8; 80],
        nonce: Option<&[u8]>,
    ) -> Result<Vec<u8>, AttestError> {
        use aws_nitro_enclaves_nsm_api::api::{Request, Response};
        use serde_bytes::ByteBuf;
        let request = Request::Attestation {
            user_data: Some(ByteBuf::from(user_data.to_vec())),
            nonce: nonce.map(|n| ByteBuf::from(n.to_vec())),
            public_key: Some(ByteBuf::from(public_key.to_vec())),
        };
        match aws_nitro_enclaves_nsm_api::driver::nsm_process_request(self.fd, request) {
            Response::Attestation { document } => Ok(document),
            Response::Error(code) => Err(AttestError::Nsm(format!("{code:?}"))),
            _ => Err(AttestError::Nsm("unexpected answer to Attestation".into())),
        }
    }

    fn is_dev(&self) -> bool {
        false
    }
}

/// Documents signed by the local dev CA, at the host's time.
pub struct DevAttester(pub DevCa);

impl Attester for DevAttester {
    fn attest(
        &self,
        public_key: &[u8; 32],
        user_data: &[u8; 80],
        nonce: Option<&[u8]>,
    ) -> Result<Vec<u8>, AttestError> {
        Ok(self.0.attest(&DevRequest {
            timestamp_ms: now_ms(),
            public_key: Some(public_key.to_vec()),
            user_data: Some(user_data.to_vec()),
            nonce: nonce.map(<[u8]>::to_vec),
            pcrs: BTreeMap::new(),
        }))
    }

    fn is_dev(&self) -> bool {
        true
    }
}

/// Milliseconds since the epoch (host clock).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The dev CA's files in a directory of their own, checked like the
/// sealing keys' (directory 0700, files 0600 regular files, written once):
/// `root.der`, `root.key`, `intermediate.der`, `intermediate.key` (keys
/// PKCS#8 DER).
#[derive(Clone, Debug)]
pub struct DevCaStore {
    files: FileKeyStore,
}

const DEV_CA_FILES: [&str; 4] = [
    "root.der",
    "root.key",
    "intermediate.der",
    "intermediate.key",
];

impl DevCaStore {
    /// The store in `dir` (nothing read or made yet).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            files: FileKeyStore::new(dir),
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        self.files.dir()
    }

    /// The CA held, if its four files are there (all checked).
    pub fn load(&self) -> Result<Option<DevCa>, KeyStoreError> {
        self.files.ensure_dir()?;
        let paths = DEV_CA_FILES.map(|f| self.dir().join(f));
        if paths.iter().all(|p| !p.exists()) {
            return Ok(None);
        }
        let [root_der, root_key, inter_der, inter_key] = paths;
        let parts = DevCaParts {
            root_der: read_private(&root_der)?.to_vec(),
            root_key_pkcs8: read_private(&root_key)?.to_vec(),
            intermediate_der: read_private(&inter_der)?.to_vec(),
            intermediate_key_pkcs8: read_private(&inter_key)?.to_vec(),
        };
        DevCa::from_parts(parts)
            .map(Some)
            .map_err(|e| KeyStoreError::Malformed {
                path: self.dir().to_owned(),
                reason: format!("not a usable dev CA: {e}"),
            })
    }

    /// The CA held, made (and written) first when the directory holds
    /// none; true when it was made now.
    pub fn load_or_make(&self) -> Result<(DevCa, bool), KeyStoreError> {
        if let Some(ca) = self.load()? {
            return Ok((ca, false));
        }
        let ca = DevCa::generate(now_ms());
        let p = ca.parts();
        let contents = [
            &p.root_der,
            &p.root_key_pkcs8,
            &p.intermediate_der,
            &p.intermediate_key_pkcs8,
        ];
        for (name, bytes) in DEV_CA_FILES.iter().zip(contents) {
            self.files.write_private(name, bytes)?;
        }
        Ok((ca, true))
    }
}

/// SHA-256 of a dev CA's root certificate, hex.
pub fn fingerprint(ca: &DevCa) -> String {
    hex::encode(ca.root().fingerprint())
}

/// What the status API serves as `/v1/attestation`.
pub struct AttestationService {
    attester: Box<dyn Attester>,
    enclave_public_key: [u8; 32],
    cluster: ObjectId,
    keys: Arc<dyn KeyStore>,
    permits: tokio::sync::Semaphore,
}

/// One document and what it binds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttestationView {
    /// True when the document is signed by the dev CA, not by AWS.
    pub dev: bool,
    /// The COSE_Sign1 document, standard base64.
    pub document: String,
    /// The enclave's Ed25519 key (the document's `public_key`), hex.
    pub enclave_public_key: String,
    /// The served cluster (0x…).
    pub cluster_id: String,
    /// The sealing key version in `user_data`.
    pub sealing_key_version: u64,
    /// Its X25519 public key, hex.
    pub sealing_public_key: String,
    /// The document's `module_id`.
    pub module_id: String,
    /// The document's time, ms.
    pub timestamp_ms: u64,
    /// PCR 0, 1 and 2, hex, by index.
    pub pcrs: BTreeMap<String, String>,
}

impl AttestationService {
    /// Serves documents from `attester` for `enclave_public_key`, binding
    /// `cluster` and the newest sealing key in `keys`.
    pub fn new(
        attester: Box<dyn Attester>,
        enclave_public_key: [u8; 32],
        cluster: ObjectId,
        keys: Arc<dyn KeyStore>,
    ) -> Self {
        Self {
            attester,
            enclave_public_key,
            cluster,
            keys,
            permits: tokio::sync::Semaphore::new(MAX_CONCURRENT),
        }
    }

    /// True for the dev CA.
    pub fn is_dev(&self) -> bool {
        self.attester.is_dev()
    }

    /// `user_data` now: the cluster and the newest sealing key held.
    pub fn user_data(&self) -> Result<UserData, AttestError> {
        let keys = self
            .keys
            .load()
            .map_err(|e| AttestError::Keys(e.to_string()))?;
        let (version, key) = keys
            .current()
            .ok_or_else(|| AttestError::Keys("no sealing key held".into()))?;
        Ok(UserData {
            cluster_id: self.cluster.0,
            sealing_key_version: u64::from(version),
            sealing_public_key: key.0,
        })
    }

    /// A new document with `nonce` (≤ 512 bytes), at most
    /// [`MAX_CONCURRENT`] at once (the others wait).
    pub async fn attest(
        self: &Arc<Self>,
        nonce: Option<Vec<u8>>,
    ) -> Result<AttestationView, AttestError> {
        if let Some(n) = &nonce
            && n.len() > daas_attestation::limits::MAX_NONCE_BYTES
        {
            return Err(AttestError::BadNonce(format!(
                "the nonce has {} bytes; at most {}",
                n.len(),
                daas_attestation::limits::MAX_NONCE_BYTES
            )));
        }
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AttestError::Nsm(e.to_string()))?;
        let me = self.clone();
        tokio::task::spawn_blocking(move || me.attest_now(nonce.as_deref()))
            .await
            .map_err(|e| AttestError::Nsm(e.to_string()))?
    }

    fn attest_now(&self, nonce: Option<&[u8]>) -> Result<AttestationView, AttestError> {
        let user_data = self.user_data()?;
        let document =
            self.attester
                .attest(&self.enclave_public_key, &user_data.encode(), nonce)?;
        let parsed = daas_attestation::parse(&document)
            .map_err(|e| AttestError::Nsm(format!("the document does not parse: {e}")))?;
        let pcrs = (0u8..3)
            .filter_map(|i| parsed.pcrs.get(&i).map(|v| (i.to_string(), hex::encode(v))))
            .collect();
        use base64::Engine as _;
        Ok(AttestationView {
            dev: self.is_dev(),
            document: base64::engine::general_purpose::STANDARD.encode(&document),
            enclave_public_key: hex::encode(self.enclave_public_key),
            cluster_id: self.cluster.to_string(),
            sealing_key_version: user_data.sealing_key_version,
            sealing_public_key: hex::encode(user_data.sealing_public_key),
            module_id: parsed.module_id,
            timestamp_ms: parsed.timestamp_ms,
            pcrs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(name: &str) -> PathBuf {
        std::env::temp_dir()
            .join(daas_testkit::unique_name(name))
            .join("ca")
    }

    #[test]
    fn the_dev_ca_is_made_once_private_and_read_back() -> anyhow::Result<()> {
        let d = dir("dev-ca");
        let store = DevCaStore::new(&d);
        let (ca, made) = store.load_or_make()?;
        assert!(made);
        let (again, made) = store.load_or_make()?;
        assert!(!made, "made once");
        assert_eq!(fingerprint(&ca), fingerprint(&again));
        let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode(&d)?, 0o700);
        for f in DEV_CA_FILES {
            assert_eq!(mode(&d.join(f))?, 0o600, "{f}");
        }
        assert_eq!(std::fs::read(d.join("root.der"))?, ca.parts().root_der);
        std::fs::set_permissions(d.join("root.key"), std::fs::Permissions::from_mode(0o640))?;
        let refused = store.load().err().map(|e| e.to_string());
        assert!(refused.is_some_and(|e| e.contains("chmod 600")));
        std::fs::set_permissions(d.join("root.key"), std::fs::Permissions::from_mode(0o600))?;
        std::fs::remove_file(d.join("intermediate.key"))?;
        assert!(
            store.load().is_err(),
            "an incomplete CA is refused, not remade"
        );
        let _ = std::fs::remove_dir_all(d.parent().unwrap_or(&d));
        Ok(())
    }

    #[test]
    fn a_dev_document_verifies_under_the_dev_root_and_binds_key_data_and_nonce()
    -> anyhow::Result<()> {
        let ca = DevCa::generate(now_ms());
        let root = ca.root();
        let a = DevAttester(ca);
        let user_data = UserData {
            cluster_id: [2; 32],
            sealing_key_version: 3,
            sealing_public_key: [4; 32],
        };
        let doc = a.attest(&[1; 32], &user_data.encode(), Some(b"n0nce"))?;
        let d = daas_attestation::verify(&doc, &root, now_ms())?;
        assert!(d.is_dev() && a.is_dev());
        assert_eq!(d.public_key.as_deref(), Some(&[1u8; 32][..]));
        assert_eq!(
            UserData::decode(d.user_data.as_deref().unwrap_or_default())?,
            user_data
        );
        d.check_nonce(b"n0nce")?;
        assert!(d.check_nonce(b"other").is_err());
        Ok(())
    }
}
