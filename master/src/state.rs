//! Where the master keeps things in etcd, and reading them back.
//!
//! - `<registry>/<resource>/[<namespace>/]<name>`: the kube objects, laid out as
//!   kube-apiserver does (`daas_domain::kinds`), JSON values;
//! - `<state>/position`: where applying stands ([`Position`]): the next log
//!   offset to apply, or `<offset>:<units>` while the record at `offset` is
//!   applied across several Txns and its first `units` node updates are
//!   committed ([`Cursor`]); and the commitment to the ledger and eviction
//!   keys and the verifier's state (their count and multiset digest,
//!   [`crate::state_mac`]);
//! - `<state>/ledger/<entity>`: the shared ledger, one key per entity
//!   (`Change::store_key`), the latest change as JSON;
//! - `<state>/evictions/<node>`: nodes cordoned for lack of stake;
//! - `<state>/verifier`: the verifier's state (`daas_verify::State`),
//!   written with the position;
//! - `<state>/outcomes/<first offset, 20 digits>`: the outcomes of one Txn,
//!   length-delimited `daas.v1.Outcome` messages. An applied outcome's
//!   resourceVersion is that key's mod_revision (same Txn as the object);
//!   it is filled in when published. Batches are deleted (by a range delete
//!   in a later apply Txn) once the outcome topic holds them and they are
//!   older than the kept window (`apply::Config::outcomes_kept`).
//!
//! Every value under `<state>/` ends with a 32-byte tag, HMAC-SHA256 under
//! the master's state key over the full etcd key and the value
//! ([`crate::state_mac`], decision 0017); the forms above are the value
//! before its tag. The readers here ([`load_cursor`], [`load_ledger`]) drop
//! the tag without checking it (tools, tests); the engine opens through
//! [`crate::state_mac::load`], which checks everything.
//!
//! All of it is written in the same Txn as the objects, so it is exactly as
//! current as the objects.

use daas_domain::{Ledger, ledger::Change};
use etcd_client::{Client, GetOptions, KeyValue};

/// The two key roots of one cluster's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Root of the kube objects, normally `/registry`.
    pub registry: String,
    /// Root of the master's own keys, normally `/daas`.
    pub state: String,
}

impl Layout {
    /// A layout from the two roots (trailing `/` removed).
    pub fn new(registry: &str, state: &str) -> Self {
        Self {
            registry: registry.trim_end_matches('/').to_owned(),
            state: state.trim_end_matches('/').to_owned(),
        }
    }

    /// The position key.
    pub fn position(&self) -> String {
        format!("{}/position", self.state)
    }

    /// The verifier's state (daas-verify), written with the position.
    pub fn verifier(&self) -> String {
        format!("{}/verifier", self.state)
    }

    /// The ledger key of a change's entity.
    pub fn ledger(&self, store_key: &str) -> String {
        format!("{}/ledger/{store_key}", self.state)
    }

    /// The ledger keys' prefix.
    pub fn ledger_prefix(&self) -> String {
        format!("{}/ledger/", self.state)
    }

    /// The eviction record of a node.
    pub fn eviction(&self, node: &str) -> String {
        format!("{}/evictions/{node}", self.state)
    }

    /// The outcome batch of the Txn that starts at log offset `offset`,
    /// whose first outcome is numbered `sequence`:
    /// `<state>/outcomes/<offset, 20 digits>-<sequence, 20 digits>`. Two Txns
    /// can start at one offset (records released ahead of their place do not
    /// move it), never at one sequence. Keys sort in sequence order.
    pub fn outcomes(&self, offset: i64, sequence: u64) -> String {
        format!("{}/outcomes/{offset:020}-{sequence:020}", self.state)
    }

    /// The end of the outcome batches of Txns starting before `offset`
    /// (exclusive; the start is [`Layout::outcomes_prefix`]).
    pub fn outcomes_before(&self, offset: i64) -> String {
        format!("{}/outcomes/{offset:020}", self.state)
    }

    /// The start offset an outcome batch key names ([`Layout::outcomes`]'s
    /// form only).
    pub fn outcome_batch_offset(&self, key: &str) -> Option<i64> {
        let rest = key.strip_prefix(&self.outcomes_prefix())?;
        let (offset, sequence) = rest.split_once('-')?;
        let all_digits = |s: &str| s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(offset) || !all_digits(sequence) {
            return None;
        }
        sequence.parse::<u64>().ok()?;
        offset.parse().ok()
    }

    /// The eviction records' prefix.
    pub fn evictions_prefix(&self) -> String {
        format!("{}/evictions/", self.state)
    }

    /// Every key of the master's own (`<state>/`).
    pub fn state_prefix(&self) -> String {
        format!("{}/", self.state)
    }

