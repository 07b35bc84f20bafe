//! The master's loop: read the log from the position stored in etcd, apply
//! it Txn by Txn, publish the outcomes. Any failure (etcd restart, a conflict,
//! the broker) reopens the engine from etcd: what a Txn committed stays, what
//! it did not is applied again.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::Args;
use etcd_client::Client;
use indicatif::ProgressBar;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{Consumer, StreamConsumer},
};
use tokio_util::{sync::CancellationToken, task::AbortOnDropHandle};

use crate::{
    apply::{Config, Engine, EngineError, Incoming, Planned, commit},
    lookup::OutcomeIndex,
    metrics::Metrics,
    outcomes::{PublishError, Publisher},
    verification::{SetupError, Stage, VerifyArgs},
};

/// The topics.
#[derive(Args, Clone, Debug)]
pub struct LogArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "DAAS_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// The log topic.
    #[arg(long, env = "DAAS_LOG_TOPIC", default_value = "daas.log.v1")]
    pub topic: String,
    /// Where outcomes are published.
    #[arg(long, env = "DAAS_OUTCOME_TOPIC", default_value = "daas.outcomes.v1")]
    pub outcome_topic: String,
    /// Records read ahead before applying (the engine takes as many per Txn as fit).
    #[arg(long, default_value_t = 2_000)]
    pub read_ahead: usize,
    /// Apply what has arrived at the latest this long after the first record, ms.
    #[arg(long, default_value_t = 20)]
    pub batch_ms: u64,
    /// How records are checked against Sui's validators.
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Why the master stopped.
#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    /// Applying failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Publishing outcomes failed.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// Reading the log failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// Verification cannot be set up.
    #[error(transparent)]
    Verify(#[from] SetupError),
}

impl MasterError {
    /// Worth reopening from etcd (connections, conflicts); corrupt state, a
    /// key that does not open Secrets and a Txn etcd refuses for its shape are not.
    pub fn is_transient(&self) -> bool {
        !matches!(
            self,
            MasterError::Engine(
                EngineError::State(crate::state::StateError::Corrupt { .. })
                    | EngineError::Secret { .. }
                    | EngineError::Refused(_)
            ) | MasterError::Publish(PublishError::Corrupt(_))
                | MasterError::Verify(_)
        )
    }

    /// The `error` label of `master_apply_failures_total`.
    pub fn kind(&self) -> &'static str {
        match self {
            MasterError::Engine(EngineError::Conflict) => "conflict",
            MasterError::Engine(EngineError::Refused(_)) => "refused",
            MasterError::Engine(EngineError::Secret { .. }) => "secret",
            MasterError::Engine(EngineError::State(crate::state::StateError::Corrupt {
                ..
            }))
            | MasterError::Publish(PublishError::Corrupt(_)) => "corrupt",
            MasterError::Engine(_) | MasterError::Publish(PublishError::Etcd(_)) => "etcd",
            MasterError::Publish(_) | MasterError::Kafka(_) => "kafka",
            MasterError::Verify(_) => "verify",
        }
    }
}

/// When [`apply_log`] returns.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// At shutdown only.
    Shutdown,
    /// Once the next offset reaches this (a replay's end), or at shutdown.
    Offset(i64),
}

/// A batch whose Txn is being sent, with when its planning started.
type InFlight = (
    tokio::task::JoinHandle<Result<i64, EngineError>>,
    Planned,
    Instant,
);

/// Consecutive failed attempts after which the master reports itself
/// unhealthy (one conflict or a short etcd blip is normal operation).
pub const UNHEALTHY_AFTER_FAILURES: u32 = 3;

