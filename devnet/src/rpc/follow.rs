//! How a subscription follows the sealed height: the frames of each sealed
//! checkpoint once, in ascending order, as a real full node streams them.
//! The node's height watch only goes up, but the follower does not rely on
//! it: a height at or below one already streamed sends nothing, so a
//! subscription's watermarks never go back (the `sui_rpc` stream adapters
//! refuse a stream whose coverage regresses, as data loss).

use futures::{Stream, StreamExt};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tonic::Status;

/// The watch's current value, then each new value it takes.
pub fn heights(sealed: watch::Receiver<u64>) -> impl Stream<Item = u64> + Send + Unpin {
    Box::pin(futures::stream::unfold(
        (sealed, true),
        |(mut sealed, first)| async move {
            if !first {
                sealed.changed().await.ok()?;
            }
            let height = *sealed.borrow_and_update();
            Some((height, (sealed, false)))
        },
    ))
}

/// Sends `frames_of(c)` for every checkpoint `c` from `next` up to each height
/// `heights` yields, each checkpoint once, in order, until `heights` ends,
/// `shutdown` is cancelled, the receiver is dropped, or `frames_of` has no
/// frames for a checkpoint (it is not there).
pub async fn follow<T>(
    mut heights: impl Stream<Item = u64> + Unpin,
    mut next: u64,
    frames_of: impl Fn(u64) -> Option<Vec<T>>,
    tx: mpsc::Sender<Result<T, Status>>,
    shutdown: CancellationToken,
) {
    loop {
        let height = tokio::select! {
            _ = shutdown.cancelled() => return,
            height = heights.next() => match height {
                Some(height) => height,
                None => return,
            },
        };
        // A height at or below what was streamed leaves `next` where it is.
        while next <= height {
            let Some(frames) = frames_of(next) else {
                return;
            };
            for frame in frames {
                if tx.send(Ok(frame)).await.is_err() {
                    return;
                }
            }
            let Some(after) = next.checked_add(1) else {
                return;
            };
            next = after;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `follow` sends from `next` over `heights`, a checkpoint `c`
    /// standing for the frames `[c, c]` (up to `tip`, beyond it nothing).
    async fn sent(heights: Vec<u64>, next: u64, tip: u64) -> Vec<u64> {
        let (tx, mut rx) = mpsc::channel(64);
        follow(
            futures::stream::iter(heights),
            next,
            |c| (c <= tip).then(|| vec![c, c]),
            tx,
            CancellationToken::new(),
        )
        .await;
        let mut out = Vec::new();
        while let Some(Ok(c)) = rx.recv().await {
            out.push(c);
        }
        out
    }

    #[tokio::test]
    async fn a_height_that_goes_back_sends_nothing_and_is_not_resent() {
        // Heights as a watch written after the lock by two sealers can show them.
        assert_eq!(
            sent(vec![7, 6, 8, 5, 8, 9], 6, 100).await,
            vec![6, 6, 7, 7, 8, 8, 9, 9]
        );
    }

    #[tokio::test]
    async fn each_checkpoint_up_to_each_height_once_in_order() {
        assert_eq!(sent(vec![3, 3, 5], 4, 100).await, vec![4, 4, 5, 5]);
        assert_eq!(sent(vec![], 0, 100).await, Vec::<u64>::new());
    }

    #[tokio::test]
    async fn a_missing_checkpoint_ends_the_stream() {
        assert_eq!(sent(vec![2, 9], 1, 3).await, vec![1, 1, 2, 2, 3, 3]);
    }

    #[tokio::test]
    async fn heights_start_at_the_current_value_then_follow_changes() {
        let (send, sealed) = watch::channel(4);
        let mut heights = heights(sealed);
        assert_eq!(heights.next().await, Some(4));
        send.send_replace(6);
        assert_eq!(heights.next().await, Some(6));
        drop(send);
        assert_eq!(heights.next().await, None);
    }

    #[tokio::test]
    async fn shutdown_ends_the_follower() {
        let (_send, sealed) = watch::channel(0);
        let (tx, mut rx) = mpsc::channel::<Result<u64, Status>>(4);
        let shutdown = CancellationToken::new();
        shutdown.cancel();
        let followed = follow(heights(sealed), 5, |c| Some(vec![c]), tx, shutdown);
        tokio::time::timeout(std::time::Duration::from_secs(10), followed)
            .await
            .expect("the follower ends on shutdown");
        assert!(rx.recv().await.is_none());
    }
}
