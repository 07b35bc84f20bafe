//! What a reader of the log that verifies it (the master, the projector)
//! reports about verification: the `<prefix>_verify_*` metrics and the log
//! lines, from the verifier's [`Report`]s and state.

use daas_verify::{Report, Verifier};
use prometheus_client::{
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

/// `<prefix>_verify_*` metrics.
#[derive(Clone, Debug, Default)]
pub struct VerifyMetrics {
    /// Records refused, by `reason` (never used).
    pub quarantined: Family<Vec<(&'static str, &'static str)>, Counter>,
    /// 1 while a gap holds records back.
    pub gap: Gauge,
    /// Records held behind the gap.
    pub held: Gauge,
    /// Records kept aside until their proof comes.
    pub parked: Gauge,
    /// The newest epoch whose committee was reached.
    pub epoch: Gauge,
    /// The newest certified checkpoint.
    pub last_verified: Gauge,
    /// Summary signatures checked.
    pub signatures: Counter,
    /// Records already used that came again.
    pub duplicates: Counter,
    /// Certified records that came after later positions were used.
    pub late: Counter,
    /// Where the verifier is, for a status API (not a metric).
    pub status: crate::verify_status::VerifyStatus,
    /// The reader's health: a gap is its `gap` problem (`/healthz` names
    /// the missing record) until it closes.
    pub health: crate::health::Health,
}

impl VerifyMetrics {
    /// Metrics whose gap is reported to `health` too.
    pub fn with_health(health: &crate::health::Health) -> Self {
        Self {
            health: health.clone(),
            ..Self::default()
        }
    }
}

impl VerifyMetrics {
    /// Registers them under `<prefix>_verify_`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("verify");
        r.register(
            "quarantined",
            "Log records refused by verification, by reason (never used)",
            self.quarantined.clone(),
        );
        r.register(
            "gap",
            "1 while a missing record holds the log back",
            self.gap.clone(),
        );
        r.register("held", "Records held behind a gap", self.held.clone());
        r.register(
            "parked",
            "Records kept aside until a proof for them comes",
            self.parked.clone(),
        );
        r.register(
            "epoch",
            "Newest epoch whose committee was reached",
            self.epoch.clone(),
        );
        r.register(
            "last_checkpoint",
            "Newest checkpoint certified",
            self.last_verified.clone(),
        );
        r.register(
            "signatures",
            "Checkpoint signatures checked",
            self.signatures.clone(),
        );
        r.register(
            "duplicates",
            "Records already used that came again",
            self.duplicates.clone(),
        );
        r.register(
            "late",
            "Certified records that arrived after later positions were used",
            self.late.clone(),
        );
    }

    /// Logs and counts `reports`; `used` names what the reader does with a
    /// record (`applied`, `projected`).
    pub fn observe(&self, reports: &[Report], used: &str) {
        for r in reports {
            match r {
                Report::Quarantined {
                    offset,
                    position,
                    refusal,
                } => {
                    tracing::warn!(offset, ?position, reason = refusal.label(), error = %refusal, "record quarantined: not {used}");
                    self.quarantined
                        .get_or_create(&vec![("reason", refusal.label())])
                        .inc();
                }
                Report::Gap(gap) => {
                    tracing::error!(%gap, "gap in the log: nothing past it is {used} until the missing record arrives");
                }
                Report::GapFilled => tracing::info!("gap filled; the log is {used} again"),
                Report::Late(position) => {
                    tracing::warn!(
                        ?position,
                        "a certified record arrived after later positions were {used}"
                    );
                    self.late.inc();
                }
                Report::Duplicate(offset) => {
                    tracing::info!(offset, "record already {used}; skipped");
                    self.duplicates.inc();
                }
                Report::Parked(offset) => {
                    tracing::warn!(
                        offset,
                        "record without a proof before it: kept aside until its proof comes"
                    );
                }
            }
        }
    }

    /// Sets the gauges from the verifier's state.
    pub fn gauges(&self, v: &Verifier) {
        self.status.update(v);
        match v.gap() {
            Some(gap) => self.health.fail("gap", gap.to_string()),
            None => self.health.ok("gap"),
        }
        self.parked.set(v.parked() as i64);
        self.gap.set(i64::from(v.gap().is_some()));
        self.held.set(v.held() as i64);
        self.epoch.set(v.epoch() as i64);
        self.signatures
            .inner()
            .store(v.signatures(), std::sync::atomic::Ordering::Relaxed);
        if let Some((seq, _)) = v.last_verified() {
            self.last_verified.set(seq as i64);
        }
    }
}