/// `master run`: applies the log until shutdown; restarts from etcd on
/// transient failures with backoff. Failures are counted in
/// `master_apply_failures_total`; after [`UNHEALTHY_AFTER_FAILURES`] in a row
/// without a committed Txn between them the `apply` problem is reported
/// (`/healthz` answers 503) until a Txn commits or the master is caught up.
pub async fn run(
    client: Client,
    cfg: Config,
    log: &LogArgs,
    metrics: &Metrics,
    index: Arc<OutcomeIndex>,
    signer: Option<Arc<crate::receipts::ReceiptSigner>>,
    shutdown: CancellationToken,
) -> Result<(), MasterError> {
    let mut backoff = Duration::from_millis(100);
    let mut failures = 0;
    loop {
        let txns_before = metrics.txns.get();
        let attempt = async {
            let mut publisher =
                Publisher::new(&log.brokers, &log.outcome_topic)?.with_index(index.clone());
            if let Some(signer) = &signer {
                publisher = publisher.with_signer(signer.clone());
            }
            let mut etcd = client.clone();
            let republished = publisher
                .resume(&mut etcd, &cfg.layout, &cfg.state_key)
                .await?;
            let mut engine = Engine::open_with(client.clone(), cfg.clone(), metrics).await?;
            engine.check_sealing_key(metrics);
            // Everything stored is on the topic now.
            engine.outcomes_durable_before(engine.next_offset());
            tracing::info!(
                next_offset = engine.next_offset(),
                republished,
                "ledger loaded from etcd; applying"
            );
            backoff = Duration::from_millis(100);
            apply_log(
                engine,
                log,
                metrics,
                Some(&mut publisher),
                Until::Shutdown,
                None,
                &shutdown,
            )
            .await
            .map(|_| ())
        }
        .await;
        let e = match attempt {
            Ok(()) => return Ok(()),
            // A connection cut by the shutdown itself is not a failure.
            Err(e) if shutdown.is_cancelled() && e.is_transient() => return Ok(()),
            Err(e) => e,
        };
        let progressed = metrics.txns.get() > txns_before;
        failures = if progressed { 1 } else { failures + 1 };
        report_failure(metrics, &e, failures, backoff);
        if !e.is_transient() {
            return Err(e);
        }
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Counts a failed attempt, logs it, and reports the `apply` problem when
/// it stops the master or `failures` attempts in a row have failed.
fn report_failure(metrics: &Metrics, e: &MasterError, failures: u32, backoff: Duration) {
    metrics
        .apply_failures
        .get_or_create(&vec![("error", e.kind())])
        .inc();
    if !e.is_transient() {
        metrics.health.fail("apply", format!("stopped: {e}"));
        return;
    }
    metrics.restarts.inc();
    let retry_in_ms = backoff.as_millis() as u64;
    tracing::warn!(error = %e, failures, retry_in_ms, "reopening from etcd");
    if failures >= UNHEALTHY_AFTER_FAILURES {
        metrics
            .health
            .fail("apply", format!("applying keeps failing, retrying: {e}"));
    }
}

/// How long `apply_log` waits with nothing to apply before it calls itself
/// caught up (and clears the `apply` problem): far above the log reader's
/// 20 ms fetch wait.
const IDLE_CAUGHT_UP: Duration = Duration::from_secs(1);

/// Applies the log from the engine's position until `until` or shutdown;
/// returns the engine (its next offset says how far it got).
pub async fn apply_log(
    mut engine: Engine,
    log: &LogArgs,
    metrics: &Metrics,
    mut publisher: Option<&mut Publisher>,
    until: Until,
    progress: Option<&ProgressBar>,
    shutdown: &CancellationToken,
) -> Result<Engine, MasterError> {
    let setup = log.verify.setup()?;
    let (mut stage, from) = Stage::open(setup.as_ref(), &engine)?;
    // The consumer runs in its own task, so reading the next records overlaps
    // with applying these (measured: sequential reading cost a third of the
    // replay rate).
    let (tx, mut rx) = tokio::sync::mpsc::channel(log.read_ahead.max(1) * 2);
    // Stops when this function returns, however it returns.
    let _reader = AbortOnDropHandle::new(tokio::spawn(read_log(log.clone(), from, tx)));
    metrics.next_offset.set(engine.next_offset());

    let mut buffer: VecDeque<Incoming> = VecDeque::new();
    let mut read = from;
    loop {
        let end = match until {
            Until::Offset(end) if engine.next_offset() >= end => return Ok(engine),
            // Read to the end, and what was read is held behind a gap.
            Until::Offset(end) if read >= end && buffer.is_empty() => return Ok(engine),
            Until::Offset(end) => end,
            Until::Shutdown => i64::MAX,
        };
        let mut raw = Vec::new();
        if !stage.is_full() {
            let reader = Reader {
                rx: &mut rx,
                read: &mut read,
                end,
            };
            if let Gathered::Stop = gather(reader, &mut raw, log, metrics, shutdown).await? {
                if let Some(p) = publisher.as_deref_mut() {
                    p.flush().await?;
                }
                return Ok(engine);
            }
        }
        buffer.extend(stage.push(raw, &metrics.verify));
        drain(
            &mut engine,
            &mut buffer,
            metrics,
            publisher.as_deref_mut(),
            progress,
        )
        .await?;
        if let Some(p) = publisher.as_deref_mut() {
            let n = p.flush().await?;
            metrics.outcomes_published.inc_by(n as u64);
        }
        // Acknowledged by the broker (acks=all), or not published at all.
        engine.outcomes_durable_before(engine.next_offset());
        metrics.health.ok("apply");
    }
}

/// What the log reader task sends: a record's offset and payload, or its error.
type ReadItem = Result<(i64, Vec<u8>), rdkafka::error::KafkaError>;

/// The receiving end of the log reader, and how far it has read.
struct Reader<'a> {
    rx: &'a mut tokio::sync::mpsc::Receiver<ReadItem>,
    /// The offset after the last record received.
    read: &'a mut i64,
    /// Records at or past this offset are not taken.
    end: i64,
}

/// What [`gather`] ended with.
enum Gathered {
    /// Records to apply (possibly none, when `end` is reached).
    Records,
    /// Shutdown, or the reader is gone.
    Stop,
}

/// Waits for one record, then takes what arrives within `batch_ms`, up to
/// `read_ahead` records or the reader's `end`. Waiting [`IDLE_CAUGHT_UP`]
/// with nothing buffered clears the `apply` problem (caught up).
async fn gather(
    reader: Reader<'_>,
    buffer: &mut Vec<(i64, Vec<u8>)>,
    log: &LogArgs,
    metrics: &Metrics,
    shutdown: &CancellationToken,
) -> Result<Gathered, MasterError> {
    let mut deadline: Option<Instant> = None;
    while buffer.len() < log.read_ahead && *reader.read < reader.end {
        let wait = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => {
                    tokio::time::sleep(IDLE_CAUGHT_UP).await;
                    // Nothing arrived: caught up with the log.
                    metrics.health.ok("apply");
                    std::future::pending().await
                }
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(Gathered::Stop),
            _ = wait => break,
            m = reader.rx.recv() => {
                // The reader ends only after sending its error, which
                // returns below; treat its absence like a shutdown.
                let Some(m) = m else { return Ok(Gathered::Stop) };
                let (offset, payload) = m?;
                buffer.push((offset, payload));
                *reader.read = offset + 1;
                deadline.get_or_insert_with(|| Instant::now() + Duration::from_millis(log.batch_ms));
            }
        }
    }
    Ok(Gathered::Records)
}