    /// The outcome batches' prefix.
    pub fn outcomes_prefix(&self) -> String {
        format!("{}/outcomes/", self.state)
    }

    /// A node's object (kube keeps nodes under `minions`).
    pub fn minion(&self, node: &str) -> String {
        format!("{}/minions/{node}", self.registry)
    }
}

/// Every key-value under `prefix`, in key order, read in pages of up to
/// 1,000 keys. A page over the client's 4 MiB response limit (outcome
/// batches can hold hundreds of KiB each) is asked again with half as many
/// keys, down to one.
pub async fn range(client: &mut Client, prefix: &str) -> Result<Vec<KeyValue>, etcd_client::Error> {
    Ok(snapshot(client, prefix).await?.0)
}

/// [`range`], every page read at the revision of the first (one consistent
/// snapshot, even while a Txn commits meanwhile); that revision.
pub async fn snapshot(
    client: &mut Client,
    prefix: &str,
) -> Result<(Vec<KeyValue>, i64), etcd_client::Error> {
    let end = prefix_end(prefix.as_bytes());
    let mut from = prefix.as_bytes().to_vec();
    let mut out = Vec::new();
    let mut limit = 1000;
    let mut revision = 0;
    loop {
        let mut options = GetOptions::new().with_range(end.clone()).with_limit(limit);
        if revision > 0 {
            options = options.with_revision(revision);
        }
        let resp = match client.get(from.clone(), Some(options)).await {
            Err(e) if limit > 1 && is_too_large(&e) => {
                limit /= 2;
                continue;
            }
            r => r?,
        };
        if revision == 0 {
            revision = resp.header().map_or(0, |h| h.revision());
        }
        let kvs = resp.kvs();
        out.extend_from_slice(kvs);
        match kvs.last() {
            Some(last) if resp.more() => {
                from = last.key().to_vec();
                from.push(0);
            }
            _ => return Ok((out, revision)),
        }
    }
}

/// True when a response was over the gRPC message size limit.
fn is_too_large(e: &etcd_client::Error) -> bool {
    matches!(e, etcd_client::Error::GRpcStatus(s)
        if s.message().contains("message length too large")
            || s.message().contains("larger than max"))
}

/// The smallest key after every key with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// Why stored state is unusable.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// etcd failed.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// A key holds something this master did not write.
    #[error("{key}: {reason}")]
    Corrupt {
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// Where applying stands: the next record to apply, and how many of its
/// node updates (units) are already committed when it is applied across
/// several Txns (0 otherwise).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The next log offset to apply.
    pub offset: i64,
    /// Node updates of the record at `offset` already committed.
    pub units_done: usize,
}

impl Cursor {
    /// The position key's value: `<offset>`, or `<offset>:<units_done>`.
    pub fn encode(&self) -> String {
        if self.units_done == 0 {
            self.offset.to_string()
        } else {
            format!("{}:{}", self.offset, self.units_done)
        }
    }

    /// Reads [`Cursor::encode`]'s form back.
    pub fn parse(value: &str) -> Option<Self> {
        let (offset, units) = value.split_once(':').unwrap_or((value, "0"));
        let cursor = Cursor {
            offset: offset.parse().ok()?,
            units_done: units.parse().ok()?,
        };
        (cursor.offset >= 0 && cursor.encode() == value).then_some(cursor)
    }
}

/// The position key's value (before its tag): the cursor, then the count
/// and digest of the multiset of ledger and eviction keys and the
/// verifier's state
/// ([`crate::state_mac::StateSet`]), then the offset below which a rebuild
/// is still under way (0: none), then how many outcomes are numbered:
/// `<cursor> <count> <64 hex digits> <offset> <outcomes>`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Where applying stands.
    pub cursor: Cursor,
    /// Ledger and eviction keys stored.
    pub count: u64,
    /// Their multiset digest.
    pub digest: [u8; 32],
    /// Records before this offset are applied again after a rebuild:
    /// every Txn reads what it writes first, and a create renders the
    /// object as the log makes it (decision 0017).
    pub rebuild_until: i64,
    /// Outcomes numbered so far ([`daas_domain::Outcome::sequence`]): the
    /// next one gets this plus one.
    pub outcomes: u64,
}

impl Position {
    /// The value before its tag.
    pub fn encode(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.cursor.encode(),
            self.count,
            hex::encode(self.digest),
            self.rebuild_until,
            self.outcomes
        )
    }

    /// Reads [`Position::encode`]'s form back (exactly that form only).
    pub fn parse(value: &str) -> Option<Self> {
        let mut parts = value.split(' ');
        let cursor = Cursor::parse(parts.next()?)?;
        let count = parts.next()?.parse().ok()?;
        let mut digest = [0u8; 32];
        hex::decode_to_slice(parts.next()?, &mut digest).ok()?;
        let rebuild_until = parts.next()?.parse().ok()?;
        let outcomes = parts.next()?.parse().ok()?;
        let p = Position {
            cursor,
            count,
            digest,
            rebuild_until,
            outcomes,
        };
        (parts.next().is_none() && p.encode() == value).then_some(p)
    }
}

