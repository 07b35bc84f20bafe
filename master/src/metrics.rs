//! The master's Prometheus metrics (`master_*`).

use daas_domain::admission::RejectCode;
use daas_service::Health;
use prometheus_client::{
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// Counters by one static label (failed apply attempts by kind of error,
/// sealing refusals by code).
pub type CounterFamily = Family<Vec<(&'static str, &'static str)>, Counter>;

/// Counters and gauges shared by `run` and `replay`, and the stage's health
/// (`/healthz`, `daas_healthy`; registered by the binary).
#[derive(Clone)]
pub struct Metrics {
    /// Requests applied (admitted and written or confirmed).
    pub applied: Counter,
    /// Requests rejected.
    pub rejected: Counter,
    /// Records skipped (not a log record, unknown or undecodable event).
    pub skipped: Counter,
    /// Txns committed.
    pub txns: Counter,
    /// Txns refused by a compare (another writer); the batch is replanned.
    pub conflicts: Counter,
    /// Restarts from etcd after a failure.
    pub restarts: Counter,
    /// Outcomes acknowledged by the broker.
    pub outcomes_published: Counter,
    /// Seconds per batch (plan + Txn).
    pub batch_seconds: Histogram,
    /// Next log offset applied.
    pub next_offset: Gauge,
    /// Log records not yet applied.
    pub lag: Gauge,
    /// Apply attempts that failed (each reopens from etcd, or stops the
    /// master when the error is not transient), by `error` kind.
    pub apply_failures: CounterFamily,
    /// 1 when Secrets are stored without encryption (`--insecure-plaintext-secrets`).
    pub insecure_plaintext_secrets: Gauge,
    /// Sealed Secrets opened (and then applied).
    pub sealed_opened: Counter,
    /// Secrets refused for their sealing, by `code` (`secret_unsealed`,
    /// `sealing_key_unknown`, `sealed_binding_mismatch`, `sealed_tampered`).
    pub sealed_refused: CounterFamily,
    /// Sealing key versions whose private key the master holds.
    pub sealing_keys_held: Gauge,
    /// The newest sealing key version the chain registered for the served
    /// cluster when this master cannot open with it (not held, or held
    /// with another public key); 0 when it can, or none is registered.
    pub sealing_key_unusable: Gauge,
    /// Times the master found its own state in etcd not authentic on
    /// opening (a changed, planted or deleted key) and rebuilt it from the
    /// log (`crate::state_mac`).
    pub state_tampered: Counter,
    /// Seconds to compute a batch's ledger root (decision 0021).
    pub ledger_root_seconds: Histogram,
    /// Outcomes signed with the enclave key.
    pub receipts_signed: Counter,
    /// Attestation documents asked for, by `result` (`ok`, `error`,
    /// `bad_request`, `busy`).
    pub attestation_documents: CounterFamily,
    /// 1 when the master attests with the local dev CA, not the Nitro
    /// hypervisor (`--attestation dev`).
    pub attestation_dev_mode: Gauge,
    /// Verification (`master_verify_*`).
    pub verify: crate::verification::VerifyMetrics,
    /// Problems that keep the master from making progress (`apply`, `stall`).
    pub health: Health,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("next_offset", &self.next_offset.get())
            .field("health", &self.health.status())
            .finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let health = Health::new();
        Self {
            applied: Counter::default(),
            rejected: Counter::default(),
            skipped: Counter::default(),
            txns: Counter::default(),
            conflicts: Counter::default(),
            restarts: Counter::default(),
            outcomes_published: Counter::default(),
            batch_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 15)),
            next_offset: Gauge::default(),
            lag: Gauge::default(),
            apply_failures: CounterFamily::default(),
            insecure_plaintext_secrets: Gauge::default(),
            sealed_opened: Counter::default(),
            sealed_refused: CounterFamily::default(),
            sealing_keys_held: Gauge::default(),
            sealing_key_unusable: Gauge::default(),
            state_tampered: Counter::default(),
            ledger_root_seconds: Histogram::new(exponential_buckets(0.000_002, 2.0, 16)),
            receipts_signed: Counter::default(),
            attestation_documents: CounterFamily::default(),
            attestation_dev_mode: Gauge::default(),
            verify: crate::verification::VerifyMetrics::with_health(&health),
            health,
        }
    }
}

impl Metrics {
    /// Registers every metric under the `master` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("master");
        self.verify.register(r);
        r.register("applied", "Requests applied", self.applied.clone());
        r.register(
            "state_tampered",
            "Openings that found the master's state in etcd not authentic and rebuilt it from the log",
            self.state_tampered.clone(),
        );
        r.register("rejected", "Requests rejected", self.rejected.clone());
        r.register(
            "skipped",
            "Unusable log records skipped",
            self.skipped.clone(),
        );
        r.register("txns", "etcd Txns committed", self.txns.clone());
        r.register(
            "conflicts",
            "Txns refused by a compare (another writer)",
            self.conflicts.clone(),
        );
        r.register(
            "restarts",
            "Restarts from etcd after a failure",
            self.restarts.clone(),
        );
        r.register(
            "outcomes_published",
            "Outcomes acknowledged by the broker",
            self.outcomes_published.clone(),
        );
        r.register(
            "batch_seconds",
            "Seconds per batch (plan and Txn)",
            self.batch_seconds.clone(),
        );
        r.register(
            "next_offset",
            "Next log offset applied",
            self.next_offset.clone(),
        );
        r.register("lag", "Log records not yet applied", self.lag.clone());
        r.register(
            "apply_failures",
            "Apply attempts that failed, by error kind",
            self.apply_failures.clone(),
        );
        r.register(
            "insecure_plaintext_secrets",
            "1 when Secrets are stored in etcd without encryption",
            self.insecure_plaintext_secrets.clone(),
        );
        r.register(
            "sealed_opened",
            "Sealed Secrets opened and applied",
            self.sealed_opened.clone(),
        );
        r.register(
            "sealed_refused",
            "Secrets refused for their sealing, by reject code",
            self.sealed_refused.clone(),
        );
        r.register(
            "sealing_keys_held",
            "Sealing key versions whose private key the master holds",
            self.sealing_keys_held.clone(),
        );
        r.register(
            "sealing_key_unusable",
            "The newest sealing key version registered on chain when the master cannot open with it (0: it can)",
            self.sealing_key_unusable.clone(),
        );
        r.register(
            "ledger_root_seconds",
            "Seconds to compute a batch's ledger root",
            self.ledger_root_seconds.clone(),
        );
        r.register(
            "receipts_signed",
            "Outcomes signed with the enclave key",
            self.receipts_signed.clone(),
        );
        r.register(
            "attestation_documents",
            "Attestation documents asked for, by result",
            self.attestation_documents.clone(),
        );
        r.register(
            "attestation_dev_mode",
            "1 when attestation documents are signed by the local dev CA, not the Nitro hypervisor",
            self.attestation_dev_mode.clone(),
        );
    }

    /// Counts a rejection in `sealed_refused` when its code is one of the
    /// sealing codes.
    pub fn count_sealed_refusal(&self, code: RejectCode) {
        if matches!(
            code,
            RejectCode::SecretUnsealed
                | RejectCode::SealingKeyUnknown
                | RejectCode::SealedBindingMismatch
                | RejectCode::SealedTampered
        ) {
            self.sealed_refused
                .get_or_create(&vec![("code", code.as_str())])
                .inc();
        }
    }
}
