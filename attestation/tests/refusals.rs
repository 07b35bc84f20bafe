//! Each kind of bad document fails with its own error. The documents are
//! made by the dev CA, then changed; the expected errors and limits are the
//! spec's (fastcrypto 0.1.11's limits), written here by hand.

mod common;

use std::collections::BTreeMap;

use ciborium::value::Value;
use common::{NITRO_ATTEST, field, payload_len, rewrap, with_payload};
use daas_attestation::dev::{DevCa, DevRequest};
use daas_attestation::{AttestationError, ExpectedPcrs, TrustedRoot, parse, verify};

const NOW_MS: u64 = 1_764_000_000_000;

fn ca() -> DevCa {
    DevCa::generate(NOW_MS)
}

fn request() -> DevRequest {
    DevRequest {
        timestamp_ms: NOW_MS,
        public_key: Some(vec![0xaa; 32]),
        user_data: Some(vec![0xbb; 80]),
        nonce: Some(vec![0xcc; 32]),
        pcrs: BTreeMap::from([(0, [1; 48]), (1, [2; 48]), (2, [3; 48])]),
    }
}

/// Sets one optional field of a request to `n` bytes.
type SetField = fn(&mut DevRequest, usize);

fn too_large(field: &'static str, len: usize, max: usize) -> AttestationError {
    AttestationError::FieldTooLarge { field, len, max }
}

#[test]
fn a_wrong_root_is_a_root_mismatch() {
    let (a, b) = (ca(), ca());
    let doc = a.attest(&request());
    assert_eq!(
        verify(&doc, &b.root(), NOW_MS),
        Err(AttestationError::RootMismatch)
    );
    assert_eq!(
        verify(&doc, &TrustedRoot::aws_nitro(), NOW_MS),
        Err(AttestationError::RootMismatch)
    );
    verify(&doc, &a.root(), NOW_MS).unwrap();
}

#[test]
fn a_chain_naming_the_pinned_root_but_not_signed_by_it_fails() {
    // b's root and intermediate around a leaf a's intermediate signed.
    let (a, b) = (ca(), ca());
    let doc = with_payload(&a.attest(&request()), |m| {
        *field(m, "cabundle") = Value::Array(vec![
            Value::Bytes(b.parts().root_der.clone()),
            Value::Bytes(b.parts().intermediate_der.clone()),
        ]);
    });
    assert!(matches!(
        verify(&doc, &b.root(), NOW_MS),
        Err(AttestationError::Chain(_))
    ));
}

#[test]
fn a_changed_signature_is_invalid() {
    let ca = ca();
    let doc = rewrap(&ca.attest(&request()), |items| {
        let Value::Bytes(sig) = &mut items[3] else {
            panic!()
        };
        sig[10] ^= 1;
    });
    assert_eq!(
        verify(&doc, &ca.root(), NOW_MS),
        Err(AttestationError::SignatureInvalid)
    );
    // The signature of another document of the same CA does not fit either.
    let other = ca.attest(&DevRequest {
        nonce: Some(vec![1]),
        ..request()
    });
    let doc = rewrap(&ca.attest(&request()), |items| {
        items[3] = common::items(&other)[3].clone()
    });
    assert!(verify(&doc, &ca.root(), NOW_MS).is_err());
}

#[test]
fn wrong_pcrs_are_a_mismatch_and_a_missing_one_is_named() {
    let ca = ca();
    let doc = verify(&ca.attest(&request()), &ca.root(), NOW_MS).unwrap();
    let mut expected = ExpectedPcrs {
        pcr0: [1; 48],
        pcr1: [2; 48],
        pcr2: [3; 48],
    };
    doc.check_pcrs(&expected).unwrap();
    expected.pcr1[0] = 0;
    assert_eq!(
        doc.check_pcrs(&expected),
        Err(AttestationError::PcrMismatch { index: 1 })
    );
    expected.pcr1[0] = 2;
    let without_pcr2 = with_payload(&ca.attest(&request()), |m| {
        let Value::Map(pcrs) = field(m, "pcrs") else {
            panic!()
        };
        pcrs.retain(|(k, _)| k.as_integer() != Some(2.into()));
    });
    let doc = parse(&without_pcr2).unwrap();
    assert_eq!(
        doc.check_pcrs(&expected),
        Err(AttestationError::MissingPcr(2))
    );
}

