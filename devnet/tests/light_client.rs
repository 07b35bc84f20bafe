//! The certifying dev chain against Sui's own light client: the unmodified
//! `sui_rpc::light_client` ratchet, starting from the pinned genesis
//! committee, accepts the chain across several epoch changes and refuses it
//! from a different genesis committee; every checkpoint served over gRPC
//! verifies with `ValidatorCommitteeSignatureVerifier`, chains by
//! `previous_digest`, and its contents, effects and events digests check; a
//! sub-quorum signature does not verify; the log replays into the same
//! certificates, and a log without its seed is refused.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use daas_devnet::{
    calls,
    chain::PACKAGE_ID,
    committee::{self, GENESIS_COMMITTEE_FILE, SEED_FILE, Validators, certify},
    node::{Node, NodeConfig},
    rpc,
};
use sui_crypto::{bls12381::ValidatorCommitteeSignatureVerifier, ed25519::Ed25519PrivateKey};
use sui_rpc::{
    Client,
    field::{FieldMask, FieldMaskUtil},
    light_client::{EpochCache, LightClientError, ratchet_to_checkpoint},
    proto::sui::rpc::v2::{
        self as pb, GetCheckpointRequest, GetEpochRequest, ListCheckpointsRequest,
    },
};
use sui_sdk_types::{
    CheckpointContents, CheckpointSummary, Digest, Transaction, TransactionEffects,
    TransactionEvents, ValidatorAggregatedSignature, ValidatorCommittee,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

fn config(dir: &Path, validators: usize) -> NodeConfig {
    NodeConfig {
        data_dir: dir.to_path_buf(),
        checkpoint_interval: Duration::from_secs(3600),
        // Any checkpoint sealed a millisecond after the epoch began ends it.
        epoch_duration_ms: 1,
        lowest_available_checkpoint: 0,
        validators,
        nitro_root: daas_devnet::node::TrustedRoot::aws_nitro(),
    }
}

/// Stakes from a fresh funded account (a `StakeDeposited` event of our
/// package), then seals until the chain is in epoch `epochs` or later.
fn grow(node: &Node, epochs: u64) {
    let key = Ed25519PrivateKey::generate(rand_core::OsRng);
    let who = key.public_key().derive_address();
    node.faucet(who, 2_000_000_000).expect("faucet");
    let (ids, gas) = node.read(|c| (c.world.ids.clone(), c.largest_coin(&who)));
    let (tx, sig) = calls::stake(&key, &ids, gas.expect("funded"), 500_000_000, 0);
    node.execute(tx, vec![sig]).expect("stake");
    node.seal().expect("seal");
    let deadline = Instant::now() + Duration::from_secs(60);
    while node.read(|c| c.epoch()) < epochs {
        assert!(Instant::now() < deadline, "no epoch change within a minute");
        node.seal().expect("seal");
    }
}

struct Served {
    node: Arc<Node>,
    url: String,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<()>,
}

async fn serve(node: Arc<Node>) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let shutdown = CancellationToken::new();
    let (n, s) = (node.clone(), shutdown.clone());
    let server = tokio::spawn(async move {
        let _ = rpc::serve(listener, n, s).await;
    });
    Served {
        node,
        url,
        shutdown,
        server,
    }
}

impl Served {
    async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.server.await;
    }
}

const PROOF_MASK: [&str; 7] = [
    "summary.bcs",
    "signature",
    "contents.bcs",
    "transactions.digest",
    "transactions.transaction.bcs",
    "transactions.effects.bcs",
    "transactions.events.bcs",
];

async fn checkpoint(client: &mut Client, seq: u64, paths: &[&str]) -> pb::Checkpoint {
    let req = GetCheckpointRequest::by_sequence_number(seq)
        .with_read_mask(FieldMask::from_paths(paths.iter().copied()));
    let resp = client.ledger_client().get_checkpoint(req).await;
    resp.expect("GetCheckpoint")
        .into_inner()
        .checkpoint
        .expect("a checkpoint")
}

