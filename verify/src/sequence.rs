//! Completeness: every event of our package carries the next number of its
//! stream (the staking pool, the node registry, the enclave registry, each
//! cluster), certified with it. A number above the expected one means a
//! record is missing; below it, a record already applied.

use std::collections::BTreeMap;

use daas_domain::{Body, LogEntry, LogPosition};

/// The stream an entry belongs to, as a stable key, and its number. Entries
/// that are not events of ours (unknown types, poison) carry none.
pub fn stream_of(entry: &LogEntry) -> Option<(String, u64)> {
    let Body::Event(event) = &entry.body else {
        return None;
    };
    Some((event.stream().to_string(), event.seq()))
}

/// Where an entry stands in its stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Order {
    /// The next one: apply it.
    Next,
    /// Already applied (or older).
    Duplicate,
    /// Records are missing before it.
    Gap {
        /// The stream.
        stream: String,
        /// The number expected.
        expected: u64,
        /// The number found.
        found: u64,
    },
}

/// The next expected number of every stream seen, and the last position applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sequences {
    /// Next expected number, by stream key.
    pub expected: BTreeMap<String, u64>,
    /// The last position applied (for the record of late arrivals).
    pub last_position: Option<LogPosition>,
}

impl Sequences {
    /// Where `entry` stands. Entries without a stream are always `Next`,
    /// unless their position is at or before the last one applied.
    pub fn order(&self, entry: &LogEntry) -> Order {
        match stream_of(entry) {
            None if self.last_position.is_some_and(|p| entry.position <= p) => Order::Duplicate,
            None => Order::Next,
            Some((stream, seq)) => {
                let expected = self.expected.get(&stream).copied().unwrap_or(0);
                match seq.cmp(&expected) {
                    std::cmp::Ordering::Equal => Order::Next,
                    std::cmp::Ordering::Less => Order::Duplicate,
                    std::cmp::Ordering::Greater => Order::Gap {
                        stream,
                        expected,
                        found: seq,
                    },
                }
            }
        }
    }

    /// Records `entry` as applied; returns whether it came after a later
    /// position had already been applied (a cross-stream reordering).
    pub fn advance(&mut self, entry: &LogEntry) -> bool {
        if let Some((stream, seq)) = stream_of(entry) {
            let next = self.expected.entry(stream).or_default();
            *next = (*next).max(seq.saturating_add(1));
        }
        let late = self.last_position.is_some_and(|p| entry.position < p);
        if !late {
            self.last_position = Some(entry.position);
        }
        late
    }

    /// Whether `entry` is the record a gap at `stream`/`expected` waits for.
    pub fn fills(entry: &LogEntry, stream: &str, expected: u64) -> bool {
        stream_of(entry).is_some_and(|(s, n)| s == stream && n == expected)
    }
}
