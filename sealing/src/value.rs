//! One value sealed to a public key, bound to its place, and opened back.

use crate::rng::CryptoRng;
use daas_domain::sealed::{Binding, ENC_BYTES, HPKE_INFO, SealedValue};
use hpke::{
    Deserializable, OpModeR, OpModeS, Serializable, aead::ChaCha20Poly1305, kdf::HkdfSha256,
    kem::X25519HkdfSha256,
};

use crate::{OpenError, SealError, SealingPrivateKey, SealingPublicKey};

/// `plaintext` sealed to `pk` for `binding`: the wire bytes of a
/// [`SealedValue`] (a fresh ephemeral key each time, so never the same twice).
pub fn seal_value(
    pk: &SealingPublicKey,
    binding: &Binding<'_>,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, SealError> {
    let aad = binding.aad();
    let (enc, ciphertext) = hpke::single_shot_seal::<
        ChaCha20Poly1305,
        HkdfSha256,
        X25519HkdfSha256,
        _,
    >(&OpModeS::Base, &pk.hpke()?, HPKE_INFO, plaintext, &aad, rng)
    .map_err(|e| SealError::Hpke(e.to_string()))?;
    let mut enc_bytes = [0; ENC_BYTES];
    enc_bytes.copy_from_slice(&enc.to_bytes());
    let value = SealedValue {
        version: binding.version,
        tag: binding.tag(),
        enc: enc_bytes,
        ciphertext,
    };
    Ok(value.to_bytes())
}

/// The plaintext of `sealed`, which must have been sealed for `binding` to
/// the public half of `sk`. Deterministic: the same inputs always give the
/// same answer.
pub fn open_value(
    sk: &SealingPrivateKey,
    binding: &Binding<'_>,
    sealed: &SealedValue,
) -> Result<Vec<u8>, OpenError> {
    if sealed.version != binding.version || sealed.tag != binding.tag() {
        return Err(OpenError::Binding);
    }
    let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(&sealed.enc)
        .map_err(|_| OpenError::Tampered)?;
    hpke::single_shot_open::<ChaCha20Poly1305, HkdfSha256, X25519HkdfSha256>(
        &OpModeR::Base,
        &sk.hpke()?,
        &enc,
        HPKE_INFO,
        &sealed.ciphertext,
        &binding.aad(),
    )
    .map_err(|_| OpenError::Tampered)
}

#[cfg(test)]
mod tests {
    use daas_domain::Address;
    use proptest::prelude::*;

    use super::*;

    fn binding<'a>(namespace: &'a str, key: &'a str, version: u32) -> Binding<'a> {
        Binding {
            cluster: Address([9; 32]),
            namespace,
            name: "db",
            key,
            version,
        }
    }

    fn key() -> SealingPrivateKey {
        SealingPrivateKey::from_bytes(&[0x42; 32]).expect("a fixed test key")
    }

    #[test]
    fn a_value_opens_only_at_its_own_place() {
        let sk = key();
        let b = binding("team-a", "password", 1);
        let bytes =
            seal_value(&sk.public_key(), &b, b"hunter2", &mut crate::rng::os()).expect("seal");
        let sealed = SealedValue::parse(&bytes).expect("parse");
        assert_eq!(open_value(&sk, &b, &sealed).expect("open"), b"hunter2");
        for other in [
            binding("team-b", "password", 1),
            binding("team-a", "user", 1),
            binding("team-a", "password", 2),
        ] {
            assert_eq!(open_value(&sk, &other, &sealed), Err(OpenError::Binding));
        }
        let mut forged = sealed.clone();
        forged.tag = binding("team-b", "password", 1).tag();
        assert_eq!(
            open_value(&sk, &binding("team-b", "password", 1), &forged),
            Err(OpenError::Tampered),
            "a tag rewritten to another place still fails authentication"
        );
        let other_key = SealingPrivateKey::from_bytes(&[0x43; 32]).expect("key");
        assert_eq!(
            open_value(&other_key, &b, &sealed),
            Err(OpenError::Tampered)
        );
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        let sk = key();
        let b = binding("team-a", "k", 1);
        let one = seal_value(&sk.public_key(), &b, b"same", &mut crate::rng::os()).expect("seal");
        let two = seal_value(&sk.public_key(), &b, b"same", &mut crate::rng::os()).expect("seal");
        assert_ne!(one, two);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_plaintext_round_trips(plain in proptest::collection::vec(any::<u8>(), 0..2048),
                                     ns in "[a-z0-9-]{1,20}", key_name in "[-._a-zA-Z0-9]{1,30}",
                                     version in 1u32..) {
            let sk = key();
            let b = binding(&ns, &key_name, version);
            let bytes = seal_value(&sk.public_key(), &b, &plain, &mut crate::rng::os()).expect("seal");
            prop_assert_eq!(bytes.len(), plain.len() + daas_domain::sealed::OVERHEAD);
            let sealed = SealedValue::parse(&bytes).expect("parse");
            prop_assert_eq!(open_value(&sk, &b, &sealed).expect("open"), plain);
        }

        #[test]
        fn any_changed_byte_fails(plain in proptest::collection::vec(any::<u8>(), 0..256),
                                  at in any::<prop::sample::Index>(), flip in 1u8..) {
            let sk = key();
            let b = binding("team-a", "k", 1);
            let mut bytes = seal_value(&sk.public_key(), &b, &plain, &mut crate::rng::os()).expect("seal");
            let i = at.index(bytes.len());
            bytes[i] ^= flip;
            // Either the bytes no longer parse, or they do not open.
            if let Ok(sealed) = SealedValue::parse(&bytes) {
                prop_assert!(open_value(&sk, &b, &sealed).is_err());
            }
        }
    }
}
