//! The dev chain's Prometheus metrics.

use prometheus_client::{
    metrics::{counter::Counter, gauge::Gauge},
    registry::Registry,
};

/// Counters and gauges the node updates.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    /// Transactions executed successfully.
    pub executed: Counter,
    /// Transactions included with a failure status (Move abort and the like).
    pub failed: Counter,
    /// Transactions refused before execution (signature, gas, versions...).
    pub rejected: Counter,
    /// Newest sealed checkpoint.
    pub checkpoint_height: Gauge,
    /// Current epoch.
    pub epoch: Gauge,
}

impl Metrics {
    /// Registers every metric under the `devnet` prefix.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("devnet");
        r.register(
            "transactions_executed",
            "Transactions executed successfully",
            self.executed.clone(),
        );
        r.register(
            "transactions_failed",
            "Transactions included with a failure status",
            self.failed.clone(),
        );
        r.register(
            "transactions_rejected",
            "Transactions refused before execution",
            self.rejected.clone(),
        );
        r.register(
            "checkpoint_height",
            "Newest sealed checkpoint",
            self.checkpoint_height.clone(),
        );
        r.register("epoch", "Current epoch", self.epoch.clone());
    }
}
