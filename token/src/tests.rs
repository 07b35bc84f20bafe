use super::*;
use rand_core::OsRng;
use sui_crypto::{
    ed25519::Ed25519PrivateKey, secp256k1::Secp256k1PrivateKey, secp256r1::Secp256r1PrivateKey,
};

const NOW: u64 = 1_764_000_000_000;

fn cluster() -> Address {
    Address::new([7; 32])
}

fn expected() -> Expected {
    Expected {
        cluster: cluster(),
        audiences: vec!["daas-master".into()],
    }
}

fn claims() -> Claims {
    Claims::new(
        cluster(),
        "daas-master",
        NOW,
        DEFAULT_LIFETIME_MS,
        &mut OsRng,
    )
}

fn ed() -> Ed25519PrivateKey {
    Ed25519PrivateKey::new([9; 32])
}

#[test]
fn a_signed_token_verifies_as_its_signer() {
    let key = ed();
    let token = sign(&claims(), &key).expect("sign");
    assert!(token.starts_with(PREFIX));
    let v = verify(&token, &expected(), NOW + 1).expect("valid");
    assert_eq!(v.address, key.public_key().derive_address());
    assert_eq!(v.username(), format!("sui:{}", v.address));
    assert_eq!(address_of_username(&v.username()), Some(v.address));
}

#[test]
fn secp256k1_and_secp256r1_keys_sign_tokens_too() {
    let k1 = Secp256k1PrivateKey::generate(OsRng);
    let t = sign(&claims(), &k1).expect("k1");
    assert_eq!(
        verify(&t, &expected(), NOW).expect("k1 valid").address,
        k1.public_key().derive_address()
    );
    let r1 = Secp256r1PrivateKey::generate(OsRng);
    let t = sign(&claims(), &r1).expect("r1");
    assert_eq!(
        verify(&t, &expected(), NOW).expect("r1 valid").address,
        r1.public_key().derive_address()
    );
}

#[test]
fn each_bad_class_is_named() {
    let key = ed();
    let token = |c: Claims| sign(&c, &key).expect("sign");
    let label = |t: &str, now: u64| verify(t, &expected(), now).expect_err("refused").label();

    let other_cluster = Claims {
        cluster: Address::new([8; 32]),
        ..claims()
    };
    assert_eq!(label(&token(other_cluster), NOW), "wrong_cluster");
    let other_audience = Claims {
        audience: "k3s".into(),
        ..claims()
    };
    assert_eq!(label(&token(other_audience), NOW), "wrong_audience");
    let t = token(claims());
    assert_eq!(
        label(&t, NOW + DEFAULT_LIFETIME_MS + CLOCK_SKEW_MS + 1),
        "expired"
    );
    assert!(verify(&t, &expected(), NOW + DEFAULT_LIFETIME_MS + CLOCK_SKEW_MS).is_ok());
    assert_eq!(label(&t, NOW - CLOCK_SKEW_MS - 1), "not_yet_valid");
    assert!(verify(&t, &expected(), NOW - CLOCK_SKEW_MS).is_ok());
    let long = Claims {
        expires_at_ms: NOW + MAX_LIFETIME_MS + 1,
        ..claims()
    };
    assert_eq!(label(&token(long), NOW), "bad_lifetime");
    let backwards = Claims {
        expires_at_ms: NOW - 1,
        ..claims()
    };
    assert_eq!(label(&token(backwards), NOW), "bad_lifetime");
}

#[test]
fn a_changed_claim_or_signature_is_refused() {
    let token = sign(&claims(), &ed()).expect("sign");
    let (head, sig) = token.rsplit_once('.').expect("parts");
    // The same claims signed by another key, the signature moved over.
    let other = sign(&claims(), &Ed25519PrivateKey::new([1; 32])).expect("sign");
    let (_, other_sig) = other.rsplit_once('.').expect("parts");
    assert_eq!(
        verify(&format!("{head}.{other_sig}"), &expected(), NOW),
        Err(TokenError::BadSignature)
    );
    // Another claim under the original signature.
    let later = Claims {
        expires_at_ms: NOW + 1,
        ..decode(&token).expect("decodes").claims
    };
    let forged = format!(
        "{PREFIX}{}.{sig}",
        URL_SAFE_NO_PAD.encode(bcs::to_bytes(&later).expect("bcs"))
    );
    assert_eq!(
        verify(&forged, &expected(), NOW),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn malformed_tokens_are_malformed() {
    let good = sign(&claims(), &ed()).expect("sign");
    let cases = [
        String::new(),
        "Bearer x".into(),
        "daas1.".into(),
        "daas1.abc".into(),
        format!("{good}."),
        format!("{good}="),
        good.replacen("daas1.", "daas2.", 1),
        format!("{good}\0"),
        "daas1.\u{7f}.x".into(),
        format!("daas1.{}", "A".repeat(MAX_TOKEN_LEN)),
    ];
    for t in cases {
        let e = verify(&t, &expected(), NOW).expect_err("malformed");
        assert_eq!(e.label(), "malformed", "{t:?}: {e}");
    }
    // Trailing bytes after the claims' BCS.
    let (head, sig) = good.rsplit_once('.').expect("parts");
    let mut claims = URL_SAFE_NO_PAD
        .decode(head.trim_start_matches(PREFIX))
        .expect("b64");
    claims.push(0);
    let t = format!("{PREFIX}{}.{sig}", URL_SAFE_NO_PAD.encode(claims));
    assert_eq!(
        verify(&t, &expected(), NOW).expect_err("trailing").label(),
        "malformed"
    );
}

#[test]
fn audiences_are_printable_ascii() {
    for bad in ["", "a b", "a\0", "é", &"a".repeat(MAX_AUDIENCE_LEN + 1)] {
        let c = Claims {
            audience: bad.into(),
            ..claims()
        };
        let t = sign(&c, &ed()).expect("sign");
        assert_eq!(
            verify(&t, &expected(), NOW)
                .expect_err("bad audience")
                .label(),
            "malformed",
            "{bad:?}"
        );
    }
    assert!(check_audience_text(&"a".repeat(MAX_AUDIENCE_LEN)).is_ok());
}

#[test]
fn usernames_round_trip_only_in_canonical_form() {
    let a = Address::new([0xab; 32]);
    assert_eq!(address_of_username(&username(&a)), Some(a));
    assert_eq!(address_of_username("sui:0xab"), None);
    assert_eq!(address_of_username("0xabab"), None);
    assert_eq!(
        address_of_username(&username(&a).to_uppercase().replace("SUI:0X", "sui:0x")),
        None
    );
}

proptest::proptest! {
    #[test]
    fn decode_never_panics(s in ".{0,600}") {
        let _ = decode(&s);
        let _ = verify(&s, &expected(), NOW);
    }

    #[test]
    fn any_single_character_change_is_refused(i in 0usize..400, c in proptest::char::range('-', 'z')) {
        let token = sign(&claims(), &ed()).expect("sign");
        let i = i % token.len();
        let mut changed: Vec<char> = token.chars().collect();
        proptest::prop_assume!(changed[i] != c);
        changed[i] = c;
        let changed: String = changed.into_iter().collect();
        proptest::prop_assert!(verify(&changed, &expected(), NOW).is_err());
    }
}
