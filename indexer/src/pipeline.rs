//! The indexer's one loop: resume after the log's last record, read the
//! chain's events in order, produce each once.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use daas_domain::{Body, Event, LogEntry, LogPosition};
use futures::StreamExt;
use prometheus_client::{
    metrics::{
        counter::Counter,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use tokio_util::sync::CancellationToken;

use crate::{
    sink::{BrokerArgs, CheckError, ProduceError, Sink, last_position},
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

/// The indexer's Prometheus metrics.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Events of our package read from the node (including ones skipped as already logged).
    pub events_in: Counter,
    /// Records the broker acknowledged.
    pub events_out: Counter,
    /// Records skipped because the log already had them (after a restart).
    pub events_skipped: Counter,
    /// Checkpoint of the last record produced.
    pub checkpoint: Gauge,
    /// Checkpoints between the chain's tip and the last record produced.
    pub checkpoint_lag: Gauge,
    /// Records queued in the producer, not yet acknowledged.
    pub in_flight: Gauge,
    /// Seconds from queueing a record to the broker's acknowledgement.
    pub produce_latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            events_in: Counter::default(),
            events_out: Counter::default(),
            events_skipped: Counter::default(),
            checkpoint: Gauge::default(),
            checkpoint_lag: Gauge::default(),
            in_flight: Gauge::default(),
            // 1 ms to ~8 s.
            produce_latency: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
        }
    }
}

impl Metrics {
    /// Registers every metric under the `indexer` prefix.
    pub fn register(&self, registry: &mut Registry) {
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
            "checkpoint_lag",
            "Checkpoints between the chain tip and the last record produced",
            self.checkpoint_lag.clone(),
        );
        r.register(
            "in_flight",
            "Records queued in the producer",
            self.in_flight.clone(),
        );
    }
}

/// The record key: the cluster for cluster-scoped events, else the package.
pub fn key(entry: &LogEntry) -> Vec<u8> {
    match &entry.body {
        Body::Event(Event::K8sApiRequest(e)) => e.cluster_id.0.to_vec(),
        Body::Event(Event::ClusterCreated(e)) => e.cluster_id.0.to_vec(),
        Body::Event(Event::NamespaceGranted(e)) => e.cluster_id.0.to_vec(),
        Body::Event(Event::NamespaceRevoked(e)) => e.cluster_id.0.to_vec(),
        _ => entry
            .event_type
            .split("::")
            .next()
            .unwrap_or_default()
            .as_bytes()
            .to_vec(),
    }
}

/// Runs until `shutdown` (then flushes and returns `Ok`) or a fatal error.
pub async fn run(
    source_args: &SourceArgs,
    broker: &BrokerArgs,
    max_in_flight: usize,
    metrics: Metrics,
    shutdown: CancellationToken,
) -> Result<(), IndexerError> {
    let mut source = Source::new(source_args)?;
    let b = broker.clone();
    let mut last: Option<LogPosition> = tokio::task::spawn_blocking(move || last_position(&b))
        .await
        .map_err(|e| CheckError::Task(e.to_string()))??;
    let from = last.map_or(source_args.start_checkpoint, |p| p.checkpoint);
    source.ensure_available(from).await?;
    tracing::info!(resume_after = ?last.map(|p| p.to_string()), from_checkpoint = from, "indexing");

    let mut sink = Sink::new(broker, max_in_flight, metrics.produce_latency.clone())?;
    let mut stream = Box::pin(source.stream(from));
    let produced_checkpoint = Arc::new(AtomicU64::new(from));
    let lag_task = tokio::spawn(track_lag(
        source.clone(),
        produced_checkpoint.clone(),
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
        let frame = match frame {
            Some(Ok(frame)) => frame,
            Some(Err(status)) => break Err(IndexerError::Stream(status)),
            None => {
                break Err(IndexerError::Stream(tonic::Status::aborted(
                    "the event stream ended",
                )));
            }
        };
        let Some(event) = frame.event else { continue };
        let entry = match source.to_entry(event).await {
            Ok(Some(entry)) => entry,
            Ok(None) => continue,
            Err(e) => break Err(e.into()),
        };
        metrics.events_in.inc();
        if !entry.position.is_after(last) {
            metrics.events_skipped.inc();
            continue;
        }
        if let Body::Poison(reason) = &entry.body {
            tracing::warn!(position = %entry.position, %reason, "undecodable event logged as poison");
        }
        match sink.send(&entry, &key(&entry)).await {
            Ok(delivered) => {
                metrics.events_out.inc_by(delivered);
            }
            Err(e) => break Err(e.into()),
        }
        last = Some(entry.position);
        produced_checkpoint.store(entry.position.checkpoint, Ordering::Relaxed);
        metrics.checkpoint.set(entry.position.checkpoint as i64);
        metrics.in_flight.set(sink.pending() as i64);
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

async fn track_lag(
    mut source: Source,
    produced: Arc<AtomicU64>,
    metrics: Metrics,
    shutdown: CancellationToken,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Ok((tip, _)) = source.tip().await {
            metrics
                .checkpoint_lag
                .set(tip.saturating_sub(produced.load(Ordering::Relaxed)) as i64);
        }
    }
}
