//! The bearer token kubectl presents to the master (decision 0022): a Sui
//! personal-message signature by the tenant's own key over
//! `(cluster, audience, issued-at, expiry, nonce)`.
//!
//! ```text
//! token   = "daas1." base64url(bcs(Claims)) "." base64url(signature)
//! signed  = personal message  MAGIC || bcs(Claims)
//! ```
//!
//! `signature` is Sui's serialized `UserSignature` (`flag || sig || public
//! key`); only simple signatures (Ed25519, Secp256k1, Secp256r1) are
//! accepted, and the caller is the address derived from the key inside
//! it. Base64 is unpadded URL-safe and must be canonical, so one token has
//! one spelling.
//!
//! [`verify`] is pure: the clock is a parameter. It checks, in order, the
//! shape and size, the signature, the cluster, the audience and then the
//! times (issued no later than `now + skew`, expiring no earlier than
//! `now - skew`, and a lifetime of at most [`MAX_LIFETIME_MS`]). The nonce
//! makes every token distinct; it is not a replay guard: a token is a
//! bearer credential, reused by kubectl until it expires.

use std::borrow::Cow;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sui_crypto::{SuiSigner, SuiVerifier, simple::SimpleVerifier};
use sui_sdk_types::{Address, PersonalMessage, SimpleSignature, UserSignature};

/// What every token starts with: the format and its version.
pub const PREFIX: &str = "daas1.";

/// What the signed personal message starts with, so a token signature
/// can never be taken for another message of this system.
pub const MAGIC: &[u8] = b"k3s-daas token v1\n";

/// The longest token accepted, characters.
pub const MAX_TOKEN_LEN: usize = 2048;

/// The longest audience, bytes (printable ASCII only).
pub const MAX_AUDIENCE_LEN: usize = 128;

/// The longest lifetime a token may claim: 1 hour.
pub const MAX_LIFETIME_MS: u64 = 3_600_000;

/// The lifetime `daas token` asks for: 15 minutes.
pub const DEFAULT_LIFETIME_MS: u64 = 900_000;

/// How far the signer's clock may be from the verifier's: 60 seconds.
pub const CLOCK_SKEW_MS: u64 = 60_000;

/// The Kubernetes username of a Sui address: `sui:0x…` (64 hex digits).
pub fn username(address: &Address) -> String {
    format!("sui:{address}")
}

/// The address of a username made by [`username`].
pub fn address_of_username(name: &str) -> Option<Address> {
    let hex = name.strip_prefix("sui:")?;
    let parsed: Address = hex.parse().ok()?;
    (username(&parsed) == name).then_some(parsed)
}

/// What a token claims, as signed (BCS).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The cluster (its `Cluster` object id) the token is for.
    pub cluster: Address,
    /// Who the token is for: the service that checks it (e.g. `daas-master`).
    pub audience: String,
    /// When it was made, Unix ms.
    pub issued_at_ms: u64,
    /// When it stops being valid, Unix ms.
    pub expires_at_ms: u64,
    /// Random: makes each token distinct.
    pub nonce: [u8; 16],
}

