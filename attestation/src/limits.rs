//! Size limits, as Sui's native applies them (fastcrypto 0.1.11
//! `nitro_attestation.rs`), plus an overall bound checked first.

/// The largest document accepted (ours: bounds the work before parsing).
pub const MAX_DOCUMENT_BYTES: usize = 18_432;
/// The payload's length is in `1..=MAX_PAYLOAD_BYTES`.
pub const MAX_PAYLOAD_BYTES: usize = 16_383;
/// An ES384 signature: r || s.
pub const SIGNATURE_BYTES: usize = 96;
/// `cabundle` has `1..=MAX_CABUNDLE` entries.
pub const MAX_CABUNDLE: usize = 10;
/// The leaf certificate and each `cabundle` entry: non-empty, at most this.
pub const MAX_CERT_BYTES: usize = 1_024;
/// `user_data`, at most.
pub const MAX_USER_DATA_BYTES: usize = 512;
/// `nonce`, at most.
pub const MAX_NONCE_BYTES: usize = 512;
/// `public_key`, at most.
pub const MAX_PUBLIC_KEY_BYTES: usize = 1_024;
/// PCR entries, at most (indexes 0..=31; values of 32, 48 or 64 bytes).
pub const MAX_PCRS: usize = 32;
