//! The Sui side of the indexer: the only module that talks to the full node.
//!
//! Events come from `sui_rpc::Client::stream_events` (live subscription with
//! gap repair through `ListEvents`), filtered on the server to our package's
//! modules and checked again here. The stream starts at the checkpoint of the
//! last record already in the log; the pipeline skips what it already has.

use std::collections::BTreeMap;

use clap::Args;
use daas_domain::{Address, LogEntry, LogPosition};
use futures::Stream;
use sui_rpc::{
    Client,
    client::{EventStreamRequest, EventStreamStart, LedgerStreamConfig},
    field::{FieldMask, FieldMaskUtil},
    proto::sui::rpc::v2::{
        EmitModuleFilter, EventFilter, EventLiteral, EventTerm, GetCheckpointRequest,
        GetServiceInfoRequest, event_literal::Predicate, get_checkpoint_request::CheckpointId,
    },
};

/// Where the chain is and what to read from it.
#[derive(Args, Clone, Debug)]
pub struct SourceArgs {
    /// The full node's gRPC URL (a real Sui full node or the dev chain).
    #[arg(long, env = "DAAS_NODE_URL", default_value = "http://127.0.0.1:9000")]
    pub node_url: String,
    /// Our package's id.
    #[arg(
        long,
        env = "DAAS_PACKAGE_ID",
        default_value = "0x000000000000000000000000000000000000000000000000000000000000da45"
    )]
    pub package: String,
    /// First checkpoint to index when the log is empty (backfill from here).
    #[arg(long, env = "DAAS_START_CHECKPOINT", default_value_t = 0)]
    pub start_checkpoint: u64,
}

