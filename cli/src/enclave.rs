//! The enclave registry from a client's side: registering an attested
//! enclave, listing the registered ones, and checking an outcome's receipt
//! against them (decisions 0020, 0021).
//!
//! - [`register_attested`]: one programmable transaction,
//!   `0x2::nitro_attestation::load_nitro_attestation(document, clock)` then
//!   `enclave::register_enclave(registry, cluster, document, clock)`: the
//!   chain verifies the document and checks it against the latest PCR set.
//! - [`registered_enclaves`]: the cluster's `EnclaveRegistered` events.
//! - [`check_receipt`]: an outcome's receipt is accepted only when its
//!   digest is the outcome's (recomputed here from what was served), its key
//!   was registered on chain for the outcome's cluster, its Ed25519
//!   signature verifies, and, for an enclave whose `module_id` on chain is a
//!   dev one, when dev attestation is allowed. "Dev" is decided from the
//!   chain's record, not from what the master says.

use anyhow::Context;
use daas_attestation::{DEV_MODULE_ID_PREFIX, verify_receipt};
use daas_domain::{
    Event, Outcome,
    events::{self, EnclaveRegistered, PcrSetRegistered},
    outcome::OutcomeView,
};
use sui_sdk_types::{Address, Identifier};
use sui_transaction_builder::Function;

use crate::{
    chain::{self, Chain},
    seal::object_id,
    session::Session,
};

/// One `EnclaveRegistered` event of the session's cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnclaveRecord {
    /// The event.
    pub event: EnclaveRegistered,
    /// The transaction that carried it (base58).
    pub transaction_digest: String,
}

impl EnclaveRecord {
    /// True when the enclave's document was made by the dev CA (its
    /// `module_id` on chain starts with `k3s-daas-dev`).
    pub fn is_dev(&self) -> bool {
        is_dev(&self.event)
    }
}

/// True when `e`'s document was a dev one (decided from the chain's record).
pub fn is_dev(e: &EnclaveRegistered) -> bool {
    e.module_id.0.starts_with(DEV_MODULE_ID_PREFIX.as_bytes())
}

/// A receipt that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// The enclave whose key signed it.
    pub enclave: EnclaveRecord,
    /// True when that enclave's document was a dev one.
    pub dev: bool,
}

impl VerifiedReceipt {
    /// `daas apply`'s line: `receipt: verified (enclave d04a…8737, attested
    /// <RFC 3339>, PCR set N)`, with `, DEV attestation` for a dev enclave.
    pub fn line(&self) -> String {
        let e = &self.enclave.event;
        format!(
            "receipt: verified (enclave {}, attested {}, PCR set {}{})",
            short_hex(&e.public_key.0),
            rfc3339(e.attestation_timestamp_ms),
            e.pcr_version,
            if self.dev { ", DEV attestation" } else { "" }
        )
    }
}

/// Why a receipt does not verify.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptRefusal {
    /// The outcome carries no receipt (or no ledger root to sign).
    #[error("the outcome carries no receipt")]
    Missing,
    /// The outcome or its receipt does not decode, or the receipt's copy of
    /// a signed field is not the outcome's.
    #[error("the outcome cannot be checked: {0}")]
    Malformed(String),
    /// The receipt's digest is not the outcome's.
    #[error("the receipt's outcome digest is not this outcome's (the outcome was changed)")]
    DigestMismatch,
    /// No registered enclave has the key.
    #[error("no enclave registered on chain has key {0}")]
    UnknownKey(String),
    /// The key is registered for another cluster.
    #[error("the enclave key is registered for another cluster")]
    OtherCluster,
    /// The signature does not verify.
    #[error("the receipt's signature does not verify")]
    BadSignature,
    /// The enclave's attestation is a dev one and that was not allowed.
    #[error(
        "the master runs in DEV attestation mode (not an AWS Nitro enclave); pass --allow-dev-attestation to accept it"
    )]
    DevNotAllowed,
}

/// The session's configured enclave registry.
pub fn registry_id(s: &Session) -> anyhow::Result<Address> {
    s.settings.need_id(
        &s.settings.config.enclave_registry_id,
        "enclave_registry_id",
        "DAAS_ENCLAVE_REGISTRY_ID",
    )
}

