//! Attestation documents come from whoever answers `/v1/attestation` and
//! from any transaction sender (the chain verifies them): `parse` and
//! `verify` must never panic, and what verifies against AWS's root is what
//! parses. Seeds: the three real AWS documents and a dev-CA document
//! (`attestation/tests/vectors/*.cose`).
#![no_main]

use std::sync::LazyLock;

use daas_attestation::{AttestationError, ExpectedPcrs, TrustedRoot, parse, verify};
use libfuzzer_sys::fuzz_target;

/// The nitro_attest vector's time: its chain is valid then.
const AT_MS: u64 = 1_736_179_625_472;

static AWS: LazyLock<TrustedRoot> = LazyLock::new(TrustedRoot::aws_nitro);

fuzz_target!(|data: &[u8]| {
    let parsed = parse(data);
    if let Err(e) = &parsed {
        assert_eq!(
            e.sui_abort_code(),
            1,
            "parse gave a verify-family error: {e}"
        );
    }
    match verify(data, &AWS, AT_MS) {
        Ok(doc) => assert_eq!(Ok(&doc), parsed.as_ref(), "verify and parse disagree"),
        Err(AttestationError::NotCoseSign1(_)) => assert!(parsed.is_err()),
        Err(_) => {}
    }
    if let Ok(doc) = parsed {
        let _ = doc.sui_pcr_entries();
        let zeros = ExpectedPcrs {
            pcr0: [0; 48],
            pcr1: [0; 48],
            pcr2: [0; 48],
        };
        let _ = doc.check_pcrs(&zeros);
        let _ = doc.is_dev();
    }
});
