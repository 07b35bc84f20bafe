//! Tampering with the log, on the real stack: a certifying dev chain runs
//! the scenario workload, the indexer writes the honest log with its proofs,
//! and each test writes a changed copy of it to its own topic and applies it
//! with verification on (pinned genesis committee) into its own etcd prefix.
//! Expected: the kube objects the honest log makes (applied the same way),
//! never anything a forger wrote; and for each refused record, a
//! quarantined outcome on the outcome topic naming its offset and reason.

#[path = "../../indexer/tests/support/onchain.rs"]
mod onchain;
mod support;

use std::{collections::BTreeMap, net::SocketAddr, time::Duration};

use daas_domain::{Address, Body, Event, LogEntry, Outcome, OutcomeResult, events::Stream};
use daas_master::{
    apply::Engine,
    metrics::Metrics,
    outcomes::Publisher,
    pipeline::{LogArgs, Until, apply_log},
    verification::VerifyArgs,
};
use daas_proto::v1;
use daas_testkit::{
    Stack, TestChain, TestEtcd, TestTopic,
    certified::{self, Cp, Tx, Validators, next_summary},
    high_watermark, read_outcomes, read_topic, wait_for,
};
use prost::Message;
use sui_sdk_types::{CheckpointSummary, Digest, ValidatorAggregatedSignature};
use tokio_util::sync::CancellationToken;

/// The honest run: the chain, its log, and what applying it makes.
struct Honest {
    _dir: tempfile::TempDir,
    stack: Stack,
    chain: TestChain,
    records: Vec<Vec<u8>>,
    objects: BTreeMap<String, Vec<u8>>,
}

/// What one application of a log left.
struct Applied {
    objects: BTreeMap<String, Vec<u8>>,
    metrics: Metrics,
    /// Its outcome topic.
    outcomes: Vec<Outcome>,
}

async fn honest(seed: u64) -> anyhow::Result<Honest> {
    let stack = Stack::from_env()?;
    let dir = tempfile::tempdir()?;
    let addr: SocketAddr = daas_testkit::free_addr()?;
    let chain = TestChain::start(dir.path(), addr, 60_000, 0).await?;
    let node = chain.node.clone();
    tokio::task::spawn_blocking(move || onchain::replay(&node, 40, seed, 8)).await??;
    let topic = TestTopic::new(&stack).await?;
    index(&stack, &chain, &topic.name).await?;
    let records = read_topic(&stack.kafka_brokers, &topic.name)?;
    let mut h = Honest {
        _dir: dir,
        stack,
        chain,
        records,
        objects: BTreeMap::new(),
    };
    let applied = h.apply(&h.records.clone()).await?;
    h.objects = applied.objects;
    anyhow::ensure!(
        h.objects.len() > 5,
        "the honest log makes objects ({} made)",
        h.objects.len()
    );
    // One outcome per request, none quarantined, numbered 1, 2, 3, ...
    let cluster = h.cluster();
    let requests = h
        .records
        .iter()
        .filter(|b| {
            matches!(LogEntry::decode(b).map(|e| e.body),
                Ok(Body::Event(Event::K8sApiRequest(r))) if r.cluster_id == cluster)
        })
        .count();
    anyhow::ensure!(applied.outcomes.iter().all(Outcome::is_request));
    anyhow::ensure!(
        applied.outcomes.len() == requests,
        "{} outcomes for {requests} requests",
        applied.outcomes.len()
    );
    anyhow::ensure!(
        applied
            .outcomes
            .iter()
            .map(|o| o.sequence)
            .eq(1..=applied.outcomes.len() as u64)
    );
    Ok(h)
}

/// Runs the indexer in this process until the topic holds every event.
async fn index(stack: &Stack, chain: &TestChain, topic: &str) -> anyhow::Result<()> {
    let events = chain.events().len() as i64;
    let source = daas_indexer::source::SourceArgs {
        node_url: chain.url.clone(),
        package: daas_devnet::chain::PACKAGE_ID.to_string(),
        start_checkpoint: 0,
    };
    let broker = daas_indexer::sink::BrokerArgs {
        brokers: stack.kafka_brokers.clone(),
        topic: topic.to_owned(),
    };
    let stop = CancellationToken::new();
    let run = {
        let stop = stop.clone();
        tokio::spawn(async move {
            daas_indexer::pipeline::run(&source, &broker, 64, Default::default(), stop).await
        })
    };
    let (brokers, t) = (stack.kafka_brokers.clone(), topic.to_owned());
    wait_for(
        "the indexer to log every event",
        Duration::from_secs(120),
        || {
            let (b, t) = (brokers.clone(), t.clone());
            async move { Ok((high_watermark(&b, &t)? >= events).then_some(())) }
        },
    )
    .await?;
    stop.cancel();
    run.await??;
    Ok(())
}