/// Submits `document` (one PTB: `0x2::nitro_attestation::load_nitro_attestation`,
/// then `enclave::register_enclave`), paid by the session's key.
pub async fn register_attested(
    s: &mut Session,
    document: &[u8],
) -> anyhow::Result<EnclaveRegistered> {
    let cluster = s.cluster()?;
    let registry = registry_id(s)?;
    let package = s.chain.package();
    let document = document.to_vec();
    let tx = s
        .chain
        .call_ptb(&s.key, |b| {
            let bytes = b.pure(&document);
            let clock = chain::clock(b);
            let loaded = b.move_call(
                Function::new(
                    Address::TWO,
                    Identifier::from_static("nitro_attestation"),
                    Identifier::from_static("load_nitro_attestation"),
                ),
                vec![bytes, clock],
            );
            let arguments = vec![
                chain::shared(b, registry),
                chain::shared(b, cluster),
                loaded,
                clock,
            ];
            b.move_call(
                Function::new(
                    package,
                    Identifier::from_static("enclave"),
                    Identifier::from_static("register_enclave"),
                ),
                arguments,
            );
        })
        .await
        .context("registering the attested enclave")?;
    tx.events
        .into_iter()
        .find_map(|e| match e {
            Event::EnclaveRegistered(r) => Some(r),
            _ => None,
        })
        .with_context(|| format!("tx {}: the chain emitted no EnclaveRegistered", tx.digest))
}

/// A connection to the configured node (no signing key: reads only) and the
/// configured cluster.
pub async fn reader(settings: &crate::config::Settings) -> anyhow::Result<(Chain, Address)> {
    let package = settings.need_id(&settings.config.package_id, "package_id", "DAAS_PACKAGE_ID")?;
    let cluster = settings.need_id(
        &settings.config.cluster_id,
        "cluster_id",
        "--cluster-id / DAAS_CLUSTER_ID",
    )?;
    Ok((
        Chain::connect(&settings.node_url()?, package).await?,
        cluster,
    ))
}

/// The `EnclaveRegistered` events of the session's cluster, oldest first.
pub async fn registered_enclaves(s: &mut Session) -> anyhow::Result<Vec<EnclaveRecord>> {
    let cluster = s.cluster()?;
    enclaves_of(&mut s.chain, cluster).await
}

/// The `EnclaveRegistered` events of `cluster`, oldest first (one that does
/// not decode is skipped with a warning: the contract emits only valid ones).
pub async fn enclaves_of(
    chain: &mut Chain,
    cluster: Address,
) -> anyhow::Result<Vec<EnclaveRecord>> {
    let listed = chain
        .list_events_with_tx("enclave", "EnclaveRegistered")
        .await
        .context("reading the registered enclaves from the chain")?;
    let id = object_id(cluster);
    let mut out = Vec::new();
    for e in listed {
        match events::decode("enclave", "EnclaveRegistered", &e.contents) {
            Ok(events::Decoded::Known(Event::EnclaveRegistered(r))) if r.cluster_id == id => out
                .push(EnclaveRecord {
                    event: r,
                    transaction_digest: e.transaction_digest,
                }),
            Ok(_) => {}
            Err(err) => tracing::warn!("skipping an EnclaveRegistered event: {err}"),
        }
    }
    Ok(out)
}

/// Every `PcrSetRegistered` event, oldest first.
pub async fn pcr_sets(chain: &mut Chain) -> anyhow::Result<Vec<PcrSetRegistered>> {
    let listed = chain
        .list_events("enclave", "PcrSetRegistered")
        .await
        .context("reading the registered PCR sets from the chain")?;
    Ok(listed
        .iter()
        .filter_map(
            |bytes| match events::decode("enclave", "PcrSetRegistered", bytes) {
                Ok(events::Decoded::Known(Event::PcrSetRegistered(p))) => Some(p),
                _ => None,
            },
        )
        .collect())
}

