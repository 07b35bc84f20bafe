//! `--nitro-root` / `--root`: which root attestation documents must chain
//! to: `aws` (AWS's Nitro Enclaves root, as on Sui) or `dev:PATH` (a dev CA's
//! root certificate, DER, e.g. the one `master dev-ca init` writes). Shared
//! by the dev chain, the worker and `master register`.

use std::{path::PathBuf, str::FromStr};

use daas_attestation::TrustedRoot;

/// `--nitro-root`: `aws` or `dev:PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NitroRootSpec {
    /// AWS's root (pinned by its SHA-256 in `daas-attestation`).
    Aws,
    /// A root certificate (DER) in this file.
    Dev(PathBuf),
}

impl FromStr for NitroRootSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            None if s == "aws" => Ok(Self::Aws),
            Some(("dev", path)) if !path.is_empty() => Ok(Self::Dev(PathBuf::from(path))),
            _ => Err(format!(
                "`{s}`: expected `aws` or `dev:PATH` (a root certificate, DER)"
            )),
        }
    }
}

impl NitroRootSpec {
    /// The root: AWS's, or the certificate read from the file.
    pub fn load(&self) -> anyhow::Result<TrustedRoot> {
        use anyhow::Context as _;
        match self {
            Self::Aws => Ok(TrustedRoot::aws_nitro()),
            Self::Dev(path) => {
                let der = std::fs::read(path)
                    .with_context(|| format!("reading the Nitro root {}", path.display()))?;
                TrustedRoot::from_der(der)
                    .with_context(|| format!("{} is not a certificate (DER)", path.display()))
            }
        }
    }
}

/// What `devnet.json` says of a root: `{"kind": "aws"|"dev", "sha256": hex}`
/// (the kind from the fingerprint, not from how it was given).
pub fn describe(root: &TrustedRoot) -> serde_json::Value {
    serde_json::json!({
        "kind": if root.is_aws() { "aws" } else { "dev" },
        "sha256": hex::encode(root.fingerprint()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_and_dev_paths_parse_and_nothing_else_does() {
        assert_eq!("aws".parse(), Ok(NitroRootSpec::Aws));
        assert_eq!(
            "dev:/tmp/ca/root.der".parse(),
            Ok(NitroRootSpec::Dev("/tmp/ca/root.der".into()))
        );
        assert_eq!(
            "dev:C:/ca:1".parse(),
            Ok(NitroRootSpec::Dev("C:/ca:1".into()))
        );
        for bad in ["", "AWS", "dev", "dev:", "aws:x", "file:/x", " aws"] {
            assert!(bad.parse::<NitroRootSpec>().is_err(), "{bad:?}");
        }
        assert!(
            NitroRootSpec::Dev("/no/such/root.der".into())
                .load()
                .is_err()
        );
        assert!(NitroRootSpec::Aws.load().is_ok_and(|r| r.is_aws()));
    }
}
