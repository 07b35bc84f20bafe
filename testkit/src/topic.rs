//! A unique one-partition topic per test.

use std::time::Duration;

use anyhow::{Context, bail};
use rdkafka::{
    ClientConfig,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::DefaultClientContext,
};

use crate::{Stack, unique_name};

/// A topic that exists for one test.
///
/// It is *not* deleted afterwards: tansu 0.6's DeleteTopics deletes every
/// topic of the cluster, not just the one named (its `topic_delete_by.sql`
/// filters on the cluster only), which would wipe the project's log and the
/// other tests' topics. Names are unique, so leftovers are harmless;
/// `scripts/stack reset` clears them with the rest of the stack's state.
pub struct TestTopic {
    /// Topic name.
    pub name: String,
    /// Bootstrap servers of the broker holding it.
    pub brokers: String,
}

impl TestTopic {
    /// Creates a topic with one partition (the log's shape: total order).
    pub async fn new(stack: &Stack) -> anyhow::Result<Self> {
        Self::with_partitions(stack, 1).await
    }

    /// Creates a topic with `partitions` partitions.
    pub async fn with_partitions(stack: &Stack, partitions: i32) -> anyhow::Result<Self> {
        let name = unique_name("t").replace('_', "-");
        let admin = admin(&stack.kafka_brokers)?;
        let results = admin
            .create_topics(
                &[NewTopic::new(&name, partitions, TopicReplication::Fixed(1))],
                &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
            )
            .await
            .with_context(|| format!("creating topic {name}"))?;
        for r in results {
            if let Err((topic, code)) = r {
                bail!("creating topic {topic}: {code}");
            }
        }
        Ok(Self {
            name,
            brokers: stack.kafka_brokers.clone(),
        })
    }
}

fn admin(brokers: &str) -> anyhow::Result<AdminClient<DefaultClientContext>> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .with_context(|| format!("admin client for {brokers}"))
}

/// The high watermark (record count) of partition 0 of `topic`.
pub fn high_watermark(brokers: &str, topic: &str) -> anyhow::Result<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    Ok(c.fetch_watermarks(topic, 0, Duration::from_secs(10))?.1)
}

/// Every record of `topic` up to its high watermark now, decoded as log entries.
pub fn read_log(brokers: &str, topic: &str) -> anyhow::Result<Vec<daas_domain::LogEntry>> {
    read_topic(brokers, topic)?
        .iter()
        .map(|r| Ok(daas_domain::LogEntry::decode(r)?))
        .collect()
}

/// Every record of `topic` up to its high watermark now, decoded as outcomes.
pub fn read_outcomes(brokers: &str, topic: &str) -> anyhow::Result<Vec<daas_domain::Outcome>> {
    read_topic(brokers, topic)?
        .iter()
        .map(|r| Ok(daas_domain::Outcome::decode(r)?))
        .collect()
}

/// The payloads of partition 0 of `topic` up to its high watermark now.
pub fn read_topic(brokers: &str, topic: &str) -> anyhow::Result<Vec<Vec<u8>>> {
    use rdkafka::{
        Message, Offset, TopicPartitionList,
        consumer::{BaseConsumer, Consumer},
    };
    let n = high_watermark(brokers, topic)? as usize;
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", topic)
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(0))?;
    c.assign(&tpl)?;
    let mut out = Vec::with_capacity(n);
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while out.len() < n {
        if std::time::Instant::now() > deadline {
            bail!(
                "read {} of {n} records of {topic} before the deadline",
                out.len()
            );
        }
        if let Some(m) = c.poll(Duration::from_millis(200)) {
            out.push(m?.payload().unwrap_or_default().to_vec());
        }
    }
    Ok(out)
}

/// Appends `records` to partition 0 of `topic`, in order, and waits for every
/// acknowledgement (idempotent producer: no duplicates, no reordering).
pub async fn produce(brokers: &str, topic: &str, records: &[Vec<u8>]) -> anyhow::Result<()> {
    use futures::{StreamExt, stream::FuturesOrdered};
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let p: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .create()
        .with_context(|| format!("producer for {brokers}"))?;
    // A bounded window keeps memory flat for large workloads.
    let mut acks = FuturesOrdered::new();
    for r in records {
        let fut = p.send_result(FutureRecord::<(), _>::to(topic).partition(0).payload(r));
        let fut = match fut {
            Ok(f) => f,
            Err((e, _)) => bail!("queueing a record for {topic}: {e}"),
        };
        acks.push_back(fut);
        if acks.len() >= 10_000 {
            ack(acks.next().await, topic)?;
        }
    }
    while let Some(a) = acks.next().await {
        ack(Some(a), topic)?;
    }
    Ok(())
}

fn ack(
    a: Option<
        Result<
            rdkafka::producer::future_producer::OwnedDeliveryResult,
            futures::channel::oneshot::Canceled,
        >,
    >,
    topic: &str,
) -> anyhow::Result<()> {
    match a {
        Some(Ok(Ok(_))) | None => Ok(()),
        Some(Ok(Err((e, _)))) => bail!("producing to {topic}: {e}"),
        Some(Err(_)) => bail!("producing to {topic}: the producer went away"),
    }
}

/// Baseline for benchmarks: records/s of a plain `rdkafka` consume of the
/// first `n` records of `topic`, doing nothing with them.
pub async fn raw_consume_rate(brokers: &str, topic: &str, n: usize) -> anyhow::Result<f64> {
    use rdkafka::{
        Message, Offset, TopicPartitionList,
        consumer::{Consumer, StreamConsumer},
    };
    let c: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "bench-raw")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(0))?;
    c.assign(&tpl)?;
    let start = std::time::Instant::now();
    let mut bytes = 0usize;
    for _ in 0..n {
        let m = tokio::time::timeout(Duration::from_secs(30), c.recv()).await??;
        bytes += m.payload().map_or(0, <[u8]>::len);
    }
    std::hint::black_box(bytes);
    Ok(n as f64 / start.elapsed().as_secs_f64())
}
