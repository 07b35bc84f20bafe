//! The Sui side of the indexer: the only module that talks to the full node.
//!
//! Events come from `sui_rpc::Client::stream_events` (live subscription with
//! gap repair through `ListEvents`), filtered on the server to our package's
//! modules and checked again here. The stream starts at the checkpoint of the
//! last record already in the log; the pipeline skips what it already has.
//!
//! For the proofs ([`crate::proofs`]) each checkpoint holding our events is
//! read once (`GetCheckpoint`: summary, signature, contents and every
//! transaction's effects and events, as BCS), and an ended epoch's last
//! checkpoint once more with only its summary and signature.

use std::{collections::BTreeMap, sync::Arc};

use clap::Args;
use daas_domain::{
    Address, LogEntry, LogPosition,
    record::{CheckpointProofBytes, TransactionProofBytes},
};
use futures::Stream;
use sui_rpc::{
    Client,
    client::{EventStreamRequest, EventStreamStart, LedgerStreamConfig},
    field::{FieldMask, FieldMaskUtil},
    proto::sui::rpc::v2::{
        Bcs, Checkpoint, EmitModuleFilter, EventFilter, EventLiteral, EventTerm,
        ExecutedTransaction, GetCheckpointRequest, GetEpochRequest, GetServiceInfoRequest,
        event_literal::Predicate,
    },
};

use crate::proofs::{Chain, CheckpointData};

/// What a checkpoint holding our events is read with.
const FULL_CHECKPOINT: [&str; 6] = [
    "summary.bcs",
    "signature",
    "contents.bcs",
    "transactions.digest",
    "transactions.effects.bcs",
    "transactions.events.bcs",
];

/// What an ended epoch's last checkpoint is read with (as `sui_rpc::light_client` does).
const SUMMARY_ONLY: [&str; 2] = ["summary.bcs", "signature"];

/// The largest answer read from the node: a checkpoint with every
/// transaction's effects and events is about 1.7 KB per transaction (12 MB
/// for 7,000), far above tonic's default of 4 MiB.
const MAX_RESPONSE_BYTES: usize = 256 << 20;

