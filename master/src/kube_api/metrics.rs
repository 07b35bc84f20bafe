//! The Kubernetes API's metrics (`master_kube_api_*`, `master_token_reviews_total`,
//! `master_rbac_objects_written_total`).

use prometheus_client::{
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

/// Labels of one answered request: `verb` (get, list, watch, discovery,
/// review, …), `resource` (plural or `-`), `code` (HTTP status).
pub type RequestLabels = Vec<(&'static str, String)>;

/// The API's counters; cheap to clone.
#[derive(Clone)]
pub struct KubeApiMetrics {
    /// Requests answered, by verb, resource and code.
    pub requests: Family<RequestLabels, Counter>,
    /// Seconds to answer a request (watches: to open them), by verb.
    pub request_seconds: Family<Vec<(&'static str, &'static str)>, Histogram>,
    /// Bearer tokens checked, by `result` (`ok` or a refusal class:
    /// `missing`, `malformed`, `bad_signature`, `wrong_cluster`, …).
    pub authentications: Family<Vec<(&'static str, &'static str)>, Counter>,
    /// Watches open now.
    pub watches_open: Gauge,
    /// Watch events sent, by `type` (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR).
    pub watch_events: Family<Vec<(&'static str, &'static str)>, Counter>,
    /// TokenReview answers, by `result` (`authenticated` or a refusal class).
    pub token_reviews: Family<Vec<(&'static str, &'static str)>, Counter>,
    /// RBAC objects the ledger mirror wrote or deleted, by `op` (`put`, `delete`).
    pub rbac_objects_written: Family<Vec<(&'static str, &'static str)>, Counter>,
}

impl Default for KubeApiMetrics {
    fn default() -> Self {
        KubeApiMetrics {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.000_5, 2.0, 16))
            }),
            authentications: Family::default(),
            watches_open: Gauge::default(),
            watch_events: Family::default(),
            token_reviews: Family::default(),
            rbac_objects_written: Family::default(),
        }
    }
}

impl KubeApiMetrics {
    /// Registers under `master_` in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("master");
        r.register(
            "kube_api_requests",
            "Kubernetes API requests answered, by verb, resource and code",
            self.requests.clone(),
        );
        r.register(
            "kube_api_request_seconds",
            "Seconds to answer a Kubernetes API request (watches: to open), by verb",
            self.request_seconds.clone(),
        );
        r.register(
            "kube_api_authentications",
            "Bearer tokens checked, by result",
            self.authentications.clone(),
        );
        r.register(
            "kube_api_watches_open",
            "Watches open now",
            self.watches_open.clone(),
        );
        r.register(
            "kube_api_watch_events",
            "Watch events sent, by type",
            self.watch_events.clone(),
        );
        r.register(
            "token_reviews",
            "TokenReview answers, by result",
            self.token_reviews.clone(),
        );
        r.register(
            "rbac_objects_written",
            "RBAC objects the ledger mirror wrote or deleted, by op",
            self.rbac_objects_written.clone(),
        );
    }
}
