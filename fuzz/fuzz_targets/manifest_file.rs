//! `daas apply -f` reads files users hand it: splitting them into documents
//! and reading each one's identity must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = daas_cli::files::parse("fuzz", &text, Some("team-a"));
    let _ = daas_cli::files::parse("fuzz", &text, None);
});
