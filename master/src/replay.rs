//! `master replay`: the whole log again from offset 0 into a fresh etcd or
//! key prefix, then its state root. Two replays, or a replay and the live
//! state (controllers stopped), give the same root: the state is a pure
//! function of the log and the sealing keys. Sealed Secrets are opened
//! again on the way, so a replay needs every sealing key version the log's
//! Secrets were sealed to; one missing is refused as `sealing_key_unknown`
//! (logged) and the root then differs from the live one.

use etcd_client::{Client, GetOptions};
use tokio_util::sync::CancellationToken;

use crate::{
    apply::{Config, Engine},
    metrics::Metrics,
    pipeline::{LogArgs, MasterError, Until, apply_log},
    state_root::state_root,
};

/// What a replay did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Log records applied.
    pub records: i64,
    /// The state root.
    pub root: String,
    /// Entries the root covers.
    pub entries: usize,
    /// False when shutdown interrupted it.
    pub complete: bool,
}

/// Why a replay did not start.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The target already holds keys.
    #[error("{0} is not empty: replay into a fresh etcd or prefix")]
    NotEmpty(String),
    /// etcd failed.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// Applying failed.
    #[error(transparent)]
    Master(#[from] MasterError),
    /// The root could not be computed.
    #[error(transparent)]
    Root(#[from] crate::state_root::RootError),
}

/// Replays the log up to its current end into `cfg`'s (empty) layout.
pub async fn replay(
    mut client: Client,
    cfg: Config,
    log: &LogArgs,
    end: i64,
    shutdown: &CancellationToken,
) -> Result<Report, ReplayError> {
    for prefix in [&cfg.layout.registry, &cfg.layout.state] {
        let probe = format!("{prefix}/");
        let n = client
            .get(
                probe.as_str(),
                Some(GetOptions::new().with_prefix().with_count_only()),
            )
            .await?
            .count();
        if n > 0 {
            return Err(ReplayError::NotEmpty(probe));
        }
    }
    let (bar, ticker) = daas_service::progress::records_bar("replay", end as u64, shutdown.clone());
    let engine = Engine::open(client.clone(), cfg.clone())
        .await
        .map_err(MasterError::from)?;
    let metrics = Metrics::default();
    let engine = apply_log(
        engine,
        log,
        &metrics,
        None,
        Until::Offset(end),
        Some(&bar),
        shutdown,
    )
    .await?;
    ticker.abort();
    bar.finish_and_clear();
    let (root, entries) = state_root(&mut client, &cfg.layout, cfg.secret_key.as_ref()).await?;
    Ok(Report {
        records: engine.next_offset(),
        root,
        entries,
        complete: engine.next_offset() >= end,
    })
}