#[test]
fn an_expired_chain_fails_and_says_which_time() {
    let ca = ca();
    let ts_s = NOW_MS / 1000;
    let doc = ca.attest(&request());
    // The leaf lives 3 hours.
    let at_s = ts_s + 3 * 3600 + 1;
    assert_eq!(
        verify(&doc, &ca.root(), at_s * 1000),
        Err(AttestationError::Expired {
            not_after_s: ts_s + 3 * 3600,
            at_s
        })
    );
    assert_eq!(
        verify(&doc, &ca.root(), (ts_s - 61) * 1000),
        Err(AttestationError::NotYetValid {
            not_before_s: ts_s - 60,
            at_s: ts_s - 61
        })
    );
    // The intermediate lives 10 years: a fresh leaf after that fails on it.
    let intermediate_end_s = ts_s + 10 * 365 * 86_400;
    let late_ms = (intermediate_end_s + 86_400) * 1000;
    let late = ca.attest(&DevRequest {
        timestamp_ms: late_ms,
        ..request()
    });
    assert_eq!(
        verify(&late, &ca.root(), late_ms),
        Err(AttestationError::Expired {
            not_after_s: intermediate_end_s,
            at_s: late_ms / 1000
        })
    );
}

#[test]
fn oversize_optional_fields_are_refused_and_the_limit_itself_passes() {
    let ca = ca();
    let cases: [(&str, SetField, usize); 3] = [
        ("user_data", |r, n| r.user_data = Some(vec![7; n]), 512),
        ("nonce", |r, n| r.nonce = Some(vec![7; n]), 512),
        ("public_key", |r, n| r.public_key = Some(vec![7; n]), 1024),
    ];
    for (name, set, max) in cases {
        let mut r = request();
        set(&mut r, max);
        verify(&ca.attest(&r), &ca.root(), NOW_MS).unwrap_or_else(|e| panic!("{name} {max}: {e}"));
        set(&mut r, max + 1);
        let refused = too_large(name, max + 1, max);
        assert_eq!(
            verify(&ca.attest(&r), &ca.root(), NOW_MS),
            Err(refused.clone())
        );
        assert_eq!(parse(&ca.attest(&r)), Err(refused));
    }
}

#[test]
fn more_than_32_pcrs_are_refused() {
    let ca = ca();
    let mut r = request();
    r.pcrs = (0..=32).map(|i| (i, [9; 48])).collect();
    assert_eq!(parse(&ca.attest(&r)), Err(too_large("pcrs", 33, 32)));
    r.pcrs = (0..=31).map(|i| (i, [9; 48])).collect();
    verify(&ca.attest(&r), &ca.root(), NOW_MS).unwrap();
}

#[test]
fn bad_pcr_entries_are_refused() {
    let doc = ca().attest(&request());
    let set_pcr = |key: Value, value: Value| {
        with_payload(&doc, |m| {
            let Value::Map(pcrs) = field(m, "pcrs") else {
                panic!()
            };
            pcrs.truncate(15);
            pcrs.push((key, value));
        })
    };
    let cases = [
        (32, Value::Bytes(vec![0; 48]), "index over 31"),
        (3, Value::Bytes(vec![0; 48]), "index appears twice"),
        (
            20,
            Value::Bytes(vec![0; 47]),
            "value is not 32, 48 or 64 bytes",
        ),
        (20, Value::Text("x".into()), "value is not bytes"),
    ];
    for (index, value, reason) in cases {
        assert_eq!(
            parse(&set_pcr(Value::Integer(index.into()), value)),
            Err(AttestationError::BadPcr { index, reason })
        );
    }
    for ok_len in [32, 64] {
        let doc = parse(&set_pcr(
            Value::Integer(20.into()),
            Value::Bytes(vec![5; ok_len]),
        ))
        .unwrap();
        assert_eq!(doc.pcrs[&20].len(), ok_len);
    }
    assert!(matches!(
        parse(&set_pcr(
            Value::Integer((-1).into()),
            Value::Bytes(vec![0; 48])
        )),
        Err(AttestationError::BadField { field: "pcrs", .. })
    ));
}

