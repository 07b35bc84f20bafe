//! How a reader of the log (the master, the projector) is told to check it:
//! the command-line flags, and what they load once at start.

use std::path::PathBuf;

use clap::Args;
use sui_sdk_types::{Address, ValidatorCommittee};

/// How the log is checked.
#[derive(Args, Clone, Debug, Default)]
pub struct VerifyArgs {
    /// The genesis committee to trust (JSON, as `devnet committee` prints
    /// it; a real network's is published with its genesis). Every later
    /// committee is reached from it through certified epoch changes.
    #[arg(long, env = "DAAS_GENESIS_COMMITTEE", value_name = "FILE")]
    pub genesis_committee: Option<PathBuf>,
    /// Our Move package: events of any other package are refused.
    #[arg(long, env = "DAAS_PACKAGE_ID", default_value = DEFAULT_PACKAGE)]
    pub package: String,
    /// Use records without checking them against the validators (anyone
    /// who can write to the topic then controls what is applied). For the
    /// benchmark baseline and logs written without proofs.
    #[arg(long, env = "DAAS_INSECURE_NO_VERIFY")]
    pub insecure_no_verify: bool,
}

/// What verification needs, read once at start.
#[derive(Clone, Debug)]
pub struct Setup {
    /// The pinned genesis committee.
    pub genesis: ValidatorCommittee,
    /// Our package.
    pub package: Address,
}

/// Why verification cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// Neither a committee nor the insecure switch.
    #[error(
        "no genesis committee: pass --genesis-committee FILE (or DAAS_GENESIS_COMMITTEE), or --insecure-no-verify to apply an unverified log"
    )]
    NoCommittee,
    /// The committee file.
    #[error("genesis committee {path}: {reason}")]
    Committee {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The package id.
    #[error("package {0}: not an address")]
    Package(String),
    /// The stored verifier state.
    #[error("stored verifier state: {0}")]
    Stored(String),
}

impl VerifyArgs {
    /// Verification off (tests with hand-made logs).
    pub fn off() -> Self {
        Self {
            insecure_no_verify: true,
            ..Self::default()
        }
    }

    /// Verification on, trusting `genesis`.
    pub fn pinned(genesis: PathBuf) -> Self {
        Self {
            genesis_committee: Some(genesis),
            package: DEFAULT_PACKAGE.to_owned(),
            insecure_no_verify: false,
        }
    }

    /// Reads the committee; `None` when verification is off.
    pub fn setup(&self) -> Result<Option<Setup>, SetupError> {
        if self.insecure_no_verify {
            tracing::warn!(
                "--insecure-no-verify: the log is applied without checking it against Sui's validators"
            );
            return Ok(None);
        }
        let path = self
            .genesis_committee
            .as_ref()
            .ok_or(SetupError::NoCommittee)?;
        let bad = |reason: String| SetupError::Committee {
            path: path.display().to_string(),
            reason,
        };
        let json = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
        let genesis = crate::load_genesis_committee(&json).map_err(|e| bad(e.to_string()))?;
        let package = self
            .package
            .parse()
            .map_err(|_| SetupError::Package(self.package.clone()))?;
        Ok(Some(Setup { genesis, package }))
    }
}

/// Our package's id on the dev chain.
pub const DEFAULT_PACKAGE: &str =
    "0x000000000000000000000000000000000000000000000000000000000000da45";
