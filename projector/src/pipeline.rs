//! The projector's loop: restore the ledger, then consume the log from the
//! stored position in batches, each committed with its position.
//!
//! The ledger is not stored: on start the records before the stored position
//! are read again and fed to the processor without writing anything (the log
//! is the ledger's only source, as in the master). Then batches of records are
//! processed and committed, closed by size or by time.

use std::time::{Duration, Instant};

use clap::Args;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{Consumer, StreamConsumer},
};
use tokio_util::sync::CancellationToken;

use crate::{
    committer::{Position, commit, load_position},
    processor::{Processor, Rows},
    store::{self, DatabaseArgs, StoreError},
};

/// The log to consume.
#[derive(Args, Clone, Debug)]
pub struct LogArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "DAAS_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// The log topic.
    #[arg(long, env = "DAAS_LOG_TOPIC", default_value = "daas.log.v1")]
    pub topic: String,
    /// Records per batch at most.
    #[arg(long, default_value_t = 5_000)]
    pub batch_records: usize,
    /// A batch is committed at the latest this long after its first record, ms.
    #[arg(long, default_value_t = 200)]
    pub batch_ms: u64,
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
    /// The broker failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
}

/// Consumer name in `consumer_positions`.
pub const CONSUMER: &str = "projector";

/// Runs until `shutdown` (commits the open batch, returns `Ok`) or a fatal error.
pub async fn run(
    db: &DatabaseArgs,
    log: &LogArgs,
    shutdown: CancellationToken,
) -> Result<(), ProjectorError> {
    let pool = store::connect(db).await?;
    store::MIGRATOR.run(&pool).await.map_err(StoreError::from)?;
    let next = load_position(&pool, CONSUMER, &log.topic).await?;

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &log.brokers)
        .set("group.id", "daas-projector")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&log.topic, 0, Offset::Offset(0))?;
    consumer.assign(&tpl)?;

    let mut processor = Processor::default();
    let mut scratch = Rows::default();
    let mut offset = 0i64;
    // Restore the ledger from the records already projected.
    while offset < next {
        let m = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            m = consumer.recv() => m?,
        };
        processor.process(m.offset(), m.payload().unwrap_or_default(), &mut scratch);
        scratch = Rows::default();
        offset = m.offset() + 1;
    }
    tracing::info!(next_offset = next, "ledger restored; projecting");

    let mut rows = Rows::default();
    let mut pending = 0usize;
    let mut opened: Option<Instant> = None;
    loop {
        let deadline = opened.map(|t| t + Duration::from_millis(log.batch_ms));
        let timeout = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        let stop = tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = timeout => false,
            m = consumer.recv() => {
                let m = m?;
                processor.process(m.offset(), m.payload().unwrap_or_default(), &mut rows);
                offset = m.offset() + 1;
                pending += 1;
                opened.get_or_insert_with(Instant::now);
                if pending < log.batch_records {
                    continue;
                }
                false
            }
        };
        if pending > 0 {
            let position = Position {
                consumer: CONSUMER.into(),
                topic: log.topic.clone(),
                next_offset: offset,
            };
            commit(&pool, &rows, &position).await?;
            rows = Rows::default();
            pending = 0;
            opened = None;
        }
        if stop {
            return Ok(());
        }
    }
}
