//! Event contents are outside bytes: the decoder must never panic, and what it
//! accepts must re-encode to exactly the same bytes (BCS is canonical).
#![no_main]

use daas_domain::{Decoded, events};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, contents)) = data.split_first() else {
        return;
    };
    let (module, name) = events::EVENT_TYPES[usize::from(selector) % events::EVENT_TYPES.len()];
    if let Ok(Decoded::Known(event)) = events::decode(module, name, contents) {
        assert_eq!(event.to_bcs(), contents, "accepted bytes must be canonical");
    }
});
