//! A local test CA that makes documents of AWS's shape (dev mode, tests):
//! root -> intermediate -> a fresh leaf per document, P-384 throughout,
//! an untagged COSE_Sign1 with protected `{1: -35}`, the 9 AWS payload keys,
//! PCR 0..=15, `module_id` = [`crate::DEV_MODULE_ID`].

use std::collections::BTreeMap;
use std::time::Duration;

use ciborium::value::Value;
use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder, iana};
use p384::ecdsa::{SigningKey, signature::Signer};
use p384::pkcs8::EncodePrivateKey;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PublicKeyData,
};
use rustls_pki_types::CertificateDer;

use crate::{AttestationError, DEV_MODULE_ID, TrustedRoot};

const ROOT_CN: &str = "k3s-daas dev Nitro root";
const INTERMEDIATE_CN: &str = "k3s-daas dev Nitro intermediate";
const LEAF_CN: &str = "k3s-daas dev Nitro enclave";
const DAY_S: u64 = 86_400;
/// The root's validity from generation, seconds (30 years).
const ROOT_VALID_S: u64 = 30 * 365 * DAY_S;
/// The intermediate's validity from generation, seconds (10 years).
const INTERMEDIATE_VALID_S: u64 = 10 * 365 * DAY_S;
/// The CA certificates start a day before `now_ms`, so a chain whose clock
/// lags the master's a little still accepts them.
const BACKDATE_S: u64 = DAY_S;
/// A leaf is valid from 60 s before the document's time ...
const LEAF_BEFORE_S: u64 = 60;
/// ... to 3 hours after it, like AWS's.
const LEAF_AFTER_S: u64 = 3 * 3600;
/// PCRs 0..DEV_PCR_COUNT are written (zeros unless set), like AWS's 16.
const DEV_PCR_COUNT: u8 = 16;

/// The dev CA's stored parts (DER certificates, PKCS#8 DER keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevCaParts {
    /// The root certificate.
    pub root_der: Vec<u8>,
    /// The root's key.
    pub root_key_pkcs8: Vec<u8>,
    /// The intermediate certificate.
    pub intermediate_der: Vec<u8>,
    /// The intermediate's key.
    pub intermediate_key_pkcs8: Vec<u8>,
}

/// What a dev document is to say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DevRequest {
    /// Its time, ms.
    pub timestamp_ms: u64,
    /// `public_key`.
    pub public_key: Option<Vec<u8>>,
    /// `user_data`.
    pub user_data: Option<Vec<u8>>,
    /// `nonce`.
    pub nonce: Option<Vec<u8>>,
    /// PCRs set (others are zeros).
    pub pcrs: BTreeMap<u8, [u8; 48]>,
}

/// The dev CA.
pub struct DevCa {
    parts: DevCaParts,
    intermediate: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for DevCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevCa(..)")
    }
}

impl DevCa {
    /// A new CA: root valid 30 years, intermediate 10, both from a day
    /// before `now_ms` (P-384 keys from the OS's random source).
    ///
    /// # Panics
    /// When `now_ms` is beyond year 9999 minus 30 years (no real clock).
    pub fn generate(now_ms: u64) -> Self {
        let now_s = now_ms / 1000;
        let from = now_s.saturating_sub(BACKDATE_S);
        let (root_key_pkcs8, root_key) = fresh_key();
        let root_params = ca_params(
            ROOT_CN,
            BasicConstraints::Unconstrained,
            from,
            now_s + ROOT_VALID_S,
        );
        let root_der = root_params
            .self_signed(&root_key)
            .expect("dev CA: self-sign the root")
            .der()
            .to_vec();
        let root = Issuer::new(root_params, root_key);
        let (intermediate_key_pkcs8, intermediate_key) = fresh_key();
        let params = intermediate_params(from, now_s + INTERMEDIATE_VALID_S);
        let intermediate_der = params
            .signed_by(&intermediate_key, &root)
            .expect("dev CA: sign the intermediate")
            .der()
            .to_vec();
        let parts = DevCaParts {
            root_der,
            root_key_pkcs8,
            intermediate_der,
            intermediate_key_pkcs8,
        };
        Self {
            parts,
            intermediate: Issuer::new(params, intermediate_key),
        }
    }

    /// The CA from stored parts (refused when a part does not parse, or a
    /// key is not the one its certificate names).
    pub fn from_parts(parts: DevCaParts) -> Result<Self, AttestationError> {
        check_pair("root", &parts.root_der, &parts.root_key_pkcs8)?;
        let intermediate_key = check_pair(
            "intermediate",
            &parts.intermediate_der,
            &parts.intermediate_key_pkcs8,
        )?;
        // Only the name, key usages and key-id method of the issuer go into
        // a leaf; they are rebuilt from the same constants as at generation.
        let intermediate = Issuer::new(intermediate_params(0, 0), intermediate_key);
        Ok(Self {
            parts,
            intermediate,
        })
    }

    /// Its parts, to store.
    pub fn parts(&self) -> &DevCaParts {
        &self.parts
    }

    /// Its root, to pin.
    pub fn root(&self) -> TrustedRoot {
        TrustedRoot::from_der(self.parts.root_der.clone())
            .expect("dev CA: the root was checked when the CA was made")
    }

