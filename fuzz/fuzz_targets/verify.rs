//! Log records are bytes anyone with write access to the topic controls:
//! the verifier must never panic on them (protobuf, then the BCS of
//! summaries, signatures, contents, effects and events), and nothing a
//! fuzzer makes without the validators' keys is released for applying.
//! The input is a sequence of records, each prefixed by its length (u16 LE).
#![no_main]

use daas_verify::{State, Verdict, Verifier};
use libfuzzer_sys::fuzz_target;
use sui_crypto::bls12381::Bls12381PrivateKey;
use sui_sdk_types::{Address, ValidatorCommittee, ValidatorCommitteeMember};

fn committee() -> ValidatorCommittee {
    let members = (1..=4u8)
        .filter_map(|i| Bls12381PrivateKey::new([i; 32]).ok())
        .map(|k| ValidatorCommitteeMember {
            public_key: k.public_key(),
            stake: 1,
        })
        .collect();
    ValidatorCommittee { epoch: 0, members }
}

fn records(mut data: &[u8]) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    while let [a, b, rest @ ..] = data {
        let n = usize::from(u16::from_le_bytes([*a, *b])).min(rest.len());
        out.push((out.len() as i64, rest[..n].to_vec()));
        data = &rest[n..];
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let package = Address::from_static("0xda45");
    let mut v = Verifier::new(package, State::genesis(committee()), 0);
    let out = v.push(records(data));
    assert!(out.items.iter().all(|i| !matches!(i.verdict, Verdict::Apply(_))));
});