/// Full checkpoints kept: events arrive in checkpoint order, so a few suffice.
const CACHED_CHECKPOINTS: usize = 4;

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
    /// An event frame or a checkpoint lacks a field the log needs.
    #[error("the node's answer lacks {0}")]
    Incomplete(&'static str),
    /// The node served something that does not decode or contradicts itself.
    #[error("the node served an invalid {what}: {reason}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// The full node connection.
#[derive(Clone)]
pub struct Source {
    client: Client,
    package: Address,
    checkpoints: BTreeMap<u64, Arc<CheckpointData>>,
}

impl Source {
    /// Connects (lazily) to the node.
    pub fn new(args: &SourceArgs) -> Result<Self, SourceError> {
        let client = Client::new(args.node_url.clone())
            .map_err(|e| SourceError::Config(e.to_string()))?
            .with_max_decoding_message_size(MAX_RESPONSE_BYTES);
        let package = args
            .package
            .parse()
            .map_err(|e| SourceError::Config(format!("package {}: {e}", args.package)))?;
        Ok(Self {
            client,
            package,
            checkpoints: BTreeMap::new(),
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

    /// A node event as a log entry, without proofs (its checkpoint is read once
    /// per checkpoint, for the timestamp and later the proofs).
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
        let timestamp_ms = self.checkpoint(checkpoint).await?.timestamp_ms;
        Ok(Some(LogEntry::from_chain(
            position,
            digest.into_inner(),
            timestamp_ms,
            event_type,
            sender,
            bcs,
        )))
    }

    async fn get_checkpoint(&mut self, n: u64, paths: &[&str]) -> Result<Checkpoint, SourceError> {
        let req = GetCheckpointRequest::by_sequence_number(n)
            .with_read_mask(FieldMask::from_paths(paths));
        let response = self.client.ledger_client().get_checkpoint(req).await?;
        response
            .into_inner()
            .checkpoint
            .ok_or(SourceError::Incomplete("checkpoint"))
    }
}

impl Chain for Source {
    async fn checkpoint(&mut self, n: u64) -> Result<Arc<CheckpointData>, SourceError> {
        if let Some(data) = self.checkpoints.get(&n) {
            return Ok(data.clone());
        }
        let data = Arc::new(checkpoint_data(
            n,
            self.get_checkpoint(n, &FULL_CHECKPOINT).await?,
        )?);
        while self.checkpoints.len() >= CACHED_CHECKPOINTS {
            self.checkpoints.pop_first();
        }
        self.checkpoints.insert(n, data.clone());
        Ok(data)
    }

    async fn summary(&mut self, n: u64) -> Result<CheckpointData, SourceError> {
        checkpoint_data(n, self.get_checkpoint(n, &SUMMARY_ONLY).await?)
    }

    async fn epoch_end(&mut self, epoch: u64) -> Result<Option<u64>, SourceError> {
        let req =
            GetEpochRequest::new(epoch).with_read_mask(FieldMask::from_paths(["last_checkpoint"]));
        let response = self.client.ledger_client().get_epoch(req).await?;
        let epoch = response
            .into_inner()
            .epoch
            .ok_or(SourceError::Incomplete("epoch"))?;
        Ok(epoch.last_checkpoint)
    }
}

fn bcs_value(bcs: Option<&Bcs>) -> Option<Vec<u8>> {
    bcs.and_then(|b| b.value.as_ref()).map(|v| v.to_vec())
}

fn invalid(what: &'static str) -> impl FnOnce(String) -> SourceError {
    move |reason| SourceError::Invalid { what, reason }
}

/// Checkpoint `n` from the node's answer. The summary is required (it gives
/// the epoch and timestamp); the other proof bytes are carried as the node
/// served them, empty when it served none (a node without certificates):
/// the indexer writes, the verifier judges.
fn checkpoint_data(n: u64, cp: Checkpoint) -> Result<CheckpointData, SourceError> {
    let summary_bcs = bcs_value(cp.summary.as_ref().and_then(|s| s.bcs.as_ref()))
        .ok_or(SourceError::Incomplete("summary.bcs"))?;
    let summary: sui_sdk_types::CheckpointSummary =
        bcs::from_bytes(&summary_bcs).map_err(|e| invalid("summary.bcs")(e.to_string()))?;
    if summary.sequence_number != n {
        return Err(invalid("checkpoint")(format!(
            "asked for {n}, got {}",
            summary.sequence_number
        )));
    }
    let signature_bcs = match &cp.signature {
        None => Vec::new(),
        Some(s) => sui_sdk_types::ValidatorAggregatedSignature::try_from(s)
            .map_err(|e| e.to_string())
            .and_then(|s| bcs::to_bytes(&s).map_err(|e| e.to_string()))
            .map_err(invalid("signature"))?,
    };
    let contents_bcs =
        bcs_value(cp.contents.as_ref().and_then(|c| c.bcs.as_ref())).unwrap_or_default();
    let transactions = cp
        .transactions
        .iter()
        .map(transaction_proof)
        .collect::<Result<_, _>>()?;
    Ok(CheckpointData {
        sequence_number: n,
        epoch: summary.epoch,
        timestamp_ms: summary.timestamp_ms,
        proof: CheckpointProofBytes {
            summary_bcs,
            signature_bcs,
            contents_bcs,
        },
        transactions,
    })
}

/// A transaction's digest and its effects and events (empty when not served).
fn transaction_proof(
    t: &ExecutedTransaction,
) -> Result<([u8; 32], TransactionProofBytes), SourceError> {
    let digest: sui_sdk_types::Digest = t
        .digest
        .as_deref()
        .ok_or(SourceError::Incomplete("transactions.digest"))?
        .parse()
        .map_err(|e: sui_sdk_types::DigestParseError| {
            invalid("transactions.digest")(e.to_string())
        })?;
    let effects_bcs = bcs_value(t.effects.as_ref().and_then(|e| e.bcs.as_ref()));
    let events_bcs = bcs_value(t.events.as_ref().and_then(|e| e.bcs.as_ref()));
    Ok((
        digest.into_inner(),
        TransactionProofBytes {
            effects_bcs: effects_bcs.unwrap_or_default(),
            events_bcs: events_bcs.unwrap_or_default(),
        },
    ))
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
