//! The three real AWS documents (decision 0020's table): each verifies at its
//! own time, and fails an hour after its leaf expired and before it was valid.

mod common;

use common::{FASTCRYPTO_FIXED, FASTCRYPTO_PCR16, NITRO_ATTEST, VECTORS};
use daas_attestation::dev::DevCa;
use daas_attestation::{AttestationError, ExpectedPcrs, TrustedRoot, parse, verify};

#[test]
fn each_vector_verifies_at_its_own_time() {
    for v in VECTORS {
        let doc = verify(v.bytes, &TrustedRoot::aws_nitro(), v.timestamp_ms)
            .unwrap_or_else(|e| panic!("{}: {e}", v.name));
        assert_eq!(doc.timestamp_ms, v.timestamp_ms, "{}", v.name);
        assert_eq!(doc.digest, "SHA384");
        assert_eq!(
            doc.cabundle[0],
            TrustedRoot::aws_nitro().der(),
            "{}",
            v.name
        );
        assert!(!doc.is_dev());
        assert_eq!(parse(v.bytes).as_ref(), Ok(&doc), "{}", v.name);
    }
}

#[test]
fn each_vector_fails_expired_an_hour_after_its_leaf() {
    for v in VECTORS {
        let at_s = v.leaf_not_after_s + 3600;
        assert_eq!(
            verify(v.bytes, &TrustedRoot::aws_nitro(), at_s * 1000),
            Err(AttestationError::Expired {
                not_after_s: v.leaf_not_after_s,
                at_s
            }),
            "{}",
            v.name
        );
        // The last second of validity still verifies.
        verify(
            v.bytes,
            &TrustedRoot::aws_nitro(),
            v.leaf_not_after_s * 1000 + 999,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", v.name));
    }
}

#[test]
fn a_vector_fails_a_second_before_its_leaf_is_valid() {
    // fastcrypto FIXED's leaf: notBefore 2024-11-14 21:24:26 UTC.
    let not_before_s = 1_731_619_466;
    let root = TrustedRoot::aws_nitro();
    assert_eq!(
        verify(FASTCRYPTO_FIXED.bytes, &root, (not_before_s - 1) * 1000),
        Err(AttestationError::NotYetValid {
            not_before_s,
            at_s: not_before_s - 1
        })
    );
    verify(FASTCRYPTO_FIXED.bytes, &root, not_before_s * 1000).unwrap();
}

#[test]
fn the_fields_are_those_of_the_documents() {
    let nitro = parse(NITRO_ATTEST.bytes).unwrap();
    assert_eq!(nitro.public_key.map(|k| k.len()), Some(294));
    assert_eq!(nitro.user_data, None);
    assert_eq!(nitro.nonce, None);
    assert_eq!(nitro.module_id, "i-0bee92034f3d60691-enc01943c5eaab3ad6a");
    let fixed = parse(FASTCRYPTO_FIXED.bytes).unwrap();
    assert_eq!(fixed.module_id, "i-0f73a4b4cb74cc9f2-enc0192e4188fef781d");
    assert_eq!(fixed.public_key, None);
    assert_eq!(fixed.nonce, None);
    assert_eq!(
        fixed.user_data.as_deref().map(hex::encode).as_deref(),
        Some("5a264748a62368075d34b9494634a3e096e0e48f6647f965b81d2a653de684f2")
    );
    assert_eq!(fixed.cabundle.len(), 4);
    let pcr16 = parse(FASTCRYPTO_PCR16.bytes).unwrap();
    assert_eq!(pcr16.module_id, "i-06fb0bf4e70d5129f-enc019a5376999041b1");
    assert_eq!(
        pcr16.public_key.as_deref().map(hex::encode).as_deref(),
        Some("c68116a630c8bdde83fe1c5a6ff12b5a4f93404e2fc112824d151ed42bf98a20")
    );
    assert_eq!(pcr16.user_data, Some(vec![]));
    assert_eq!(
        pcr16.pcrs.get(&16).map(hex::encode).as_deref(),
        Some(
            "28827566f8b004a75ccd77ffab1813059cfc384b3b23f926728263fecb03e97d4928fbef613791fcb233d7b16ad74b94"
        )
    );
}

/// Sui's native returns 0, 1, 2, 3, 4, 8 always and other PCRs when not zero
/// (fastcrypto's own test `attestation_parse_all_pcrs` expects [0,1,2,3,4,8,16]
/// for the PCR16 document).
#[test]
fn sui_pcr_entries_are_those_of_suis_native() {
    let keys = |bytes| {
        parse(bytes)
            .unwrap()
            .sui_pcr_entries()
            .into_iter()
            .map(|(i, _)| i)
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(FASTCRYPTO_PCR16.bytes), vec![0, 1, 2, 3, 4, 8, 16]);
    assert_eq!(keys(FASTCRYPTO_FIXED.bytes), vec![0, 1, 2, 3, 4, 8]);
    assert_eq!(keys(NITRO_ATTEST.bytes), vec![0, 1, 2, 3, 4, 8]);
    let doc = parse(FASTCRYPTO_PCR16.bytes).unwrap();
    for (i, value) in doc.sui_pcr_entries() {
        assert_eq!(Some(&value), doc.pcrs.get(&i));
    }
}

#[test]
fn pcrs_are_checked_against_the_expected_set() {
    // fastcrypto FIXED is a debug-mode enclave: PCR0-2 are zeros.
    let zeros = ExpectedPcrs {
        pcr0: [0; 48],
        pcr1: [0; 48],
        pcr2: [0; 48],
    };
    parse(FASTCRYPTO_FIXED.bytes)
        .unwrap()
        .check_pcrs(&zeros)
        .unwrap();
    let pcr16 = parse(FASTCRYPTO_PCR16.bytes).unwrap();
    assert_eq!(
        pcr16.check_pcrs(&zeros),
        Err(AttestationError::PcrMismatch { index: 0 })
    );
    let mut expected = ExpectedPcrs {
        pcr0: pcr16.pcrs[&0].clone().try_into().unwrap(),
        pcr1: pcr16.pcrs[&1].clone().try_into().unwrap(),
        pcr2: pcr16.pcrs[&2].clone().try_into().unwrap(),
    };
    pcr16.check_pcrs(&expected).unwrap();
    expected.pcr2[47] ^= 1;
    assert_eq!(
        pcr16.check_pcrs(&expected),
        Err(AttestationError::PcrMismatch { index: 2 })
    );
}

#[test]
fn an_aws_document_against_a_dev_root_is_a_root_mismatch() {
    let dev = DevCa::generate(NITRO_ATTEST.timestamp_ms);
    for v in VECTORS {
        assert_eq!(
            verify(v.bytes, &dev.root(), v.timestamp_ms),
            Err(AttestationError::RootMismatch),
            "{}",
            v.name
        );
    }
}

#[test]
fn a_tagged_document_verifies_and_other_tags_do_not() {
    let root = TrustedRoot::aws_nitro();
    let v = NITRO_ATTEST;
    let tagged = [&[0xd2][..], v.bytes].concat(); // tag 18, COSE_Sign1
    assert_eq!(
        verify(&tagged, &root, v.timestamp_ms),
        verify(v.bytes, &root, v.timestamp_ms)
    );
    let tag19 = [&[0xd3][..], v.bytes].concat();
    assert!(matches!(
        parse(&tag19),
        Err(AttestationError::NotCoseSign1(_))
    ));
    let trailing = [v.bytes, &[0x00][..]].concat();
    assert!(matches!(
        parse(&trailing),
        Err(AttestationError::NotCoseSign1(_))
    ));
    assert!(matches!(
        parse(&[0x00, 0x00]),
        Err(AttestationError::NotCoseSign1(_))
    ));
    assert!(matches!(parse(&[]), Err(AttestationError::NotCoseSign1(_))));
}

/// A dev-CA document kept as a file (the fuzz seed corpus uses it too):
/// made on 2 Dec 2026 with timestamp 1764000000000, public_key 11×32, user_data
/// for cluster 22×32 and sealing key 33×32 version 1, nonce 44×32.
#[test]
fn the_stored_dev_document_verifies_against_its_root_only() {
    const DEV: &[u8] = include_bytes!("vectors/dev.cose");
    let root = TrustedRoot::from_der(include_bytes!("vectors/dev_root.der").to_vec()).unwrap();
    let ts = 1_764_000_000_000;
    let doc = verify(DEV, &root, ts).unwrap();
    assert!(doc.is_dev());
    assert_eq!(doc.module_id, "k3s-daas-dev-enclave");
    assert_eq!(doc.public_key, Some(vec![0x11; 32]));
    doc.check_nonce(&[0x44; 32]).unwrap();
    assert_eq!(
        doc.check_nonce(&[0x44; 31]),
        Err(AttestationError::NonceMismatch)
    );
    let user_data = daas_attestation::UserData::decode(doc.user_data.as_deref().unwrap()).unwrap();
    assert_eq!(user_data.cluster_id, [0x22; 32]);
    assert_eq!(user_data.sealing_key_version, 1);
    assert_eq!(user_data.sealing_public_key, [0x33; 32]);
    assert_eq!(
        verify(DEV, &TrustedRoot::aws_nitro(), ts),
        Err(AttestationError::RootMismatch)
    );
    let at_s = ts / 1000 + 3 * 3600 + 1;
    assert!(matches!(
        verify(DEV, &root, at_s * 1000),
        Err(AttestationError::Expired { .. })
    ));
}
