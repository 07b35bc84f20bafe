//! The read-only Kubernetes API the master serves to kubectl (decision
//! 0022), and the TokenReview webhook a real API server asks.
//!
//! Every request but the webhook carries a bearer token
//! ([`daas_token`]): [`authn`] turns it into a [`Caller`] (401 otherwise),
//! [`authz`] decides from the committed ledger ([`crate::access`]) which
//! namespaces the caller may read a kind in (403 otherwise), and the
//! object handlers read etcd directly: what the apply path wrote, with
//! `resourceVersion` = the key's mod_revision ([`stored`]). Writes answer
//! 405.
//!
//! Modules:
//! - [`args`]: `master run`'s `--kube-api-*` flags, and the [`KubeApi`] they make;
//! - [`authn`], [`authz`]: who is asking, and what they may see;
//! - [`requests`]: the one handler of every Kubernetes path (405 for
//!   writes), over [`paths`] (path and query parsing), [`discovery`]
//!   (`/version`, `/api`, `/apis`, resource lists), [`objects`] (get, list
//!   in pages), [`table`] (kubectl's columns) and [`access_review`]
//!   (SelfSubjectAccessReview);
//! - [`selectors`]: label and field selectors;
//! - [`watch`]: watches from an etcd watch (bookmarks, 410 when compacted);
//! - [`review`]: the TokenReview webhook (`POST /v1/tokenreview`);
//! - [`serve`]: the TLS listener and its generated serving certificate;
//! - [`status`]: `Status` bodies; [`stored`]: etcd values as served;
//!   [`metrics`].

pub mod access_review;
pub mod args;
pub mod authn;
pub mod authz;
pub mod discovery;
pub mod metrics;
pub mod objects;
pub mod paths;
pub mod requests;
pub mod review;
pub mod selectors;
pub mod serve;
pub mod status;
pub mod stored;
pub mod table;
pub mod watch;

use std::{sync::Arc, time::Duration};

use axum::Router;
use daas_domain::{Address, kinds::KindInfo};

use crate::{access::AccessReader, encryption::SecretKey};
pub use metrics::KubeApiMetrics;
pub use status::Status;

/// Everything the handlers share.
pub struct KubeApi {
    /// etcd, where the objects are (clone per request).
    pub etcd: etcd_client::Client,
    /// The objects' root, normally `/registry`.
    pub registry: String,
    /// The committed ledger's authority.
    pub access: AccessReader,
    /// What bearer tokens sent to this API must be for.
    pub api_tokens: daas_token::Expected,
    /// What tokens in TokenReview requests must be for.
    pub review_tokens: daas_token::Expected,
    /// Opens Secrets sealed at rest (`None`: stored in plain JSON).
    pub secret_key: Option<SecretKey>,
    /// Counters.
    pub metrics: KubeApiMetrics,
    /// How often a watch that asked for bookmarks gets one.
    pub bookmark_interval: Duration,
    /// The clock tokens are checked against, Unix ms (tests set it).
    pub clock: fn() -> u64,
}

impl KubeApi {
    /// An API over `etcd` (objects under `registry`) for `cluster`, reading
    /// `access`: tokens for `daas-master`, TokenReviews for `daas-k3s`,
    /// Secrets in plain JSON, bookmarks every 60 s, the system clock.
    pub fn new(
        etcd: etcd_client::Client,
        registry: &str,
        access: AccessReader,
        cluster: daas_domain::ObjectId,
    ) -> Self {
        let cluster = sui_sdk_types::Address::new(cluster.0);
        let expected = |audience: &str| daas_token::Expected {
            cluster,
            audiences: vec![audience.to_owned()],
        };
        KubeApi {
            etcd,
            registry: registry.to_owned(),
            access,
            api_tokens: expected(args::DEFAULT_API_AUDIENCE),
            review_tokens: expected(args::DEFAULT_REVIEW_AUDIENCE),
            secret_key: None,
            metrics: KubeApiMetrics::default(),
            bookmark_interval: Duration::from_secs(60),
            clock: system_clock,
        }
    }

    /// The committed authority, or 503 until the master has loaded its ledger.
    pub fn authority(&self) -> Result<Arc<daas_domain::access::Access>, Status> {
        self.access
            .borrow()
            .clone()
            .ok_or_else(|| Status::unavailable("the master is still loading its ledger; retry"))
    }
}

/// The system clock, Unix ms.
pub fn system_clock() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The address whose key signed the token.
    pub address: Address,
    /// `sui:0x…`.
    pub username: String,
    /// Its groups at the time of the request ([`daas_domain::access::Access::groups`]).
    pub groups: Vec<String>,
}

/// What a request reads: a kind, in one namespace or all, one object or all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The kind (a managed kind, or one the API serves read-only such as events).
    pub info: &'static KindInfo,
    /// The namespace in the path (`None`: all namespaces, or cluster-scoped).
    pub namespace: Option<String>,
    /// The object's name (`None`: a collection).
    pub name: Option<String>,
}

impl Target {
    /// The etcd key of the one object named, if a name is given (and a
    /// namespace, for a namespaced kind).
    pub fn key(&self, registry: &str) -> Option<String> {
        let name = self.name.as_deref()?;
        if self.info.namespaced {
            Some(
                self.info
                    .etcd_key(registry, self.namespace.as_deref()?, name),
            )
        } else {
            Some(self.info.etcd_key(registry, "", name))
        }
    }

    /// The etcd prefix of the collection in `namespace` (`None`: every
    /// namespace, or the cluster-scoped kind), ending in `/`.
    pub fn prefix(&self, registry: &str, namespace: Option<&str>) -> String {
        let registry = registry.trim_end_matches('/');
        match namespace {
            Some(ns) if self.info.namespaced => {
                format!("{registry}/{}/{ns}/", self.info.etcd_resource)
            }
            _ => format!("{registry}/{}/", self.info.etcd_resource),
        }
    }
}

/// The query parameters of a list or watch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// `labelSelector`.
    pub label_selector: Option<String>,
    /// `fieldSelector`.
    pub field_selector: Option<String>,
    /// `resourceVersion` (list: `0`/empty = latest; watch: start after it).
    pub resource_version: Option<String>,
    /// `limit` (list pages).
    pub limit: Option<i64>,
    /// `continue` (the token of the previous page).
    pub continue_token: Option<String>,
    /// `watch=true` (or `1`).
    pub watch: bool,
    /// `allowWatchBookmarks=true`.
    pub allow_watch_bookmarks: bool,
    /// `timeoutSeconds`.
    pub timeout_seconds: Option<u64>,
}

/// The whole API: the webhook's route, then every Kubernetes path.
pub fn router(api: Arc<KubeApi>) -> Router {
    review::routes(api.clone()).merge(requests::routes(api))
}