/// Reads the log from `from` into `tx` until an error (sent as the last
/// item) or until the receiver is gone.
async fn read_log(log: LogArgs, from: i64, tx: tokio::sync::mpsc::Sender<ReadItem>) {
    let consumer: Result<StreamConsumer, _> = ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .set("group.id", "daas-master")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // tansu answers an empty fetch only when its wait runs out, so a
        // record produced meanwhile waits for that: keep the wait short
        // (measured: 500 ms, librdkafka's default, added ~350 ms per request).
        .set("fetch.wait.max.ms", "20")
        .set("max.partition.fetch.bytes", "16777216")
        .set("fetch.max.bytes", "67108864")
        .create();
    let consumer = match consumer.and_then(|c| {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&log.topic, 0, Offset::Offset(from))?;
        c.assign(&tpl)?;
        Ok(c)
    }) {
        Ok(c) => c,
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            return;
        }
    };
    loop {
        let item = consumer
            .recv()
            .await
            .map(|m| (m.offset(), m.payload().unwrap_or_default().to_vec()));
        let failed = item.is_err();
        if tx.send(item).await.is_err() || failed {
            return;
        }
    }
}

/// Applies every record in `buffer` (the records at the engine's next
/// offsets), Txn by Txn, sending each batch's outcomes to `publisher`.
pub async fn drain(
    engine: &mut Engine,
    buffer: &mut VecDeque<Incoming>,
    metrics: &Metrics,
    mut publisher: Option<&mut Publisher>,
    progress: Option<&ProgressBar>,
) -> Result<(), MasterError> {
    // Apply everything read, Txn by Txn; batch n+1 is planned while the
    // Txn of batch n commits (one in flight, committed in order).
    let mut in_flight: Option<InFlight> = None;
    while !buffer.is_empty() || in_flight.is_some() {
        // Nothing is planned on top of a prefix delete before it commits.
        let barrier = in_flight.as_ref().is_some_and(|f| f.1.is_barrier());
        let next = if buffer.is_empty() || barrier {
            None
        } else {
            let started = Instant::now();
            let mut planned = engine.plan(buffer.make_contiguous(), metrics).await?;
            buffer.drain(..planned.consumed());
            let txn = planned.take_txn().unwrap_or_default();
            Some((txn, planned, started))
        };
        if let Some((handle, planned, started)) = in_flight.take() {
            let revision = match handle.await {
                Ok(r) => r,
                Err(e) => {
                    tracing::error!(error = %e, "commit task failed");
                    Err(EngineError::Conflict)
                }
            }
            .inspect_err(|e| {
                if matches!(e, EngineError::Conflict) {
                    metrics.conflicts.inc();
                }
            })?;
            metrics.txns.inc();
            let end = planned.end();
            let batch = engine.finish(planned, revision);
            metrics
                .batch_seconds
                .observe(started.elapsed().as_secs_f64());
            metrics.next_offset.set(end);
            if let Some(p) = publisher.as_deref_mut() {
                p.send(&batch.outcomes)?;
            }
            if let Some(bar) = progress {
                bar.set_position(end as u64);
            }
        }
        if let Some((txn, planned, started)) = next {
            let handle = tokio::spawn(commit(engine.client(), txn));
            in_flight = Some((handle, planned, started));
        }
    }
    Ok(())
}