/// The stored cursor (offset 0 when none is stored), its tag not checked.
pub async fn load_cursor(client: &mut Client, layout: &Layout) -> Result<Cursor, StateError> {
    let key = layout.position();
    let resp = client.get(key.as_str(), None).await?;
    match resp.kvs().first() {
        None => Ok(Cursor::default()),
        Some(kv) => std::str::from_utf8(crate::state_mac::payload(kv.value()))
            .ok()
            .and_then(Position::parse)
            .map(|p| p.cursor)
            .ok_or_else(|| StateError::Corrupt {
                key,
                reason:
                    "not a position (`<offset>[:<units>] <count> <digest> <offset> <outcomes>`)"
                        .into(),
            }),
    }
}

/// The stored next offset: the first record not completely applied.
pub async fn load_position(client: &mut Client, layout: &Layout) -> Result<i64, StateError> {
    Ok(load_cursor(client, layout).await?.offset)
}

/// The ledger as stored, tags not checked.
pub async fn load_ledger(client: &mut Client, layout: &Layout) -> Result<Ledger, StateError> {
    let mut ledger = Ledger::default();
    for kv in range(client, &layout.ledger_prefix()).await? {
        restore(&mut ledger, kv.key(), crate::state_mac::payload(kv.value()))?;
    }
    Ok(ledger)
}

/// Restores one ledger key's change (its value without the tag).
pub fn restore(ledger: &mut Ledger, key: &[u8], value: &[u8]) -> Result<(), StateError> {
    let change: Change = serde_json::from_slice(value).map_err(|e| StateError::Corrupt {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    })?;
    ledger.restore(&change);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ends_cover_the_prefix() {
        assert_eq!(prefix_end(b"/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        let l = Layout::new("/t/registry/", "/t/daas");
        let batch = l.outcomes(42, 7);
        assert_eq!(
            batch,
            "/t/daas/outcomes/00000000000000000042-00000000000000000007"
        );
        assert_eq!(l.outcome_batch_offset(&batch), Some(42));
        // Batches of Txns before offset 43 sort before its end; offset 43's do not.
        assert!(batch < l.outcomes_before(43) && l.outcomes_before(43) < l.outcomes(43, 0));
        for bad in [
            "/t/daas/outcomes/00000000000000000042",
            "/t/daas/outcomes/00000000000000000042-7",
            "/t/daas/outcomes/0000000000000000004x-00000000000000000007",
            "/t/daas/outcomes/00000000000000000042-99999999999999999999",
            "/t/daas/ledger/00000000000000000042-00000000000000000007",
        ] {
            assert_eq!(l.outcome_batch_offset(bad), None, "{bad}");
        }
        assert_eq!(l.minion("n1"), "/t/registry/minions/n1");
    }

    #[test]
    fn cursors_read_back_and_refuse_other_forms() {
        for (text, offset, units_done) in [("0", 0, 0), ("42", 42, 0), ("42:7", 42, 7)] {
            let c = Cursor::parse(text).expect(text);
            assert_eq!((c.offset, c.units_done), (offset, units_done));
            assert_eq!(c.encode(), text);
        }
        for bad in ["", "-1", "4 2", "42:", ":7", "42:0", "42:7:1", "042", "x"] {
            assert_eq!(Cursor::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn positions_read_back_and_refuse_other_forms() {
        let p = Position {
            cursor: Cursor {
                offset: 42,
                units_done: 7,
            },
            count: 3,
            digest: [0xab; 32],
            rebuild_until: 99,
            outcomes: 5,
        };
        let text = p.encode();
        assert_eq!(text, format!("42:7 3 {} 99 5", "ab".repeat(32)));
        assert_eq!(Position::parse(&text), Some(p));
        let zero = format!("0 0 {} 0 0", "00".repeat(32));
        assert_eq!(Position::parse(&zero), Some(Position::default()));
        for bad in [
            "42".to_string(),
            // The form before outcomes were numbered.
            format!("42 3 {} 99", "ab".repeat(32)),
            format!("42 3 {} 99 5 1", "ab".repeat(32)),
            format!("42 3 {} 99 -5", "ab".repeat(32)),
            format!("42 3 {} 99 5", "AB".repeat(32)),
            format!("42 3 {} 99 5", "ab".repeat(31)),
            format!("42  3 {} 99 5", "ab".repeat(32)),
            format!("42 -3 {} 99 5", "ab".repeat(32)),
        ] {
            assert_eq!(Position::parse(&bad), None, "{bad:?}");
        }
    }
}
