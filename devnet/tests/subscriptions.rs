//! The dev chain's subscriptions never move their checkpoint coverage back,
//! as a real full node's do not, while checkpoints are sealed from several
//! threads at once (the node's timer every millisecond, and explicit seals
//! after each transaction, as test workloads do): `SubscribeEvents`
//! watermarks only go up and each event comes once, and the unmodified
//! `sui_rpc` stream adapters (which refuse a regressing watermark with
//! "subscription checkpoint coverage regressed") deliver every event and every
//! checkpoint once, in order.

mod support;

use std::{sync::Arc, time::Duration};

use daas_devnet::{
    chain::{IndexedEvent, PACKAGE_ID},
    node::Node,
};
use futures::{Stream, StreamExt};
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_rpc::{
    Client,
    client::{
        CheckpointStreamRequest, CheckpointStreamStart, EventStreamRequest, EventStreamStart,
    },
    field::{FieldMask, FieldMaskUtil},
    proto::sui::rpc::v2::{Event, SubscribeEventsRequest, SubscribeEventsResponse},
};
use support::{our_package, start};
use tokio::sync::watch;

/// Threads executing and sealing at once (besides the node's timer).
const SEALERS: usize = 4;
/// Accounts staking per thread (one event each, a seal after each).
const STAKES: usize = 25;
/// How long any one stream may stay silent before the test fails.
const SILENCE: Duration = Duration::from_secs(30);

type Pos = (u64, u64, u32);

fn pos(e: &Event) -> Pos {
    (
        e.checkpoint.unwrap_or_default(),
        e.transaction_index.unwrap_or_default(),
        e.event_index.unwrap_or_default(),
    )
}

/// Our package's events in checkpoints `from..=to`, read from the chain's
/// index (not through the RPC's filter).
fn chain_events(node: &Node, from: u64, to: u64) -> Vec<Pos> {
    node.read(|c| {
        c.events
            .iter()
            .filter(|e| (from..=to).contains(&e.checkpoint) && e.event.package_id == PACKAGE_ID)
            .map(IndexedEvent::position)
            .collect()
    })
}

/// Stakes from [`SEALERS`] threads at once, each sealing after every stake.
async fn load(node: &Arc<Node>) -> anyhow::Result<()> {
    let mut threads = Vec::new();
    for _ in 0..SEALERS {
        let node = node.clone();
        threads.push(tokio::task::spawn_blocking(move || {
            for _ in 0..STAKES {
                support::stake(&node, &Ed25519PrivateKey::generate(rand_core::OsRng));
                node.seal().expect("seal");
            }
        }));
    }
    for t in threads {
        t.await?;
    }
    Ok(())
}

/// Reads `frames` until one covers the checkpoint `done` ends up naming,
/// handing each to `each`, which checks it and returns the checkpoint it covers.
async fn read_until<F>(
    mut frames: impl Stream<Item = Result<F, tonic::Status>> + Unpin,
    done: watch::Receiver<Option<u64>>,
    mut each: impl FnMut(F) -> anyhow::Result<Option<u64>>,
) -> anyhow::Result<()> {
    let mut covered: Option<u64> = None;
    loop {
        let last = *done.borrow();
        if covered.zip(last).is_some_and(|(c, last)| c >= last) {
            return Ok(());
        }
        let frame = tokio::time::timeout(SILENCE, frames.next())
            .await?
            .ok_or_else(|| anyhow::anyhow!("the stream ended"))??;
        covered = each(frame)?.or(covered);
    }
}

