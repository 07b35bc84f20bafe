//! The dev chain's benchmark (`devnet bench`): executed transactions per
//! second and streamed events per second, each next to a baseline measured in
//! the same run on the same machine:
//!
//! - execution vs. raw Ed25519 signature verification of the same
//!   transactions (the one cost every transaction must pay);
//! - `stream_events` through the unmodified `sui_rpc::Client` vs. raw
//!   `ListEvents` pages of the same events over the same connection.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context;
use futures::StreamExt;
use sui_crypto::{SuiSigner, SuiVerifier, ed25519::Ed25519PrivateKey, simple::SimpleVerifier};
use sui_rpc::{
    Client,
    client::{EventStreamRequest, EventStreamStart},
    field::{FieldMask, FieldMaskUtil},
    proto::sui::rpc::v2::{Event, ListEventsRequest, QueryEndReason, QueryOptions},
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    calls,
    chain::genesis_ids,
    faucet,
    loadgen::{self, LoadArgs},
    node::{Node, NodeConfig},
    rpc,
};

/// Benchmark settings.
#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Transactions to execute (each emits one event).
    #[arg(long, default_value_t = 20_000)]
    pub transactions: usize,
    /// Accounts submitting at once.
    #[arg(long, default_value_t = 256)]
    pub accounts: usize,
}

/// Figures of one run.
#[derive(Debug)]
pub struct BenchReport {
    /// Executed transactions per second, over gRPC.
    pub tx_per_s: f64,
    /// Signature verifications per second, in a loop (baseline).
    pub verify_per_s: f64,
    /// Events per second through `stream_events`.
    pub stream_events_per_s: f64,
    /// Events per second through raw `ListEvents` pages (baseline).
    pub list_events_per_s: f64,
    /// Events streamed.
    pub events: usize,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "execution:  {:>9.0} tx/s      baseline signature verification {:>9.0}/s  ratio {:.2}",
            self.tx_per_s,
            self.verify_per_s,
            self.tx_per_s / self.verify_per_s
        )?;
        write!(
            f,
            "streaming:  {:>9.0} events/s  baseline raw ListEvents pages   {:>9.0}/s  ratio {:.2}  ({} events)",
            self.stream_events_per_s,
            self.list_events_per_s,
            self.stream_events_per_s / self.list_events_per_s,
            self.events
        )
    }
}

fn verify_baseline(n: usize) -> f64 {
    let key = Ed25519PrivateKey::generate(rand_core::OsRng);
    let ids = genesis_ids();
    let gas = sui_sdk_types::ObjectReference::new(ids.pool, 1, sui_sdk_types::Digest::new([1; 32]));
    let (tx, _) = calls::top_up(&key, &ids, gas, 1, 0);
    let sig = key.sign_transaction(&tx).expect("ed25519 signing");
    let start = Instant::now();
    for _ in 0..n {
        let _ = std::hint::black_box(SimpleVerifier.verify_transaction(&tx, &sig));
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Starts a fresh chain in a temp folder, loads it, streams it back.
pub async fn run(args: &BenchArgs) -> anyhow::Result<BenchReport> {
    let dir = tempfile::tempdir()?;
    let node = Node::open(NodeConfig {
        data_dir: dir.path().to_path_buf(),
        checkpoint_interval: Duration::from_millis(250),
        epoch_duration_ms: 3_600_000,
        lowest_available_checkpoint: 0,
        validators: crate::committee::DEFAULT_VALIDATORS,
        nitro_root: crate::node::TrustedRoot::aws_nitro(),
    })?;
    let grpc = TcpListener::bind("127.0.0.1:0").await?;
    let faucet_listener = TcpListener::bind("127.0.0.1:0").await?;
    let (grpc_addr, faucet_addr): (SocketAddr, SocketAddr) =
        (grpc.local_addr()?, faucet_listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let tasks = [
        tokio::spawn(rpc_task(grpc, node.clone(), shutdown.clone())),
        tokio::spawn(faucet_task(faucet_listener, node.clone(), shutdown.clone())),
        tokio::spawn(checkpoint_task(node.clone(), shutdown.clone())),
    ];

    let load = loadgen::run(&LoadArgs {
        node_url: format!("http://{grpc_addr}"),
        faucet_url: format!("http://{faucet_addr}"),
        accounts: args.accounts,
        transactions: args.transactions,
    })
    .await
    .context("load")?;
    node.seal()?;
    let verify_per_s = verify_baseline(args.transactions.min(20_000));

    let client = Client::new(format!("http://{grpc_addr}"))?;
    let want = node.read(|c| c.events.len());

    // Baseline: raw ListEvents pages.
    let start = Instant::now();
    let mut listed = 0usize;
    let mut req = ListEventsRequest::default();
    let mut opts = QueryOptions::default();
    opts.limit = Some(10_000);
    req.options = Some(opts);
    req.read_mask = Some(FieldMask::from_paths(["*"]));
    list_events_paged(&client, req, |_| {
        listed += 1;
        Ok(())
    })
    .await?;
    let list_events_per_s = listed as f64 / start.elapsed().as_secs_f64();

    // The product path: the resumable stream from checkpoint 0.
    let start = Instant::now();
    let mut stream = Box::pin(
        client.stream_events(
            EventStreamRequest::new()
                .with_read_mask(FieldMask::from_paths(["*"]))
                .with_start(EventStreamStart::Checkpoint(0)),
        ),
    );
    let mut streamed = 0usize;
    while streamed < want {
        let frame = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .context("stream stalled")?
            .context("stream ended")??;
        streamed += usize::from(frame.event.is_some());
    }
    let stream_events_per_s = streamed as f64 / start.elapsed().as_secs_f64();

    shutdown.cancel();
    for t in tasks {
        let _ = t.await;
    }
    Ok(BenchReport {
        tx_per_s: load.per_second(),
        verify_per_s,
        stream_events_per_s,
        list_events_per_s,
        events: streamed,
    })
}

/// Pages through `ListEvents` answering `request` (its filter, read mask
/// and page limit kept; each page starts after the previous one's cursor),
/// calling `each` on every event in order, until a page ends for a reason
/// other than its item limit.
pub async fn list_events_paged(
    client: &Client,
    mut request: ListEventsRequest,
    mut each: impl FnMut(Event) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    loop {
        let mut frames = client
            .clone()
            .ledger_client()
            .list_events(request.clone())
            .await?
            .into_inner();
        let (mut after, mut reason) = (None, None);
        while let Some(f) = frames.next().await {
            let f = f?;
            if let Some(e) = f.event {
                each(e)?;
            }
            after = f.watermark.and_then(|w| w.cursor);
            reason = f.end.and_then(|e| e.reason);
        }
        if reason != Some(QueryEndReason::ItemLimit as i32) {
            return Ok(());
        }
        request.options.get_or_insert_with(Default::default).after = after;
    }
}

async fn rpc_task(l: TcpListener, node: std::sync::Arc<Node>, s: CancellationToken) {
    let _ = rpc::serve(l, node, s).await;
}

async fn faucet_task(l: TcpListener, node: std::sync::Arc<Node>, s: CancellationToken) {
    let _ = faucet::serve(l, node, s).await;
}

async fn checkpoint_task(node: std::sync::Arc<Node>, s: CancellationToken) {
    let _ = node.run_checkpoints(s).await;
}
