//! The proof and epoch change rules over a fake chain whose epochs are
//! written out by hand; expected logs are spelled out per case.

use std::collections::BTreeMap;

use daas_domain::Address;

use super::*;

/// Checkpoint `n` is in epoch `epochs[n]`; every checkpoint has 3
/// transactions with digests `[n, i, 0, ..]`.
struct Fake {
    epochs: Vec<u64>,
    fetched: BTreeMap<u64, usize>,
}

fn fake(epochs: &[u64]) -> Fake {
    Fake {
        epochs: epochs.to_vec(),
        fetched: BTreeMap::new(),
    }
}

fn digest(checkpoint: u64, tx: u64) -> [u8; 32] {
    let mut d = [0; 32];
    d[0] = checkpoint as u8;
    d[1] = tx as u8;
    d
}

fn cp_proof(n: u64, contents: bool) -> CheckpointProofBytes {
    CheckpointProofBytes {
        summary_bcs: vec![n as u8, 0x5a],
        signature_bcs: vec![n as u8, 0x51],
        contents_bcs: if contents {
            vec![n as u8, 0xc0]
        } else {
            vec![]
        },
    }
}

fn tx_proof(n: u64, tx: u64) -> TransactionProofBytes {
    TransactionProofBytes {
        effects_bcs: vec![n as u8, tx as u8, 0xef],
        events_bcs: vec![n as u8, tx as u8, 0xe7],
    }
}

impl Fake {
    fn data(&self, n: u64, full: bool) -> Result<CheckpointData, SourceError> {
        let epoch = *self
            .epochs
            .get(n as usize)
            .ok_or(SourceError::Incomplete("no such checkpoint"))?;
        Ok(CheckpointData {
            sequence_number: n,
            epoch,
            timestamp_ms: 1000 + n,
            proof: cp_proof(n, full),
            transactions: if full {
                (0..3).map(|i| (digest(n, i), tx_proof(n, i))).collect()
            } else {
                vec![]
            },
        })
    }
}

impl Chain for Fake {
    async fn checkpoint(&mut self, n: u64) -> Result<Arc<CheckpointData>, SourceError> {
        *self.fetched.entry(n).or_default() += 1;
        self.data(n, true).map(Arc::new)
    }

    async fn summary(&mut self, n: u64) -> Result<CheckpointData, SourceError> {
        self.data(n, false)
    }

    async fn epoch_end(&mut self, epoch: u64) -> Result<Option<u64>, SourceError> {
        let ended = self.epochs.iter().any(|e| *e > epoch);
        let last = self.epochs.iter().rposition(|e| *e == epoch);
        Ok(last.filter(|_| ended).map(|l| l as u64))
    }
}

fn event(checkpoint: u64, tx: u64, index: u64) -> LogEntry {
    LogEntry::from_chain(
        LogPosition::new(checkpoint, tx, index),
        digest(checkpoint, tx),
        1000 + checkpoint,
        "0xda45::x::Y".into(),
        Address([1; 32]),
        vec![checkpoint as u8, tx as u8, index as u8],
    )
}

/// What each written record is: `(position, epoch change?, checkpoint proof?, transaction proof?)`.
type Shape = ((u64, u64, u64), Option<u64>, bool, bool);

fn shape(e: &LogEntry) -> Shape {
    let p = e.position;
    let change = match e.body {
        Body::EpochChange { epoch } => Some(epoch),
        _ => None,
    };
    (
        (p.checkpoint, p.transaction_index, p.event_index),
        change,
        e.proof.checkpoint.is_some(),
        e.proof.transaction.is_some(),
    )
}

/// Writes `events` after `last` and returns every record written.
async fn write(
    chain: &mut Fake,
    last: Option<&LogEntry>,
    events: &[(u64, u64, u64)],
) -> Result<Vec<LogEntry>, SourceError> {
    let mut prover = Prover::resume(last, chain).await?;
    let mut out = Vec::new();
    for &(c, t, i) in events {
        out.extend(prover.records(event(c, t, i), chain).await?);
    }
    Ok(out)
}

fn shapes(log: &[LogEntry]) -> Vec<Shape> {
    log.iter().map(shape).collect()
}

/// The shapes of the log written for `events` on a chain of `epochs`, from an empty log.
async fn fresh(epochs: &[u64], events: &[(u64, u64, u64)]) -> Vec<Shape> {
    shapes(
        &write(&mut fake(epochs), None, events)
            .await
            .expect("written"),
    )
}

#[tokio::test]
async fn first_record_of_each_checkpoint_and_transaction_carries_the_proofs() {
    let mut chain = fake(&[0, 0, 0]);
    let log = write(
        &mut chain,
        None,
        &[(0, 0, 0), (0, 0, 1), (0, 2, 0), (1, 1, 0), (1, 1, 1)],
    )
    .await
    .expect("written");
    assert_eq!(
        shapes(&log),
        vec![
            ((0, 0, 0), None, true, true),
            ((0, 0, 1), None, false, false),
            ((0, 2, 0), None, false, true),
            ((1, 1, 0), None, true, true),
            ((1, 1, 1), None, false, false),
        ]
    );
    // The bytes are the chain's: checkpoint 1's, transaction 2 of checkpoint 0.
    assert_eq!(log[3].proof.checkpoint, Some(cp_proof(1, true)));
    assert_eq!(log[2].proof.transaction, Some(tx_proof(0, 2)));
    // The events themselves are untouched.
    assert_eq!(log[1].bcs, vec![0, 0, 1]);
}

