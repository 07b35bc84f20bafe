//! The Kafka side of the indexer: the only module that talks to the broker.

use std::time::Duration;

use clap::Args;
use rdkafka::{
    ClientConfig,
    consumer::{BaseConsumer, Consumer},
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
        source: rdkafka::error::KafkaError,
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
}

/// Connects to the broker and reports the log topic's shape and record count.
pub async fn check_log_topic(args: &BrokerArgs) -> Result<String, CheckError> {
    let args = args.clone();
    // rdkafka's metadata calls block: keep them off the async executor.
    tokio::task::spawn_blocking(move || check_blocking(&args))
        .await
        .map_err(|e| CheckError::Task(e.to_string()))?
}

fn check_blocking(args: &BrokerArgs) -> Result<String, CheckError> {
    let unreachable = |source| CheckError::Unreachable {
        brokers: args.brokers.clone(),
        source,
    };
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &args.brokers)
        .create()
        .map_err(unreachable)?;
    let timeout = Duration::from_secs(10);
    // All topics, not just ours: tansu 0.6 answers a metadata request naming one
    // topic with UNKNOWN_TOPIC_OR_PART even when it exists.
    let metadata = consumer
        .fetch_metadata(None, timeout)
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
    let (lo, hi) = consumer
        .fetch_watermarks(&args.topic, 0, timeout)
        .map_err(unreachable)?;
    Ok(format!(
        "broker {} ok; topic {}: 1 partition, offsets {lo}..{hi} ({} records)",
        args.brokers,
        args.topic,
        hi - lo
    ))
}
