//! The attestation payload: a CBOR map with text keys, its fields checked
//! the way fastcrypto 0.1.11 (Sui's native) checks them, a little stricter
//! (decision 0020).

use std::collections::BTreeMap;

use ciborium::value::Value;

use crate::limits::{
    MAX_CABUNDLE, MAX_CERT_BYTES, MAX_NONCE_BYTES, MAX_PCRS, MAX_PUBLIC_KEY_BYTES,
    MAX_USER_DATA_BYTES,
};
use crate::{AttestationError, Document};

type Fields = BTreeMap<String, Value>;

/// Decodes `payload` into a [`Document`].
pub(crate) fn decode(payload: &[u8]) -> Result<Document, AttestationError> {
    let mut fields = to_map(payload)?;
    let module_id = match take(&mut fields, "module_id")? {
        Value::Text(s) if !s.is_empty() => s,
        _ => return Err(bad("module_id", "not a non-empty text")),
    };
    let digest = match take(&mut fields, "digest")? {
        Value::Text(s) if s == "SHA384" => s,
        _ => return Err(bad("digest", "not \"SHA384\"")),
    };
    let certificate = certificate("certificate", take(&mut fields, "certificate")?)?;
    let timestamp_ms = match take(&mut fields, "timestamp")? {
        Value::Integer(i) => u64::try_from(i).map_err(|_| bad("timestamp", "not a u64"))?,
        _ => return Err(bad("timestamp", "not an integer")),
    };
    let public_key = optional_bytes(&mut fields, "public_key", MAX_PUBLIC_KEY_BYTES)?;
    let user_data = optional_bytes(&mut fields, "user_data", MAX_USER_DATA_BYTES)?;
    let nonce = optional_bytes(&mut fields, "nonce", MAX_NONCE_BYTES)?;
    let pcrs = pcrs(take(&mut fields, "pcrs")?)?;
    let cabundle = cabundle(take(&mut fields, "cabundle")?)?;
    Ok(Document {
        module_id,
        timestamp_ms,
        digest,
        pcrs,
        certificate,
        cabundle,
        public_key,
        user_data,
        nonce,
    })
}

fn bad(field: &'static str, reason: &'static str) -> AttestationError {
    AttestationError::BadField { field, reason }
}

/// One CBOR map, nothing after it; text keys, each once.
fn to_map(payload: &[u8]) -> Result<Fields, AttestationError> {
    let mut rest = payload;
    let value: Value =
        ciborium::de::from_reader(&mut rest).map_err(|_| bad("payload", "not CBOR"))?;
    if !rest.is_empty() {
        return Err(bad("payload", "bytes after the map"));
    }
    let Value::Map(entries) = value else {
        return Err(bad("payload", "not a map"));
    };
    let mut fields = Fields::new();
    for (key, value) in entries {
        let Value::Text(key) = key else {
            return Err(bad("payload", "a key is not text"));
        };
        if fields.contains_key(&key) {
            return Err(AttestationError::DuplicateKey(key));
        }
        fields.insert(key, value);
    }
    Ok(fields)
}

fn take(fields: &mut Fields, name: &'static str) -> Result<Value, AttestationError> {
    fields
        .remove(name)
        .ok_or(AttestationError::MissingField(name))
}

/// A DER certificate: bytes, non-empty, at most [`MAX_CERT_BYTES`].
fn certificate(field: &'static str, value: Value) -> Result<Vec<u8>, AttestationError> {
    let Value::Bytes(der) = value else {
        return Err(bad(field, "not bytes"));
    };
    if der.is_empty() {
        return Err(bad(field, "empty certificate"));
    }
    if der.len() > MAX_CERT_BYTES {
        return Err(AttestationError::FieldTooLarge {
            field,
            len: der.len(),
            max: MAX_CERT_BYTES,
        });
    }
    Ok(der)
}

/// Absent or null: `None`; bytes up to `max`: `Some`; anything else refused.
fn optional_bytes(
    fields: &mut Fields,
    field: &'static str,
    max: usize,
) -> Result<Option<Vec<u8>>, AttestationError> {
    match fields.remove(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bytes(b)) if b.len() > max => Err(AttestationError::FieldTooLarge {
            field,
            len: b.len(),
            max,
        }),
        Some(Value::Bytes(b)) => Ok(Some(b)),
        Some(_) => Err(bad(field, "neither bytes nor null")),
    }
}

/// At most [`MAX_PCRS`] entries, index 0..=31 once each, value 32, 48 or 64 bytes.
fn pcrs(value: Value) -> Result<BTreeMap<u8, Vec<u8>>, AttestationError> {
    let Value::Map(entries) = value else {
        return Err(bad("pcrs", "not a map"));
    };
    if entries.len() > MAX_PCRS {
        return Err(AttestationError::FieldTooLarge {
            field: "pcrs",
            len: entries.len(),
            max: MAX_PCRS,
        });
    }
    let mut pcrs = BTreeMap::new();
    for (key, value) in entries {
        let Value::Integer(key) = key else {
            return Err(bad("pcrs", "an index is not an integer"));
        };
        let index = u64::try_from(key).map_err(|_| bad("pcrs", "a negative index"))?;
        let pcr = |reason| AttestationError::BadPcr { index, reason };
        let slot = u8::try_from(index)
            .ok()
            .filter(|i| usize::from(*i) < MAX_PCRS);
        let slot = slot.ok_or(pcr("index over 31"))?;
        let Value::Bytes(value) = value else {
            return Err(pcr("value is not bytes"));
        };
        if ![32, 48, 64].contains(&value.len()) {
            return Err(pcr("value is not 32, 48 or 64 bytes"));
        }
        if pcrs.insert(slot, value).is_some() {
            return Err(pcr("index appears twice"));
        }
    }
    Ok(pcrs)
}

/// 1..=[`MAX_CABUNDLE`] certificates.
fn cabundle(value: Value) -> Result<Vec<Vec<u8>>, AttestationError> {
    let Value::Array(entries) = value else {
        return Err(bad("cabundle", "not an array"));
    };
    if entries.is_empty() {
        return Err(bad("cabundle", "empty"));
    }
    if entries.len() > MAX_CABUNDLE {
        return Err(AttestationError::FieldTooLarge {
            field: "cabundle",
            len: entries.len(),
            max: MAX_CABUNDLE,
        });
    }
    entries
        .into_iter()
        .map(|c| certificate("cabundle", c))
        .collect()
}
