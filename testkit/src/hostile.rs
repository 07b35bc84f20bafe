//! Hostile values for the shared workload: what a tenant (or an operator, or
//! an admin) can put in every string field of every event our package emits.
//!
//! Move `String` fields are UTF-8-checked on chain and protobuf `string`
//! fields by the protobuf rules, so in a decoded event a string is always
//! UTF-8; it can still hold NUL, control characters, look-alike escapes and
//! up to a transaction's worth of bytes. Invalid UTF-8 can only come as bytes:
//! a `vector<u8>` (the manifest), BCS contents whose string does not decode,
//! or a protobuf record whose string field is not UTF-8. All are here.

use daas_domain::Event;

use crate::workload::Rng;

/// The longest string the workload puts in one field, in bytes: the gateway's
/// manifest limit (64 KiB), which a chain transaction (128 KiB) also carries.
pub const MAX_STRING_BYTES: usize = 65_536;

/// Bytes that are not UTF-8 (a lone continuation byte, an overlong NUL, a
/// surrogate's encoding, a truncated sequence).
pub const INVALID_UTF8: &[u8] = b"\x80bad\xc0\x80\xed\xa0\x80\xf0\x9f";

/// A hostile string, deterministic from `rng`; `n` makes it unique.
pub fn string(rng: &mut Rng, n: u64) -> String {
    match rng.below(6) {
        0 => format!("nul\0byte-{n}"),
        1 => format!("ctl\x01\x07\x1b[31m\t\r\n\x7f-{n}"),
        2 => format!("back\\slash\\x00\\.\\N-{n}"),
        3 => format!("ünï\u{202e}cödé\u{feff}\u{200b}-{n}"),
        4 => long(n, '\0'),
        _ => long(n, 'x'),
    }
}

/// A string of exactly [`MAX_STRING_BYTES`] bytes: `fill` then `-n`.
pub fn long(n: u64, fill: char) -> String {
    let tail = format!("-{n}");
    let mut s: String = std::iter::repeat_n(fill, MAX_STRING_BYTES - tail.len() - 1).collect();
    // A non-repeating byte so the value does not compress to nothing.
    s.push(char::from(b'a' + (n % 26) as u8));
    s.push_str(&tail);
    s
}

/// Hostile manifest bytes: not UTF-8, NUL-laden, or exactly the size limit.
pub fn manifest(rng: &mut Rng) -> Vec<u8> {
    match rng.below(3) {
        0 => [
            b"apiVersion: v1\nkind: ConfigMap\n".as_slice(),
            INVALID_UTF8,
        ]
        .concat(),
        1 => b"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\0\"metadata\":{}}".to_vec(),
        _ => vec![b'{'; MAX_STRING_BYTES],
    }
}

/// `bytes` with every occurrence of `marker` replaced by invalid UTF-8 of the
/// same length (so length prefixes stay right).
pub fn spoil_utf8(bytes: &[u8], marker: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + marker.len() <= out.len() {
        if &out[i..i + marker.len()] == marker {
            out[i..i + marker.len()].fill(0xff);
            i += marker.len();
        } else {
            i += 1;
        }
    }
    out
}

/// Every tenant-, operator- or admin-chosen string (and byte string) of
/// `event`, named `Event.field`.
pub fn string_fields(event: &Event) -> Vec<(&'static str, &[u8])> {
    match event {
        Event::StakeSlashed(e) => vec![("StakeSlashed.reason", e.reason.as_bytes())],
        Event::ClusterCreated(e) => vec![("ClusterCreated.name", e.name.as_bytes())],
        Event::K8sApiRequest(r) => vec![
            ("K8sApiRequest.verb", r.verb.as_bytes()),
            ("K8sApiRequest.api_version", r.api_version.as_bytes()),
            ("K8sApiRequest.kind", r.kind.as_bytes()),
            ("K8sApiRequest.namespace", r.namespace.as_bytes()),
            ("K8sApiRequest.name", r.name.as_bytes()),
            ("K8sApiRequest.manifest", r.manifest.as_ref()),
        ],
        Event::NodeRegistered(e) => vec![
            ("NodeRegistered.node_name", e.node_name.as_bytes()),
            ("NodeRegistered.endpoint", e.endpoint.as_bytes()),
        ],
        Event::NodeDeregistered(e) => vec![("NodeDeregistered.node_name", e.node_name.as_bytes())],
        Event::NamespaceGranted(e) => vec![("NamespaceGranted.namespace", e.namespace.as_bytes())],
        Event::NamespaceRevoked(e) => vec![("NamespaceRevoked.namespace", e.namespace.as_bytes())],
        _ => vec![],
    }
}

/// What makes a value hostile, for tests that check each kind reached each field.
pub fn traits(value: &[u8]) -> Vec<&'static str> {
    let mut t = Vec::new();
    if value.contains(&0) {
        t.push("NUL");
    }
    if value.iter().any(|b| *b < 0x20 && *b != 0) {
        t.push("control");
    }
    if value.len() == MAX_STRING_BYTES {
        t.push("max length");
    }
    if std::str::from_utf8(value).is_err() {
        t.push("not UTF-8");
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_exactly_the_maximum() {
        assert_eq!(long(7, 'x').len(), MAX_STRING_BYTES);
        assert_eq!(long(123_456, '\0').len(), MAX_STRING_BYTES);
    }

    #[test]
    fn spoiling_keeps_the_length_and_breaks_utf8() {
        let s = spoil_utf8(b"ab MARK cd MARK", b"MARK");
        assert_eq!(s.len(), 15);
        assert!(std::str::from_utf8(&s).is_err());
        assert_eq!(&s[..3], b"ab ");
    }
}
