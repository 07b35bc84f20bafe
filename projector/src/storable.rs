//! What a Postgres column can hold, and what the projector does with a value
//! it cannot store as is. Every value a row gets from a record passes here,
//! so no tenant-controlled byte can make a commit fail (decision 0012).
//!
//! - Text: Postgres `text` holds any UTF-8 except NUL (the records' strings
//!   are UTF-8 already: protobuf and Move `String` check it when decoded, and
//!   a record that fails that check is quarantined whole). A value holding NUL
//!   or a backslash is stored *escaped*: `\` as `\\` and NUL as `\x00`. Every
//!   other value is stored as it is, so the stored form is lossless and tells
//!   the two apart: a stored value with a backslash is escaped.
//! - Keys: columns in an index (primary keys, `requests_by_namespace`) are
//!   bounded, because a B-tree entry must fit in a third of a page (2,704
//!   bytes). A key value longer than [`MAX_KEY_BYTES`] once escaped is stored
//!   shortened: its first characters, then `\…sha256:` and the SHA-256 of the
//!   whole value in hex (unique, and never the stored form of another value,
//!   since no escaped value holds `\…`).
//! - Integers: `BIGINT` holds up to 2^63 − 1; a larger `u64`, or a time
//!   beyond what `timestamptz` holds, cannot be stored faithfully: the whole
//!   record is quarantined instead of its rows.
//!
//! Each change is noted; the processor writes the notes as the record's
//! quarantine reason, beside its raw bytes, so the exact value stays at hand.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The largest key value stored as it is, in bytes (escaped).
pub const MAX_KEY_BYTES: usize = 1024;

/// How much of an over-long key is kept before its digest, in bytes at most.
const SHORTENED_PREFIX_BYTES: usize = 256;

/// Why a record's value cannot be stored at all (its record is quarantined).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unstorable {
    /// An integer above `BIGINT`'s range.
    #[error("{column} = {value} is beyond BIGINT (2^63 - 1)")]
    Integer {
        /// `table.column`.
        column: &'static str,
        /// The value.
        value: u64,
    },
    /// A time beyond `timestamptz`'s range.
    #[error("{column} = {ms} ms is beyond timestamptz")]
    Time {
        /// `table.column`.
        column: &'static str,
        /// The value, ms since the epoch.
        ms: u64,
    },
}

/// The changes made to one record's values, and the first value that could
/// not be stored at all.
#[derive(Debug, Default)]
pub struct Check {
    notes: Vec<String>,
    refused: Option<Unstorable>,
}

impl Check {
    /// A free-text value (not in an index), escaped when it must be.
    pub fn text(&mut self, column: &'static str, s: &str) -> String {
        if s.contains('\0') {
            self.notes
                .push(format!("{column} holds NUL (stored escaped)"));
        }
        escape(s)
    }

    /// A key value (in an index): escaped, and shortened when over-long.
    pub fn key(&mut self, column: &'static str, s: &str) -> String {
        let escaped = self.text(column, s);
        if escaped.len() <= MAX_KEY_BYTES {
            return escaped;
        }
        self.notes.push(format!(
            "{column} is {} bytes, over the {MAX_KEY_BYTES}-byte key bound (stored shortened)",
            s.len()
        ));
        shorten(s)
    }

    /// An integer for a `BIGINT` column.
    pub fn int(&mut self, column: &'static str, value: u64) -> i64 {
        i64::try_from(value).unwrap_or_else(|_| {
            self.refuse(Unstorable::Integer { column, value });
            0
        })
    }

    /// A time in ms for a `timestamptz` column (checked with the same
    /// conversion the committer makes).
    pub fn time(&mut self, column: &'static str, ms: u64) -> i64 {
        match i64::try_from(ms)
            .ok()
            .filter(|v| sqlx::types::chrono::DateTime::from_timestamp_millis(*v).is_some())
        {
            Some(v) => v,
            None => {
                self.refuse(Unstorable::Time { column, ms });
                0
            }
        }
    }

    fn refuse(&mut self, why: Unstorable) {
        self.refused.get_or_insert(why);
    }

    /// `Err` when a value could not be stored; else the notes of what was
    /// changed (`None` when nothing was).
    pub fn finish(self) -> Result<Option<String>, Unstorable> {
        if let Some(why) = self.refused {
            return Err(why);
        }
        Ok((!self.notes.is_empty()).then(|| self.notes.join("; ")))
    }
}

