//! The projector's Prometheus metrics (`projector_*`).

use prometheus_client::{
    metrics::{
        counter::Counter,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use daas_service::Health;

/// Counters and gauges shared by `run` and `rebuild`.
#[derive(Clone)]
pub struct Metrics {
    /// Log records processed (committed or in the open batch).
    pub records: Counter,
    /// Outcome records processed.
    pub outcomes: Counter,
    /// Records sent to quarantine.
    pub quarantined: Counter,
    /// Batches committed.
    pub batches: Counter,
    /// Restarts from the stored position after a transient failure.
    pub restarts: Counter,
    /// Seconds per batch commit (one Postgres transaction).
    pub commit_seconds: Histogram,
    /// Next log offset committed.
    pub next_offset: Gauge,
    /// Next outcome offset committed.
    pub next_outcome_offset: Gauge,
    /// Log records not yet committed (high watermark − next offset).
    pub lag: Gauge,
    /// `projector_verify_*`.
    pub verify: crate::verification::VerifyMetrics,
    /// Problems that stop progress (`commit`, `projector`, `stall`): `/healthz` and `daas_healthy`.
    pub health: Health,
}

impl Default for Metrics {
    fn default() -> Self {
        let health = Health::new();
        Self {
            records: Counter::default(),
            outcomes: Counter::default(),
            quarantined: Counter::default(),
            batches: Counter::default(),
            restarts: Counter::default(),
            // 1 ms to ~16 s.
            commit_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            next_offset: Gauge::default(),
            next_outcome_offset: Gauge::default(),
            lag: Gauge::default(),
            verify: crate::verification::VerifyMetrics::with_health(&health),
            health,
        }
    }
}

impl Metrics {
    /// Registers every metric under the `projector` prefix, and `daas_healthy`.
    pub fn register(&self, registry: &mut Registry) {
        self.health.register(registry);
        let r = registry.sub_registry_with_prefix("projector");
        r.register("records", "Log records processed", self.records.clone());
        r.register(
            "outcomes",
            "Outcome records processed",
            self.outcomes.clone(),
        );
        r.register(
            "quarantined",
            "Records sent to quarantine",
            self.quarantined.clone(),
        );
        r.register("batches", "Batches committed", self.batches.clone());
        r.register(
            "restarts",
            "Restarts from the stored position after a transient failure",
            self.restarts.clone(),
        );
        r.register(
            "commit_seconds",
            "Seconds per batch commit",
            self.commit_seconds.clone(),
        );
        r.register(
            "next_offset",
            "Next log offset committed",
            self.next_offset.clone(),
        );
        r.register(
            "next_outcome_offset",
            "Next outcome offset committed",
            self.next_outcome_offset.clone(),
        );
        r.register("lag", "Log records not yet committed", self.lag.clone());
        self.verify.register(r);
    }
}