impl Claims {
    /// Claims for `cluster` and `audience`, valid from `now_ms` for
    /// `lifetime_ms`, with a random nonce.
    pub fn new(
        cluster: Address,
        audience: &str,
        now_ms: u64,
        lifetime_ms: u64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Self {
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        Claims {
            cluster,
            audience: audience.to_owned(),
            issued_at_ms: now_ms,
            expires_at_ms: now_ms.saturating_add(lifetime_ms),
            nonce,
        }
    }

    /// The personal message signed: [`MAGIC`] then the claims' BCS.
    pub fn message(&self) -> Vec<u8> {
        let mut m = MAGIC.to_vec();
        m.extend(bcs::to_bytes(self).expect("claims always serialize"));
        m
    }
}

/// Why a token was refused. Each is a 401 for the caller; the text names
/// the class and never echoes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token of this format (prefix, parts, base64, BCS, size, audience text).
    #[error("malformed token: {0}")]
    Malformed(String),
    /// A signature scheme we do not accept (multisig, zkLogin, passkey).
    #[error("unsupported signature scheme: {0}")]
    UnsupportedScheme(String),
    /// The signature does not verify over the claims.
    #[error("the token's signature is not valid")]
    BadSignature,
    /// Signed for another cluster.
    #[error("the token is for cluster {got}, not this cluster ({want})")]
    WrongCluster {
        /// The token's cluster.
        got: Address,
        /// Ours.
        want: Address,
    },
    /// Signed for another audience.
    #[error("the token's audience {got:?} is not accepted here")]
    WrongAudience {
        /// The token's audience.
        got: String,
    },
    /// Issued in the future (beyond the clock skew).
    #[error("the token is not valid yet (issued at {issued_at_ms} ms, now {now_ms} ms)")]
    NotYetValid {
        /// When it claims to have been issued.
        issued_at_ms: u64,
        /// The verifier's clock.
        now_ms: u64,
    },
    /// Past its expiry (beyond the clock skew).
    #[error("the token expired at {expires_at_ms} ms (now {now_ms} ms)")]
    Expired {
        /// Its expiry.
        expires_at_ms: u64,
        /// The verifier's clock.
        now_ms: u64,
    },
    /// Expiry before issue, or a lifetime above [`MAX_LIFETIME_MS`].
    #[error("the token's lifetime is not acceptable: {0}")]
    BadLifetime(String),
}

impl TokenError {
    /// A short label for metrics: `malformed`, `unsupported_scheme`,
    /// `bad_signature`, `wrong_cluster`, `wrong_audience`,
    /// `not_yet_valid`, `expired`, `bad_lifetime`.
    pub fn label(&self) -> &'static str {
        match self {
            TokenError::Malformed(_) => "malformed",
            TokenError::UnsupportedScheme(_) => "unsupported_scheme",
            TokenError::BadSignature => "bad_signature",
            TokenError::WrongCluster { .. } => "wrong_cluster",
            TokenError::WrongAudience { .. } => "wrong_audience",
            TokenError::NotYetValid { .. } => "not_yet_valid",
            TokenError::Expired { .. } => "expired",
            TokenError::BadLifetime(_) => "bad_lifetime",
        }
    }
}

/// Signs `claims` with `signer` (any Sui key: `Ed25519PrivateKey`,
/// `Secp256k1PrivateKey`, `Secp256r1PrivateKey`, `SimpleKeypair`).
pub fn sign(claims: &Claims, signer: &impl SuiSigner) -> Result<String, TokenError> {
    let message = claims.message();
    let signature = signer
        .sign_personal_message(&PersonalMessage(Cow::Owned(message)))
        .map_err(|e| TokenError::Malformed(format!("signing failed: {e}")))?;
    let claims = bcs::to_bytes(claims).expect("claims always serialize");
    Ok(format!(
        "{PREFIX}{}.{}",
        URL_SAFE_NO_PAD.encode(claims),
        URL_SAFE_NO_PAD.encode(signature.to_bytes())
    ))
}

/// A token taken apart, nothing checked but its shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The claims.
    pub claims: Claims,
    /// The signature.
    pub signature: SimpleSignature,
}

fn malformed(why: impl Into<String>) -> TokenError {
    TokenError::Malformed(why.into())
}

/// Canonical unpadded URL-safe base64 of one part.
fn part(text: &str, what: &str) -> Result<Vec<u8>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| malformed(format!("{what} is not base64url: {e}")))?;
    if URL_SAFE_NO_PAD.encode(&bytes) != text {
        return Err(malformed(format!("{what} is not canonical base64url")));
    }
    Ok(bytes)
}

