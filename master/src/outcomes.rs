//! Publishing outcomes to the outcome topic, exactly once.
//!
//! Outcomes are first committed to etcd with the objects (see `state`); the
//! topic follows. Every outcome carries the number the engine gave it
//! ([`Outcome::sequence`]: 1, 2, 3, ... in the order the log makes them, the
//! same in a replay). After a crash the publisher reads the topic's last
//! outcome and republishes every stored outcome numbered after it, so the
//! topic gets each outcome once, in order, whatever the crash point.
//!
//! The order is the master's number, not the request's chain position: a
//! quarantined record's outcome has no trustworthy position (a forger picks
//! it), and one with a huge position would otherwise silence every later
//! outcome.
//!
//! Stored batches carry a tag ([`crate::state_mac`]): [`Publisher::resume`]
//! publishes none from the first whose tag fails on (the engine then finds
//! the state not authentic and rebuilds it), and [`Publisher::send`] skips
//! outcomes the topic already holds (a rebuild applies the log again from
//! offset 0 and numbers its outcomes again from 1), so the topic still gets
//! each outcome once, in order.
//!
//! The stored batches stay bounded: once the broker has acknowledged a batch
//! (acks=all) and it is older than the kept window, a later apply Txn deletes
//! it (`apply::Engine::outcomes_durable_before`), so [`Publisher::resume`]
//! reads at most the window plus what was not yet acknowledged, whatever the
//! history length.

use std::{sync::Arc, time::Duration};

use daas_domain::{Outcome, OutcomeResult};
use daas_proto::v1;
use etcd_client::Client;
use futures::future::try_join_all;
use rdkafka::{
    ClientConfig, Message, Offset, TopicPartitionList,
    consumer::{BaseConsumer, Consumer},
    producer::{FutureProducer, FutureRecord, future_producer::DeliveryFuture},
};

use crate::{
    lookup::OutcomeIndex,
    receipts::ReceiptSigner,
    state::{self, Layout},
    state_mac::StateKey,
};

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The broker failed.
    #[error("kafka: {0}")]
    Kafka(#[from] rdkafka::error::KafkaError),
    /// etcd failed.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// The producer dropped a delivery.
    #[error("an outcome's delivery was cancelled")]
    Cancelled,
    /// A stored outcome or the topic's last record does not decode.
    #[error("{0}")]
    Corrupt(String),
}

/// The outcome topic's producer.
pub struct Publisher {
    producer: FutureProducer,
    brokers: String,
    topic: String,
    pending: Vec<DeliveryFuture>,
    index: Option<Arc<OutcomeIndex>>,
    /// The last outcome's number on the topic (read by `resume`, moved by
    /// `send`): outcomes up to it are not sent again.
    last: Option<u64>,
    /// Signs outcomes before they are recorded and sent.
    signer: Option<Arc<ReceiptSigner>>,
}

