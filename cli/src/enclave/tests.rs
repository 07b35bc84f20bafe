//! `check_receipt` on hand-made records and outcomes: each refusal, and
//! the happy path signed with the shared vector's key (seed `11`×32,
//! `attestation/tests/vectors/receipt.json`).

use daas_attestation::EnclaveKey;
use daas_domain::{Address, Bytes, LogPosition, OutcomeResult, outcome::SignedReceipt};

use super::*;

const CLUSTER: Address = Address([0x22; 32]);
/// The shared vector's public key (seed `11`×32), written out by hand.
const VECTOR_PK: &str = "d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737";
/// Seed `55`×32's public key, written out by hand.
const OTHER_PK: &str = "c6822637c7d310ec57627be00ba259d253749f4aaf644470cffbe53a35f73242";

fn outcome() -> Outcome {
    let result = OutcomeResult::Applied {
        action: "created".into(),
        key: "/registry/configmaps/team-a/web".into(),
        resource_version: 77,
        warnings: vec![],
    };
    let at = LogPosition::new(12, 0, 1);
    let o = Outcome::new(CLUSTER, 7, at, [0x5a; 32], 1_764_000_000_000, result);
    Outcome {
        sequence: 3,
        ledger_root: Some([0x44; 32]),
        ledger_root_offset: 42,
        ..o
    }
}

/// `o` signed by the key of `seed`, as the status API shows it.
fn signed_view(o: &Outcome, seed: u8) -> OutcomeView {
    let key = EnclaveKey::from_seed([seed; 32]);
    let payload = o.receipt_payload().expect("a ledger root");
    let signature = key.sign_receipt(&payload, o.request_timestamp_ms);
    let signed = Outcome {
        receipt: Some(SignedReceipt {
            enclave_public_key: key.public_key(),
            signature,
            dev_attestation: false,
        }),
        ..o.clone()
    };
    OutcomeView::from(&signed)
}

fn record(pk: &str, cluster: Address, module_id: &str) -> EnclaveRecord {
    EnclaveRecord {
        event: EnclaveRegistered {
            cluster_id: cluster,
            pcr_version: 1,
            public_key: Bytes(hex::decode(pk).expect("hex")),
            sealing_key_version: 1,
            sealing_public_key: Bytes(vec![9; 32]),
            module_id: Bytes(module_id.as_bytes().to_vec()),
            attestation_timestamp_ms: 1_764_000_000_000,
            registered_by: Address([1; 32]),
            timestamp_ms: 1_764_000_000_500,
            seq: 1,
        },
        transaction_digest: "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi".into(),
    }
}

fn nitro() -> Vec<EnclaveRecord> {
    vec![record(
        VECTOR_PK,
        CLUSTER,
        "i-0a1b2c3d4e5f60718-enc0123456789abcd",
    )]
}

#[test]
fn a_receipt_by_a_registered_enclave_verifies() {
    let view = signed_view(&outcome(), 0x11);
    let ok = check_receipt(&view, &nitro(), false).expect("verifies");
    assert!(!ok.dev);
    assert_eq!(hex::encode(&ok.enclave.event.public_key.0), VECTOR_PK);
    assert_eq!(
        ok.line(),
        "receipt: verified (enclave d04a…8737, attested 2025-11-24T16:00:00Z, PCR set 1)"
    );
    // A rejected outcome's receipt verifies too (result = its code).
    let rejected = Outcome {
        result: OutcomeResult::Rejected(daas_domain::admission::Rejection {
            code: daas_domain::admission::RejectCode::Conflict,
            message: "exists".into(),
        }),
        ..outcome()
    };
    check_receipt(&signed_view(&rejected, 0x11), &nitro(), false).expect("rejected verifies");
}

#[test]
fn an_outcome_without_a_receipt_is_refused() {
    let view = OutcomeView::from(&outcome());
    assert_eq!(
        check_receipt(&view, &nitro(), true),
        Err(ReceiptRefusal::Missing)
    );
}

#[test]
fn a_changed_field_is_refused() {
    let view = signed_view(&outcome(), 0x11);
    let changed = OutcomeView {
        resource_version: 78,
        ..view.clone()
    };
    assert_eq!(
        check_receipt(&changed, &nitro(), true),
        Err(ReceiptRefusal::DigestMismatch)
    );
    // The digest follows the change: then the signature does not.
    let mut both = changed.clone();
    let digest = Outcome::try_from(&both).expect("outcome").digest();
    both.receipt.as_mut().expect("receipt").outcome_digest = hex::encode(digest);
    assert_eq!(
        check_receipt(&both, &nitro(), true),
        Err(ReceiptRefusal::BadSignature)
    );
    // A signed field outside the digest: the ledger root's offset.
    let mut offset = view.clone();
    offset.ledger_root_offset = 43;
    assert_eq!(
        check_receipt(&offset, &nitro(), true),
        Err(ReceiptRefusal::Malformed(
            "the receipt's ledger_root_offset is not the outcome's".into()
        ))
    );
}

#[test]
fn a_receipt_by_an_unregistered_key_is_refused() {
    let view = signed_view(&outcome(), 0x55);
    assert_eq!(
        check_receipt(&view, &nitro(), true),
        Err(ReceiptRefusal::UnknownKey(OTHER_PK.into()))
    );
}

#[test]
fn a_key_registered_for_another_cluster_is_refused() {
    let view = signed_view(&outcome(), 0x11);
    let elsewhere = vec![record(VECTOR_PK, Address([0x23; 32]), "i-0a1b")];
    assert_eq!(
        check_receipt(&view, &elsewhere, true),
        Err(ReceiptRefusal::OtherCluster)
    );
}

#[test]
fn a_signature_by_another_key_is_refused() {
    // Signed by seed 55, but claiming the registered key.
    let mut view = signed_view(&outcome(), 0x55);
    view.receipt.as_mut().expect("receipt").enclave_public_key = VECTOR_PK.into();
    assert_eq!(
        check_receipt(&view, &nitro(), true),
        Err(ReceiptRefusal::BadSignature)
    );
    let mut flipped = signed_view(&outcome(), 0x11);
    let sig = &mut flipped.receipt.as_mut().expect("receipt").signature;
    let last = if sig.ends_with('0') { '1' } else { '0' };
    sig.pop();
    sig.push(last);
    assert_eq!(
        check_receipt(&flipped, &nitro(), true),
        Err(ReceiptRefusal::BadSignature)
    );
}

#[test]
fn a_dev_enclave_needs_the_flag() {
    let view = signed_view(&outcome(), 0x11);
    let dev = vec![record(VECTOR_PK, CLUSTER, "k3s-daas-dev-enclave")];
    assert_eq!(
        check_receipt(&view, &dev, false),
        Err(ReceiptRefusal::DevNotAllowed)
    );
    let ok = check_receipt(&view, &dev, true).expect("allowed");
    assert!(
        ok.dev && ok.line().ends_with(", DEV attestation)"),
        "{}",
        ok.line()
    );
    // The master's own claim is not what decides: a receipt saying "not dev"
    // from a dev-registered key is still dev.
    assert!(!view.receipt.as_ref().expect("receipt").dev_attestation);
}

#[test]
fn a_view_that_does_not_decode_is_refused() {
    let mut view = signed_view(&outcome(), 0x11);
    view.receipt.as_mut().expect("receipt").signature = "zz".into();
    assert!(matches!(
        check_receipt(&view, &nitro(), true),
        Err(ReceiptRefusal::Malformed(m)) if m.contains("receipt.signature")
    ));
}
