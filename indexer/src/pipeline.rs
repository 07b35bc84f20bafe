//! The indexer's one loop: resume after the log's last record, read the
//! chain's events in order, produce each once, with the proofs and epoch
//! changes [`crate::proofs`] adds.
//!
//! Health (`/healthz`, `daas_healthy`): `chain` while the node does not answer
//! the lag probe, `stall` while the checkpoint read does not move for
//! [`daas_service::metrics::STALL_AFTER`] although the chain is ahead (a
//! broker that does not acknowledge, a node that streams nothing), and
//! `chain` or `produce` for the failure that stops a run.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use daas_domain::{Body, LogEntry, LogPosition};
use daas_service::{
    Health,
    health::{StallDetector, watch_progress},
    metrics::STALL_AFTER,
};
use futures::StreamExt;
use prometheus_client::{
    metrics::{
        counter::Counter,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use sui_rpc::client::EventStreamFrame;
use tokio_util::sync::CancellationToken;

use crate::{
    proofs::Prover,
    sink::{BrokerArgs, CheckError, ProduceError, Sink, last_record},
    source::{Source, SourceArgs, SourceError},
};

/// Why the indexer stopped.
#[derive(Debug, thiserror::Error)]
pub enum IndexerError {
    /// The node failed or lacks what the log needs.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The broker refused a record.
    #[error(transparent)]
    Produce(#[from] ProduceError),
    /// The log topic is unusable.
    #[error(transparent)]
    Check(#[from] CheckError),
    /// The producer could not be created.
    #[error("producer: {0}")]
    Producer(#[from] rdkafka::error::KafkaError),
    /// The node's event stream failed for good.
    #[error("event stream: {0}")]
    Stream(tonic::Status),
}

impl IndexerError {
    /// The health problem it is reported as: `chain` (reading) or `produce`.
    pub fn problem(&self) -> &'static str {
        match self {
            IndexerError::Source(_) | IndexerError::Stream(_) => "chain",
            IndexerError::Produce(_) | IndexerError::Check(_) | IndexerError::Producer(_) => {
                "produce"
            }
        }
    }
}

/// The indexer's Prometheus metrics.
#[derive(Clone)]
pub struct Metrics {
    /// Events of our package read from the node (including ones skipped as already logged).
    pub events_in: Counter,
    /// Records the broker acknowledged.
    pub events_out: Counter,
    /// Records skipped because the log already had them (after a restart).
    pub events_skipped: Counter,
    /// Checkpoint of the last record produced.
    pub checkpoint: Gauge,
    /// Bytes of proofs (checkpoint and transaction) in the records produced.
    pub proof_bytes: Counter,
    /// Epoch change records produced.
    pub epoch_changes: Counter,
    /// Checkpoints between the chain's tip and the last one read (with or without our events).
    pub checkpoint_lag: Gauge,
    /// Records queued in the producer, not yet acknowledged.
    pub in_flight: Gauge,
    /// Seconds from queueing a record to the broker's acknowledgement.
    pub produce_latency: Histogram,
    /// Problems that stop progress (`chain`, `produce`, `stall`): `/healthz` and `daas_healthy`.
    pub health: Health,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            events_in: Counter::default(),
            events_out: Counter::default(),
            events_skipped: Counter::default(),
            checkpoint: Gauge::default(),
            proof_bytes: Counter::default(),
            epoch_changes: Counter::default(),
            checkpoint_lag: Gauge::default(),
            in_flight: Gauge::default(),
            // 1 ms to ~8 s.
            produce_latency: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            health: Health::new(),
        }
    }
}

impl Metrics {
    /// Registers every metric under the `indexer` prefix, and `daas_healthy`.
    pub fn register(&self, registry: &mut Registry) {
        self.health.register(registry);
        let r = registry.sub_registry_with_prefix("indexer");
        r.register(
            "events_in",
            "Events of our package read from the node",
            self.events_in.clone(),
        );
        r.register(
            "events_out",
            "Log records acknowledged by the broker",
            self.events_out.clone(),
        );
        r.register(
            "events_skipped",
            "Events already in the log, skipped after a restart",
            self.events_skipped.clone(),
        );
        r.register(
            "checkpoint",
            "Checkpoint of the last record produced",
            self.checkpoint.clone(),
        );
        r.register(
            "proof_bytes",
            "Bytes of checkpoint and transaction proofs in the records produced",
            self.proof_bytes.clone(),
        );
        r.register(
            "epoch_changes",
            "Epoch change records produced",
            self.epoch_changes.clone(),
        );
        r.register(
            "checkpoint_lag",
            "Checkpoints between the chain tip and the last checkpoint read",
            self.checkpoint_lag.clone(),
        );
        r.register(
            "in_flight",
            "Records queued in the producer",
            self.in_flight.clone(),
        );
    }
}

/// The record key: the cluster for cluster-scoped events (requests, grants,
/// sealing keys, ...: [`Event::cluster`]), else the package (empty for an
/// epoch change, which has no event type).
pub fn key(entry: &LogEntry) -> Vec<u8> {
    let cluster = match &entry.body {
        Body::Event(e) => e.cluster(),
        Body::Unknown | Body::Poison(_) | Body::EpochChange { .. } => None,
    };
    match cluster {
        Some(cluster) => cluster.0.to_vec(),
        None => entry
            .event_type
            .split("::")
            .next()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
    }
}

/// Runs until `shutdown` (then flushes and returns `Ok`) or a fatal error,
/// which is also reported on `metrics.health` (problem `chain` or `produce`).
pub async fn run(
    source_args: &SourceArgs,
    broker: &BrokerArgs,
    max_in_flight: usize,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> Result<(), IndexerError> {
    let health = metrics.health.clone();
    let result = index(source_args, broker, max_in_flight, metrics, shutdown).await;
    if let Err(e) = &result {
        health.fail(e.problem(), e.to_string());
    }
    result
}

async fn index(
    source_args: &SourceArgs,
    broker: &BrokerArgs,
    max_in_flight: usize,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> Result<(), IndexerError> {
    let mut source = Source::new(source_args)?;
    let b = broker.clone();
    let last_entry = tokio::task::spawn_blocking(move || last_record(&b))
        .await
        .map_err(|e| CheckError::Task(e.to_string()))??;
    let last: Option<LogPosition> = last_entry.as_ref().map(|e| e.position);
    let from = last.map_or(source_args.start_checkpoint, |p| p.checkpoint);
    source.ensure_available(from).await?;
    let mut prover = Prover::resume(last_entry.as_ref(), &mut source).await?;
    tracing::info!(resume_after = ?last.map(|p| p.to_string()), from_checkpoint = from, "indexing");

    let mut sink = Sink::new(broker, max_in_flight, metrics.produce_latency.clone())?;
    let mut stream = Box::pin(source.stream(from));
    // The last checkpoint read: of the last event produced, or covered by a
    // progress frame of the stream (checkpoints without our events).
    let read_checkpoint = Arc::new(AtomicU64::new(from));
    let lag_task = tokio::spawn(track_lag(
        source.clone(),
        read_checkpoint.clone(),
        metrics.clone(),
        shutdown.clone(),
    ));

    let result = loop {
        let frame = tokio::select! {
            _ = shutdown.cancelled() => break Ok(()),
            // While the chain is quiet, collect acknowledgements so the window drains.
            delivered = sink.await_oldest(), if sink.pending() > 0 => {
                match delivered {
                    Ok(Some(_)) => {
                        metrics.events_out.inc();
                        metrics.in_flight.set(sink.pending() as i64);
                        continue;
                    }
                    Ok(None) => continue,
                    Err(e) => break Err(e.into()),
                }
            }
            frame = stream.next() => frame,
        };
        let entry = match entry_of(frame, &mut source, &read_checkpoint).await {
            Ok(Some(entry)) => entry,
            Ok(None) => continue,
            Err(e) => break Err(e),
        };
        metrics.events_in.inc();
        if !entry.position.is_after(prover.last()) {
            metrics.events_skipped.inc();
            continue;
        }
        let checkpoint = entry.position.checkpoint;
        if let Err(e) =
            produce_with_proofs(entry, &mut prover, &mut source, &mut sink, &metrics).await
        {
            break Err(e);
        }
        read_checkpoint.fetch_max(checkpoint, Ordering::Relaxed);
    };
    // Whatever happened, what was queued goes out before we return.
    let pending = sink.pending() as u64;
    let flushed = sink.flush().await;
    if flushed.is_ok() {
        metrics.events_out.inc_by(pending);
    }
    lag_task.abort();
    flushed?;
    result
}

/// The log entry of a stream frame of our package, if it carries one; notes
/// the checkpoint a progress frame covers in `read`.
async fn entry_of(
    frame: Option<Result<EventStreamFrame, tonic::Status>>,
    source: &mut Source,
    read: &AtomicU64,
) -> Result<Option<LogEntry>, IndexerError> {
    let frame = match frame {
        Some(Ok(frame)) => frame,
        Some(Err(status)) => return Err(IndexerError::Stream(status)),
        None => {
            return Err(IndexerError::Stream(tonic::Status::aborted(
                "the event stream ended",
            )));
        }
    };
    if let Some(c) = frame.covered_checkpoint {
        read.fetch_max(c, Ordering::Relaxed);
    }
    let Some(event) = frame.event else {
        return Ok(None);
    };
    Ok(source.to_entry(event).await?)
}

/// Queues `entry` with its proofs, after the epoch changes due before it.
async fn produce_with_proofs(
    entry: LogEntry,
    prover: &mut Prover,
    source: &mut Source,
    sink: &mut Sink,
    metrics: &Metrics,
) -> Result<(), IndexerError> {
    for record in prover.records(entry, source).await? {
        if let Body::EpochChange { epoch } = record.body {
            tracing::info!(
                epoch,
                checkpoint = record.position.checkpoint,
                "epoch change logged"
            );
            metrics.epoch_changes.inc();
        }
        metrics.proof_bytes.inc_by(proof_bytes(&record));
        produce(&record, sink, metrics).await?;
    }
    Ok(())
}

/// Bytes of proofs a record carries.
pub fn proof_bytes(entry: &LogEntry) -> u64 {
    let p = &entry.proof;
    let checkpoint = p.checkpoint.as_ref().map_or(0, |c| {
        c.summary_bcs.len() + c.signature_bcs.len() + c.contents_bcs.len()
    });
    let transaction = p
        .transaction
        .as_ref()
        .map_or(0, |t| t.effects_bcs.len() + t.events_bcs.len());
    (checkpoint + transaction) as u64
}

/// Queues `entry` for the broker and counts what the broker acknowledged.
async fn produce(entry: &LogEntry, sink: &mut Sink, metrics: &Metrics) -> Result<(), IndexerError> {
    if let Body::Poison(reason) = &entry.body {
        tracing::warn!(position = %entry.position, %reason, "undecodable event logged as poison");
    }
    let delivered = sink.send(entry, &key(entry)).await?;
    metrics.events_out.inc_by(delivered);
    metrics.checkpoint.set(entry.position.checkpoint as i64);
    metrics.in_flight.set(sink.pending() as i64);
    Ok(())
}

/// Every 5 s: the checkpoint lag, the `chain` problem while the node does
/// not answer, and the `stall` problem while the read checkpoint stands still
/// with the chain ahead.
async fn track_lag(
    mut source: Source,
    read: Arc<AtomicU64>,
    metrics: Metrics,
    shutdown: CancellationToken,
) {
    let period = std::time::Duration::from_secs(5);
    let mut tick = tokio::time::interval(period);
    let mut stall = StallDetector::new(STALL_AFTER);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match source.tip().await {
            Ok((tip, _)) => {
                metrics.health.ok("chain");
                let at = read.load(Ordering::Relaxed);
                let lag = tip.saturating_sub(at) as i64;
                metrics.checkpoint_lag.set(lag);
                watch_progress(&metrics.health, &mut stall, at as i64, lag, period);
            }
            Err(e) => metrics
                .health
                .fail("chain", format!("the node does not answer: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use daas_domain::{Address, Bytes, Event, events::*};

    use super::*;

    fn entry(event: Event) -> LogEntry {
        let (module, name) = event.move_type();
        LogEntry::from_chain(
            LogPosition::new(1, 0, 0),
            [0; 32],
            1,
            format!("0xda45::{module}::{name}"),
            Address([1; 32]),
            event.to_bcs(),
        )
    }

    #[test]
    fn cluster_events_are_keyed_by_cluster_and_others_by_package() {
        let cluster = Address([0xc1; 32]);
        let sealing = entry(Event::SealingKeyRegistered(SealingKeyRegistered {
            cluster_id: cluster,
            version: 1,
            public_key: Bytes(vec![5; 32]),
            registered_by: Address([9; 32]),
            timestamp_ms: 1,
            seq: 0,
        }));
        assert_eq!(key(&sealing), vec![0xc1; 32]);
        let node = entry(Event::NodeDeregistered(NodeDeregistered {
            operator: Address([2; 32]),
            node_name: "n".into(),
            timestamp_ms: 1,
            seq: 0,
        }));
        assert_eq!(key(&node), b"0xda45".to_vec());
    }
}
