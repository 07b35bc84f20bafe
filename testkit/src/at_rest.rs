//! kube-apiserver's `k8s:enc:aesgcm:v1:<name>:` envelope for values at rest,
//! opened here with the AES-GCM primitive directly (never the master's own
//! code), so a test checks what the master stored against an independent
//! reading: a 12-byte nonce, then the AES-256-GCM ciphertext and tag, with
//! the etcd key as associated data.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use anyhow::Context;
use base64::{Engine as _, engine::general_purpose::STANDARD};

/// The nonce's length in the envelope.
const NONCE_BYTES: usize = 12;

/// Opens `value`, stored at `etcd_key`, with `key_spec` (`NAME:BASE64`, the
/// form of `--encryption-key`): the envelope must carry `NAME`, and the
/// plaintext is returned.
pub fn decrypt(key_spec: &str, etcd_key: &str, value: &[u8]) -> anyhow::Result<Vec<u8>> {
    let (name, key) = key_spec
        .split_once(':')
        .context("the key is not NAME:BASE64")?;
    let key = STANDARD.decode(key).context("the key is not base64")?;
    let prefix = format!("k8s:enc:aesgcm:v1:{name}:");
    let rest = value
        .strip_prefix(prefix.as_bytes())
        .with_context(|| format!("{etcd_key}: not encrypted at rest with {name}"))?;
    anyhow::ensure!(rest.len() > NONCE_BYTES, "{etcd_key}: envelope too short");
    let (nonce, msg) = rest.split_at(NONCE_BYTES);
    Aes256Gcm::new_from_slice(&key)
        .map_err(|_| anyhow::anyhow!("the key is not 32 bytes"))?
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg,
                aad: etcd_key.as_bytes(),
            },
        )
        .map_err(|_| anyhow::anyhow!("{etcd_key}: the at-rest envelope does not open"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = "key1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    /// An envelope sealed here with the primitive (key 0..31, nonce 7s).
    fn envelope(name: &str, etcd_key: &str, plain: &[u8]) -> Vec<u8> {
        let key: Vec<u8> = (0u8..32).collect();
        let nonce = [7u8; NONCE_BYTES];
        let sealed = Aes256Gcm::new_from_slice(&key)
            .expect("32 bytes")
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: etcd_key.as_bytes(),
                },
            )
            .expect("encrypts");
        [
            format!("k8s:enc:aesgcm:v1:{name}:").as_bytes(),
            &nonce,
            &sealed,
        ]
        .concat()
    }

    #[test]
    fn opens_the_envelope_for_its_key_and_nothing_else() {
        let v = envelope("key1", "/registry/secrets/a/b", b"{\"data\":{}}");
        let opened = decrypt(SPEC, "/registry/secrets/a/b", &v).expect("opens");
        assert_eq!(opened, b"{\"data\":{}}");
        // Another etcd key (the associated data), key name, or a flipped byte.
        assert!(decrypt(SPEC, "/registry/secrets/a/c", &v).is_err());
        let other_name = envelope("key2", "/registry/secrets/a/b", b"x");
        assert!(decrypt(SPEC, "/registry/secrets/a/b", &other_name).is_err());
        let mut flipped = v.clone();
        if let Some(last) = flipped.last_mut() {
            *last ^= 1;
        }
        assert!(decrypt(SPEC, "/registry/secrets/a/b", &flipped).is_err());
        // Plaintext, a short envelope, and keys that are not NAME:BASE64 of 32 bytes.
        assert!(decrypt(SPEC, "k", b"{\"data\":{}}").is_err());
        assert!(decrypt(SPEC, "k", b"k8s:enc:aesgcm:v1:key1:short").is_err());
        assert!(decrypt("key1", "/registry/secrets/a/b", &v).is_err());
        assert!(decrypt("key1:AAEC", "/registry/secrets/a/b", &v).is_err());
    }
}
