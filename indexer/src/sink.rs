//! The Kafka side of the indexer: the only module that talks to the broker.
//!
//! One idempotent producer (`acks=all`, LZ4, batches of up to 64 KiB, records
//! of up to 16 MiB) writes
//! the log topic's single partition in order. The last record already in the
//! topic tells where to resume: exactly once without Kafka transactions (which
//! the local broker lacks).

use std::{collections::VecDeque, time::Duration};

use clap::Args;
use daas_domain::{LogEntry, LogPosition};
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
    error::KafkaError,
    producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer},
};

/// Where the log lives.
#[derive(Args, Clone, Debug)]
pub struct BrokerArgs {
    /// Kafka bootstrap servers (comma-separated host:port).
    #[arg(long, env = "DAAS_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// The log topic (one partition: total order is the contract).
    #[arg(long, env = "DAAS_LOG_TOPIC", default_value = "daas.log.v1")]
    pub topic: String,
}

/// Why the broker or the topic is not usable.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The client could not be created or the broker did not answer.
    #[error("broker {brokers} did not answer")]
    Unreachable {
        /// The bootstrap servers tried.
        brokers: String,
        /// The client's error.
        #[source]
        source: KafkaError,
    },
    /// The blocking check task panicked or was cancelled.
    #[error("check task failed: {0}")]
    Task(String),
    /// The topic does not exist on the broker.
    #[error("topic {0} does not exist (create it with one partition)")]
    NoTopic(String),
    /// The topic has more than one partition, which would break total order.
    #[error("topic {topic} has {partitions} partitions; the log needs exactly 1")]
    NotOnePartition {
        /// The topic.
        topic: String,
        /// Partitions found.
        partitions: usize,
    },
    /// The last record of the topic is not a log record: this is not our log.
    #[error("the last record of {topic} (offset {offset}) is not a daas.v1.LogRecord: {reason}")]
    NotOurLog {
        /// The topic.
        topic: String,
        /// Its offset.
        offset: i64,
        /// The decoder's reason.
        reason: String,
    },
}

/// Connects to the broker and reports the log topic's shape and record count.
pub async fn check_log_topic(args: &BrokerArgs) -> Result<String, CheckError> {
    let args = args.clone();
    // rdkafka's metadata calls block: keep them off the async executor.
    tokio::task::spawn_blocking(move || {
        let (lo, hi) = watermarks(&args)?;
        Ok(format!(
            "broker {} ok; topic {}: 1 partition, offsets {lo}..{hi} ({} records)",
            args.brokers,
            args.topic,
            hi - lo
        ))
    })
    .await
    .map_err(|e| CheckError::Task(e.to_string()))?
}

fn consumer(args: &BrokerArgs) -> Result<BaseConsumer, CheckError> {
    ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .set("enable.auto.commit", "false")
        .set("group.id", "daas-indexer-resume")
        .create()
        .map_err(|source| CheckError::Unreachable {
            brokers: args.brokers.clone(),
            source,
        })
}

/// Checks the topic's shape and returns its (low, high) watermarks. Blocking.
fn watermarks(args: &BrokerArgs) -> Result<(i64, i64), CheckError> {
    let unreachable = |source| CheckError::Unreachable {
        brokers: args.brokers.clone(),
        source,
    };
    let consumer = consumer(args)?;
    let timeout = Duration::from_secs(10);
    let metadata = consumer
        .fetch_metadata(Some(&args.topic), timeout)
        .map_err(unreachable)?;
    let topic = metadata
        .topics()
        .iter()
        .find(|t| t.name() == args.topic && t.error().is_none())
        .ok_or_else(|| CheckError::NoTopic(args.topic.clone()))?;
    if topic.partitions().len() != 1 {
        return Err(CheckError::NotOnePartition {
            topic: args.topic.clone(),
            partitions: topic.partitions().len(),
        });
    }
    consumer
        .fetch_watermarks(&args.topic, 0, timeout)
        .map_err(unreachable)
}

/// The last record in the log, `None` when the log is empty. Blocking.
pub fn last_record(args: &BrokerArgs) -> Result<Option<LogEntry>, CheckError> {
    let (lo, hi) = watermarks(args)?;
    if hi <= lo {
        return Ok(None);
    }
    let consumer = consumer(args)?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&args.topic, 0, Offset::Offset(hi - 1))
        .map_err(|source| CheckError::Unreachable {
            brokers: args.brokers.clone(),
            source,
        })?;
    consumer
        .assign(&tpl)
        .map_err(|source| CheckError::Unreachable {
            brokers: args.brokers.clone(),
            source,
        })?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => {
                let payload = m.payload().unwrap_or_default();
                return LogEntry::decode(payload)
                    .map(Some)
                    .map_err(|e| CheckError::NotOurLog {
                        topic: args.topic.clone(),
                        offset: m.offset(),
                        reason: e.to_string(),
                    });
            }
            Some(Err(source)) => {
                return Err(CheckError::Unreachable {
                    brokers: args.brokers.clone(),
                    source,
                });
            }
            None if std::time::Instant::now() > deadline => {
                return Err(CheckError::Unreachable {
                    brokers: args.brokers.clone(),
                    source: KafkaError::MessageConsumption(
                        rdkafka::types::RDKafkaErrorCode::RequestTimedOut,
                    ),
                });
            }
            None => {}
        }
    }
}