fn bcs<'a, T: serde::Deserialize<'a>>(b: Option<&'a pb::Bcs>, what: &str) -> T {
    b.unwrap_or_else(|| panic!("{what} is missing"))
        .deserialize()
        .unwrap_or_else(|e| panic!("{what} does not decode: {e}"))
}

/// Checks one transaction of a checkpoint against its contents entry;
/// returns how many of its events are our package's `StakeDeposited`.
fn check_transaction(
    info: &sui_sdk_types::CheckpointTransactionInfo,
    t: &pb::ExecutedTransaction,
) -> usize {
    let digest: Digest = t.digest().parse().expect("digest");
    assert_eq!(&digest, info.transaction());
    let tx: Transaction = bcs(
        t.transaction.as_ref().and_then(|x| x.bcs.as_ref()),
        "transaction.bcs",
    );
    assert_eq!(
        tx.digest(),
        digest,
        "the transaction's bytes hash to its digest"
    );
    let effects: TransactionEffects = bcs(
        t.effects.as_ref().and_then(|x| x.bcs.as_ref()),
        "effects.bcs",
    );
    assert_eq!(
        &effects.digest(),
        info.effects(),
        "effects digest in the contents"
    );
    assert_eq!(effects.transaction_digest(), &digest);
    // A transaction without events has no events digest (its events, if
    // served at all, are the empty list).
    let events: TransactionEvents = match t.events.as_ref().and_then(|e| e.bcs.as_ref()) {
        Some(b) => bcs(Some(b), "events.bcs"),
        None => TransactionEvents(Vec::new()),
    };
    let expected = (!events.0.is_empty()).then(|| events.digest());
    assert_eq!(
        effects.events_digest(),
        expected.as_ref(),
        "events digest in the effects"
    );
    events
        .0
        .iter()
        .filter(|e| e.package_id == PACKAGE_ID && e.type_.name().as_str() == "StakeDeposited")
        .count()
}

/// Every checkpoint up to `tip`, fetched as a verifier does, checked against
/// `cache`'s (ratcheted) committees. Returns our `StakeDeposited` events seen.
async fn check_every_checkpoint(client: &mut Client, cache: &EpochCache, tip: u64) -> usize {
    let mut previous: Option<Digest> = None;
    let mut stakes = 0;
    for seq in 0..=tip {
        let cp = checkpoint(client, seq, &PROOF_MASK).await;
        let summary: CheckpointSummary = bcs(
            cp.summary.as_ref().and_then(|s| s.bcs.as_ref()),
            "summary.bcs",
        );
        assert_eq!(summary.sequence_number, seq);
        assert_eq!(
            summary.previous_digest, previous,
            "checkpoint {seq} links to the one before"
        );
        assert_eq!(
            cp.digest().parse::<Digest>().expect("digest"),
            summary.digest()
        );
        previous = Some(summary.digest());
        let signature =
            ValidatorAggregatedSignature::try_from(cp.signature.as_ref().expect("signature"))
                .expect("the signature parses as Sui's");
        let committee = cache
            .committee_for_epoch(summary.epoch)
            .expect("a ratcheted committee");
        ValidatorCommitteeSignatureVerifier::new((*committee).clone())
            .expect("committee keys")
            .verify_checkpoint_summary(&summary, &signature)
            .unwrap_or_else(|e| panic!("checkpoint {seq} certificate: {e}"));
        assert_eq!(
            signature.bitmap.iter().count(),
            committee.members.len(),
            "everyone signs"
        );
        let contents: CheckpointContents = bcs(
            cp.contents.as_ref().and_then(|c| c.bcs.as_ref()),
            "contents.bcs",
        );
        assert_eq!(contents.digest(), summary.content_digest);
        assert_eq!(contents.transactions().len(), cp.transactions.len());
        for (info, t) in contents.transactions().iter().zip(&cp.transactions) {
            stakes += check_transaction(info, t);
        }
        // The tip may end an epoch the ratchet had no reason to enter.
        if let (Some(end), Some(next)) = (
            &summary.end_of_epoch_data,
            cache.committee_for_epoch(summary.epoch + 1),
        ) {
            assert_eq!(end.next_epoch_committee, next.members);
        }
    }
    stakes
}

