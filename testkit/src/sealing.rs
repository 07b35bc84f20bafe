//! Sealed Secrets in tests: one fixed sealing key for [`CLUSTER`] (version
//! [`VERSION`]), its registration as a log event, and Secrets sealed to it
//! deterministically (same inputs, same bytes), so workloads stay
//! reproducible. Test-only: the key is public, in this file.

use std::collections::BTreeMap;

use daas_domain::{
    Bytes, Event,
    events::SealingKeyRegistered,
    sealed::{Binding, annotation_value},
};
use daas_sealing::{SealingPrivateKey, SealingPublicKey, rng::RngCore};

use crate::workload::{ADMIN, CLUSTER};

/// The test sealing key's 32 private bytes.
pub const TEST_SEALING_KEY: [u8; 32] = [0x5e; 32];
/// The version the workload registers it as.
pub const VERSION: u32 = 1;

/// The test sealing key.
pub fn private_key() -> SealingPrivateKey {
    // 32 bytes of 0x5e are a valid X25519 scalar (any 32 bytes are, clamped).
    SealingPrivateKey::from_bytes(&TEST_SEALING_KEY).unwrap_or_else(|_| unreachable!())
}

/// Its public half.
pub fn public_key() -> SealingPublicKey {
    private_key().public_key()
}

/// The private keys a master under test holds: the test key as [`VERSION`].
pub fn keyring() -> BTreeMap<u32, SealingPrivateKey> {
    BTreeMap::from([(VERSION, private_key())])
}

/// The event registering the test key for [`CLUSTER`].
pub fn registered(timestamp_ms: u64) -> Event {
    Event::SealingKeyRegistered(SealingKeyRegistered {
        cluster_id: CLUSTER,
        version: u64::from(VERSION),
        public_key: Bytes(public_key().0.to_vec()),
        registered_by: ADMIN,
        timestamp_ms,
        seq: 0,
    })
}

/// A deterministic generator for test sealing (splitmix64). Marked
/// cryptographic only so `hpke` takes it: never use it outside tests.
struct Seeded(u64);

impl RngCore for Seeded {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let n = chunk.len();
            chunk.copy_from_slice(&self.next_u64().to_le_bytes()[..n]);
        }
    }
}

impl daas_sealing::rng::CryptoRng for Seeded {}

/// `plaintext` sealed for `namespace`/`name`/`key` in [`CLUSTER`] to the test
/// key, as base64 (a `data` value); `seed` picks the ephemeral key.
pub fn sealed_value(namespace: &str, name: &str, key: &str, plaintext: &[u8], seed: u64) -> String {
    use base64::Engine as _;
    let binding = Binding {
        cluster: CLUSTER,
        namespace,
        name,
        key,
        version: VERSION,
    };
    let bytes = daas_sealing::seal_value(&public_key(), &binding, plaintext, &mut Seeded(seed))
        .unwrap_or_else(|e| unreachable!("the test key seals: {e}"));
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The annotation line a sealed test Secret carries (YAML, 4-space indent).
pub fn annotation_yaml() -> String {
    format!(
        "  annotations:\n    {}: \"{}\"\n",
        daas_domain::sealed::ANNOTATION,
        annotation_value(VERSION)
    )
}

#[cfg(test)]
mod tests {
    use daas_domain::sealed::SealedValue;

    use super::*;

    #[test]
    fn sealed_values_are_reproducible_and_open_with_the_test_key() {
        use base64::Engine as _;
        let a = sealed_value("team-a", "db", "password", b"s3cret", 7);
        assert_eq!(a, sealed_value("team-a", "db", "password", b"s3cret", 7));
        assert_ne!(a, sealed_value("team-a", "db", "password", b"s3cret", 8));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&a)
            .expect("base64");
        let sealed = SealedValue::parse(&bytes).expect("parse");
        let binding = Binding {
            cluster: CLUSTER,
            namespace: "team-a",
            name: "db",
            key: "password",
            version: VERSION,
        };
        let plain = daas_sealing::open_value(&private_key(), &binding, &sealed).expect("open");
        assert_eq!(plain, b"s3cret");
    }
}
