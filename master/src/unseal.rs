//! Opening sealed Secrets in the apply path (decision 0014).
//!
//! The shared admission has already checked what public bytes tell (sealed
//! at all, a key version the chain registered, values that parse, binding
//! tags for this very Secret). The master alone holds the private keys: its
//! ledger opens every admitted sealed Secret of the served cluster through
//! [`Opener`] before recording it, and a Secret that does not open is
//! recorded as a rejection instead:
//!
//! - no private key for the version, or one whose public half is not the
//!   key the chain registered for it: `sealing_key_unknown` (21), logged as
//!   an error naming the version (an operator's problem, not the tenant's);
//! - a value that fails authentication: `sealed_tampered` (23).
//!
//! What is stored is the opened Secret: plaintext `data`, the sealed
//! annotation removed; the engine then encrypts it at rest. Opening is
//! deterministic (HPKE open has no randomness), so replays store the same
//! bytes. Requests for other clusters are not applied here and are left
//! sealed, as the projector leaves them. Nothing here logs, counts or
//! returns a value, sealed or opened.

use std::collections::BTreeMap;

use daas_domain::{
    ObjectId,
    admission::{RejectCode, Rejection},
    events::K8sApiRequest,
    sealed::Open,
};
use serde_json::Value;

use crate::{metrics::Metrics, sealing_keys::SealingKeys};

/// Opens the served cluster's sealed Secrets with the keys held.
pub struct Opener<'a> {
    /// The served cluster.
    pub cluster: ObjectId,
    /// The private keys held.
    pub keys: &'a SealingKeys,
    /// The public keys the chain registered for the served cluster, for
    /// the versions held.
    pub registered: BTreeMap<u32, [u8; 32]>,
    /// Where opened Secrets are counted (refusals are counted with the
    /// other rejections).
    pub metrics: &'a Metrics,
}

impl Opener<'_> {
    /// Refuses with `sealing_key_unknown`: logged, counted.
    fn key_unknown(&self, req: &K8sApiRequest, version: u32, why: &str) -> Rejection {
        tracing::error!(
            version,
            request_id = req.request_id,
            "sealed Secret refused: sealing key version {version} {why}; \
             restore that key into --sealing-key-dir (`master sealing-key show` lists the versions held)"
        );
        Rejection {
            code: RejectCode::SealingKeyUnknown,
            message: format!("sealing key version {version} {why}"),
        }
    }
}

impl Open for Opener<'_> {
    fn open(&self, req: &K8sApiRequest, object: &Value, version: u32) -> Result<Value, Rejection> {
        if req.cluster_id != self.cluster {
            return Ok(object.clone());
        }
        let Some(held) = self.keys.public_key(version) else {
            return Err(self.key_unknown(req, version, "is not held by this master"));
        };
        if self.registered.get(&version) != Some(&held.0) {
            return Err(self.key_unknown(
                req,
                version,
                "held by this master is not the key registered on chain",
            ));
        }
        match daas_sealing::open_secret(
            object,
            req.cluster_id,
            &req.namespace,
            &req.name,
            self.keys,
        ) {
            Ok(opened) => {
                self.metrics.sealed_opened.inc();
                Ok(opened)
            }
            Err(refusal) => {
                tracing::warn!(
                    version,
                    request_id = req.request_id,
                    code = refusal.code.as_str(),
                    "sealed Secret refused"
                );
                Err(refusal)
            }
        }
    }
}
