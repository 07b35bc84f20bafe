//! The projector's loop: restore the ledger, then consume the log (and the
//! master's outcomes) from the stored positions in batches, each committed
//! with its positions.
//!
//! The ledger is not stored: on start the records before the stored position
//! are read again and fed to the processor without writing anything (the log
//! is the ledger's only source, as in the master). Then batches of records are
//! processed and committed, closed by size or by time.
//!
//! An outcome is applied only once the log has passed its request (outcomes
//! can be ahead of this projector's log position), so its request row is
//! always written first. Any failure restarts the projector from the stored
//! positions: what was committed stays, what was not is read again; the
//! failure is reported on the health endpoint until a run gets past it.
//!
//! A commit runs in a task while the next batch fills; its result is taken
//! as soon as it finishes (not when the next batch is flushed), so after the
//! log goes quiet the position metrics are current and a failed commit is
//! reported at once.

use std::time::{Duration, Instant};

use clap::Args;
use daas_domain::{LogPosition, Outcome};
use daas_verify::{Setup, SetupError, VerifyArgs};
use futures::FutureExt;
use indicatif::ProgressBar;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer, StreamConsumer},
    message::BorrowedMessage,
};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{
    committer::{
        CommitError, Cursor, Positions, StoredVerifier, commit, load_position, load_verifier,
    },
    metrics::Metrics,
    processor::{Processor, Rows},
    store::{MIGRATOR, StoreError},
    verification::Stage,
};

/// The topics to consume.
#[derive(Args, Clone, Debug)]
pub struct LogArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "DAAS_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// The log topic.
    #[arg(long, env = "DAAS_LOG_TOPIC", default_value = "daas.log.v1")]
    pub topic: String,
    /// The master's outcome topic; `--outcome-topic ''` projects the log only.
    #[arg(long, env = "DAAS_OUTCOME_TOPIC", default_value = "daas.outcomes.v1")]
    pub outcome_topic: String,
    /// Records per batch at most.
    #[arg(long, default_value_t = 5_000)]
    pub batch_records: usize,
    /// A batch is committed at the latest this long after its first record, ms.
    #[arg(long, default_value_t = 200)]
    pub batch_ms: u64,
    /// How records are checked against Sui's validators.
    #[command(flatten)]
    pub verify: VerifyArgs,
}

impl LogArgs {
    fn outcomes(&self) -> Option<&str> {
        (!self.outcome_topic.is_empty()).then_some(self.outcome_topic.as_str())
    }
}