/// `GetEpoch` of every epoch: the committee when asked, the checkpoint range,
/// and the range's last summary is the one ending the epoch.
async fn check_epochs(client: &mut Client, cache: &EpochCache) {
    let mut expected_first = 0;
    for e in 0..=cache.current_epoch() {
        let req = GetEpochRequest::new(e).with_read_mask(FieldMask::from_paths([
            "committee",
            "first_checkpoint",
            "last_checkpoint",
        ]));
        let epoch = client
            .ledger_client()
            .get_epoch(req)
            .await
            .expect("GetEpoch")
            .into_inner()
            .epoch
            .expect("epoch");
        let committee =
            ValidatorCommittee::try_from(epoch.committee.as_ref().expect("committee asked for"))
                .expect("committee");
        assert_eq!(Some(&committee), cache.committee_for_epoch(e).as_deref());
        assert_eq!(epoch.first_checkpoint, Some(expected_first));
        if e < cache.current_epoch() {
            let last = epoch
                .last_checkpoint
                .expect("an ended epoch has a last checkpoint");
            let cp = checkpoint(client, last, &["summary.bcs"]).await;
            let s: CheckpointSummary = bcs(
                cp.summary.as_ref().and_then(|s| s.bcs.as_ref()),
                "summary.bcs",
            );
            assert_eq!(s.epoch, e);
            assert!(s.end_of_epoch_data.is_some(), "epoch {e} ends at {last}");
            expected_first = last + 1;
        }
        let plain = client
            .ledger_client()
            .get_epoch(GetEpochRequest::new(e))
            .await
            .expect("GetEpoch")
            .into_inner();
        assert!(
            plain.epoch.expect("epoch").committee.is_none(),
            "the committee only when asked"
        );
    }
}

/// `ListCheckpoints` with a verifier's mask: summaries and certificates,
/// nothing else.
async fn check_listed(client: &mut Client, node: &Node) {
    let mut req = ListCheckpointsRequest::default();
    req.read_mask = Some(FieldMask::from_paths(["summary.bcs", "signature"]));
    let mut stream = client
        .ledger_client()
        .list_checkpoints(req)
        .await
        .expect("ListCheckpoints")
        .into_inner();
    let mut seen = 0;
    while let Some(frame) = stream.message().await.expect("frame") {
        let Some(cp) = frame.checkpoint else { continue };
        let summary: CheckpointSummary = bcs(
            cp.summary.as_ref().and_then(|s| s.bcs.as_ref()),
            "summary.bcs",
        );
        let signature =
            ValidatorAggregatedSignature::try_from(cp.signature.as_ref().expect("signature"))
                .expect("signature");
        let stored = node.read(|c| c.checkpoints[seen].clone());
        assert_eq!((summary, signature), (stored.summary, stored.signature));
        assert!(
            cp.contents.is_none() && cp.transactions.is_empty(),
            "only what the mask asks"
        );
        seen += 1;
    }
    assert_eq!(seen as u64, node.read(|c| c.checkpoint_height()) + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_light_client_ratchets_across_epochs_from_the_pinned_committee() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::open(config(dir.path(), 4)).expect("open");
    let grower = node.clone();
    tokio::task::spawn_blocking(move || grow(&grower, 3))
        .await
        .expect("grow");
    let served = serve(node).await;
    let mut client = Client::new(served.url.clone()).expect("client");
    let tip = served.node.read(|c| c.checkpoint_height());
    let tip_epoch = served.node.read(|c| c.tip().summary.epoch);
    assert!(tip_epoch >= 2, "at least two epoch changes before the tip");

    let pinned =
        committee::read_committee(&dir.path().join(GENESIS_COMMITTEE_FILE)).expect("pinned");
    assert_eq!((pinned.epoch, pinned.members.len()), (0, 4));
    assert!(pinned.members.iter().all(|m| m.stake == 1));
    let mut cache = EpochCache::new(pinned);
    ratchet_to_checkpoint(&mut client, &mut cache, tip)
        .await
        .expect("the ratchet accepts the chain");
    assert_eq!(cache.current_epoch(), tip_epoch);

    let stakes = check_every_checkpoint(&mut client, &cache, tip).await;
    assert_eq!(stakes, 1, "the one stake made, in a certified checkpoint");
    check_epochs(&mut client, &cache).await;
    check_listed(&mut client, &served.node).await;

    // Another genesis committee (another seed) does not certify this chain.
    let wrong = Validators::from_seed([7; 32], 4).committee(0);
    let mut cache = EpochCache::new(wrong);
    let refused = ratchet_to_checkpoint(&mut client, &mut cache, tip).await;
    assert!(
        matches!(refused, Err(LightClientError::InvalidSignature(_))),
        "a chain certified by another committee is refused: {refused:?}"
    );
    assert_eq!(cache.current_epoch(), 0);
    served.stop().await;
}

#[test]
fn two_of_four_signers_are_not_a_quorum() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::open(config(dir.path(), 4)).expect("open");
    grow(&node, 1);
    let (summary, served) = node.read(|c| (c.tip().summary.clone(), c.tip().signature.clone()));
    let epoch = node.validators().epoch(summary.epoch);
    let verifier = ValidatorCommitteeSignatureVerifier::new(epoch.committee.clone()).expect("keys");
    verifier
        .verify_checkpoint_summary(&summary, &served)
        .expect("the chain's own certificate");
    let two = certify(&epoch.committee, &epoch.keys, &[0, 1], &summary).expect("certify");
    let err = verifier
        .verify_checkpoint_summary(&summary, &two)
        .expect_err("2 of 4 is no quorum");
    assert!(err.to_string().contains("insufficient"), "{err}");
    let three = certify(&epoch.committee, &epoch.keys, &[1, 2, 3], &summary).expect("certify");
    verifier
        .verify_checkpoint_summary(&summary, &three)
        .expect("3 of 4 is a quorum");
}

