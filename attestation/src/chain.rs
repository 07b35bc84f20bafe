//! The certificate chain (rustls-webpki) and the document's ES384 signature.

use std::time::Duration;

use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{EndEntityCert, KeyUsage, ring::ECDSA_P384_SHA384};

use crate::{AttestationError, Document, TrustedRoot};

/// Checks that `cabundle[0]` is `root`, that the leaf chains to it through
/// `cabundle[1..]` with every certificate valid at `at_ms`, and that the
/// leaf's key signed `tbs` (the COSE Sig_structure) with `signature` (r||s).
pub(crate) fn verify(
    doc: &Document,
    root: &TrustedRoot,
    at_ms: u64,
    tbs: &[u8],
    signature: &[u8],
) -> Result<(), AttestationError> {
    if doc.cabundle.first().map(Vec::as_slice) != Some(root.der()) {
        return Err(AttestationError::RootMismatch);
    }
    let root_der = CertificateDer::from(root.der());
    let anchor = webpki::anchor_from_trusted_cert(&root_der).map_err(chain_error)?;
    let leaf_der = CertificateDer::from(doc.certificate.as_slice());
    let leaf = EndEntityCert::try_from(&leaf_der).map_err(chain_error)?;
    let intermediates: Vec<CertificateDer<'_>> = doc.cabundle[1..]
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    let time = UnixTime::since_unix_epoch(Duration::from_secs(at_ms / 1000));
    let anchors = [anchor];
    let path = leaf
        .verify_for_usage(
            &[ECDSA_P384_SHA384],
            &anchors,
            &intermediates,
            time,
            KeyUsage::client_auth(),
            None,
            None,
        )
        .map_err(chain_error)?;
    // Like Sui's native, the chain is the whole cabundle in its order:
    // webpki would also accept a path that skips or reorders entries.
    let used: Vec<CertificateDer<'_>> = path.intermediate_certificates().map(|c| c.der()).collect();
    if !used.iter().eq(intermediates.iter().rev()) {
        return Err(AttestationError::Chain(
            "cabundle is not the path from the root to the leaf's issuer".into(),
        ));
    }
    let signature = p384::ecdsa::Signature::from_slice(signature)
        .map_err(|_| AttestationError::SignatureInvalid)?;
    leaf.verify_signature(ECDSA_P384_SHA384, tbs, signature.to_der().as_bytes())
        .map_err(|_| AttestationError::SignatureInvalid)
}

/// webpki's validity errors become [`AttestationError::Expired`] and
/// [`AttestationError::NotYetValid`]; every other one [`AttestationError::Chain`].
fn chain_error(e: webpki::Error) -> AttestationError {
    match e {
        webpki::Error::CertExpired { time, not_after } => AttestationError::Expired {
            not_after_s: not_after.as_secs(),
            at_s: time.as_secs(),
        },
        webpki::Error::CertNotValidYet { time, not_before } => AttestationError::NotYetValid {
            not_before_s: not_before.as_secs(),
            at_s: time.as_secs(),
        },
        other => AttestationError::Chain(other.to_string()),
    }
}