/// Why the projector stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// Postgres failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A query failed.
    #[error("postgres: {0}")]
    Sql(#[from] sqlx::Error),
    /// A batch could not be committed.
    #[error(transparent)]
    Commit(#[from] CommitError),
    /// The broker failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// Verification cannot start (its settings, or the stored state).
    #[error("verification: {0}")]
    Verify(#[from] SetupError),
}

impl ProjectorError {
    /// Expected to pass by itself: the connection or the server went away, or
    /// a rebuild swapped the projection (logged as a warning). Anything else
    /// (a refused statement, a constraint violation) needs someone to act and
    /// is logged as an error; [`run`] restarts after both.
    pub fn is_transient(&self) -> bool {
        let sql = match self {
            ProjectorError::Commit(CommitError::Moved { .. }) => return true,
            ProjectorError::Commit(CommitError::Sql(e)) | ProjectorError::Sql(e) => e,
            ProjectorError::Store(StoreError::Query(e) | StoreError::Connect { source: e, .. }) => {
                e
            }
            ProjectorError::Store(_) | ProjectorError::Verify(_) => return false,
            ProjectorError::Kafka(_) => return true,
        };
        match sql {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => true,
            // Connection exceptions (08), operator intervention such as a
            // shutdown (57), insufficient resources (53).
            sqlx::Error::Database(d) => d
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57") || c.starts_with("53")),
            _ => false,
        }
    }
}

/// Consumer name in `consumer_positions`.
pub const CONSUMER: &str = "projector";

/// Runs until `shutdown` (commits the open batch, returns `Ok`). Every
/// failure restarts from the stored positions with backoff (100 ms doubling
/// to [`MAX_BACKOFF`]) and is reported on `metrics.health` until a run gets
/// past it: the projector never exits on a record or a refused commit, it
/// stays up and says it is unhealthy (`/healthz`, `daas_healthy`, an error in
/// its log), and recovers by itself once the cause is gone.
pub async fn run(
    pool: &PgPool,
    log: &LogArgs,
    metrics: &Metrics,
    shutdown: CancellationToken,
) -> Result<(), ProjectorError> {
    let setup = log.verify.setup()?;
    let mut backoff = INITIAL_BACKOFF;
    loop {
        let result = async {
            MIGRATOR.run(pool).await.map_err(StoreError::from)?;
            let mut p = Projector::open(pool, log, setup.as_ref(), metrics, &shutdown).await?;
            metrics.health.ok("projector");
            backoff = INITIAL_BACKOFF;
            p.run_until(&Until::Shutdown, None).await
        }
        .await;
        let Err(e) = result else {
            return Ok(());
        };
        metrics.restarts.inc();
        report_failure(metrics, &e, backoff);
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

const INITIAL_BACKOFF: Duration = Duration::from_millis(100);

/// The longest wait before restarting after a failure.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Logs a failed run and reports it as a health problem: a commit's own
/// failure is already reported as `commit`; anything else (the broker, the
/// database at start) as `projector`.
fn report_failure(metrics: &Metrics, e: &ProjectorError, backoff: Duration) {
    let retry_in_ms = backoff.as_millis() as u64;
    if e.is_transient() {
        tracing::warn!(error = %e, retry_in_ms, "restarting from the stored position");
    } else {
        tracing::error!(error = %e, retry_in_ms, "restarting from the stored position after a non-transient failure");
    }
    if !matches!(e, ProjectorError::Commit(_)) {
        metrics.health.fail("projector", e.to_string());
    }
}

/// When [`Projector::run_until`] returns.
#[derive(Clone, Copy, Debug)]
pub enum Until {
    /// At shutdown only.
    Shutdown,
    /// Once both next offsets reach these (a rebuild's target), or at shutdown.
    Reached {
        /// Log next offset.
        log: i64,
        /// Outcome topic next offset.
        outcomes: i64,
    },
}

/// The next offsets (high watermarks) of the log and outcome topics now. The
/// outcomes' end is read first, so every outcome before it refers to a log
/// record before the log's end.
pub fn ends(log: &LogArgs) -> Result<(i64, i64), rdkafka::error::KafkaError> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .create()?;
    let outcomes = match log.outcomes() {
        Some(t) => c.fetch_watermarks(t, 0, Duration::from_secs(10))?.1,
        None => 0,
    };
    let log_end = c
        .fetch_watermarks(&log.topic, 0, Duration::from_secs(10))?
        .1;
    Ok((log_end, outcomes))
}

fn consumer(brokers: &str, topic: &str, from: i64) -> Result<StreamConsumer, ProjectorError> {
    let c: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "daas-projector")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // As the master's: tansu holds an empty fetch for its whole wait.
        .set("fetch.wait.max.ms", "50")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(from))?;
    c.assign(&tpl)?;
    Ok(c)
}

/// A projection being kept up to date: the consumers, the processor with its
/// ledger and the offsets it has reached.
pub struct Projector<'a> {
    pool: PgPool,
    log_args: &'a LogArgs,
    metrics: &'a Metrics,
    shutdown: &'a CancellationToken,
    log: StreamConsumer,
    outcomes: Option<StreamConsumer>,
    processor: Processor,
    /// Verification between the log and the processor.
    stage: Stage,
    /// Next log offset to read (past the processed one while records are
    /// held behind a gap).
    read: i64,
    /// Committed next offsets (what the table holds).
    committed: (i64, i64),
    /// Next offsets at the end of the last batch handed to the committer.
    sealed: (i64, i64),
    /// The batch being committed while the next one is processed.
    in_flight: Option<InFlight>,
    /// Processed next offsets (committed + the open batch).
    offsets: (i64, i64),
    /// An outcome read ahead of the log, waiting for its request.
    held: Option<(i64, LogPosition, Vec<u8>)>,
}

