//! Positions in the chain's total order.
//!
//! Sui certifies checkpoints in order and they are final (no reorgs), so
//! `(checkpoint, transaction index, event index)` totally orders every event
//! ever emitted. The indexer writes records to the log in this order; every
//! consumer uses it to skip what it has already applied after a restart.

use serde::{Deserialize, Serialize};

/// The place of one event in the chain's total order.
///
/// Ordering is lexicographic over the three fields, which is exactly chain order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LogPosition {
    /// Sequence number of the certified checkpoint holding the transaction.
    pub checkpoint: u64,
    /// Index of the transaction inside that checkpoint.
    pub transaction_index: u64,
    /// Index of the event inside that transaction's events.
    pub event_index: u64,
}

impl LogPosition {
    /// Creates a position.
    pub const fn new(checkpoint: u64, transaction_index: u64, event_index: u64) -> Self {
        Self {
            checkpoint,
            transaction_index,
            event_index,
        }
    }

    /// True when a consumer whose last applied position is `watermark` must still
    /// apply the record at `self` (records at or before the watermark are duplicates).
    pub fn is_after(&self, watermark: Option<LogPosition>) -> bool {
        watermark.is_none_or(|w| *self > w)
    }
}

impl std::fmt::Display for LogPosition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.checkpoint, self.transaction_index, self.event_index
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_checkpoint_then_transaction_then_event() {
        let a = LogPosition::new(1, 9, 9);
        let b = LogPosition::new(2, 0, 0);
        let c = LogPosition::new(2, 0, 1);
        let d = LogPosition::new(2, 1, 0);
        assert!(a < b && b < c && c < d);
    }

    #[test]
    fn watermark_skips_at_and_before() {
        let w = LogPosition::new(5, 1, 2);
        assert!(!LogPosition::new(5, 1, 2).is_after(Some(w)));
        assert!(!LogPosition::new(4, 9, 9).is_after(Some(w)));
        assert!(LogPosition::new(5, 1, 3).is_after(Some(w)));
        assert!(LogPosition::new(0, 0, 0).is_after(None));
    }

    #[test]
    fn displays_as_colon_triple() {
        assert_eq!(LogPosition::new(7, 0, 3).to_string(), "7:0:3");
    }
}