#[test]
fn a_cabundle_of_11_entries_is_refused_and_10_parse() {
    let ca = ca();
    let doc = ca.attest(&request());
    let with_n = |n: usize| {
        with_payload(&doc, |m| {
            let Value::Array(bundle) = field(m, "cabundle") else {
                panic!()
            };
            let last = bundle[1].clone();
            bundle.resize(n, last);
        })
    };
    assert_eq!(parse(&with_n(11)), Err(too_large("cabundle", 11, 10)));
    assert_eq!(parse(&with_n(10)).unwrap().cabundle.len(), 10);
    assert!(matches!(
        parse(&with_n(0)),
        Err(AttestationError::BadField {
            field: "cabundle",
            ..
        })
    ));
}

#[test]
fn oversize_certificates_are_refused() {
    let doc = ca().attest(&request());
    let leaf = with_payload(&doc, |m| {
        *field(m, "certificate") = Value::Bytes(vec![0x30; 1025])
    });
    assert_eq!(parse(&leaf), Err(too_large("certificate", 1025, 1024)));
    let entry = with_payload(&doc, |m| {
        let Value::Array(bundle) = field(m, "cabundle") else {
            panic!()
        };
        bundle[1] = Value::Bytes(vec![0x30; 1025]);
    });
    assert_eq!(parse(&entry), Err(too_large("cabundle", 1025, 1024)));
}

/// A payload padded with an extra key to exactly `len` bytes.
fn padded_payload_doc(doc: &[u8], len: usize) -> Vec<u8> {
    let mut pad = 0;
    loop {
        let padded = with_payload(doc, |m| {
            m.push((Value::Text("pad".into()), Value::Bytes(vec![0; pad])))
        });
        match payload_len(&padded) {
            n if n == len => return padded,
            n if n < len => pad += len - n,
            _ => pad -= 1,
        }
    }
}

#[test]
fn a_payload_over_16383_bytes_is_refused() {
    let doc = ca().attest(&request());
    assert_eq!(
        parse(&padded_payload_doc(&doc, 16_384)),
        Err(AttestationError::PayloadSize(16_384))
    );
    assert!(parse(&padded_payload_doc(&doc, 16_383)).is_ok());
    let empty = rewrap(&doc, |items| items[2] = Value::Bytes(vec![]));
    assert_eq!(parse(&empty), Err(AttestationError::PayloadSize(0)));
}

#[test]
fn a_document_over_18432_bytes_is_refused_before_parsing() {
    let mut big = NITRO_ATTEST.bytes.to_vec();
    big.resize(18_433, 0);
    assert_eq!(
        parse(&big),
        Err(AttestationError::TooLarge {
            len: 18_433,
            max: 18_432
        })
    );
}

#[test]
fn headers_other_than_es384_are_unsupported() {
    let doc = ca().attest(&request());
    for protected in [
        &[0xa1, 0x01, 0x26][..],
        &[0xa2, 0x01, 0x38, 0x22, 0x04, 0x40],
        &[],
    ] {
        let changed = rewrap(&doc, |items| items[0] = Value::Bytes(protected.to_vec()));
        assert!(
            matches!(parse(&changed), Err(AttestationError::UnsupportedHeader(_))),
            "{protected:02x?}: {:?}",
            parse(&changed)
        );
    }
    // An unprotected header {4: h'3131'} (aws-nitro-enclaves-cose's example).
    let kid = Value::Map(vec![(
        Value::Integer(4.into()),
        Value::Bytes(b"11".to_vec()),
    )]);
    let changed = rewrap(&doc, |items| items[1] = kid);
    assert!(matches!(
        parse(&changed),
        Err(AttestationError::UnsupportedHeader(_))
    ));
}

#[test]
fn a_signature_of_64_bytes_is_refused() {
    let doc = rewrap(&ca().attest(&request()), |items| {
        items[3] = Value::Bytes(vec![1; 64])
    });
    assert_eq!(parse(&doc), Err(AttestationError::BadSignatureLength(64)));
}

