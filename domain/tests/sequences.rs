//! Event sequences: `Event::stream()` and `Event::seq()` of events decoded from
//! BCS written here by hand (a few lines of byte pushing, independent of the
//! `bcs` crate and of the domain's encoder), for every event type, with
//! arbitrary field values. The layout written is the Move struct's: fields in
//! declaration order, `seq` last (u64 little-endian). Bytes of the layout
//! before sequences (no `seq`) do not decode: such a record is poison.

use daas_domain::{
    Address, Body, Decoded, LogEntry, LogPosition, Stream,
    events::{self, DecodeError},
};
use proptest::prelude::*;

/// A hand-written BCS writer: just the four shapes our events use.
#[derive(Default)]
struct W(Vec<u8>);

impl W {
    fn addr(mut self, a: [u8; 32]) -> Self {
        self.0.extend_from_slice(&a);
        self
    }
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    /// ULEB128 length, then the bytes (a `vector<u8>` or a `String`).
    fn bytes(mut self, b: &[u8]) -> Self {
        let mut n = b.len();
        loop {
            let low = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.0.push(low);
                break;
            }
            self.0.push(low | 0x80);
        }
        self.0.extend_from_slice(b);
        self
    }
}

/// Field values the generator draws; each event takes what it needs.
#[derive(Clone, Debug)]
struct Fields {
    a: [u8; 32],
    b: [u8; 32],
    c: [u8; 32],
    role: u8,
    n: u64,
    text: String,
    blob: Vec<u8>,
    seq: u64,
}

fn fields() -> impl Strategy<Value = Fields> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        0u8..=2,
        any::<u64>(),
        "\\PC{0,40}",
        prop::collection::vec(any::<u8>(), 0..200),
        prop_oneof![Just(0u64), Just(1), Just(u64::MAX), any::<u64>()],
    )
        .prop_map(|(a, b, c, role, n, text, blob, seq)| Fields {
            a,
            b,
            c,
            role,
            n,
            text,
            blob,
            seq,
        })
}

/// The hand-written contents of event type `name` without its `seq`, and the
/// stream the event belongs to.
fn without_seq(name: &str, f: &Fields) -> (W, Stream) {
    let t = f.text.as_bytes();
    match name {
        "StakeDeposited" | "StakeWithdrawn" => (
            W::default()
                .addr(f.a)
                .u8(f.role)
                .u64(f.n)
                .u64(f.n)
                .u64(f.n)
                .u64(f.n),
            Stream::Pool,
        ),
        "StakeSlashed" => (
            W::default()
                .addr(f.a)
                .u8(f.role)
                .u64(f.n)
                .u64(f.n)
                .bytes(t)
                .addr(f.b)
                .u64(f.n)
                .u64(f.n),
            Stream::Pool,
        ),
        "K8sAPIRequest" => {
            let mut w = W::default().addr(f.a).u64(f.n).addr(f.b);
            for s in ["apply", "v1", "ConfigMap", "team-a", "web"] {
                w = w.bytes(s.as_bytes());
            }
            (
                w.bytes(&f.blob).u64(f.n).u64(f.n),
                Stream::Cluster(Address(f.a)),
            )
        }
        "NodeRegistered" => (
            W::default()
                .addr(f.a)
                .bytes(t)
                .bytes(&f.blob)
                .bytes(t)
                .u64(f.n),
            Stream::Nodes,
        ),
        "NodeDeregistered" => (W::default().addr(f.a).bytes(t).u64(f.n), Stream::Nodes),
        // Role 2 only under the reserved namespace `*`, the others never there.
        "NamespaceGranted" => {
            let ns: &[u8] = if f.role == 2 { b"*" } else { b"team-a" };
            let w = W::default().addr(f.c).bytes(ns).addr(f.a).u8(f.role);
            (w.addr(f.b).u64(f.n), Stream::Cluster(Address(f.c)))
        }
        "NamespaceRevoked" => (
            W::default().addr(f.c).bytes(t).addr(f.a).addr(f.b).u64(f.n),
            Stream::Cluster(Address(f.c)),
        ),
        "PcrSetRegistered" => (
            W::default()
                .u64(f.n)
                .bytes(&f.blob)
                .bytes(&f.blob)
                .bytes(&f.blob)
                .addr(f.a)
                .u64(f.n),
            Stream::Enclave,
        ),
        // 32-byte keys and a sealing key version in 1..=u32::MAX: what decoding accepts.
        "EnclaveRegistered" => {
            let version = f.n % u64::from(u32::MAX) + 1;
            let w = W::default().addr(f.c).u64(f.n).bytes(&f.a).u64(version);
            let w = w.bytes(&f.b).bytes(&f.blob).u64(f.n).addr(f.a);
            (w.u64(f.n), Stream::Enclave)
        }
        // A version in 1..=u32::MAX and a 32-byte key: what decoding accepts.
        "SealingKeyRegistered" => {
            let version = f.n % u64::from(u32::MAX) + 1;
            let w = W::default().addr(f.c).u64(version).bytes(&f.a).addr(f.b);
            (w.u64(f.n), Stream::Enclave)
        }
        other => panic!("no hand encoder for {other}"),
    }
}

