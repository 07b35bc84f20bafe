//! What the attestation tests share: the real AWS documents and ways to
//! rewrite a document's CBOR (to build refused documents from valid ones).
#![allow(dead_code)]

use ciborium::value::Value;

/// A real AWS document and the facts about it, read by hand from its bytes
/// (and from the table in decision 0020), not from the code under test.
pub struct Vector {
    pub name: &'static str,
    pub bytes: &'static [u8],
    /// Its `timestamp`, ms.
    pub timestamp_ms: u64,
    /// The leaf certificate's notAfter, seconds.
    pub leaf_not_after_s: u64,
}

pub const NITRO_ATTEST: Vector = Vector {
    name: "nitro_attest 0.2.0 tests/fixtures/attestation.cose",
    bytes: include_bytes!("../vectors/nitro_attest.cose"),
    timestamp_ms: 1_736_179_625_472,
    leaf_not_after_s: 1_736_190_425,
};

pub const FASTCRYPTO_FIXED: Vector = Vector {
    name: "fastcrypto 0.1.11 FIXED_VALID_ATTESTATION",
    bytes: include_bytes!("../vectors/fastcrypto_fixed.cose"),
    timestamp_ms: 1_731_627_989_450,
    leaf_not_after_s: 1_731_630_269,
};

pub const FASTCRYPTO_PCR16: Vector = Vector {
    name: "fastcrypto 0.1.11 VALID_PCR16_ATTESTATION",
    bytes: include_bytes!("../vectors/fastcrypto_pcr16.cose"),
    timestamp_ms: 1_762_795_210_812,
    leaf_not_after_s: 1_762_806_010,
};

pub const VECTORS: [Vector; 3] = [NITRO_ATTEST, FASTCRYPTO_FIXED, FASTCRYPTO_PCR16];

/// A document's four COSE_Sign1 items: protected, unprotected, payload, signature.
pub fn items(doc: &[u8]) -> Vec<Value> {
    match ciborium::de::from_reader(doc).expect("a test document is CBOR") {
        Value::Array(items) if items.len() == 4 => items,
        other => panic!("not a COSE_Sign1: {other:?}"),
    }
}

pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).expect("encode CBOR");
    out
}

/// `doc` with its COSE items changed by `f` (the signature no longer matches
/// unless `f` keeps what it covers).
pub fn rewrap(doc: &[u8], f: impl FnOnce(&mut Vec<Value>)) -> Vec<u8> {
    let mut items = items(doc);
    f(&mut items);
    encode(&Value::Array(items))
}

/// `doc` with its payload map's entries changed by `f`.
pub fn with_payload(doc: &[u8], f: impl FnOnce(&mut Vec<(Value, Value)>)) -> Vec<u8> {
    rewrap(doc, |items| {
        let Value::Bytes(payload) = &items[2] else {
            panic!("payload is not bytes")
        };
        let Value::Map(mut entries) =
            ciborium::de::from_reader(payload.as_slice()).expect("payload")
        else {
            panic!("payload is not a map")
        };
        f(&mut entries);
        items[2] = Value::Bytes(encode(&Value::Map(entries)));
    })
}

/// The value of payload key `key` in `entries`.
pub fn field<'a>(entries: &'a mut [(Value, Value)], key: &str) -> &'a mut Value {
    entries
        .iter_mut()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no payload key {key}"))
}

/// The payload's length in `doc`.
pub fn payload_len(doc: &[u8]) -> usize {
    match &items(doc)[2] {
        Value::Bytes(p) => p.len(),
        _ => panic!("payload is not bytes"),
    }
}
