//! The etcd side of the master: the only module that talks to etcd.

use clap::Args;
use etcd_client::{Client, GetOptions};

/// Where the cluster's objects live.
#[derive(Args, Clone, Debug)]
pub struct EtcdArgs {
    /// etcd client endpoints (comma-separated URLs).
    #[arg(
        long = "etcd",
        env = "DAAS_ETCD_ENDPOINTS",
        value_delimiter = ',',
        default_value = "http://127.0.0.1:2379"
    )]
    pub endpoints: Vec<String>,
    /// Key prefix of kube objects; kube-apiserver's default is `/registry`.
    #[arg(long, env = "DAAS_ETCD_PREFIX", default_value = "/registry")]
    pub prefix: String,
}

/// Why etcd is not usable.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Connecting or a request failed.
    #[error("etcd at {endpoints} failed")]
    Etcd {
        /// The endpoints tried.
        endpoints: String,
        /// The client's error.
        #[source]
        source: etcd_client::Error,
    },
}

/// Connects to etcd.
pub async fn connect(args: &EtcdArgs) -> Result<Client, StoreError> {
    Client::connect(&args.endpoints, None)
        .await
        .map_err(|source| etcd_error(args, source))
}

fn etcd_error(args: &EtcdArgs, source: etcd_client::Error) -> StoreError {
    StoreError::Etcd {
        endpoints: args.endpoints.join(","),
        source,
    }
}

/// Connects and reports the server version, revision and how many keys sit under the prefix.
pub async fn check(args: &EtcdArgs) -> Result<String, StoreError> {
    let mut client = connect(args).await?;
    let status = client.status().await.map_err(|e| etcd_error(args, e))?;
    let keys = client
        .get(
            args.prefix.as_str(),
            Some(GetOptions::new().with_prefix().with_count_only()),
        )
        .await
        .map_err(|e| etcd_error(args, e))?;
    let revision = status.header().map(|h| h.revision()).unwrap_or_default();
    Ok(format!(
        "etcd {} ok (server {}, revision {revision}); {} keys under {}",
        args.endpoints.join(","),
        status.version(),
        keys.count(),
        args.prefix
    ))
}