/// The producer, with a bounded window of records awaiting delivery.
pub struct Sink {
    producer: FutureProducer,
    topic: String,
    in_flight: VecDeque<(LogPosition, std::time::Instant, DeliveryFuture)>,
    max_in_flight: usize,
    /// Seconds from queueing a record to its acknowledgement.
    pub latency: prometheus_client::metrics::histogram::Histogram,
}

/// A record the broker refused for good (after librdkafka's own retries).
#[derive(Debug, thiserror::Error)]
#[error("producing {position} to the log failed")]
pub struct ProduceError {
    /// The record's position.
    pub position: LogPosition,
    /// The client's error.
    #[source]
    pub source: KafkaError,
}

impl Sink {
    /// An idempotent producer for the log topic.
    pub fn new(
        args: &BrokerArgs,
        max_in_flight: usize,
        latency: prometheus_client::metrics::histogram::Histogram,
    ) -> Result<Self, KafkaError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", &args.brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("compression.type", "lz4")
            .set("linger.ms", "5")
            .set("batch.size", "65536")
            // A checkpoint's first record carries its contents (about 170
            // bytes per transaction of the checkpoint, ours or not): room for
            // large checkpoints. The broker's limit must be as large.
            .set("message.max.bytes", "16777216")
            .set("message.timeout.ms", "0") // retry forever: never drop a record
            .create()?;
        Ok(Self {
            producer,
            topic: args.topic.clone(),
            in_flight: VecDeque::new(),
            max_in_flight,
            latency,
        })
    }

    /// Queues one record; when the window is full, first waits for the oldest
    /// delivery (backpressure reaches the source through this await). Returns
    /// how many earlier records were acknowledged meanwhile.
    pub async fn send(&mut self, entry: &LogEntry, key: &[u8]) -> Result<u64, ProduceError> {
        let mut delivered = self.reap()?;
        if self.in_flight.len() >= self.max_in_flight && self.await_oldest().await?.is_some() {
            delivered += 1;
        }
        let payload = entry.encode();
        let record = FutureRecord::to(&self.topic).payload(&payload).key(key);
        let future = self
            .producer
            .send_result(record)
            .map_err(|(source, _)| ProduceError {
                position: entry.position,
                source,
            })?;
        self.in_flight
            .push_back((entry.position, std::time::Instant::now(), future));
        Ok(delivered)
    }

    /// Pops the deliveries that already completed, in order.
    fn reap(&mut self) -> Result<u64, ProduceError> {
        use futures::FutureExt;
        let mut n = 0;
        while let Some((position, queued, front)) = self.in_flight.front_mut() {
            let Some(result) = front.now_or_never() else {
                break;
            };
            let position = *position;
            self.latency.observe(queued.elapsed().as_secs_f64());
            self.in_flight.pop_front();
            match result {
                Ok(Ok(_)) => n += 1,
                Ok(Err((source, _))) => return Err(ProduceError { position, source }),
                Err(_) => {
                    return Err(ProduceError {
                        position,
                        source: KafkaError::Canceled,
                    });
                }
            }
        }
        Ok(n)
    }

    /// Waits for the oldest queued record's acknowledgement. Cancel-safe: the
    /// record leaves the window only once its outcome is known.
    pub async fn await_oldest(&mut self) -> Result<Option<LogPosition>, ProduceError> {
        let Some((position, queued, future)) = self.in_flight.front_mut() else {
            return Ok(None);
        };
        let (position, queued) = (*position, *queued);
        let result = future.await;
        self.latency.observe(queued.elapsed().as_secs_f64());
        self.in_flight.pop_front();
        match result {
            Ok(Ok(_)) => Ok(Some(position)),
            Ok(Err((source, _))) => Err(ProduceError { position, source }),
            Err(_) => Err(ProduceError {
                position,
                source: KafkaError::Canceled,
            }),
        }
    }

    /// Waits for every queued record; returns the last delivered position.
    pub async fn flush(&mut self) -> Result<Option<LogPosition>, ProduceError> {
        let mut last = None;
        while !self.in_flight.is_empty() {
            last = self.await_oldest().await?.or(last);
        }
        let _ = self.producer.flush(Duration::from_secs(30));
        Ok(last)
    }

    /// Records queued and not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.in_flight.len()
    }
}
