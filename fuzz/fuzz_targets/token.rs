//! Bearer tokens come from anyone who can reach the master's API or its
//! TokenReview webhook: `decode` and `verify` must never panic, and nothing
//! but a token signed over its own claims verifies.
#![no_main]

use daas_token::{Expected, decode, verify};
use libfuzzer_sys::fuzz_target;
use sui_sdk_types::Address;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let expected = Expected {
        cluster: Address::new([7; 32]),
        audiences: vec!["daas-master".into()],
    };
    let decoded = decode(text);
    let verified = verify(text, &expected, 1_764_000_000_000);
    // Whatever verifies decodes, to the same claims.
    if let Ok(v) = &verified {
        assert_eq!(decoded.as_ref().map(|d| &d.claims).ok(), Some(&v.claims));
    }
});