impl Honest {
    /// Applies `records` (verification on) into a fresh prefix.
    async fn apply(&self, records: &[Vec<u8>]) -> anyhow::Result<Applied> {
        let topic = TestTopic::new(&self.stack).await?;
        daas_testkit::produce(&self.stack.kafka_brokers, &topic.name, records).await?;
        let out = TestTopic::new(&self.stack).await?;
        let etcd = TestEtcd::new(&self.stack).await?;
        let mut cfg = support::config(&etcd.prefix);
        cfg.cluster = self.cluster();
        let brokers = &self.stack.kafka_brokers;
        let log = LogArgs {
            verify: VerifyArgs::pinned(self.chain.genesis_committee_file()),
            ..support::log_args(brokers, &topic.name, &out.name)
        };
        let metrics = Metrics::default();
        let engine = Engine::open(etcd.client.clone(), cfg).await?;
        let mut publisher = Publisher::new(brokers, &out.name)?;
        let stop = CancellationToken::new();
        // Until every record is read: a gap leaves the rest held, unapplied.
        apply_log(
            engine,
            &log,
            &metrics,
            Some(&mut publisher),
            Until::Offset(records.len() as i64),
            None,
            &stop,
        )
        .await?;
        let mut client = etcd.client.clone();
        let registry = format!("{}registry/", etcd.prefix);
        let objects = daas_master::state::range(&mut client, &registry)
            .await?
            .into_iter()
            .filter(|kv| !kv.key_str().unwrap_or("").contains("/minions/"))
            .map(|kv| {
                (
                    kv.key_str().unwrap_or("").replace(&etcd.prefix, ""),
                    kv.value().to_vec(),
                )
            })
            .collect();
        let outcomes = read_outcomes(brokers, &out.name)?;
        Ok(Applied {
            objects,
            metrics,
            outcomes,
        })
    }

    fn cluster(&self) -> Address {
        let id = self
            .chain
            .node
            .read(|c| c.default_cluster)
            .expect("a default cluster");
        Address(id.into_inner())
    }

    fn proto(&self, i: usize) -> v1::LogRecord {
        v1::LogRecord::decode(self.records[i].as_slice()).expect("the indexer's record decodes")
    }

    /// Indexes of K8sAPIRequest records that made an object.
    fn requests(&self) -> Vec<usize> {
        (0..self.records.len())
            .filter(|&i| {
                matches!(
                    LogEntry::decode(&self.records[i]).map(|e| e.body),
                    Ok(Body::Event(Event::K8sApiRequest(r))) if r.verb == "apply" || r.verb == "create"
                )
            })
            .collect()
    }
}

/// How many records were refused for `reason`: the metric's count, checked
/// against the outcome topic, which has one quarantined outcome for each
/// (and names them by offset, never by a request id).
fn quarantined(a: &Applied, reason: &'static str) -> u64 {
    let counted = a
        .metrics
        .verify
        .quarantined
        .get_or_create(&vec![("reason", reason)])
        .get();
    let published = a
        .outcomes
        .iter()
        .filter(
            |o| matches!(&o.result, OutcomeResult::Quarantined { label, .. } if label == reason),
        )
        .inspect(|o| assert_eq!((o.request_id, o.transaction_digest), (0, [0; 32]), "{o:?}"))
        .count() as u64;
    assert_eq!(
        counted, published,
        "{reason}: one outcome per refused record"
    );
    counted
}

/// The offsets of the refused records, from the outcome topic.
fn quarantined_offsets(a: &Applied) -> Vec<i64> {
    a.outcomes
        .iter()
        .filter_map(|o| match &o.result {
            OutcomeResult::Quarantined { offset, .. } => Some(*offset),
            _ => None,
        })
        .collect()
}

