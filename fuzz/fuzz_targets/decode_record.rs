//! Log records are outside bytes (anyone who can write to the topic writes
//! them): decoding must never panic, and what it accepts must survive a
//! re-encode — the proofs (checkpoint and transaction), an epoch change and
//! the event alike — so a reader sees the same record whoever re-writes it.
#![no_main]

use daas_domain::{Body, LogEntry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(entry) = LogEntry::decode(data) else {
        return;
    };
    let again = LogEntry::decode(&entry.encode()).expect("an accepted record re-decodes");
    assert_eq!(again, entry, "decode(encode(x)) == x");
    if let Body::EpochChange { .. } = entry.body {
        assert!(entry.bcs.is_empty() && entry.event_type.is_empty());
        assert_eq!(entry.transaction_digest, [0; 32]);
    }
});
