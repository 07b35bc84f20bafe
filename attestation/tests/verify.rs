//! `verify` on real AWS documents and on dev-CA documents.

use std::collections::BTreeMap;

use daas_attestation::dev::{DevCa, DevRequest};
use daas_attestation::{AWS_NITRO_ROOT_SHA256, AttestationError, TrustedRoot, verify};

const NITRO_ATTEST: &[u8] = include_bytes!("vectors/nitro_attest.cose");
/// When the NSM made it (read from the document by hand, and nitro_attest's own test).
const NITRO_ATTEST_MS: u64 = 1_736_179_625_472;

#[test]
fn the_aws_root_is_the_pinned_one() {
    assert_eq!(
        TrustedRoot::aws_nitro().fingerprint(),
        AWS_NITRO_ROOT_SHA256
    );
    assert!(TrustedRoot::aws_nitro().is_aws());
}

#[test]
fn an_aws_document_verifies_at_its_own_time() {
    let doc = verify(NITRO_ATTEST, &TrustedRoot::aws_nitro(), NITRO_ATTEST_MS).unwrap();
    assert_eq!(doc.timestamp_ms, NITRO_ATTEST_MS);
    assert_eq!(doc.digest, "SHA384");
    assert!(doc.module_id.starts_with("i-"), "{}", doc.module_id);
    assert_eq!(doc.public_key.as_ref().map(Vec::len), Some(294));
    assert_eq!(doc.user_data, None);
    assert!(!doc.is_dev());
}

#[test]
fn a_dev_document_verifies_against_the_dev_root() {
    let now_ms = 1_764_000_000_000;
    let ca = DevCa::generate(now_ms);
    let pcr0 = [7u8; 48];
    let request = DevRequest {
        timestamp_ms: now_ms + 5_000,
        public_key: Some(vec![1; 32]),
        user_data: Some(vec![2; 80]),
        nonce: Some(vec![3; 16]),
        pcrs: BTreeMap::from([(0, pcr0)]),
    };
    let bytes = ca.attest(&request);
    let doc = verify(&bytes, &ca.root(), request.timestamp_ms).unwrap();
    assert!(doc.is_dev());
    assert_eq!(doc.timestamp_ms, request.timestamp_ms);
    assert_eq!(doc.public_key, request.public_key);
    assert_eq!(doc.user_data, request.user_data);
    doc.check_nonce(&[3; 16]).unwrap();
    assert_eq!(doc.pcrs.len(), 16);
    assert_eq!(doc.pcrs[&0], pcr0.to_vec());
    assert_eq!(doc.pcrs[&1], vec![0; 48]);
    // The same document is not AWS's.
    assert_eq!(
        verify(&bytes, &TrustedRoot::aws_nitro(), request.timestamp_ms),
        Err(AttestationError::RootMismatch)
    );
}

#[test]
fn a_dev_ca_from_its_parts_makes_documents_the_same_root_accepts() {
    let now_ms = 1_764_000_000_000;
    let ca = DevCa::generate(now_ms);
    let again = DevCa::from_parts(ca.parts().clone()).unwrap();
    assert_eq!(again.root(), ca.root());
    let request = DevRequest {
        timestamp_ms: now_ms,
        ..DevRequest::default()
    };
    verify(&again.attest(&request), &ca.root(), now_ms).unwrap();
}

#[test]
fn a_dev_ca_with_a_key_that_is_not_its_certificates_is_refused() {
    let ca = DevCa::generate(1_764_000_000_000);
    let mut swapped = ca.parts().clone();
    std::mem::swap(
        &mut swapped.root_key_pkcs8,
        &mut swapped.intermediate_key_pkcs8,
    );
    assert!(matches!(
        DevCa::from_parts(swapped),
        Err(AttestationError::Chain(_))
    ));
    let mut garbage = ca.parts().clone();
    garbage.intermediate_der = vec![0x30, 0x00];
    assert!(DevCa::from_parts(garbage).is_err());
    assert!(TrustedRoot::from_der(vec![1, 2, 3]).is_err());
}

/// Sui's rule, by hand: 0, 1, 2, 3, 4 and 8 whenever present, others only
/// when not all zeros, ascending.
#[test]
fn sui_pcr_entries_keep_the_required_ones_and_nonzero_others() {
    let mut doc = daas_attestation::parse(NITRO_ATTEST).unwrap();
    doc.pcrs = BTreeMap::from([
        (0, vec![0; 48]),
        (2, vec![1; 48]),
        (5, vec![0; 48]),
        (8, vec![0; 32]),
        (9, [0, 0, 1].repeat(16)),
        (31, vec![0; 64]),
    ]);
    let keys: Vec<u8> = doc.sui_pcr_entries().into_iter().map(|(i, _)| i).collect();
    assert_eq!(keys, vec![0, 2, 8, 9]);
}
