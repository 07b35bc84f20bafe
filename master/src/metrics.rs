//! The master's Prometheus metrics (`master_*`).

use prometheus_client::{
    metrics::{
        counter::Counter,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// Counters and gauges shared by `run` and `replay`.
#[derive(Clone, Debug)]
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
}

impl Default for Metrics {
    fn default() -> Self {
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
        }
    }
}

impl Metrics {
    /// Registers every metric under the `master` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("master");
        r.register("applied", "Requests applied", self.applied.clone());
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
    }
}
