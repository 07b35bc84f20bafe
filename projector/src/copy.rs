//! Rows in PostgreSQL's COPY text format, for the append-only tables: COPY
//! is the fastest way into a table, and it runs inside the batch's
//! transaction like any statement.

use std::fmt::Write as _;

use sqlx::types::chrono::{DateTime, Utc};

/// One COPY's worth of rows.
#[derive(Default)]
pub struct CopyText {
    buf: String,
    fresh_row: bool,
}

impl CopyText {
    /// An empty buffer.
    pub fn new() -> Self {
        Self {
            buf: String::new(),
            fresh_row: true,
        }
    }

    fn sep(&mut self) {
        if !self.fresh_row {
            self.buf.push('\t');
        }
        self.fresh_row = false;
    }

    /// A text value, escaped for the COPY text format.
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        for c in s.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                // Text cannot hold NUL. The processor's rows never carry one
                // (crate::storable escapes it); should one come, it is written
                // in the same escaped form rather than failing the COPY.
                '\0' => self.buf.push_str("\\\\x00"),
                c => self.buf.push(c),
            }
        }
        self
    }

    /// A text value or NULL.
    pub fn opt(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => {
                self.sep();
                self.buf.push_str("\\N");
                self
            }
        }
    }

    /// An integer.
    pub fn int(&mut self, v: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{v}");
        self
    }

    /// A timestamp (exact to the microsecond).
    pub fn time(&mut self, t: DateTime<Utc>) -> &mut Self {
        self.sep();
        let _ = write!(self.buf, "{}", t.format("%Y-%m-%d %H:%M:%S%.6f+00"));
        self
    }

    /// A bytea value (hex form; the backslash is escaped for the text format).
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.sep();
        self.buf.push_str("\\\\x");
        self.buf.push_str(&hex::encode(b));
        self
    }

    /// Ends the row.
    pub fn end(&mut self) {
        self.buf.push('\n');
        self.fresh_row = true;
    }

    /// True when no row was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The COPY data.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_copy_text_requires() {
        let mut c = CopyText::new();
        c.text("a\tb\\c\nd").opt(None).int(-5).bytes(&[0xde, 0xad]);
        c.end();
        c.text("x")
            .time(DateTime::from_timestamp_millis(1_767_225_600_250).expect("valid"));
        c.end();
        assert_eq!(
            std::str::from_utf8(c.as_bytes()).expect("utf-8"),
            "a\\tb\\\\c\\nd\t\\N\t-5\t\\\\xdead\nx\t2026-01-01 00:00:00.250000+00\n"
        );
    }
}
