//! Completeness: every event of our package carries the next number of its
//! stream (the staking pool, the node registry, the enclave registry, each
//! cluster), certified with it. A number above the expected one means a
//! record is missing; below it, a record already applied.

use std::collections::BTreeMap;

use daas_domain::{Body, LogEntry, LogPosition, events::Stream};

/// The stream an entry belongs to, as a stable key, and its number. Entries
/// that are not events of ours (unknown types, poison) carry none.
pub fn stream_of(entry: &LogEntry) -> Option<(String, u64)> {
    let (stream, seq) = stream_and_seq(entry)?;
    Some((with_key(stream, str::to_owned), seq))
}

fn stream_and_seq(entry: &LogEntry) -> Option<(Stream, u64)> {
    match &entry.body {
        Body::Event(event) => Some((event.stream(), event.seq())),
        _ => None,
    }
}

/// `f` of the stream's key: `pool`, `nodes`, `enclave` or
/// `cluster:0x<64 hex>`, made on the stack (it is looked up once or twice
/// per record).
fn with_key<R>(stream: Stream, f: impl FnOnce(&str) -> R) -> R {
    const PREFIX: &[u8] = b"cluster:0x";
    let mut buf = [0u8; PREFIX.len() + 64];
    let key = match stream {
        Stream::Pool => "pool",
        Stream::Nodes => "nodes",
        Stream::Enclave => "enclave",
        Stream::Cluster(id) => {
            buf[..PREFIX.len()].copy_from_slice(PREFIX);
            // 32 bytes always fit 64 hex digits, which are ASCII.
            let _ = hex::encode_to_slice(id.0, &mut buf[PREFIX.len()..]);
            std::str::from_utf8(&buf).unwrap_or_default()
        }
    };
    f(key)
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
        match stream_and_seq(entry) {
            None if self.last_position.is_some_and(|p| entry.position <= p) => Order::Duplicate,
            None => Order::Next,
            Some((stream, seq)) => with_key(stream, |key| {
                let expected = self.expected.get(key).copied().unwrap_or(0);
                match seq.cmp(&expected) {
                    std::cmp::Ordering::Equal => Order::Next,
                    std::cmp::Ordering::Less => Order::Duplicate,
                    std::cmp::Ordering::Greater => Order::Gap {
                        stream: key.to_owned(),
                        expected,
                        found: seq,
                    },
                }
            }),
        }
    }

    /// Records `entry` as applied; returns whether it came after a later
    /// position had already been applied (a cross-stream reordering).
    pub fn advance(&mut self, entry: &LogEntry) -> bool {
        if let Some((stream, seq)) = stream_and_seq(entry) {
            with_key(stream, |key| {
                let after = seq.saturating_add(1);
                match self.expected.get_mut(key) {
                    Some(next) => *next = (*next).max(after),
                    None => {
                        self.expected.insert(key.to_owned(), after);
                    }
                }
            });
        }
        let late = self.last_position.is_some_and(|p| entry.position < p);
        if !late {
            self.last_position = Some(entry.position);
        }
        late
    }

    /// Whether `entry` is the record a gap at `stream`/`expected` waits for.
    pub fn fills(entry: &LogEntry, stream: &str, expected: u64) -> bool {
        stream_and_seq(entry)
            .is_some_and(|(s, n)| n == expected && with_key(s, |key| key == stream))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use daas_domain::Address;

    #[test]
    fn keys_are_the_streams_names() {
        let id = Address([0xc1; 32]);
        for (stream, name) in [
            (Stream::Pool, "pool".to_owned()),
            (Stream::Nodes, "nodes".to_owned()),
            (Stream::Enclave, "enclave".to_owned()),
            (Stream::Cluster(id), format!("cluster:{id}")),
        ] {
            assert_eq!(with_key(stream, str::to_owned), name);
            // The domain's name for the stream (logs, `master check`).
            assert_eq!(stream.to_string(), name);
        }
    }
}
