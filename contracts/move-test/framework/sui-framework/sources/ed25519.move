module sui::ed25519;

/// True when `signature` (64 bytes) is `public_key`'s (32 bytes) Ed25519
/// signature of `msg`; false otherwise, also for malformed inputs.
public native fun ed25519_verify(signature: &vector<u8>, public_key: &vector<u8>, msg: &vector<u8>): bool;