/// Checks a raw `SubscribeEvents` frame: its watermark checkpoint is no lower
/// than the one before, and its event comes after the one before.
fn check_raw(
    frame: SubscribeEventsResponse,
    covered: &mut Option<u64>,
    events: &mut Vec<Pos>,
) -> anyhow::Result<Option<u64>> {
    let watermark = frame.watermark.and_then(|w| w.checkpoint);
    if let (Some(before), Some(now)) = (*covered, watermark) {
        anyhow::ensure!(now >= before, "watermark went back from {before} to {now}");
    }
    *covered = watermark.or(*covered);
    if let Some(e) = frame.event {
        let p = pos(&e);
        if let Some(previous) = events.last() {
            anyhow::ensure!(p > *previous, "event {p:?} came after {previous:?}");
        }
        events.push(p);
    }
    Ok(watermark)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_stay_monotone_while_checkpoints_are_sealed_from_many_threads()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(dir.path(), "127.0.0.1:0".parse()?, Duration::from_millis(1)).await?;
    let node = running.node.clone();
    let client = Client::new(format!("http://{}", running.addr))?;
    let mut request = SubscribeEventsRequest::default();
    request.read_mask = Some(FieldMask::from_paths(["*"]));
    request.filter = Some(our_package());
    let raw = client
        .clone()
        .subscription_client()
        .subscribe_events(request)
        .await?
        .into_inner();
    let adapted = Box::pin(
        client.stream_events(
            EventStreamRequest::new()
                .with_read_mask(FieldMask::from_paths(["*"]))
                .with_filter(our_package())
                .with_start(EventStreamStart::Checkpoint(0)),
        ),
    );
    let checkpoints = Box::pin(
        client.stream_checkpoints(
            CheckpointStreamRequest::new()
                .with_read_mask(FieldMask::from_paths(["sequence_number"]))
                .with_start(CheckpointStreamStart::Checkpoint(0)),
        ),
    );

    let (done_tx, done) = watch::channel(None);
    let (mut raw_covered, mut raw_seen, mut first) = (None, Vec::new(), None);
    let (mut adapted_seen, mut next) = (Vec::new(), 0);
    let loaded = async {
        load(&node).await?;
        done_tx.send_replace(Some(node.seal()?));
        anyhow::Ok(())
    };
    let raw = read_until(raw, done.clone(), |frame| {
        let covered = check_raw(frame, &mut raw_covered, &mut raw_seen)?;
        first = first.or(covered);
        Ok(covered)
    });
    let adapted = read_until(adapted, done.clone(), |frame| {
        adapted_seen.extend(frame.event.as_ref().map(pos));
        Ok(frame.covered_checkpoint)
    });
    let checkpoints = read_until(checkpoints, done.clone(), |frame| {
        let Some(cp) = frame.checkpoint else {
            return Ok(None);
        };
        anyhow::ensure!(cp.sequence_number == Some(next), "checkpoint {next} next");
        next += 1;
        Ok(Some(frame.cursor))
    });
    tokio::try_join!(loaded, raw, adapted, checkpoints)?;

    let last = (*done.borrow()).unwrap_or_default();
    let all = chain_events(&node, 0, last);
    assert_eq!(
        all.len(),
        1 + SEALERS * STAKES,
        "the genesis cluster and every stake"
    );
    assert_eq!(
        adapted_seen, all,
        "stream_events: every event once, in order"
    );
    let first = first.unwrap_or_default();
    assert_eq!(
        raw_seen,
        chain_events(&node, first + 1, last),
        "SubscribeEvents"
    );
    running.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sealed_height_only_goes_up_while_many_threads_seal() -> anyhow::Result<()> {
    let chain = support::chain();
    let node = chain.node.clone();
    let mut sealed = node.subscribe();
    let watcher = tokio::spawn(async move {
        let mut seen = *sealed.borrow_and_update();
        while sealed.changed().await.is_ok() {
            let now = *sealed.borrow_and_update();
            anyhow::ensure!(now > seen, "the sealed height went from {seen} to {now}");
            seen = now;
        }
        Ok(seen)
    });
    let mut threads = Vec::new();
    for _ in 0..SEALERS {
        let node = node.clone();
        threads.push(tokio::task::spawn_blocking(move || {
            (0..SEALERS * STAKES).try_for_each(|_| node.seal().map(drop))
        }));
    }
    for t in threads {
        t.await??;
    }
    let height = node.read(|c| c.checkpoint_height());
    assert_eq!(
        *node.subscribe().borrow(),
        height,
        "the watch ends at the height"
    );
    drop(chain);
    drop(node);
    assert_eq!(watcher.await??, height);
    Ok(())
}