impl Publisher {
    /// An idempotent producer for `topic`.
    pub fn new(brokers: &str, topic: &str) -> Result<Self, PublishError> {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "5")
            .set("compression.type", "lz4")
            .create()?;
        Ok(Self {
            producer,
            brokers: brokers.to_owned(),
            topic: topic.to_owned(),
            pending: Vec::new(),
            index: None,
            last: None,
            signer: None,
        })
    }

    /// Also records every outcome it sees (stored or new) in `index`.
    pub fn with_index(mut self, index: Arc<OutcomeIndex>) -> Self {
        self.index = Some(index);
        self
    }

    /// Signs every outcome it sends (or records in the index) with
    /// `signer` (decision 0021).
    pub fn with_signer(mut self, signer: Arc<ReceiptSigner>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// Number of the last outcome on the topic.
    fn last_published(&self) -> Result<Option<u64>, PublishError> {
        let c: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", "daas-master-resume")
            .set("enable.auto.commit", "false")
            .create()?;
        let (_, high) = c.fetch_watermarks(&self.topic, 0, Duration::from_secs(10))?;
        if high == 0 {
            return Ok(None);
        }
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, 0, Offset::Offset(high - 1))?;
        c.assign(&tpl)?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Some(m) = c.poll(Duration::from_millis(200)) {
                let m = m?;
                let o = Outcome::decode(m.payload().unwrap_or_default()).map_err(|e| {
                    PublishError::Corrupt(format!("last outcome on the topic: {e}"))
                })?;
                if o.sequence == 0 {
                    return Err(PublishError::Corrupt(format!(
                        "the last outcome on {} has no sequence number: the topic was written \
                         by a master before outcomes were numbered; publish to a new topic",
                        self.topic
                    )));
                }
                return Ok(Some(o.sequence));
            }
        }
        Err(PublishError::Corrupt(format!(
            "could not read the last record of {}",
            self.topic
        )))
    }

    /// Publishes every outcome stored in etcd after the topic's last one, and
    /// waits for the acknowledgements. Returns how many were published.
    /// Stops (logged) at the first batch whose tag does not match `key`.
    pub async fn resume(
        &mut self,
        client: &mut Client,
        layout: &Layout,
        key: &StateKey,
    ) -> Result<usize, PublishError> {
        self.last = self.last_published()?;
        let mut n = 0;
        for kv in state::range(client, &layout.outcomes_prefix()).await? {
            let name = String::from_utf8_lossy(kv.key());
            let Ok(mut buf) = key.open(&name, kv.value()) else {
                tracing::error!(
                    key = %name,
                    "stored outcome batch not authentic: not published (the engine rebuilds)"
                );
                break;
            };
            while !buf.is_empty() {
                let pb: v1::Outcome = prost::Message::decode_length_delimited(&mut buf)
                    .map_err(|e| PublishError::Corrupt(format!("stored outcome: {e}")))?;
                let mut o = Outcome::decode(&prost::Message::encode_to_vec(&pb))
                    .map_err(|e| PublishError::Corrupt(format!("stored outcome: {e}")))?;
                if let OutcomeResult::Applied {
                    resource_version, ..
                } = &mut o.result
                    && *resource_version < 0
                {
                    // Written in the same Txn as this batch key.
                    *resource_version = kv.mod_revision();
                }
                n += usize::from(self.last.is_none_or(|s| o.sequence > s));
                self.send(std::slice::from_ref(&o))?;
            }
        }
        self.flush().await?;
        Ok(n)
    }

    /// Queues outcomes (in order of their numbers), each signed first when
    /// a signer is set (so the index, and the status API, hold signed
    /// outcomes too).
    pub fn send(&mut self, outcomes: &[Outcome]) -> Result<(), PublishError> {
        let signed: Vec<Outcome>;
        let outcomes = match &self.signer {
            Some(signer) => {
                signed = outcomes
                    .iter()
                    .map(|o| {
                        let mut o = o.clone();
                        signer.sign(&mut o);
                        o
                    })
                    .collect();
                &signed[..]
            }
            None => outcomes,
        };
        if let Some(index) = &self.index {
            index.record(outcomes);
        }
        for o in outcomes {
            if self.last.is_some_and(|s| o.sequence <= s) {
                continue;
            }
            self.last = Some(o.sequence);
            let payload = o.encode();
            let record = FutureRecord::to(&self.topic)
                .partition(0)
                .key(o.cluster_id.0.as_slice())
                .payload(&payload);
            let fut = self.producer.send_result(record).map_err(|(e, _)| e)?;
            self.pending.push(fut);
        }
        Ok(())
    }

    /// Waits until every queued outcome is acknowledged; returns how many.
    pub async fn flush(&mut self) -> Result<usize, PublishError> {
        let pending = std::mem::take(&mut self.pending);
        let n = pending.len();
        for r in try_join_all(pending)
            .await
            .map_err(|_| PublishError::Cancelled)?
        {
            r.map_err(|(e, _)| e)?;
        }
        Ok(n)
    }
}