impl<'a> Projector<'a> {
    /// Reads the stored positions and restores the ledger from the log
    /// before them (through verification when `setup` is given).
    pub async fn open(
        pool: &'a PgPool,
        log_args: &'a LogArgs,
        setup: Option<&Setup>,
        metrics: &'a Metrics,
        shutdown: &'a CancellationToken,
    ) -> Result<Self, ProjectorError> {
        let next_log = load_position(pool, CONSUMER, &log_args.topic).await?;
        let next_outcomes = match log_args.outcomes() {
            Some(t) => load_position(pool, CONSUMER, t).await?,
            None => 0,
        };
        let stored = load_verifier(pool, CONSUMER, &log_args.topic).await?;
        let state = stored.as_ref().map(|s| s.state.as_slice());
        let mut stage = Stage::open(setup, state, next_log, metrics.verify.clone())?;
        // Verified, the pushes made before the commit are made again: the
        // rows of records released ahead of their place are in.
        let through = match (setup, &stored) {
            (Some(_), Some(s)) => s.read.max(next_log),
            _ => next_log,
        };
        let log = consumer(&log_args.brokers, &log_args.topic, 0)?;
        let mut processor = Processor::default();
        let started = Instant::now();
        let read = restore(&log, through, &mut stage, &mut processor, shutdown).await?;
        if read >= through {
            stage.check_restored()?;
        }
        // Only now: its prefetching would compete with the restore's reads.
        let outcomes = log_args
            .outcomes()
            .map(|t| consumer(&log_args.brokers, t, next_outcomes))
            .transpose()?;
        tracing::info!(
            next_offset = next_log,
            next_outcome_offset = next_outcomes,
            restore_ms = started.elapsed().as_millis() as u64,
            "ledger restored from the log; projecting"
        );
        metrics.next_offset.set(next_log);
        metrics.next_outcome_offset.set(next_outcomes);
        Ok(Self {
            pool: pool.clone(),
            log_args,
            metrics,
            shutdown,
            log,
            outcomes,
            processor,
            stage,
            read,
            committed: (next_log, next_outcomes),
            sealed: (next_log, next_outcomes),
            in_flight: None,
            offsets: (next_log, next_outcomes),
            held: None,
        })
    }

    /// Next offsets committed so far (log, outcomes).
    pub fn committed(&self) -> (i64, i64) {
        self.committed
    }

    fn reached(&self, until: &Until) -> bool {
        match *until {
            Until::Shutdown => false,
            Until::Reached { log, outcomes } => {
                self.read >= log && (self.outcomes.is_none() || self.offsets.1 >= outcomes)
            }
        }
    }

    /// Next log offset read so far (at or past the processed one).
    pub fn read(&self) -> i64 {
        self.read
    }

    fn log_records(&mut self, records: Vec<(i64, Vec<u8>)>, rows: &mut Rows) {
        let Some(last) = records.last().map(|(o, _)| *o) else {
            return;
        };
        self.metrics.records.inc_by(records.len() as u64);
        if let Some(next) = self.stage.feed(records, &mut self.processor, rows) {
            self.offsets.0 = next;
        }
        self.read = last + 1;
    }

    fn outcome_record(&mut self, offset: i64, bytes: &[u8], rows: &mut Rows) {
        self.processor.process_outcome(offset, bytes, rows);
        self.offsets.1 = offset + 1;
        self.metrics.outcomes.inc();
    }

    /// An outcome may be applied once the log has passed its request, or
    /// when the log has reached a rebuild's end (then an outcome without its
    /// request is quarantined rather than waited for).
    fn release_held(&mut self, rows: &mut Rows, log_done: bool) -> bool {
        let ready = log_done
            || matches!(
                (&self.held, self.processor.last_position()),
                (Some((_, at, _)), Some(last)) if *at <= last
            );
        if ready && let Some((offset, _, bytes)) = self.held.take() {
            self.outcome_record(offset, &bytes, rows);
            return true;
        }
        false
    }

    /// Consumes and commits batches until `until` or shutdown; the open batch
    /// is committed before returning. A commit's result is taken as soon as
    /// it finishes, even while no record arrives: the position metrics move
    /// at once, and a failure ends the run at once (the caller restarts).
    pub async fn run_until(
        &mut self,
        until: &Until,
        progress: Option<&ProgressBar>,
    ) -> Result<(), ProjectorError> {
        let mut batch = OpenBatch::default();
        loop {
            if self.reached(until) {
                break;
            }
            match self.step(until, &mut batch).await? {
                Step::Continue => {}
                Step::Shutdown => break,
                Step::Full => {
                    self.flush(&mut batch).await?;
                    if let Some(bar) = progress {
                        bar.set_position(self.offsets.0 as u64);
                    }
                }
            }
        }
        self.flush(&mut batch).await?;
        self.settle().await
    }