    /// A document for `r`: a fresh leaf valid [ts − 60 s, ts + 3 h] signs an
    /// untagged COSE_Sign1 (protected `{1: -35}`, unprotected `{}`) over the
    /// 9 AWS payload keys, PCRs 0..=15 (zeros unless set, plus any other set).
    ///
    /// # Panics
    /// When `r.timestamp_ms` is beyond year 9999 (no real clock).
    pub fn attest(&self, r: &DevRequest) -> Vec<u8> {
        let secret = p384::SecretKey::random(&mut rand_core::OsRng);
        let (_, leaf_key) = import(&secret);
        let signer = SigningKey::from(&secret);
        let ts_s = r.timestamp_ms / 1000;
        let leaf = leaf_params(ts_s.saturating_sub(LEAF_BEFORE_S), ts_s + LEAF_AFTER_S)
            .signed_by(&leaf_key, &self.intermediate)
            .expect("dev CA: sign a leaf");
        let payload = dev_payload(r, leaf.der().to_vec(), &self.parts);
        CoseSign1Builder::new()
            .protected(
                HeaderBuilder::new()
                    .algorithm(iana::Algorithm::ES384)
                    .build(),
            )
            .payload(payload)
            .create_signature(b"", |tbs| {
                let sig: p384::ecdsa::Signature = signer.sign(tbs);
                sig.to_bytes().to_vec()
            })
            .build()
            .to_vec()
            .expect("dev CA: encode a COSE_Sign1")
    }
}

/// A fresh P-384 key: its PKCS#8 DER and the same key for rcgen.
fn fresh_key() -> (Vec<u8>, KeyPair) {
    import(&p384::SecretKey::random(&mut rand_core::OsRng))
}

fn import(secret: &p384::SecretKey) -> (Vec<u8>, KeyPair) {
    let pkcs8 = secret
        .to_pkcs8_der()
        .expect("dev CA: encode a P-384 key")
        .as_bytes()
        .to_vec();
    let key = KeyPair::try_from(pkcs8.as_slice()).expect("dev CA: import a P-384 key");
    (pkcs8, key)
}

fn params(
    cn: &str,
    is_ca: IsCa,
    usages: Vec<KeyUsagePurpose>,
    from_s: u64,
    to_s: u64,
) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    params.distinguished_name = name;
    params.is_ca = is_ca;
    params.key_usages = usages;
    // Seconds since the Unix epoch (rcgen takes `time`'s dates).
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + Duration::from_secs(from_s);
    params.not_after = epoch + Duration::from_secs(to_s);
    params
}

fn ca_params(cn: &str, constraints: BasicConstraints, from_s: u64, to_s: u64) -> CertificateParams {
    let usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    params(cn, IsCa::Ca(constraints), usages, from_s, to_s)
}

fn intermediate_params(from_s: u64, to_s: u64) -> CertificateParams {
    ca_params(
        INTERMEDIATE_CN,
        BasicConstraints::Constrained(0),
        from_s,
        to_s,
    )
}

fn leaf_params(from_s: u64, to_s: u64) -> CertificateParams {
    let usages = vec![KeyUsagePurpose::DigitalSignature];
    params(LEAF_CN, IsCa::ExplicitNoCa, usages, from_s, to_s)
}

/// Parses a stored certificate and key and checks that the key is the
/// certificate's.
fn check_pair(part: &str, der: &[u8], key_pkcs8: &[u8]) -> Result<KeyPair, AttestationError> {
    let refused = |what: &str| AttestationError::Chain(format!("dev CA {part}: {what}"));
    let cert = CertificateDer::from(der);
    let anchor = webpki::anchor_from_trusted_cert(&cert).map_err(|e| refused(&e.to_string()))?;
    let key = KeyPair::try_from(key_pkcs8).map_err(|e| refused(&e.to_string()))?;
    if webpki::spki_for_anchor(&anchor).as_ref() != key.subject_public_key_info().as_slice() {
        return Err(refused("the key is not the certificate's"));
    }
    Ok(key)
}

/// The payload, keys in AWS's order.
fn dev_payload(r: &DevRequest, certificate: Vec<u8>, parts: &DevCaParts) -> Vec<u8> {
    let mut pcrs: BTreeMap<u8, [u8; 48]> = (0..DEV_PCR_COUNT).map(|i| (i, [0; 48])).collect();
    pcrs.extend(r.pcrs.iter().map(|(i, v)| (*i, *v)));
    let pcrs = pcrs
        .into_iter()
        .map(|(i, v)| (Value::Integer(i.into()), Value::Bytes(v.to_vec())))
        .collect();
    let optional = |v: &Option<Vec<u8>>| v.clone().map_or(Value::Null, Value::Bytes);
    let cabundle = vec![
        Value::Bytes(parts.root_der.clone()),
        Value::Bytes(parts.intermediate_der.clone()),
    ];
    let map = vec![
        ("module_id", Value::Text(DEV_MODULE_ID.to_string())),
        ("digest", Value::Text("SHA384".to_string())),
        ("timestamp", Value::Integer(r.timestamp_ms.into())),
        ("pcrs", Value::Map(pcrs)),
        ("certificate", Value::Bytes(certificate)),
        ("cabundle", Value::Array(cabundle)),
        ("public_key", optional(&r.public_key)),
        ("user_data", optional(&r.user_data)),
        ("nonce", optional(&r.nonce)),
    ];
    let map = Value::Map(
        map.into_iter()
            .map(|(k, v)| (Value::Text(k.to_string()), v))
            .collect(),
    );
    let mut out = Vec::new();
    ciborium::ser::into_writer(&map, &mut out).expect("dev CA: encode the payload");
    out
}
