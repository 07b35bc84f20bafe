//! `parse` and `verify` on hostile bytes: arbitrary input and changed real
//! documents never panic, fail with a typed error, and a changed document
//! never verifies to other contents than the original's.

mod common;

use common::VECTORS;
use daas_attestation::{TrustedRoot, parse, verify};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Edit {
    Set(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    match *edit {
        Edit::Set(i, b) if !bytes.is_empty() => {
            let i = i % bytes.len();
            bytes[i] = b;
        }
        Edit::Insert(i, b) => {
            let i = i % (bytes.len() + 1);
            bytes.insert(i, b);
        }
        Edit::Remove(i) if !bytes.is_empty() => {
            let i = i % bytes.len();
            bytes.remove(i);
        }
        Edit::Truncate(n) => bytes.truncate(n % (bytes.len() + 1)),
        _ => {}
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        6 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Insert(i, b)),
        2 => any::<usize>().prop_map(Edit::Remove),
        1 => any::<usize>().prop_map(Edit::Truncate),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_are_refused_with_a_parse_error(bytes in proptest::collection::vec(any::<u8>(), 0..20_000)) {
        let err = parse(&bytes).expect_err("random bytes are not a document");
        prop_assert_eq!(err.sui_abort_code(), 1, "{}", err);
    }

    #[test]
    fn arbitrary_cbor_prefixes_are_refused(head in prop::sample::select(vec![0x84u8, 0xd2, 0x9f, 0xa1, 0x44]), rest in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let bytes = [vec![head], rest].concat();
        prop_assert!(parse(&bytes).is_err());
    }

    #[test]
    fn changed_documents_never_panic_nor_verify_to_other_contents(which in 0..3usize, edits in proptest::collection::vec(edit(), 1..6)) {
        let v = &VECTORS[which];
        let mut bytes = v.bytes.to_vec();
        for e in &edits {
            apply(&mut bytes, e);
        }
        let _ = parse(&bytes);
        let original = verify(v.bytes, &TrustedRoot::aws_nitro(), v.timestamp_ms).unwrap();
        match verify(&bytes, &TrustedRoot::aws_nitro(), v.timestamp_ms) {
            Ok(doc) => prop_assert_eq!(doc, original),
            Err(e) => prop_assert!(matches!(e.sui_abort_code(), 1 | 2)),
        }
    }
}