    /// Waits for the next thing to do: a record, the batch's time limit, the
    /// commit in flight finishing, or shutdown.
    async fn step(&mut self, until: &Until, batch: &mut OpenBatch) -> Result<Step, ProjectorError> {
        let want_outcome = self.outcomes.is_some()
            && self.held.is_none()
            && !matches!(until, Until::Reached { outcomes, .. } if self.offsets.1 >= *outcomes);
        let want_log = !matches!(until, Until::Reached { log, .. } if self.read >= *log)
            && !self.stage.is_full();
        if !want_log && self.release_held(&mut batch.rows, true) {
            batch.pending += 1;
            return Ok(Step::Continue);
        }
        let deadline = batch.deadline(Duration::from_millis(self.log_args.batch_ms));
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = self.shutdown.cancelled() => return Ok(Step::Shutdown),
            _ = timeout => return Ok(Step::Full),
            done = commit_done(&mut self.in_flight) => {
                if let Some(f) = self.in_flight.take() {
                    self.settled(f, done)?;
                }
                return Ok(Step::Continue);
            }
            m = self.log.recv(), if want_log => {
                // Owned, so the consumer's borrow ends before `self` is mutated.
                let first = owned(m?);
                let end = match until {
                    Until::Reached { log, .. } => *log,
                    Until::Shutdown => i64::MAX,
                };
                let room = self.log_args.batch_records.saturating_sub(batch.pending);
                let records = ready_records(&self.log, first, end, room.clamp(1, CHUNK))?;
                let n = records.len();
                self.log_records(records, &mut batch.rows);
                batch.add(n);
            }
            m = recv(self.outcomes.as_ref()), if want_outcome => {
                let (offset, bytes) = {
                    let m = m?;
                    (m.offset(), m.payload().unwrap_or_default().to_vec())
                };
                match Outcome::decode(&bytes) {
                    // A request's: apply once the log has its request.
                    Ok(o) if o.is_request() => self.held = Some((offset, o.position, bytes)),
                    // Undecodable, or a record the master refused (it names
                    // no request): quarantined now, nothing to wait for.
                    _ => {
                        self.outcome_record(offset, &bytes, &mut batch.rows);
                        batch.add(1);
                    }
                }
            }
        }
        if self.release_held(&mut batch.rows, false) {
            batch.add(1);
        }
        Ok(if batch.pending >= self.log_args.batch_records {
            Step::Full
        } else {
            Step::Continue
        })
    }

    /// Hands the open batch to the committer (a task, so the next batch is
    /// processed meanwhile); at most one batch is in flight, so commits stay
    /// in order and each starts where the previous one ended.
    async fn flush(&mut self, batch: &mut OpenBatch) -> Result<(), ProjectorError> {
        if batch.pending == 0 {
            return Ok(());
        }
        let positions = Positions {
            consumer: CONSUMER.into(),
            log: Cursor {
                topic: self.log_args.topic.clone(),
                from: self.sealed.0,
                to: self.offsets.0,
            },
            outcomes: self.log_args.outcomes().map(|t| Cursor {
                topic: t.to_owned(),
                from: self.sealed.1,
                to: self.offsets.1,
            }),
            verifier: self.stage.encoded().map(|state| StoredVerifier {
                state,
                read: self.read,
            }),
        };
        self.settle().await?;
        let rows = std::mem::take(batch).rows;
        let pool = self.pool.clone();
        let quarantined = rows.quarantine.len() as u64;
        let handle = tokio::spawn(async move {
            let started = Instant::now();
            commit(&pool, &rows, &positions).await?;
            Ok(started.elapsed())
        });
        self.in_flight = Some(InFlight {
            handle,
            to: self.offsets,
            quarantined,
        });
        self.sealed = self.offsets;
        Ok(())
    }

    /// Waits for the batch in flight, if any.
    async fn settle(&mut self) -> Result<(), ProjectorError> {
        let Some(mut f) = self.in_flight.take() else {
            return Ok(());
        };
        let done = (&mut f.handle).await;
        self.settled(f, done)
    }

    /// Acts on a finished commit: on success the metrics and health move at
    /// once; on failure the `commit` problem is reported and the error ends
    /// the run (the caller restarts from the stored positions).
    fn settled(&mut self, f: InFlight, done: CommitResult) -> Result<(), ProjectorError> {
        let took = match done {
            Ok(Ok(took)) => took,
            Ok(Err(e)) => {
                self.metrics
                    .health
                    .fail("commit", format!("batch up to offset {}: {e}", f.to.0));
                return Err(e.into());
            }
            // The commit task panicked or was cancelled: nothing is known
            // about the batch; the caller restarts from the stored positions.
            Err(e) => {
                let reason = format!("batch up to offset {}: commit task failed: {e}", f.to.0);
                self.metrics.health.fail("commit", reason);
                return Err(ProjectorError::Commit(CommitError::Sql(
                    sqlx::Error::WorkerCrashed,
                )));
            }
        };
        self.metrics.health.ok("commit");
        self.metrics.commit_seconds.observe(took.as_secs_f64());
        self.metrics.batches.inc();
        self.metrics.quarantined.inc_by(f.quarantined);
        self.metrics.next_offset.set(f.to.0);
        self.metrics.next_outcome_offset.set(f.to.1);
        self.committed = f.to;
        Ok(())
    }
}