#[tokio::test]
async fn ended_epochs_without_our_events_get_an_epoch_change_each() {
    // Epoch 0: checkpoints 0-2; epoch 1: 3-5; epoch 2: 6-9.
    let mut chain = fake(&[0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
    let log = write(&mut chain, None, &[(1, 0, 0), (7, 0, 0)])
        .await
        .expect("written");
    assert_eq!(
        shapes(&log),
        vec![
            ((1, 0, 0), None, true, true),
            ((2, 0, 0), Some(0), true, false),
            ((5, 0, 0), Some(1), true, false),
            ((7, 0, 0), None, true, true),
        ]
    );
    // An epoch change holds the summary and signature of its checkpoint, no contents.
    assert_eq!(log[2].proof.checkpoint, Some(cp_proof(5, false)));
    assert_eq!(log[2].checkpoint_timestamp_ms, 1005);
    assert!(log[2].bcs.is_empty());
}

#[tokio::test]
async fn an_epoch_ending_in_a_checkpoint_of_ours_needs_no_record() {
    assert_eq!(
        fresh(&[0, 0, 0, 1, 1, 1, 2], &[(2, 1, 0), (4, 0, 0), (6, 0, 0)]).await,
        vec![
            ((2, 1, 0), None, true, true),
            ((4, 0, 0), None, true, true),
            ((5, 0, 0), Some(1), true, false),
            ((6, 0, 0), None, true, true),
        ]
    );
}

#[tokio::test]
async fn an_empty_log_starting_late_ratchets_from_epoch_zero() {
    assert_eq!(
        fresh(&[0, 1, 1, 2, 3], &[(4, 2, 0)]).await,
        vec![
            ((0, 0, 0), Some(0), true, false),
            ((2, 0, 0), Some(1), true, false),
            ((3, 0, 0), Some(2), true, false),
            ((4, 2, 0), None, true, true),
        ]
    );
}

#[tokio::test]
async fn a_restart_mid_checkpoint_does_not_repeat_its_proofs() {
    let mut chain = fake(&[0, 0, 0, 1]);
    let before = write(&mut chain, None, &[(1, 0, 0), (1, 0, 1)])
        .await
        .expect("written");
    // Crash after (1,0,1); the stream replays checkpoint 1 and the pipeline skips what the log has.
    let after = write(
        &mut chain,
        before.last(),
        &[(1, 0, 2), (1, 1, 0), (3, 0, 0)],
    )
    .await
    .expect("written");
    assert_eq!(
        shapes(&after),
        vec![
            ((1, 0, 2), None, false, false),
            ((1, 1, 0), None, false, true),
            ((2, 0, 0), Some(0), true, false),
            ((3, 0, 0), None, true, true),
        ]
    );
    // The whole log equals one uninterrupted run's.
    let mut chain = fake(&[0, 0, 0, 1]);
    let once = write(
        &mut chain,
        None,
        &[(1, 0, 0), (1, 0, 1), (1, 0, 2), (1, 1, 0), (3, 0, 0)],
    )
    .await
    .expect("written");
    assert_eq!([before, after].concat(), once);
}

#[tokio::test]
async fn a_restart_after_an_epoch_change_goes_on_from_the_next_epoch() {
    // Epoch 0: checkpoints 0-1; epoch 1: 2-3; epoch 2: 4-5.
    let mut chain = fake(&[0, 0, 1, 1, 2, 2]);
    let before = write(&mut chain, None, &[(3, 0, 0)])
        .await
        .expect("written");
    assert_eq!(
        shapes(&before),
        vec![
            ((1, 0, 0), Some(0), true, false),
            ((3, 0, 0), None, true, true)
        ]
    );
    // Crash right after the epoch change, before the event; epoch 1 then
    // ends in checkpoint 3, which holds our event: no record for it.
    let after = write(&mut chain, before.first(), &[(3, 0, 0), (5, 0, 0)])
        .await
        .expect("written");
    assert_eq!(
        shapes(&after),
        vec![((3, 0, 0), None, true, true), ((5, 0, 0), None, true, true)]
    );
}

#[tokio::test]
async fn a_chain_that_contradicts_itself_is_an_error() {
    // The node says epoch 0 ended in checkpoint 1, whose summary says epoch 1.
    struct Liar(Fake);
    impl Chain for Liar {
        async fn checkpoint(&mut self, n: u64) -> Result<Arc<CheckpointData>, SourceError> {
            self.0.checkpoint(n).await
        }
        async fn summary(&mut self, n: u64) -> Result<CheckpointData, SourceError> {
            self.0.summary(n).await
        }
        async fn epoch_end(&mut self, _: u64) -> Result<Option<u64>, SourceError> {
            Ok(Some(1))
        }
    }
    let mut liar = Liar(fake(&[0, 1, 2]));
    let mut prover = Prover::resume(None, &mut liar).await.expect("state");
    let err = prover
        .records(event(2, 0, 0), &mut liar)
        .await
        .expect_err("refused");
    assert!(matches!(err, SourceError::Invalid { .. }), "{err}");
    // An event whose transaction the checkpoint does not hold.
    let mut chain = fake(&[0]);
    let mut prover = Prover::resume(None, &mut chain).await.expect("state");
    let mut stray = event(0, 1, 0);
    stray.transaction_digest = [9; 32];
    let err = prover
        .records(stray, &mut chain)
        .await
        .expect_err("refused");
    assert!(matches!(err, SourceError::Incomplete(_)), "{err}");
}

#[tokio::test]
async fn a_transaction_found_by_digest_when_its_index_differs() {
    let mut chain = fake(&[0]);
    let mut prover = Prover::resume(None, &mut chain).await.expect("state");
    // Index 0, but the digest of transaction 2.
    let mut e = event(0, 0, 0);
    e.transaction_digest = digest(0, 2);
    let log = prover.records(e, &mut chain).await.expect("written");
    assert_eq!(log[0].proof.transaction, Some(tx_proof(0, 2)));
    assert_eq!(chain.fetched.get(&0), Some(&1));
}