impl Honest {
    /// What the honest log up to (not including) record `i` makes: the
    /// state a log held back at `i` must equal.
    async fn prefix(&self, i: usize) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
        Ok(self.apply(&self.records[..i]).await?.objects)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_manifest_copy_applies_the_certified_one() -> anyhow::Result<()> {
    let h = honest(11).await?;
    let i = h.requests()[1];
    let mut records = h.records.clone();
    let mut r = h.proto(i);
    let last = r.bcs.len() - 20;
    r.bcs[last] ^= 0x20;
    if let Some(v1::log_record::Event::K8sApiRequest(req)) = &mut r.event {
        req.manifest = b"{\"kind\":\"ConfigMap\",\"data\":{\"forged\":\"yes\"}}".to_vec();
    }
    records[i] = r.encode_to_vec();
    let applied = h.apply(&records).await?;
    assert_eq!(applied.objects, h.objects);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_manifest_in_the_proof_is_quarantined_and_holds_its_stream() -> anyhow::Result<()>
{
    let h = honest(12).await?;
    // A request in the middle: later records of its cluster's stream come.
    let r = h.requests();
    let i = r[r.len() / 2];
    let mut records = h.records.clone();
    let mut r = h.proto(i);
    let proof = r
        .transaction_proof
        .as_mut()
        .expect("a request's record carries its transaction's proof");
    let n = proof.events_bcs.len() - 20;
    proof.events_bcs[n] ^= 0x20;
    records[i] = r.encode_to_vec();
    let applied = h.apply(&records).await?;
    assert_eq!(quarantined(&applied, "events_digest"), 1);
    assert_eq!(quarantined_offsets(&applied), [i as i64]);
    assert_eq!(applied.metrics.verify.gap.get(), 1);
    assert_eq!(applied.objects, h.prefix(i).await?);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_request_record_is_quarantined() -> anyhow::Result<()> {
    let h = honest(13).await?;
    let i = h.requests()[0];
    let mut forged = h.proto(i);
    // A later position, the tenant's address, a ConfigMap never submitted.
    let last = h.proto(h.records.len() - 1);
    forged.position = last.position.map(|mut p| {
        p.checkpoint += 1;
        p
    });
    forged.checkpoint_proof = None;
    forged.transaction_proof = None;
    if let Some(v1::log_record::Event::K8sApiRequest(req)) = &mut forged.event {
        req.name = "forged".into();
        req.manifest =
            b"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"forged\"}}"
                .to_vec();
        req.request_id += 1000;
    }
    let mut records = h.records.clone();
    records.push(forged.encode_to_vec());
    let applied = h.apply(&records).await?;
    assert_eq!(applied.objects, h.objects);
    // Kept aside until a proof for it comes (none will), blocking nothing.
    assert_eq!(applied.metrics.verify.parked.get(), 1);
    assert_eq!(applied.metrics.verify.gap.get(), 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_record_holds_the_log_until_it_arrives() -> anyhow::Result<()> {
    let h = honest(14).await?;
    // A request that does not carry its checkpoint's proof (so only its
    // own absence counts).
    let i = *h
        .requests()
        .iter()
        .find(|&&i| h.proto(i).checkpoint_proof.is_none())
        .expect("a request inside a checkpoint");
    let mut records = h.records.clone();
    let dropped = records.remove(i);
    let applied = h.apply(&records).await?;
    assert_eq!(applied.metrics.verify.gap.get(), 1);
    assert_eq!(
        applied.objects,
        h.prefix(i).await?,
        "nothing past the gap is applied"
    );
    // It arrives at the end of the log: the master goes on by itself.
    records.push(dropped);
    let applied = h.apply(&records).await?;
    assert_eq!(applied.objects, h.objects);
    assert_eq!(applied.metrics.verify.gap.get(), 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn swapped_records_are_applied_in_chain_order() -> anyhow::Result<()> {
    let h = honest(15).await?;
    let r = h.requests();
    let mut records = h.records.clone();
    records.swap(r[1], r[3]);
    let applied = h.apply(&records).await?;
    assert_eq!(applied.objects, h.objects);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_record_replayed_at_the_end_changes_nothing() -> anyhow::Result<()> {
    let h = honest(16).await?;
    let mut records = h.records.clone();
    records.push(h.records[h.requests()[0]].clone());
    let applied = h.apply(&records).await?;
    assert_eq!(applied.objects, h.objects);
    assert_eq!(applied.metrics.verify.duplicates.get(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_of_another_chain_is_quarantined() -> anyhow::Result<()> {
    let h = honest(17).await?;
    let other = honest(17).await?;
    let mut records = h.records.clone();
    // The other chain's first request, with its proofs, after ours.
    let mut r = other.proto(other.requests()[0]);
    let last = h.proto(h.records.len() - 1);
    let first_of_checkpoint = (0..other.records.len())
        .find(|&j| {
            other.proto(j).position.map(|p| p.checkpoint) == r.position.map(|p| p.checkpoint)
        })
        .expect("its checkpoint's first record");
    r.checkpoint_proof = other.proto(first_of_checkpoint).checkpoint_proof;
    let _ = last;
    records.push(r.encode_to_vec());
    let applied = h.apply(&records).await?;
    assert_eq!(applied.objects, h.objects);
    let refused =
        quarantined(&applied, "bad_signature") + quarantined(&applied, "conflicting_summary");
    assert_eq!(refused, 1);
    // Named by its offset (the last), and the honest outcomes all there.
    assert_eq!(quarantined_offsets(&applied), [h.records.len() as i64]);
    let requests = applied.outcomes.iter().filter(|o| o.is_request()).count();
    assert_eq!(requests, applied.outcomes.len() - 1);
    assert_eq!(
        applied.outcomes.last().map(|o| o.sequence),
        Some(applied.outcomes.len() as u64)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_summary_without_quorum_is_quarantined() -> anyhow::Result<()> {
    let h = honest(18).await?;
    // The log's last checkpoint: no later summary links to it, so only its
    // own signature can certify it. Re-signed by 2 of the 4 validators.
    let first = (0..h.records.len())
        .rev()
        .find(|&j| h.proto(j).checkpoint_proof.is_some())
        .expect("a proof-carrying record");
    let mut r = h.proto(first);
    let proof = r
        .checkpoint_proof
        .as_mut()
        .expect("the first record carries the proof");
    let summary: sui_sdk_types::CheckpointSummary = bcs::from_bytes(&proof.summary_bcs)?;
    let validators = h.chain.validators();
    let keys = validators.keys(summary.epoch);
    let committee = validators.committee(summary.epoch);
    let two = daas_devnet::committee::certify(&committee, &keys, &[0, 1], &summary)?;
    proof.signature_bcs = bcs::to_bytes(&two)?;
    let mut records = h.records.clone();
    records[first] = r.encode_to_vec();
    let applied = h.apply(&records).await?;
    assert_eq!(quarantined(&applied, "bad_signature"), 1);
    assert_eq!(quarantined_offsets(&applied), [first as i64]);
    assert_eq!(applied.objects, h.prefix(first).await?);
    Ok(())
}

/// What a forger holding signing keys appends to the honest log:
/// checkpoints chained to the dev chain's last sealed one.
impl Honest {
    /// The summary of the chain's last sealed checkpoint.
    fn last_sealed(&self) -> CheckpointSummary {
        self.chain
            .node
            .read(|c| c.checkpoints.last().map(|c| c.summary.clone()))
            .expect("the chain sealed checkpoints")
    }

    /// `summary` signed by every validator of its epoch's real committee.
    fn signed_by_the_chain(
        &self,
        summary: &CheckpointSummary,
    ) -> anyhow::Result<ValidatorAggregatedSignature> {
        let v = self.chain.validators();
        let keys = v.keys(summary.epoch);
        let all: Vec<usize> = (0..keys.len()).collect();
        Ok(daas_devnet::committee::certify(
            &v.committee(summary.epoch),
            &keys,
            &all,
            summary,
        )?)
    }

    /// A transaction of `epoch` whose one event is a `K8sAPIRequest` of
    /// `package` the chain never saw: the create of an object `forged` of
    /// the kind and namespace of the last request that made an object, by
    /// its sender, with the cluster's next request id and stream number (so
    /// it would be applied if it counted).
    fn forged_request(&self, package: sui_sdk_types::Address, epoch: u64) -> anyhow::Result<Tx> {
        let entries: Vec<LogEntry> = self
            .records
            .iter()
            .filter_map(|b| LogEntry::decode(b).ok())
            .collect();
        let cluster = self.cluster();
        let mut last = None;
        let (mut next_seq, mut next_id) = (0, 0);
        for e in &entries {
            let Body::Event(ev) = &e.body else { continue };
            if ev.stream() != Stream::Cluster(cluster) {
                continue;
            }
            next_seq = next_seq.max(ev.seq() + 1);
            if let Event::K8sApiRequest(r) = ev {
                next_id = next_id.max(r.request_id + 1);
                let key = match r.namespace.as_str() {
                    "" => format!("/{}", r.name),
                    ns => format!("/{ns}/{}", r.name),
                };
                if self.objects.keys().any(|k| k.ends_with(&key)) {
                    last = Some((e, r));
                }
            }
        }
        let (entry, r) = last.ok_or_else(|| anyhow::anyhow!("no request made an object"))?;
        let mut forged = r.clone();
        forged.request_id = next_id;
        forged.seq = next_seq;
        forged.verb = "create".into();
        forged.name = "forged".into();
        forged.manifest.0 =
            daas_testkit::workload::manifest(&r.kind, &r.api_version, "forged", &r.namespace, 7);
        let mut type_ = entry.event_type.splitn(3, "::").skip(1);
        let ev = certified::Ev {
            package,
            module: type_.next().unwrap_or_default().into(),
            name: type_.next().unwrap_or_default().into(),
            contents: Event::K8sApiRequest(forged).to_bcs(),
        };
        let sender = sui_sdk_types::Address::new(entry.sender.0);
        let event = certified::event(ev, sender)
            .ok_or_else(|| anyhow::anyhow!("the request's type is a Move type"))?;
        Ok(certified::tx_of(
            Digest::new([0xf0; 32]),
            sender,
            epoch,
            vec![event],
        ))
    }

    /// The honest log, then `records`.
    fn then(&self, records: impl IntoIterator<Item = v1::LogRecord>) -> Vec<Vec<u8>> {
        let mut out = self.records.clone();
        out.extend(records.into_iter().map(|r| r.encode_to_vec()));
        out
    }

    /// The objects `applied` made that the honest log does not.
    fn new_objects<'a>(&self, applied: &'a Applied) -> Vec<&'a str> {
        applied
            .objects
            .keys()
            .filter(|k| !self.objects.contains_key(*k))
            .map(String::as_str)
            .collect()
    }
}

/// Whether the one new object is the forged request's.
fn only_the_forged_object(new: &[&str]) -> bool {
    matches!(new, [k] if k.ends_with("/forged"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certified_event_of_another_package_is_quarantined() -> anyhow::Result<()> {
    let h = honest(19).await?;
    let last = h.last_sealed();
    // The next checkpoint, signed by the epoch's real committee, holding
    // a request event of `package`.
    let forge = |package| -> anyhow::Result<Vec<Vec<u8>>> {
        let tx = h.forged_request(package, last.epoch)?;
        let summary = next_summary(Some(&last), last.epoch, std::slice::from_ref(&tx), None);
        let signature = h.signed_by_the_chain(&summary)?;
        Ok(h.then(Cp::new(summary, signature, vec![tx]).records()))
    };
    let other = sui_sdk_types::Address::from_static("0xbad");
    let applied = h.apply(&forge(other)?).await?;
    assert_eq!(quarantined(&applied, "other_package"), 1);
    assert_eq!(applied.objects, h.objects);
    // Control: the same checkpoint with our package's event counts, so
    // only the package refused it.
    let ours = h.apply(&forge(daas_devnet::chain::PACKAGE_ID)?).await?;
    assert_eq!(quarantined(&ours, "other_package"), 0);
    assert!(
        only_the_forged_object(&h.new_objects(&ours)),
        "{:?}",
        h.new_objects(&ours)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_committee_change_its_epoch_did_not_sign_is_refused_and_never_counts()
-> anyhow::Result<()> {
    let h = honest(20).await?;
    let last = h.last_sealed();
    let epoch = last.epoch;
    let forger = Validators::new(epoch + 1, 4);
    // The next checkpoint ends the epoch, naming the forger's committee;
    // the one after it, in the forger's epoch, holds a request it signed.
    let forge = |chain_signs: bool| -> anyhow::Result<Vec<Vec<u8>>> {
        let end = next_summary(Some(&last), epoch, &[], Some(&forger.committee));
        let signature = if chain_signs {
            h.signed_by_the_chain(&end)?
        } else {
            forger.sign_all(&end)
        };
        let end = Cp::new(end, signature, vec![]);
        let tx = h.forged_request(daas_devnet::chain::PACKAGE_ID, epoch + 1)?;
        let next = next_summary(
            Some(&end.summary),
            epoch + 1,
            std::slice::from_ref(&tx),
            None,
        );
        let next = Cp::new(next.clone(), forger.sign_all(&next), vec![tx]);
        Ok(h.then(std::iter::once(end.epoch_change()).chain(next.records())))
    };
    let applied = h.apply(&forge(false)?).await?;
    assert_eq!(quarantined(&applied, "bad_signature"), 1);
    assert_eq!(applied.metrics.verify.epoch.get(), epoch as i64);
    // The forger's epoch waits for a certified end of this one: held.
    assert_eq!(applied.metrics.verify.gap.get(), 1);
    assert_eq!(applied.metrics.verify.held.get(), 1);
    assert_eq!(applied.objects, h.objects);
    // Control: the same change signed by the epoch's committee hands over
    // to the forger's, whose request then counts.
    let signed = h.apply(&forge(true)?).await?;
    assert_eq!(quarantined(&signed, "bad_signature"), 0);
    assert_eq!(signed.metrics.verify.epoch.get(), epoch as i64 + 1);
    assert!(
        only_the_forged_object(&h.new_objects(&signed)),
        "{:?}",
        h.new_objects(&signed)
    );
    Ok(())
}