/// Why reading the chain failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The URL or package id is not usable.
    #[error("bad configuration: {0}")]
    Config(String),
    /// The node pruned a checkpoint the log still needs: no gap-free continuation exists.
    #[error(
        "the node's lowest available checkpoint is {lowest}, but the log needs checkpoint {needed}; point the indexer at a node that keeps it (an archive)"
    )]
    Pruned {
        /// First checkpoint the log needs.
        needed: u64,
        /// The node's lowest available checkpoint.
        lowest: u64,
    },
    /// An RPC failed (the stream retries transient failures itself; this is what it gave up on).
    #[error("node RPC failed: {0}")]
    Rpc(#[from] tonic::Status),
    /// An event frame lacks a field the log needs.
    #[error("event from the node lacks {0}")]
    Incomplete(&'static str),
}

/// The full node connection.
#[derive(Clone)]
pub struct Source {
    client: Client,
    package: Address,
    timestamps: BTreeMap<u64, u64>,
}

impl Source {
    /// Connects (lazily) to the node.
    pub fn new(args: &SourceArgs) -> Result<Self, SourceError> {
        let client =
            Client::new(args.node_url.clone()).map_err(|e| SourceError::Config(e.to_string()))?;
        let package = args
            .package
            .parse()
            .map_err(|e| SourceError::Config(format!("package {}: {e}", args.package)))?;
        Ok(Self {
            client,
            package,
            timestamps: BTreeMap::new(),
        })
    }

    /// The newest checkpoint and the lowest one the node still serves.
    pub async fn tip(&mut self) -> Result<(u64, u64), SourceError> {
        let info = self
            .client
            .ledger_client()
            .get_service_info(GetServiceInfoRequest::default())
            .await?
            .into_inner();
        Ok((
            info.checkpoint_height.unwrap_or(0),
            info.lowest_available_checkpoint.unwrap_or(0),
        ))
    }

    /// Fails unless the node still serves checkpoint `needed`.
    pub async fn ensure_available(&mut self, needed: u64) -> Result<(), SourceError> {
        let (_, lowest) = self.tip().await?;
        if needed < lowest {
            return Err(SourceError::Pruned { needed, lowest });
        }
        Ok(())
    }

    /// The raw resumable event stream from checkpoint `from`.
    pub fn stream(
        &self,
        from: u64,
    ) -> impl Stream<Item = Result<sui_rpc::client::EventStreamFrame, tonic::Status>> + Send + 'static
    {
        let mut config = LedgerStreamConfig::default();
        // Backfill in large pages: one round trip per 10,000 events.
        config.list_page_limit = Some(10_000);
        self.client.stream_events_with_config(
            EventStreamRequest::new()
                .with_read_mask(FieldMask::from_paths(["*"]))
                .with_filter(package_filter(&self.package))
                .with_start(EventStreamStart::Checkpoint(from)),
            config,
        )
    }

    /// A node event as a log entry (the checkpoint's timestamp is fetched once per checkpoint).
    pub async fn to_entry(
        &mut self,
        e: sui_rpc::proto::sui::rpc::v2::Event,
    ) -> Result<Option<LogEntry>, SourceError> {
        // Checked again here: a node that ignored the filter must not leak other packages in.
        let package: Option<Address> = e.package_id.as_deref().and_then(|p| p.parse().ok());
        if package != Some(self.package) {
            return Ok(None);
        }
        let checkpoint = e.checkpoint.ok_or(SourceError::Incomplete("checkpoint"))?;
        let position = LogPosition::new(
            checkpoint,
            e.transaction_index
                .ok_or(SourceError::Incomplete("transaction_index"))?,
            u64::from(
                e.event_index
                    .ok_or(SourceError::Incomplete("event_index"))?,
            ),
        );
        let digest: sui_sdk_types::Digest = e
            .transaction_digest
            .as_deref()
            .ok_or(SourceError::Incomplete("transaction_digest"))?
            .parse()
            .map_err(|_| SourceError::Incomplete("a valid transaction_digest"))?;
        let sender: Address = e
            .sender
            .as_deref()
            .and_then(|s| s.parse().ok())
            .ok_or(SourceError::Incomplete("sender"))?;
        let bcs = e
            .contents
            .and_then(|c| c.value)
            .ok_or(SourceError::Incomplete("contents"))?
            .to_vec();
        let event_type = e.event_type.ok_or(SourceError::Incomplete("event_type"))?;
        let timestamp_ms = self.checkpoint_timestamp(checkpoint).await?;
        Ok(Some(LogEntry::from_chain(
            position,
            digest.into_inner(),
            timestamp_ms,
            event_type,
            sender,
            bcs,
        )))
    }

    async fn checkpoint_timestamp(&mut self, checkpoint: u64) -> Result<u64, SourceError> {
        if let Some(ts) = self.timestamps.get(&checkpoint) {
            return Ok(*ts);
        }
        let mut req = GetCheckpointRequest::default();
        req.checkpoint_id = Some(CheckpointId::SequenceNumber(checkpoint));
        req.read_mask = Some(FieldMask::from_paths(["summary.timestamp"]));
        let cp = self
            .client
            .ledger_client()
            .get_checkpoint(req)
            .await?
            .into_inner();
        let ts = cp
            .checkpoint
            .and_then(|c| c.summary)
            .and_then(|s| s.timestamp)
            .map(|t| t.seconds as u64 * 1000 + t.nanos as u64 / 1_000_000)
            .ok_or(SourceError::Incomplete("checkpoint timestamp"))?;
        // Checkpoints arrive in order: keep only a few recent timestamps.
        while self.timestamps.len() > 64 {
            self.timestamps.pop_first();
        }
        self.timestamps.insert(checkpoint, ts);
        Ok(ts)
    }
}

fn package_filter(package: &Address) -> EventFilter {
    let mut m = EmitModuleFilter::default();
    m.module = Some(package.to_string());
    let mut lit = EventLiteral::default();
    lit.predicate = Some(Predicate::EmitModule(m));
    let mut term = EventTerm::default();
    term.literals = vec![lit];
    let mut f = EventFilter::default();
    f.terms = vec![term];
    f
}