fn certificates(node: &Node) -> Vec<(Digest, ValidatorAggregatedSignature)> {
    node.read(|c| {
        c.checkpoints
            .iter()
            .map(|cp| (cp.digest, cp.signature.clone()))
            .collect()
    })
}

#[test]
fn the_log_replays_into_the_same_certificates_and_needs_its_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::open(config(dir.path(), 7)).expect("open");
    grow(&node, 2);
    let before = certificates(&node);
    let pinned = std::fs::read(dir.path().join(GENESIS_COMMITTEE_FILE)).expect("pinned");
    assert_eq!(node.validators().committee(0).members.len(), 7);
    drop(node);

    // Reopened with another validator count: the genesis's count holds.
    let again = Node::open(config(dir.path(), 4)).expect("reopen");
    assert_eq!(
        certificates(&again),
        before,
        "same summaries, same signatures"
    );
    assert_eq!(
        std::fs::read(dir.path().join(GENESIS_COMMITTEE_FILE)).expect("pinned"),
        pinned
    );
    drop(again);

    std::fs::remove_file(dir.path().join(SEED_FILE)).expect("remove seed");
    let refused = Node::open(config(dir.path(), 7))
        .err()
        .expect("a log without its seed is refused");
    let msg = refused.to_string();
    assert!(msg.contains(SEED_FILE) && msg.contains("--reset"), "{msg}");
}

#[test]
fn devnet_committee_prints_the_pinned_committee() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = Node::open(config(dir.path(), 4)).expect("open");
    let validators = node.validators();
    drop(node);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_devnet"))
            .args(args)
            .output()
            .expect("run devnet");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let data_dir = dir.path().to_str().expect("utf-8 path");
    let genesis: ValidatorCommittee =
        serde_json::from_str(&run(&["committee", "--data-dir", data_dir])).expect("json");
    assert_eq!(genesis, validators.committee(0));
    let third: ValidatorCommittee =
        serde_json::from_str(&run(&["committee", "--data-dir", data_dir, "--epoch", "3"]))
            .expect("json");
    assert_eq!(third, validators.committee(3));
    assert!(run(&["committee", "--help"]).contains("devnet committee --data-dir"));
}