/// What [`Projector::step`] leaves to do.
enum Step {
    /// Keep reading.
    Continue,
    /// The batch is full or its time is up: commit it.
    Full,
    /// Shutdown: commit what is open and return.
    Shutdown,
}

/// The batch being filled.
#[derive(Default)]
struct OpenBatch {
    rows: Rows,
    /// Records in it.
    pending: usize,
    /// When its first record came.
    opened: Option<Instant>,
}

impl OpenBatch {
    fn add(&mut self, records: usize) {
        self.pending += records;
        self.opened.get_or_insert_with(Instant::now);
    }

    /// When it must be committed, if it has records.
    fn deadline(&self, batch: Duration) -> Option<Instant> {
        self.opened.map(|t| t + batch)
    }
}

type CommitResult = Result<Result<Duration, CommitError>, tokio::task::JoinError>;

struct InFlight {
    handle: tokio::task::JoinHandle<Result<Duration, CommitError>>,
    to: (i64, i64),
    quarantined: u64,
}

/// Resolves when the commit in flight finishes; never while there is none.
async fn commit_done(f: &mut Option<InFlight>) -> CommitResult {
    match f {
        Some(f) => (&mut f.handle).await,
        None => std::future::pending().await,
    }
}

/// At most this many records go through the verifier in one push.
const CHUNK: usize = 1_024;

fn owned(m: BorrowedMessage<'_>) -> (i64, Vec<u8>) {
    (m.offset(), m.payload().unwrap_or_default().to_vec())
}

/// `first`, then the records the consumer already holds (without waiting),
/// up to `max` in all and below offset `end`: a backlog is verified in
/// pushes of many records, a live tail record by record as it comes.
fn ready_records(
    log: &StreamConsumer,
    first: (i64, Vec<u8>),
    end: i64,
    max: usize,
) -> Result<Vec<(i64, Vec<u8>)>, rdkafka::error::KafkaError> {
    let mut records = vec![first];
    while records.len() < max && records.last().is_some_and(|(o, _)| o + 1 < end) {
        match log.recv().now_or_never() {
            Some(m) => records.push(owned(m?)),
            None => break,
        }
    }
    Ok(records)
}

async fn recv(
    c: Option<&StreamConsumer>,
) -> Result<BorrowedMessage<'_>, rdkafka::error::KafkaError> {
    match c {
        Some(c) => c.recv().await,
        None => std::future::pending().await,
    }
}

/// Reads the log from offset 0 up to `through` through `stage` into
/// `processor`, writing nothing: the ledger as the stored projection left
/// it. Returns the next offset read (less than `through` only at shutdown).
async fn restore(
    log: &StreamConsumer,
    through: i64,
    stage: &mut Stage,
    processor: &mut Processor,
    shutdown: &CancellationToken,
) -> Result<i64, ProjectorError> {
    let mut scratch = Rows::default();
    let mut offset = 0;
    stage.quiet = true;
    while offset < through {
        let first = tokio::select! {
            _ = shutdown.cancelled() => break,
            m = log.recv() => owned(m?),
        };
        let records = ready_records(log, first, through, CHUNK)?;
        offset = records.last().map_or(offset, |(o, _)| o + 1);
        stage.feed(records, processor, &mut scratch);
        scratch = Rows::default();
    }
    stage.quiet = false;
    Ok(offset)
}