/// Every event type but `ClusterCreated`, which has no `seq` field.
fn sequenced() -> Vec<(&'static str, &'static str)> {
    daas_domain::events::EVENT_TYPES
        .into_iter()
        .filter(|(_, name)| *name != "ClusterCreated")
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn stream_and_seq_come_from_the_hand_written_bcs(ty in 0..sequenced().len(), f in fields()) {
        let (module, name) = sequenced()[ty];
        let (w, stream) = without_seq(name, &f);
        let bytes = w.u64(f.seq).0;
        let Ok(Decoded::Known(event)) = events::decode(module, name, &bytes) else {
            panic!("{name}: {:?}", events::decode(module, name, &bytes));
        };
        prop_assert_eq!(event.stream(), stream);
        prop_assert_eq!(event.seq(), f.seq);
        prop_assert_eq!(event.move_type(), (module, name));
        prop_assert_eq!(event.to_bcs(), bytes);
    }

    /// The layout before sequences: a record of it is poison, never an event
    /// with a made-up `seq`.
    #[test]
    fn an_event_without_its_seq_is_malformed_and_its_record_poison(ty in 0..sequenced().len(), f in fields()) {
        let (module, name) = sequenced()[ty];
        let bytes = without_seq(name, &f).0.0;
        let malformed = matches!(
            events::decode(module, name, &bytes),
            Err(DecodeError::Malformed { .. })
        );
        prop_assert!(malformed, "{}", name);
        let entry = LogEntry::from_chain(
            LogPosition::new(1, 0, 0),
            [7; 32],
            1,
            format!("0x{}::{module}::{name}", "ab".repeat(32)),
            Address(f.b),
            bytes,
        );
        prop_assert!(matches!(entry.body, Body::Poison(_)));
    }

    #[test]
    fn a_cluster_created_is_seq_0_of_its_cluster(id in any::<[u8; 32]>(), admin in any::<[u8; 32]>(), name in "\\PC{0,40}", t in any::<u64>()) {
        let bytes = W::default().addr(id).bytes(name.as_bytes()).addr(admin).u64(t).0;
        let Ok(Decoded::Known(event)) = events::decode("gateway", "ClusterCreated", &bytes) else {
            panic!("ClusterCreated does not decode");
        };
        prop_assert_eq!(event.stream(), Stream::Cluster(Address(id)));
        prop_assert_eq!(event.seq(), 0);
    }
}

/// The sequence travels in the typed protobuf record too.
#[test]
fn seq_survives_the_log_record() {
    let f = Fields {
        a: [1; 32],
        b: [2; 32],
        c: [3; 32],
        role: 1,
        n: 5,
        text: "x".into(),
        blob: vec![9; 32],
        seq: 0x0102_0304_0506_0708,
    };
    for (module, name) in sequenced() {
        let bytes = without_seq(name, &f).0.u64(f.seq).0;
        let entry = LogEntry::from_chain(
            LogPosition::new(1, 0, 0),
            [7; 32],
            1,
            format!("0x{}::{module}::{name}", "ab".repeat(32)),
            Address(f.b),
            bytes,
        );
        let mut pb = entry.to_proto();
        // Only the typed copy is read back: the BCS is emptied.
        pb.bcs.clear();
        let back = LogEntry::from_proto(pb).expect("record");
        let Body::Event(e) = back.body else {
            panic!("{name}: {:?}", back.body)
        };
        assert_eq!(e.seq(), f.seq, "{name}");
    }
}