/// Takes `token` apart: prefix, two base64url parts, the claims' BCS (all
/// of it) and a simple Sui signature. Checks nothing cryptographic.
pub fn decode(token: &str) -> Result<Decoded, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(malformed(format!(
            "{} characters (at most {MAX_TOKEN_LEN})",
            token.len()
        )));
    }
    let rest = token
        .strip_prefix(PREFIX)
        .ok_or_else(|| malformed(format!("does not start with {PREFIX:?}")))?;
    let (claims, signature) = rest
        .split_once('.')
        .ok_or_else(|| malformed("expected two parts after the prefix"))?;
    let claims: Claims = bcs::from_bytes(&part(claims, "the claims")?)
        .map_err(|e| malformed(format!("the claims are not valid BCS: {e}")))?;
    check_audience_text(&claims.audience)?;
    let signature = UserSignature::from_bytes(&part(signature, "the signature")?)
        .map_err(|e| malformed(format!("the signature is not a Sui signature: {e}")))?;
    let UserSignature::Simple(signature) = signature else {
        return Err(TokenError::UnsupportedScheme(format!(
            "{:?}",
            signature.scheme()
        )));
    };
    Ok(Decoded { claims, signature })
}

/// Audiences are 1..=[`MAX_AUDIENCE_LEN`] printable ASCII characters.
pub fn check_audience_text(audience: &str) -> Result<(), TokenError> {
    let ok = !audience.is_empty()
        && audience.len() <= MAX_AUDIENCE_LEN
        && audience.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(malformed(format!(
            "the audience must be 1-{MAX_AUDIENCE_LEN} printable ASCII characters"
        )))
    }
}

/// The address that made `signature`: Sui's derivation from its public key.
pub fn signer_address(signature: &SimpleSignature) -> Result<Address, TokenError> {
    Ok(match signature {
        SimpleSignature::Ed25519 { public_key, .. } => public_key.derive_address(),
        SimpleSignature::Secp256k1 { public_key, .. } => public_key.derive_address(),
        SimpleSignature::Secp256r1 { public_key, .. } => public_key.derive_address(),
        other => {
            return Err(TokenError::UnsupportedScheme(format!(
                "{:?}",
                other.scheme()
            )));
        }
    })
}

/// What a verifier accepts.
#[derive(Clone, Debug)]
pub struct Expected {
    /// This cluster.
    pub cluster: Address,
    /// The audiences accepted here (at least one).
    pub audiences: Vec<String>,
}

/// A token that passed [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The caller: the address of the key that signed.
    pub address: Address,
    /// What it claimed.
    pub claims: Claims,
}

impl Verified {
    /// The caller's Kubernetes username (`sui:0x…`).
    pub fn username(&self) -> String {
        username(&self.address)
    }
}

/// Checks `token` for `expected` at `now_ms` (see the module docs for the order).
pub fn verify(token: &str, expected: &Expected, now_ms: u64) -> Result<Verified, TokenError> {
    let Decoded { claims, signature } = decode(token)?;
    let message = PersonalMessage(Cow::Owned(claims.message()));
    SimpleVerifier
        .verify_personal_message(&message, &UserSignature::Simple(signature.clone()))
        .map_err(|_| TokenError::BadSignature)?;
    if claims.cluster != expected.cluster {
        return Err(TokenError::WrongCluster {
            got: claims.cluster,
            want: expected.cluster,
        });
    }
    if !expected.audiences.contains(&claims.audience) {
        return Err(TokenError::WrongAudience {
            got: claims.audience,
        });
    }
    check_times(&claims, now_ms)?;
    Ok(Verified {
        address: signer_address(&signature)?,
        claims,
    })
}

fn check_times(claims: &Claims, now_ms: u64) -> Result<(), TokenError> {
    let lifetime = claims
        .expires_at_ms
        .checked_sub(claims.issued_at_ms)
        .ok_or_else(|| TokenError::BadLifetime("it expires before it was issued".into()))?;
    if lifetime > MAX_LIFETIME_MS {
        return Err(TokenError::BadLifetime(format!(
            "{lifetime} ms (at most {MAX_LIFETIME_MS})"
        )));
    }
    if claims.issued_at_ms > now_ms.saturating_add(CLOCK_SKEW_MS) {
        return Err(TokenError::NotYetValid {
            issued_at_ms: claims.issued_at_ms,
            now_ms,
        });
    }
    if claims.expires_at_ms.saturating_add(CLOCK_SKEW_MS) < now_ms {
        return Err(TokenError::Expired {
            expires_at_ms: claims.expires_at_ms,
            now_ms,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