/// `s` as stored: as it is unless it holds NUL or `\`; then `\` → `\\`, NUL → `\x00`.
pub fn escape(s: &str) -> String {
    if !s.contains(['\0', '\\']) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    push_escaped(&mut out, s);
    out
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\x00"),
            c => out.push(c),
        }
    }
}

/// The inverse of [`escape`] (for analysts' tooling and tests); a shortened
/// key has no inverse and is returned as stored.
pub fn unescape(stored: &str) -> String {
    let mut out = String::with_capacity(stored.len());
    let mut rest = stored;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        if let Some(after) = tail.strip_prefix('\\') {
            out.push('\\');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("x00") {
            out.push('\0');
            rest = after;
        } else {
            // `\…`: shortened; or not a stored form at all.
            return stored.to_owned();
        }
    }
    out.push_str(rest);
    out
}

/// An over-long key: its escaped first characters, then `\…sha256:<hex>`.
fn shorten(s: &str) -> String {
    let mut out = String::with_capacity(SHORTENED_PREFIX_BYTES + 80);
    for c in s.chars() {
        let mut one = String::new();
        push_escaped(&mut one, c.encode_utf8(&mut [0; 4]));
        if out.len() + one.len() > SHORTENED_PREFIX_BYTES {
            break;
        }
        out.push_str(&one);
    }
    out.push_str("\\…sha256:");
    for b in Sha256::digest(s.as_bytes()) {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_values_are_stored_as_they_are() {
        let mut c = Check::default();
        assert_eq!(c.text("t.c", "team-1\t\u{7}ß"), "team-1\t\u{7}ß");
        assert_eq!(c.key("t.k", "app-3"), "app-3");
        assert_eq!(c.int("t.i", 5), 5);
        assert_eq!(c.finish(), Ok(None));
    }

    #[test]
    fn nul_and_backslash_are_escaped_losslessly_and_nul_is_noted() {
        let mut c = Check::default();
        assert_eq!(c.text("requests.name", "nul\0byte"), "nul\\x00byte");
        // A value spelling the escape itself is escaped too: no collision.
        assert_eq!(c.text("requests.kind", "nul\\x00byte"), "nul\\\\x00byte");
        assert_eq!(unescape("nul\\x00byte"), "nul\0byte");
        assert_eq!(unescape("nul\\\\x00byte"), "nul\\x00byte");
        assert_eq!(unescape(&escape("\\…\0\\")), "\\…\0\\");
        assert_eq!(
            c.finish(),
            Ok(Some("requests.name holds NUL (stored escaped)".into()))
        );
    }

    #[test]
    fn long_keys_are_shortened_to_a_prefix_and_digest() {
        let long = "a".repeat(5000);
        let mut c = Check::default();
        let stored = c.key("nodes.name", &long);
        assert!(
            stored.len() <= SHORTENED_PREFIX_BYTES + 80,
            "{}",
            stored.len()
        );
        assert!(stored.starts_with(&"a".repeat(256)));
        // sha256("a" * 5000), computed with `printf 'a%.0s' {1..5000} | sha256sum`.
        assert_eq!(
            &stored[256..],
            "\\…sha256:c526c6222044dab5674de9c4ac7f4566ebb5e4d8bf9d8ea34c9cc8a7cc3c869c"
        );
        let notes = c.finish().expect("storable").expect("noted");
        assert!(notes.contains("5000 bytes"), "{notes}");
        // Free text is not bounded.
        let mut c = Check::default();
        assert_eq!(c.text("requests.reason", &long), long);
    }

    #[test]
    fn out_of_range_numbers_refuse_the_record() {
        let mut c = Check::default();
        assert_eq!(c.int("stakes.amount_mist", i64::MAX as u64), i64::MAX);
        assert_eq!(c.finish(), Ok(None));
        let mut c = Check::default();
        c.int("stakes.amount_mist", u64::MAX);
        c.time("requests.chain_time", u64::MAX);
        assert_eq!(
            c.finish(),
            Err(Unstorable::Integer {
                column: "stakes.amount_mist",
                value: u64::MAX
            })
        );
        let mut c = Check::default();
        c.time("requests.chain_time", i64::MAX as u64);
        assert!(matches!(c.finish(), Err(Unstorable::Time { .. })));
    }
}
