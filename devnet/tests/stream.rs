//! The unmodified `sui_rpc::Client` against the dev chain: `stream_events`
//! filtered to our package delivers every event exactly once, in order, across
//! a restart of the dev chain in the middle; `ListEvents` pages agree.

mod support;

use std::time::Duration;

use daas_devnet::{bench::list_events_paged, node::Node};
use futures::StreamExt;
use sui_crypto::ed25519::Ed25519PrivateKey;
use sui_rpc::{
    Client,
    client::{EventStreamRequest, EventStreamStart},
    field::{FieldMask, FieldMaskUtil},
    proto::sui::rpc::v2::{Event, ListEventsRequest},
};
use support::{our_package, start};

/// The dev chain's checkpoint interval in these tests.
const INTERVAL: Duration = Duration::from_millis(50);

/// Makes each account of `keys` stake, one event each.
fn stake_many(node: &Node, keys: &[Ed25519PrivateKey]) {
    for key in keys {
        support::stake(node, key);
    }
}

/// Where `e` stands in the chain, and its type.
fn place(e: &Event) -> (Option<u64>, Option<u64>, Option<u32>, Option<String>) {
    (
        e.checkpoint,
        e.transaction_index,
        e.event_index,
        e.event_type.clone(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_events_is_exactly_once_across_a_restart() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = probe.local_addr()?;
    drop(probe);

    let keys: Vec<Ed25519PrivateKey> = (0..40)
        .map(|_| Ed25519PrivateKey::generate(rand_core::OsRng))
        .collect();
    let running = start(dir.path(), addr, INTERVAL).await?;
    stake_many(&running.node, &keys[..20]);

    let client = Client::new(format!("http://{addr}"))?;
    let request = EventStreamRequest::new()
        .with_read_mask(FieldMask::from_paths(["*"]))
        .with_filter(our_package())
        .with_start(EventStreamStart::Checkpoint(0));
    let mut stream = Box::pin(client.stream_events(request));

    // 1 ClusterCreated at genesis + 20 stakes before the restart.
    let mut seen = Vec::new();
    while seen.len() < 21 {
        let frame = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await?
            .expect("stream open")?;
        if let Some(e) = frame.event {
            seen.push(place(&e));
        }
    }

    running.stop().await;
    let running = start(dir.path(), addr, INTERVAL).await?;
    stake_many(&running.node, &keys[20..]);

    while seen.len() < 41 {
        let frame = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await?
            .expect("stream open")?;
        if let Some(e) = frame.event {
            seen.push(place(&e));
        }
    }

    // Exactly once, in chain order.
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen, "events arrive once each, in order");

    // ListEvents, paged, agrees with the stream.
    let mut listed = Vec::new();
    let mut req = ListEventsRequest::default();
    req.filter = Some(our_package());
    let mut opts = sui_rpc::proto::sui::rpc::v2::QueryOptions::default();
    opts.limit = Some(7);
    req.options = Some(opts);
    list_events_paged(&client, req, |e| {
        listed.push(place(&e));
        Ok(())
    })
    .await?;
    assert_eq!(listed, seen, "ListEvents pages agree with the stream");
    running.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_checkpoints_chains_digests_and_headers_describe_the_chain() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = probe.local_addr()?;
    drop(probe);
    let running = start(dir.path(), addr, INTERVAL).await?;
    let client = Client::new(format!("http://{addr}"))?;

    let mut stream = Box::pin(
        client.stream_checkpoints(
            sui_rpc::client::CheckpointStreamRequest::new()
                .with_read_mask(FieldMask::from_paths(["*"]))
                .with_start(sui_rpc::client::CheckpointStreamStart::Checkpoint(0)),
        ),
    );
    let mut previous: Option<(u64, String)> = None;
    let mut seen = 0;
    while seen < 6 {
        let frame = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await?
            .expect("open")?;
        let Some(cp) = frame.checkpoint else { continue };
        let seq = cp.sequence_number.expect("sequence");
        let summary: sui_sdk_types::CheckpointSummary = cp
            .summary
            .as_ref()
            .and_then(|s| s.bcs.as_ref())
            .expect("summary bcs")
            .deserialize()?;
        if let Some((prev_seq, prev_digest)) = &previous {
            assert_eq!(seq, prev_seq + 1, "checkpoints are contiguous");
            assert_eq!(
                summary.previous_digest.map(|d| d.to_string()).as_ref(),
                Some(prev_digest),
                "digests chain"
            );
        }
        assert_eq!(
            summary.digest().to_string(),
            cp.digest.clone().expect("digest")
        );
        previous = Some((seq, cp.digest.expect("digest")));
        seen += 1;
    }

    let response = client
        .clone()
        .ledger_client()
        .get_service_info(sui_rpc::proto::sui::rpc::v2::GetServiceInfoRequest::default())
        .await?;
    let headers = response.metadata().clone();
    for name in [
        "x-sui-chain-id",
        "x-sui-chain",
        "x-sui-checkpoint-height",
        "x-sui-epoch",
        "x-sui-timestamp-ms",
        "x-sui-lowest-available-checkpoint",
    ] {
        assert!(headers.get(name).is_some(), "missing header {name}");
    }
    let info = response.into_inner();
    assert_eq!(
        headers.get("x-sui-chain-id").and_then(|v| v.to_str().ok()),
        info.chain_id.as_deref()
    );
    running.stop().await;
    Ok(())
}