/// Checks `view`'s receipt against the registered `enclaves`.
pub fn check_receipt(
    view: &OutcomeView,
    enclaves: &[EnclaveRecord],
    allow_dev: bool,
) -> Result<VerifiedReceipt, ReceiptRefusal> {
    let receipt = view.receipt.as_ref().ok_or(ReceiptRefusal::Missing)?;
    let outcome = Outcome::try_from(view).map_err(|e| ReceiptRefusal::Malformed(e.to_string()))?;
    let signed = outcome.receipt.as_ref().ok_or(ReceiptRefusal::Missing)?;
    let payload = outcome.receipt_payload().ok_or(ReceiptRefusal::Missing)?;
    if receipt.outcome_digest != hex::encode(&payload.outcome_digest) {
        return Err(ReceiptRefusal::DigestMismatch);
    }
    let copies = [
        (
            "timestamp_ms",
            receipt.timestamp_ms == outcome.request_timestamp_ms,
        ),
        ("result", receipt.result == payload.result),
        ("ledger_root", receipt.ledger_root == view.ledger_root),
        (
            "ledger_root_offset",
            receipt.ledger_root_offset == view.ledger_root_offset,
        ),
    ];
    if let Some((name, _)) = copies.iter().find(|(_, same)| !same) {
        return Err(ReceiptRefusal::Malformed(format!(
            "the receipt's {name} is not the outcome's"
        )));
    }
    let key = signed.enclave_public_key;
    let same_key: Vec<&EnclaveRecord> = enclaves
        .iter()
        .filter(|r| r.event.public_key.0 == key)
        .collect();
    if same_key.is_empty() {
        return Err(ReceiptRefusal::UnknownKey(hex::encode(key)));
    }
    let record = same_key
        .iter()
        .rev()
        .find(|r| r.event.cluster_id == outcome.cluster_id)
        .ok_or(ReceiptRefusal::OtherCluster)?;
    verify_receipt(
        &key,
        &payload,
        outcome.request_timestamp_ms,
        &signed.signature,
    )
    .map_err(|_| ReceiptRefusal::BadSignature)?;
    let dev = record.is_dev();
    if dev && !allow_dev {
        return Err(ReceiptRefusal::DevNotAllowed);
    }
    Ok(VerifiedReceipt {
        enclave: (*record).clone(),
        dev,
    })
}

/// How long a receipt by a key not (yet) registered waits for its
/// registration before it is refused.
const NEW_KEY_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Checks receipts for one cluster, reading the registered enclaves from
/// the chain when first needed, and again, for up to 15 s, while a key is
/// not among them (a master that restarted registers its new key).
pub struct ReceiptChecker {
    cluster: Address,
    allow_dev: bool,
    enclaves: Option<Vec<EnclaveRecord>>,
    wait: std::time::Duration,
}

impl ReceiptChecker {
    /// A checker for `cluster`'s enclaves.
    pub fn new(cluster: Address, allow_dev: bool) -> Self {
        Self {
            cluster,
            allow_dev,
            enclaves: None,
            wait: NEW_KEY_WAIT,
        }
    }

    /// The same, refusing an unknown key at once (for outcomes that are not
    /// fresh: `daas status`).
    pub fn without_wait(self) -> Self {
        Self {
            wait: std::time::Duration::ZERO,
            ..self
        }
    }

    /// [`check_receipt`] against the chain's registry. `Err` only when the
    /// chain cannot be read.
    pub async fn check(
        &mut self,
        chain: &mut Chain,
        view: &OutcomeView,
    ) -> anyhow::Result<Result<VerifiedReceipt, ReceiptRefusal>> {
        if self.enclaves.is_none() {
            self.enclaves = Some(enclaves_of(chain, self.cluster).await?);
        }
        let deadline = std::time::Instant::now() + self.wait;
        loop {
            let enclaves = self.enclaves.as_deref().unwrap_or_default();
            let result = check_receipt(view, enclaves, self.allow_dev);
            if !matches!(result, Err(ReceiptRefusal::UnknownKey(_)))
                || std::time::Instant::now() >= deadline
            {
                return Ok(result);
            }
            // A master that restarted signs with a new key, and registers
            // it within seconds: read the registry again until it is there
            // or the wait is over.
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            self.enclaves = Some(enclaves_of(chain, self.cluster).await?);
        }
    }
}

/// Prints a verified receipt's line (stdout), and a warning (stderr) when
/// the enclave's attestation is a dev one.
pub fn print_verified(v: &VerifiedReceipt) {
    println!("{}", v.line());
    if v.dev {
        eprintln!(
            "warning: DEV attestation: enclave {} was registered with a document of the local \
             test CA (module_id {:?}), not an AWS Nitro enclave; accepted because of \
             --allow-dev-attestation",
            short_hex(&v.enclave.event.public_key.0),
            String::from_utf8_lossy(&v.enclave.event.module_id.0)
        );
    }
}

/// The first and last 4 hex digits: `d04a…8737`.
pub fn short_hex(bytes: &[u8]) -> String {
    let h = hex::encode(bytes);
    if h.len() <= 8 {
        return h;
    }
    format!("{}…{}", &h[..4], &h[h.len() - 4..])
}

/// `ms` since the epoch as RFC 3339 (UTC, milliseconds).
pub fn rfc3339(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{ms} ms"))
}

pub mod show;

#[cfg(test)]
mod tests;
