//! `master run`'s flags for the Kubernetes API, and the [`KubeApi`] they make.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use clap::Args;
use daas_domain::ObjectId;

use super::{KubeApi, KubeApiMetrics};
use crate::{access::AccessReader, encryption::SecretKey};

/// The audience `daas kubeconfig` signs tokens for by default: this API.
pub const DEFAULT_API_AUDIENCE: &str = "daas-master";

/// The audience of tokens a real API server passes to the TokenReview
/// webhook (`daas kubeconfig --audience daas-k3s`).
pub const DEFAULT_REVIEW_AUDIENCE: &str = "daas-k3s";

/// Where and how the Kubernetes API is served.
#[derive(Args, Clone, Debug)]
pub struct KubeApiArgs {
    /// Serve the read-only Kubernetes API (kubectl's `server`) and the
    /// TokenReview webhook on this address; not served when absent.
    #[arg(long, env = "DAAS_MASTER_KUBE_API_LISTEN")]
    pub kube_api_listen: Option<SocketAddr>,
    /// The serving certificate's directory: `ca.pem` (what kubeconfigs
    /// trust), `ca-key.pem`, `tls.pem`, `tls-key.pem`; made on first use
    /// (0700, keys 0600). Default `<sealing-key-dir>/kube-api-tls`.
    #[arg(long, env = "DAAS_MASTER_KUBE_API_TLS_DIR")]
    pub kube_api_tls_dir: Option<PathBuf>,
    /// More names for the serving certificate (DNS names or IPs; comma
    /// separated or repeated); `localhost` and `127.0.0.1` are always in it.
    #[arg(
        long = "kube-api-san",
        env = "DAAS_MASTER_KUBE_API_SANS",
        value_delimiter = ','
    )]
    pub kube_api_sans: Vec<String>,
    /// Serve plain HTTP instead of TLS: tokens travel in clear. For a
    /// development stack on loopback only.
    #[arg(long, env = "DAAS_MASTER_KUBE_API_INSECURE_HTTP")]
    pub kube_api_insecure_http: bool,
    /// The audience tokens sent to this API must carry.
    #[arg(long, env = "DAAS_MASTER_KUBE_API_AUDIENCE", default_value = DEFAULT_API_AUDIENCE)]
    pub kube_api_audience: String,
    /// The audience tokens in TokenReview requests must carry.
    #[arg(long, env = "DAAS_MASTER_TOKEN_REVIEW_AUDIENCE", default_value = DEFAULT_REVIEW_AUDIENCE)]
    pub token_review_audience: String,
    /// Seconds between bookmarks on a watch that allows them.
    #[arg(long, env = "DAAS_MASTER_WATCH_BOOKMARK_SECONDS", default_value_t = 60)]
    pub watch_bookmark_seconds: u64,
}

impl KubeApiArgs {
    /// The TLS directory: the flag, or `<sealing_dir>/kube-api-tls`.
    pub fn tls_dir(&self, sealing_dir: &std::path::Path) -> PathBuf {
        self.kube_api_tls_dir
            .clone()
            .unwrap_or_else(|| sealing_dir.join("kube-api-tls"))
    }

    /// The shared state of the API for `cluster`.
    pub fn api(
        &self,
        etcd: etcd_client::Client,
        registry: &str,
        cluster: ObjectId,
        access: AccessReader,
        secret_key: Option<SecretKey>,
        metrics: KubeApiMetrics,
    ) -> Arc<KubeApi> {
        let mut api = KubeApi::new(etcd, registry, access, cluster);
        api.api_tokens.audiences = vec![self.kube_api_audience.clone()];
        api.review_tokens.audiences = vec![self.token_review_audience.clone()];
        api.secret_key = secret_key;
        api.metrics = metrics;
        api.bookmark_interval = Duration::from_secs(self.watch_bookmark_seconds.max(1));
        Arc::new(api)
    }
}