#[test]
fn a_duplicate_payload_key_is_refused() {
    let doc = with_payload(&ca().attest(&request()), |m| {
        m.push((Value::Text("nonce".into()), Value::Null))
    });
    assert_eq!(
        parse(&doc),
        Err(AttestationError::DuplicateKey("nonce".into()))
    );
}

#[test]
fn missing_and_mistyped_fields_are_named() {
    let doc = ca().attest(&request());
    for key in [
        "module_id",
        "digest",
        "timestamp",
        "pcrs",
        "certificate",
        "cabundle",
    ] {
        let without = with_payload(&doc, |m| m.retain(|(k, _)| k.as_text() != Some(key)));
        assert!(
            matches!(parse(&without), Err(AttestationError::MissingField(k)) if k == key),
            "{key}"
        );
    }
    let set = |key: &str, v: Value| with_payload(&doc, |m| *field(m, key) = v);
    let bad = |field| move |r: Result<_, _>| matches!(r, Err(AttestationError::BadField { field: f, .. }) if f == field);
    assert!(bad("digest")(parse(&set(
        "digest",
        Value::Text("SHA256".into())
    ))));
    assert!(bad("module_id")(parse(&set(
        "module_id",
        Value::Text(String::new())
    ))));
    assert!(bad("timestamp")(parse(&set(
        "timestamp",
        Value::Integer((-1).into())
    ))));
    assert!(bad("timestamp")(parse(&set(
        "timestamp",
        Value::Bytes(vec![1])
    ))));
    assert!(bad("user_data")(parse(&set(
        "user_data",
        Value::Text("x".into())
    ))));
    assert!(bad("nonce")(parse(&set("nonce", Value::Integer(0.into())))));
    assert!(bad("certificate")(parse(&set(
        "certificate",
        Value::Bytes(vec![])
    ))));
    // Absent optional fields are None, like null ones.
    let without = with_payload(&doc, |m| m.retain(|(k, _)| k.as_text() != Some("nonce")));
    assert_eq!(parse(&without).unwrap().nonce, None);
}

#[test]
fn parse_failures_abort_with_1_and_verify_failures_with_2() {
    let ca = ca();
    let doc = ca.attest(&request());
    let sig64 = rewrap(&doc, |items| items[3] = Value::Bytes(vec![1; 64]));
    assert_eq!(parse(&sig64).unwrap_err().sui_abort_code(), 1);
    assert_eq!(parse(&[0xff]).unwrap_err().sui_abort_code(), 1);
    let root_mismatch = verify(&doc, &TrustedRoot::aws_nitro(), NOW_MS).unwrap_err();
    assert_eq!(root_mismatch.sui_abort_code(), 2);
    let expired = verify(&doc, &ca.root(), NOW_MS + 4 * 3600 * 1000).unwrap_err();
    assert_eq!(expired.sui_abort_code(), 2);
}

/// Sui's native checks the whole cabundle in order; webpki alone would
/// accept a path that skips an entry. (The payload change also breaks the
/// COSE signature, which is checked after the chain: the error names the chain.)
#[test]
fn a_cabundle_with_an_unused_entry_is_refused() {
    let (a, b) = (ca(), ca());
    let doc = a.attest(&request());
    let extra = with_payload(&doc, |m| {
        let Value::Array(bundle) = field(m, "cabundle") else {
            panic!()
        };
        bundle.insert(1, Value::Bytes(b.parts().intermediate_der.clone()));
    });
    assert_eq!(
        verify(&extra, &a.root(), NOW_MS),
        Err(AttestationError::Chain(
            "cabundle is not the path from the root to the leaf's issuer".into()
        ))
    );
    let twice = with_payload(&doc, |m| {
        let Value::Array(bundle) = field(m, "cabundle") else {
            panic!()
        };
        bundle.push(bundle[1].clone());
    });
    assert!(matches!(
        verify(&twice, &a.root(), NOW_MS),
        Err(AttestationError::Chain(_))
    ));
}
